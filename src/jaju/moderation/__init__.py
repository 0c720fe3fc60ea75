"""Korean moderation: categories, normalisation, lexicon, classifier, policy actions, stream checking.

Build `jaju.moderation.service.ModerationService` once per process. This package imports nothing
heavy at import time (compliance's pack schema reads the category names from `categories`).
"""
