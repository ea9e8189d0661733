"""Test databases: every storage test runs on SQLite and on PostgreSQL.

Each backend is migrated once per test session (through Alembic, as in production); each test
then gets clean tables: a copy of the migrated SQLite file, or a TRUNCATE of the PostgreSQL
schema that this test process owns.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from cauce.store import migrate
from cauce.store.db import make_engine
from cauce.store.models import Base

POSTGRES_URL = os.environ.get(
    "CAUCE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


def postgres_unavailable_message(reason: str) -> str:
    return (
        f"PostgreSQL is not reachable at {POSTGRES_URL} ({reason}). The storage tests run on "
        f"SQLite and PostgreSQL; start the server with `{START_POSTGRES}` (or `make services`), "
        "or point CAUCE_TEST_POSTGRES_URL at another server."
    )


class SqliteTemplate:
    def __init__(self, root: Path) -> None:
        self.template = root / "template.db"
        engine = make_engine(f"sqlite:///{self.template}")
        migrate.upgrade(engine)
        engine.dispose()

    def fresh_url(self, root: Path) -> str:
        target = root / f"{uuid.uuid4().hex}.db"
        shutil.copyfile(self.template, target)
        return f"sqlite:///{target}"


class PostgresSchema:
    """A schema of its own in the `test` database for this test process."""

    def __init__(self) -> None:
        self.schema = f"t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.admin = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        try:
            with self.admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        except Exception as exc:
            self.admin.dispose()
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            pytest.fail(postgres_unavailable_message(reason), pytrace=False)
        sep = "&" if "?" in POSTGRES_URL else "?"
        self.url = f"{POSTGRES_URL}{sep}options=-csearch_path%3D{self.schema}"
        engine = make_engine(self.url)
        migrate.upgrade(engine)
        engine.dispose()
        tables = [t.name for t in Base.metadata.sorted_tables]
        self._truncate = (
            f"TRUNCATE {', '.join(f'{self.schema}.{t}' for t in tables)} RESTART IDENTITY CASCADE"
            if tables else ""
        )

    def reset(self, engine: Engine) -> None:
        if self._truncate:
            with engine.begin() as conn:
                conn.execute(text(self._truncate))

    def drop(self) -> None:
        with self.admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        self.admin.dispose()
