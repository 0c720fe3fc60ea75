"""Kept messages: chat completions stored on request (`store: true`), encrypted at rest."""
