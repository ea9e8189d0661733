"""The running application's shared parts, built once per process from settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cauce.clock import Clock, RealClock, VirtualClock
from cauce.security import SecretBox
from cauce.settings import Settings
from cauce.store import migrate
from cauce.store.db import check_connection, make_engine, make_sessionmaker


class SchemaNotCurrent(Exception):
    """The database is reachable but its migrations are behind the code."""


@dataclass
class Cauce:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    secrets: SecretBox
    extras: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Code that only holds a Session (the runtime's channel directory) still needs to
        # decrypt channel secrets: ``session.info["secrets"]``.
        self.sessions.configure(info={"secrets": self.secrets})

    @classmethod
    def open(cls, settings: Settings, *, clock: Clock | None = None) -> Cauce:
        """Connect (raising ``DatabaseUnavailable`` with a one-line reason when it cannot)."""
        engine = make_engine(settings.database_url)
        check_connection(engine)
        if clock is None:
            clock = VirtualClock() if settings.virtual_clock else RealClock()
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_sessionmaker(engine),
            clock=clock,
            secrets=SecretBox(settings.secret_key),
        )

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.sessions() as session, session.begin():
            yield session

    def require_current_schema(self) -> None:
        current, head = migrate.current_revision(self.engine), migrate.head_revision()
        if current != head:
            raise SchemaNotCurrent(
                f"database schema is at {current or 'empty'}, code expects {head}: "
                "run `cauce db upgrade`"
            )

    def close(self) -> None:
        self.engine.dispose()
