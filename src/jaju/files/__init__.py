"""Files (`/v1/files`): uploads kept encrypted in the tenant's jurisdiction's store (service.FileService)."""
