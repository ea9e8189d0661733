"""Migrations upgrade from empty on both backends, and agree with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from cauce.services.container import Cauce
from cauce.store import migrate
from cauce.store.models import Base


def test_schema_is_at_head(cauce: Cauce) -> None:
    assert migrate.current_revision(cauce.engine) == migrate.head_revision()
    cauce.require_current_schema()
    tables = set(inspect(cauce.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_models_and_migrations_agree(cauce: Cauce) -> None:
    with cauce.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], (
        "models differ from migrations; before the first release regenerate with "
        "`make migration`:\n" + "\n".join(map(str, diff))
    )


def test_upgrade_from_empty_on_both_backends(db_url: str, tmp_path: object) -> None:
    # db_url is already migrated by the fixture; re-running must be a no-op at head.
    from cauce.store.db import make_engine

    engine = make_engine(db_url)
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
    engine.dispose()


def test_upgrade_from_truly_empty_sqlite(tmp_path: object) -> None:
    from pathlib import Path

    from cauce.store.db import make_engine

    path = Path(str(tmp_path)) / "empty.db"
    engine = make_engine(f"sqlite:///{path}")
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
    engine.dispose()


def test_upgrade_from_truly_empty_postgres() -> None:
    from tests.support.databases import PostgresSchema

    schema = PostgresSchema()  # creates an empty schema and upgrades it from nothing
    try:
        from cauce.store.db import make_engine

        engine = make_engine(schema.url)
        assert migrate.is_current(engine)
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        engine.dispose()
    finally:
        schema.drop()
