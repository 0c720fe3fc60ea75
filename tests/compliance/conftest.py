"""Shared fixtures: the policy service over the built-in packs, loaded once."""

import pytest

from jaju.compliance.service import PolicyService
from jaju.compliance.settings import compliance_settings


@pytest.fixture(scope="session")
def policies() -> PolicyService:
    return PolicyService.from_settings(compliance_settings({}))
