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


def test_sim_advance_fires_the_timers_in_between_and_refuses_the_real_clock(
    env: dict[str, str], tmp_path: Path,
) -> None:
    """`cauce sim advance SECONDS` on a virtual-clock install resumes a run waiting an hour;
    on the real clock it refuses with one line saying what to set."""
    from fastapi.testclient import TestClient

    from cauce.api.app import create_app
    from cauce.runtime.engine_port import default_engine
    from cauce.runtime.processor import Processor
    from cauce.services.container import Cauce
    from cauce.settings import load_settings

    env["CAUCE_CLOCK"] = "virtual"
    init = run(["init"], env, tmp_path)
    assert init.returncode == 0, init.stderr
    key = next(line.split()[-1] for line in init.stdout.splitlines() if "API key:" in line)
    before = run(["sim", "now"], env, tmp_path)
    assert before.returncode == 0 and before.stdout.startswith("virtual "), before.stderr

    settings = load_settings(database_url=env["CAUCE_DATABASE_URL"], data_dir=tmp_path,
                             clock="virtual", secret_key="cli-test-secret-key-0123456789")
    cauce = Cauce.open(settings)
    try:
        with TestClient(create_app(settings, cauce=cauce)) as api:
            api.headers["Authorization"] = f"Bearer {key}"
            flow = api.post("/api/v1/flows", json={"document": {
                "format": 1, "metadata": {"name": "Una hora"},
                "triggers": [{"type": "business_event", "event": "demo.go"}],
                "nodes": [
                    {"id": "w", "type": "delay", "config": {"duration": "1h"},
                     "exits": {"next": "done"}},
                    {"id": "done", "type": "end", "config": {}, "exits": {}}]}})
            assert flow.status_code == 201, flow.text
            flow_id = flow.json()["id"]
            published = api.post(f"/api/v1/flows/{flow_id}/publish")
            assert published.status_code == 201, published.text
            event = api.post("/api/v1/events", json={
                "name": "demo.go", "event_id": "e1", "contact": {"phone": "+5491122334455"}})
            assert event.status_code == 202, event.text
            processor = Processor(cauce, default_engine())
            while processor.process_batch():
                pass
            (waiting,) = api.get("/api/v1/runs", params={"flow_id": flow_id}).json()["items"]
            assert waiting["status"] == "waiting", waiting
    finally:
        cauce.close()

    short = run(["sim", "advance", "1800"], env, tmp_path)
    assert short.returncode == 0, short.stderr
    assert short.stdout.strip().endswith("(0 timers fired)")
    done = run(["sim", "advance", "1800"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("(1 timers fired)")
    cauce = Cauce.open(settings)
    try:
        with TestClient(create_app(settings, cauce=cauce)) as api:
            api.headers["Authorization"] = f"Bearer {key}"
            (run_,) = api.get("/api/v1/runs", params={"flow_id": flow_id}).json()["items"]
            assert run_["status"] == "completed", run_
    finally:
        cauce.close()

    env["CAUCE_CLOCK"] = "real"
    refused = run(["sim", "advance", "60"], env, tmp_path)
    assert refused.returncode == 2
    (line,) = refused.stderr.strip().splitlines()
    assert "CAUCE_CLOCK=virtual" in line
