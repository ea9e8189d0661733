"""Benchmarks for the CRM: importing 50,000 contacts from CSV (target: under a minute) and
counting a segment over 100,000 contacts (target: under a second).

    .venv/bin/python bench/bench_import.py [--rows 50000] [--segment-rows 100000]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Without --database-url it uses a fresh SQLite file in a temporary directory. Prints a table.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from cauce.clock import VirtualClock
from cauce.services import imports, segments
from cauce.services.contacts import create_field
from cauce.services.container import Cauce
from cauce.services.workspaces import create_workspace
from cauce.settings import load_settings
from cauce.store import migrate
from cauce.store.models import Contact, ImportJob

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def make_csv(rows: int, bad_every: int = 100) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Teléfono", "Correo", "Nombre", "Plan", "Etiquetas"])
    rng = random.Random(7)
    for i in range(rows):
        phone = f"+54911{i:08d}" if i % bad_every else "12"  # 1 % bad phones
        writer.writerow([phone, f"c{i}@example.com", f"Cliente {i}",
                         rng.choice(["free", "pro"]), rng.choice(["vip", "web", "vip;web", ""])])
    return out.getvalue()


def open_cauce(url: str | None, tmp: Path) -> Cauce:
    settings = load_settings(
        database_url=url or f"sqlite:///{tmp}/bench.db", secret_key="bench-secret-key-0123",
        data_dir=tmp,
    )
    cauce = Cauce.open(settings, clock=VirtualClock(NOW))
    migrate.upgrade(cauce.engine)
    return cauce


def bench_import(cauce: Cauce, ws_id: int, rows: int) -> list[tuple[str, str]]:
    data = make_csv(rows)
    mapping = {"Teléfono": "phone", "Correo": "email", "Nombre": "name", "Plan": "fields.plan",
               "Etiquetas": "tags"}

    def run() -> tuple[float, ImportJob]:
        # Timed from the upload: storing the file's batches is part of an import.
        started = time.perf_counter()
        with cauce.transaction() as session:
            staged = imports.stage_import(
                session, ws_id, "bench.csv", io.BytesIO(data.encode()), mapping, NOW
            )
        job = imports.run_import(cauce, ws_id, staged.id)
        return time.perf_counter() - started, job

    first, result = run()
    second, again = run()
    return [
        (f"import {rows:,} rows (new)", f"{first:.1f} s ({rows / first:,.0f} rows/s); "
         f"{result.created_count:,} created, {result.error_count:,} bad rows reported"),
        (f"re-import same {rows:,} rows", f"{second:.1f} s; {again.created_count} created, "
         f"{again.updated_count:,} updated"),
    ]


def bench_segment(cauce: Cauce, ws_id: int, rows: int) -> list[tuple[str, str]]:
    rng = random.Random(11)
    batch = []
    for i in range(rows):
        batch.append({
            "workspace_id": ws_id, "email": f"s{i}@example.com", "name": f"S {i}",
            "first_name": "", "last_name": "", "fields": {"plan": rng.choice(["free", "pro"])},
            "tags": rng.sample(["vip", "web", "late", "new"], k=rng.randint(0, 2)),
            "lead_score": rng.randint(0, 100), "consent": {}, "attribution": {},
            "opted_out_marketing": False, "source": "bench",
            "utm_source": rng.choice([None, "facebook", "google"]),
            "last_inbound_at": NOW - timedelta(days=rng.randint(0, 90)),
            "created_at": NOW, "updated_at": NOW,
        })
        if len(batch) == 5000:
            with cauce.transaction() as session:
                session.execute(insert(Contact), batch)
            batch = []
    if batch:
        with cauce.transaction() as session:
            session.execute(insert(Contact), batch)
    if cauce.engine.dialect.name == "postgresql":
        with cauce.engine.begin() as conn:
            conn.execute(text("ANALYZE contacts"))
    filters = {
        "tag vip": {"conditions": [{"field": "tags", "op": "has", "value": "vip"}]},
        "score>=50 and inbound<30d": {"conditions": [
            {"field": "lead_score", "op": "gte", "value": 50},
            {"field": "last_inbound_at", "op": "within_days", "value": 30}]},
        "plan=pro and utm=facebook and not late": {"conditions": [
            {"field": "fields.plan", "op": "eq", "value": "pro"},
            {"field": "utm_source", "op": "eq", "value": "facebook"},
            {"field": "tags", "op": "has_not", "value": "late"}]},
    }
    out = []
    for label, flt in filters.items():
        with cauce.transaction() as session:
            started = time.perf_counter()
            count = segments.count_filter(session, ws_id, flt, NOW)
            took = time.perf_counter() - started
        out.append((f"segment count over {rows:,}: {label}", f"{took * 1000:.0f} ms ({count:,})"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--segment-rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cauce = open_cauce(args.database_url, Path(tmp))
        try:
            with cauce.transaction() as session:
                suffix = str(int(time.time()))
                ws_a = create_workspace(session, f"bench-import-{suffix}", "bench", NOW).id
                ws_b = create_workspace(session, f"bench-seg-{suffix}", "bench", NOW).id
                for ws in (ws_a, ws_b):
                    create_field(session, ws, "plan", "choice", NOW, choices=["free", "pro"])
            results = bench_import(cauce, ws_a, args.rows)
            results += bench_segment(cauce, ws_b, args.segment_rows)
        finally:
            cauce.close()
    print(f"database: {cauce.engine.dialect.name}")
    width = max(len(k) for k, _ in results)
    print(f"{'benchmark'.ljust(width)} | result")
    print(f"{'-' * width}-|-------")
    for k, v in results:
        print(f"{k.ljust(width)} | {v}")


if __name__ == "__main__":
    main()
