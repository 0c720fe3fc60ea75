"""Sovereignty: jurisdictions, residency routing, transfer bases, egress control and envelope encryption."""
