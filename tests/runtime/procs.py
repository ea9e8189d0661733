"""Starting and killing worker processes for the multi-process tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Workers:
    def __init__(self, db_url: str, graph_url: str = "", env: dict[str, str] | None = None):
        self.args = [sys.executable, "-m", "tests.runtime.worker_proc", db_url]
        if graph_url:
            self.args.append(graph_url)
        # This tree's code first, whatever the venv's editable install points at (another
        # checkout, when several worktrees share one venv), then what the caller had.
        path = [str(ROOT / "src"), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join(path), **(env or {})}
        self.procs: list[subprocess.Popen[bytes]] = []
        self.started: list[float] = []

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL)

    def start(self, n: int = 1) -> None:
        for _ in range(n):
            self.procs.append(self._spawn())
            self.started.append(time.monotonic())

    def age(self, index: int) -> float:
        return time.monotonic() - self.started[index]

    def kill(self, index: int) -> None:
        """SIGKILL one worker (no chance to clean up) and start a replacement."""
        proc = self.procs[index]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.procs[index] = self._spawn()
        self.started[index] = time.monotonic()

    def stop(self) -> list[int]:
        """SIGTERM everyone (graceful) and return the exit codes."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = []
        for proc in self.procs:
            try:
                codes.append(proc.wait(timeout=60))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes.append(proc.wait())
        return codes
