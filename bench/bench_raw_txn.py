"""The database's raw single-row transaction rate (one INSERT + COMMIT per transaction), the
baseline the runtime's per-input cost is compared with."""

from __future__ import annotations

import time

from _runtime_common import Db, table
from sqlalchemy import text

N = 2000


def rate(db: Db) -> float:
    with db.cauce.engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, v INTEGER)"))
    start = time.perf_counter()
    for i in range(N):
        with db.cauce.engine.begin() as conn:
            conn.execute(text("INSERT INTO bench_raw (id, v) VALUES (:i, :i)"), {"i": i})
    return N / (time.perf_counter() - start)


def main() -> None:
    rows = []
    for kind in ("sqlite", "postgres"):
        db = Db(kind)
        try:
            rows.append([kind, N, f"{rate(db):,.0f}"])
        finally:
            db.close()
    table("raw single-row transactions", ["database", "transactions", "per second"], rows)


if __name__ == "__main__":
    main()
