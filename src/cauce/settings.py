"""Configuration from the environment (prefix ``CAUCE_``) and an optional ``.env`` file.

A wrong setting stops start-up with :class:`ConfigError`, whose message is one line naming the
setting and what is wrong; the CLI prints it and exits with code 2.
"""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_KEY_FILE = ".cauce-secret-key"


class ConfigError(Exception):
    """A setting is missing or wrong; ``str(exc)`` is one line for the operator."""


class ClockMode(StrEnum):
    REAL = "real"
    VIRTUAL = "virtual"


class LogFormat(StrEnum):
    CONSOLE = "console"
    JSON = "json"


class Settings(BaseSettings):
    """Every setting Cauce reads. Documented in README.md's configuration table."""

    model_config = SettingsConfigDict(
        env_prefix="CAUCE_", env_file=".env", extra="ignore", frozen=True
    )

    database_url: str = Field(
        default="sqlite:///./cauce.db",
        description="sqlite:///path/to/file.db or postgresql+psycopg://user@host:5432/db",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    secret_key: str = Field(
        default="",
        description="Encrypts provider secrets at rest; generated and persisted when absent.",
    )
    data_dir: Path = Field(default=Path("."), description="Where generated files are kept.")
    clock: ClockMode = ClockMode.REAL
    log_format: LogFormat = LogFormat.CONSOLE
    log_level: str = "INFO"
    workers: int = Field(default=1, ge=0, le=64, description="In-process runtime workers.")
    embedded_runtime: bool = Field(
        default=True, description="Run workers, scheduler and delivery inside `cauce serve`."
    )
    worker_nice: int = Field(
        default=10, ge=0, le=19,
        description="Niceness `cauce worker` runs at: on a shared host its background work "
        "yields the CPU to `cauce serve`'s answers and PostgreSQL; 0 keeps the default.",
    )
    public_url: str = Field(
        default="", description="Public base URL used in links (unsubscribe, media)."
    )

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        value = value.strip()
        if value.startswith("sqlite:///") or value == "sqlite://":
            return value
        if value.startswith("postgresql+psycopg://"):
            return value
        if value.startswith(("postgresql://", "postgres://")):
            # The bare scheme would make SQLAlchemy look for psycopg2, which we do not ship.
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        scheme = value.split("://", 1)[0] if "://" in value else value[:20]
        raise ValueError(
            f"unsupported database '{scheme}'; use sqlite:///./cauce.db or "
            "postgresql+psycopg://user@host:5432/dbname"
        )

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return upper

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def virtual_clock(self) -> bool:
        return self.clock is ClockMode.VIRTUAL


def _first_error_line(exc: ValidationError) -> str:
    err = exc.errors()[0]
    field = str(err["loc"][0]) if err["loc"] else "settings"
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"CAUCE_{field.upper()}: {message}"


def load_settings(persist_secret: bool = True, **overrides: Any) -> Settings:
    """Read settings from the environment, applying ``overrides`` on top.

    When no secret key is configured one is generated and stored in ``data_dir`` so encrypted
    values stay readable across restarts.
    """
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_first_error_line(exc)) from None
    if not settings.secret_key:
        key = _persisted_secret_key(settings.data_dir) if persist_secret else ""
        settings = settings.model_copy(update={"secret_key": key or secrets.token_urlsafe(32)})
    if len(settings.secret_key) < 16:
        raise ConfigError("CAUCE_SECRET_KEY: must be at least 16 characters")
    return settings


def _persisted_secret_key(data_dir: Path) -> str:
    path = data_dir / SECRET_KEY_FILE
    try:
        if path.exists():
            return path.read_text().strip()
        data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
        return key
    except OSError as exc:
        raise ConfigError(
            f"CAUCE_SECRET_KEY: not set and cannot be stored in {path}: {exc.strerror}"
        ) from None
