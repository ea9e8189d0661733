"""Shared set-up for the runtime benchmarks: a fresh database (SQLite file or a PostgreSQL
schema of its own), a workspace, contacts and a published flow of the runtime's test engine."""

from __future__ import annotations

import os
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.databases import PostgresSchema, SqliteTemplate  # noqa: E402

from cauce.clock import RealClock  # noqa: E402
from cauce.services.container import Cauce  # noqa: E402
from cauce.settings import load_settings  # noqa: E402

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


class Db:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.tmp = Path(tempfile.mkdtemp(prefix="cauce-bench-"))
        self.schema: PostgresSchema | None = None
        if kind == "postgres":
            self.schema = PostgresSchema()
            self.url = self.schema.url
        else:
            self.url = SqliteTemplate(self.tmp).fresh_url(self.tmp)
        settings = load_settings(database_url=self.url, data_dir=self.tmp, clock="real",
                                 secret_key="bench-secret-key-0123456789")
        self.cauce = Cauce.open(settings, clock=RealClock())

    def close(self) -> None:
        self.cauce.close()
        if self.schema is not None:
            self.schema.drop()


def machine() -> str:
    cpus = os.cpu_count()
    return f"{platform.node()} {platform.machine()} {cpus} CPU, Python {platform.python_version()}"


def table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    print(f"\n{title}  ({machine()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)))


class CpuMeter:
    """CPU seconds spent by this process and by the PostgreSQL backends serving its
    connections: a load-independent cost measure on a shared machine (wall time is not).

    Backends are found by their pid (``pg_backend_pid()`` on each new pooled connection, so
    :meth:`watch` disposes the pool first) and read from ``/proc`` — it needs the server on
    this machine. SQLite has no backends: only this process counts."""

    def __init__(self, cauce: Cauce) -> None:
        self.backends: set[int] = set()
        self.cauce = cauce
        if cauce.engine.dialect.name == "postgresql":
            from sqlalchemy import event

            def connected(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("SELECT pg_backend_pid()")
                self.backends.add(int(cur.fetchone()[0]))
                cur.close()
                dbapi_conn.commit()

            event.listen(cauce.engine, "connect", connected)
            cauce.engine.dispose()

    def sample(self) -> tuple[float, float]:
        """(this process, its database backends) CPU seconds so far."""
        import resource

        me = resource.getrusage(resource.RUSAGE_SELF)
        return (me.ru_utime + me.ru_stime,
                sum(cpu_seconds(p) for p in list(self.backends)))

    def since(self, start: tuple[float, float]) -> tuple[float, float]:
        now = self.sample()
        return now[0] - start[0], now[1] - start[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc; 0 for one that has ended (a
    database backend that closed: its time is lost to the count, which is rare)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb() -> float:
    """This process's resident memory (MB)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_cauce(args: list[str], env: dict[str, str]) -> Any:
    """``cauce ARGS`` as a process of its own (the CLI a user runs), output discarded."""
    import subprocess

    return subprocess.Popen([sys.executable, "-c", "from cauce.cli import main; main()", *args],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def wait_listening(port: int, timeout: float = 60.0) -> None:
    import socket
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def stop_processes(procs: list[Any]) -> None:
    """SIGTERM (graceful: in-flight work finishes), SIGKILL after 30 s."""
    import subprocess

    for proc in procs:
        if proc is not None:
            proc.terminate()
    for proc in procs:
        if proc is None:
            continue
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
