"""The CLI as an operator uses it: real processes, real exit codes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CAUCE = [sys.executable, "-m", "cauce"]


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        CAUCE + args, env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CAUCE_")}
    base["CAUCE_DATABASE_URL"] = f"sqlite:///{tmp_path}/cauce.db"
    base["CAUCE_DATA_DIR"] = str(tmp_path)
    return base


def test_version(env: dict[str, str], tmp_path: Path) -> None:
    out = run(["version"], env, tmp_path)
    assert out.returncode == 0 and out.stdout.startswith("cauce ")


def test_bad_database_url_exits_2_with_one_line(env: dict[str, str], tmp_path: Path) -> None:
    env["CAUCE_DATABASE_URL"] = "mysql://root@localhost/x"
    out = run(["db", "current"], env, tmp_path)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "CAUCE_DATABASE_URL" in lines[0]


def test_unreachable_database_exits_2_with_one_line(env: dict[str, str], tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env["CAUCE_DATABASE_URL"] = f"postgresql+psycopg://postgres@127.0.0.1:{port}/test"
    out = run(["db", "upgrade"], env, tmp_path)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: CAUCE_DATABASE_URL: cannot connect to")


def test_missing_sqlite_folder_exits_2(env: dict[str, str], tmp_path: Path) -> None:
    env["CAUCE_DATABASE_URL"] = f"sqlite:///{tmp_path}/no/such/dir/cauce.db"
    out = run(["db", "upgrade"], env, tmp_path)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1


def test_serve_refuses_a_database_that_is_not_migrated(env: dict[str, str], tmp_path: Path) -> None:
    out = run(["serve"], env, tmp_path)
    assert out.returncode == 2
    assert "cauce db upgrade" in out.stderr


def test_init_creates_the_demo_once(env: dict[str, str], tmp_path: Path) -> None:
    first = run(["init"], env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "API key:  cau_" in first.stdout
    second = run(["init"], env, tmp_path)
    assert second.returncode == 0
    assert "already exists" in second.stdout and "cau_" not in second.stdout
    current = run(["db", "current"], env, tmp_path)
    assert current.returncode == 0 and "(current)" in current.stdout
    key = run(["apikeys", "create", "--name", "ci"], env, tmp_path)
    assert key.returncode == 0 and key.stdout.startswith("cau_")
    missing = run(["apikeys", "create", "--name", "x", "--workspace", "nope"], env, tmp_path)
    assert missing.returncode == 2 and "nope" in missing.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_make_run_path_serves_healthz_and_readyz(env: dict[str, str], tmp_path: Path) -> None:
    """What `make run` does: init, then serve; both probes answer."""
    assert run(["init"], env, tmp_path).returncode == 0
    port = _free_port()
    env["CAUCE_PORT"] = str(port)
    proc = subprocess.Popen(
        [*CAUCE, "serve"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(proc.stdout.read() if proc.stdout else "") from None
                time.sleep(0.2)
        assert health.json()["status"] == "ok"
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    # uvicorn finishes in-flight work, then re-raises SIGTERM so the exit status tells the
    # supervisor why it stopped.
    assert proc.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
