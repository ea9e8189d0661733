"""Alembic environment. Run through ``cauce db upgrade`` (see cauce.store.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from cauce.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        version_table_schema=config.attributes.get("schema"),
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through cauce.store.migrate, which passes a connection")
_run(connection)
