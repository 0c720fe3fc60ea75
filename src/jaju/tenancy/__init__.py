"""Tenants, API keys and usage: the partner platform's accounts."""
