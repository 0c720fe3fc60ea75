"""Korean-first PII detection, anonymisation, reversible pseudonyms and data-subject requests."""
