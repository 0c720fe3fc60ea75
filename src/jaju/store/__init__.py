"""Persistence: SQLAlchemy 2 tables, Alembic migrations; SQLite by default, PostgreSQL for clusters."""

from jaju.store.db import Database

__all__ = ["Database"]
