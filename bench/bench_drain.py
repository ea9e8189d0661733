"""CPU cost of parsing stored WhatsApp webhooks (``webhook_inbox.drain``), per webhook.

N signed inbound-message webhooks (the ones ``bench_webhook.py`` posts: each a new wamid,
from one of 1,000 senders) are stored through the route's ``GroupCommit``; then ``drain`` is
called until nothing is pending and the CPU time of this process (``time.process_time``:
the parsing's Python and the database driver, not the PostgreSQL server) is divided by N.
Two rounds: the first meets its 1,000 senders for the first time (contacts are created), the
second finds them. Each round is run with the drain's default batch limit and time budget and
with the budget lifted (whole 200-webhook batches), to show what one batch costs.

Usage: python bench/bench_drain.py [N [sqlite|postgres ...]]   (default 2000, both)
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from _runtime_common import Db, table
from bench_webhook import APP_SECRET, _body, _setup
from sqlalchemy import text

from cauce.channels.whatsapp.webhook import sign
from cauce.runtime import webhook_inbox


def _store(db: Db, first: int, n: int) -> None:
    writer = webhook_inbox.group_commit(db.cauce)
    now = datetime.now(UTC)

    def one(i: int) -> int:
        body = _body(i)
        return writer.write(provider="whatsapp", body=body, signature=sign(body, APP_SECRET),
                            received_at=now)

    with ThreadPoolExecutor(32) as pool:
        list(pool.map(one, range(first, first + n)))


def _pending(db: Db) -> int:
    with db.cauce.transaction() as session:
        return int(session.scalar(text(
            "SELECT count(*) FROM inbound_webhooks WHERE status = 'pending'")) or 0)


def _drain_all(db: Db, budget: float | None) -> tuple[float, float, int]:
    cpu, wall, batches = time.process_time(), time.perf_counter(), 0
    while webhook_inbox.drain(db.cauce, budget_seconds=budget):
        batches += 1
    return time.process_time() - cpu, time.perf_counter() - wall, batches


def run(kind: str, n: int) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for budget_name, budget in (("default", None), ("none", 3600.0)):
        db = Db(kind)
        try:
            _setup(db, "http://127.0.0.1:9")
            for round_name, first in (("new senders", 0), ("known senders", n)):
                _store(db, first, n)
                cpu, wall, batches = _drain_all(db, budget)
                assert _pending(db) == 0
                with db.cauce.transaction() as session:
                    failed = int(session.scalar(text(
                        "SELECT count(*) FROM inbound_webhooks WHERE status = 'failed'")) or 0)
                assert failed == 0, f"{failed} webhooks failed"
                rows.append([kind, round_name, budget_name, n, batches,
                             f"{cpu / n * 1000:.2f}", f"{wall / n * 1000:.2f}"])
        finally:
            db.close()
    return rows


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    kinds = sys.argv[2:] or ["sqlite", "postgres"]
    rows = [row for kind in kinds for row in run(kind, n)]
    table("Webhook drain: CPU per parsed webhook",
          ["database", "round", "budget", "webhooks", "batches", "CPU ms/webhook",
           "wall ms/webhook"], rows)


if __name__ == "__main__":
    main()
