"""Alembic environment: runs on the connection jaju hands it (see Database.migrate)."""

from alembic import context

from jaju.store.registry import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("jaju migrations run through `Database.migrate()`, which supplies the connection")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
