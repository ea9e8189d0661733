"""Shared fixtures. Storage fixtures are parametrised over SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cauce.api.app import create_app
from cauce.clock import VirtualClock
from cauce.services.container import Cauce
from cauce.services.workspaces import DemoCredentials, ensure_demo
from cauce.settings import Settings, load_settings
from tests.support.databases import PostgresSchema, SqliteTemplate

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[PostgresSchema]:
    schema = PostgresSchema()
    yield schema
    schema.drop()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: SqliteTemplate
) -> str:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        return sqlite_template.fresh_url(tmp_path)
    schema: PostgresSchema = request.getfixturevalue("postgres_schema")
    request.node.add_marker(pytest.mark.postgres)
    from cauce.store.db import make_engine

    engine = make_engine(schema.url)
    schema.reset(engine)
    engine.dispose()
    return schema.url


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        database_url=db_url, secret_key="test-secret-key-0123456789", data_dir=tmp_path,
        clock="virtual",
    )


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(T0)


@pytest.fixture
def cauce(settings: Settings, clock: VirtualClock) -> Iterator[Cauce]:
    container = Cauce.open(settings, clock=clock)
    yield container
    container.close()


@pytest.fixture
def demo(cauce: Cauce) -> DemoCredentials:
    with cauce.transaction() as session:
        creds = ensure_demo(session, cauce.clock.now())
    assert creds is not None
    return creds


@pytest.fixture
def client(settings: Settings, cauce: Cauce) -> Iterator[TestClient]:
    app = create_app(settings, cauce=cauce)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient, demo: DemoCredentials) -> TestClient:
    """A client authenticated with the demo workspace's owner key."""
    client.headers["Authorization"] = f"Bearer {demo.api_key}"
    return client


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path, demo: DemoCredentials,
            monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment a `cauce` command run in-process (typer's CliRunner) reads: the test's
    database, with the demo workspace."""
    monkeypatch.setenv("CAUCE_DATABASE_URL", db_url)
    monkeypatch.setenv("CAUCE_SECRET_KEY", "test-secret-key-0123456789")
    monkeypatch.setenv("CAUCE_DATA_DIR", str(tmp_path))
