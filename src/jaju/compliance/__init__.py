"""Law as software: regulation packs, policy resolution, labelling, provenance, watermark, retention, reports."""
