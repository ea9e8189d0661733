from __future__ import annotations

from pathlib import Path

import pytest

from cauce.settings import SECRET_KEY_FILE, ConfigError, load_settings


def test_defaults_are_embedded_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(data_dir=tmp_path)
    assert settings.database_url == "sqlite:///./cauce.db"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.is_sqlite


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://root@localhost/db", "CAUCE_DATABASE_URL: unsupported database 'mysql'"),
        ("nonsense", "CAUCE_DATABASE_URL: unsupported database 'nonsense'"),
    ],
)
def test_bad_database_url_is_one_line_naming_the_setting(url: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(database_url=url, persist_secret=False)
    assert str(info.value).startswith(expected)
    assert "\n" not in str(info.value)


def test_plain_postgres_scheme_uses_psycopg3() -> None:
    settings = load_settings(database_url="postgresql://u@h/db", persist_secret=False)
    assert settings.database_url == "postgresql+psycopg://u@h/db"


def test_bad_port_and_clock_name_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAUCE_PORT", "99999")
    with pytest.raises(ConfigError, match=r"^CAUCE_PORT: "):
        load_settings(persist_secret=False)
    monkeypatch.delenv("CAUCE_PORT")
    monkeypatch.setenv("CAUCE_CLOCK", "sundial")
    with pytest.raises(ConfigError, match=r"^CAUCE_CLOCK: "):
        load_settings(persist_secret=False)


def test_secret_key_is_generated_once_and_persisted(tmp_path: Path) -> None:
    first = load_settings(data_dir=tmp_path)
    second = load_settings(data_dir=tmp_path)
    assert first.secret_key == second.secret_key
    key_file = tmp_path / SECRET_KEY_FILE
    assert key_file.read_text().strip() == first.secret_key
    assert key_file.stat().st_mode & 0o077 == 0


def test_short_secret_key_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^CAUCE_SECRET_KEY: "):
        load_settings(secret_key="short")
