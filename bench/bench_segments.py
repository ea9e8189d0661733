"""Segment counts over 100,000 contacts (issue 6: "the count of a segment of 100,000 contacts
answers in under a second").

    .venv/bin/python bench/bench_segments.py [--contacts 100000] [--repeat 9]
        [--backend sqlite|postgres|both]

Each backend gets a fresh database (a SQLite file, or a PostgreSQL schema of its own on the
test server) with ``--contacts`` contacts in the measured workspace and a tenth as many in a
second workspace (the count must not read them). Contacts have tags, typed custom fields, a
lead score, activity timestamps, consent and first-touch attribution (ad referral or UTM).
Every definition is saved as a segment and counted through ``segments.count_segment`` — the
service behind ``GET /api/v1/segments/{id}/count`` — ``--repeat`` times, each count in its own
transaction as the API runs it; the table shows the first (cold) count and p50 / p95 of all.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import timedelta
from typing import Any

from _runtime_common import T0, Db, table
from sqlalchemy import insert, text

from cauce.services import segments
from cauce.services.contacts import create_field
from cauce.services.workspaces import create_workspace
from cauce.store.models import Contact

TARGET_MS = 1000.0
TAGS = ["vip", "cliente", "web", "promo", "tienda", "mayorista", "newsletter", "inactivo"]
CITIES = ["Buenos Aires", "Córdoba", "Rosario", "Mendoza", "La Plata", "Salta"]
UTM_SOURCES = ["facebook", "google", "instagram", "newsletter"]

# Representative definitions, as the segment builder saves them.
DEFINITIONS: dict[str, dict[str, Any]] = {
    "tag vip": {"conditions": [{"field": "tags", "op": "has", "value": "vip"}]},
    "tags any of promo, web and not inactivo": {"conditions": [
        {"field": "tags", "op": "has_any", "value": ["promo", "web"]},
        {"field": "tags", "op": "has_not", "value": "inactivo"}]},
    "custom number: orders >= 5": {"conditions": [
        {"field": "fields.orders", "op": "gte", "value": 5}]},
    "custom choice + text: plan = pro, city = Córdoba": {"conditions": [
        {"field": "fields.plan", "op": "eq", "value": "pro"},
        {"field": "fields.city", "op": "eq", "value": "Córdoba"}]},
    "custom date: customer since before 2025-06-01": {"conditions": [
        {"field": "fields.since", "op": "before", "value": "2025-06-01"}]},
    "score 40..60": {"conditions": [
        {"field": "lead_score", "op": "gte", "value": 40},
        {"field": "lead_score", "op": "lte", "value": 60}]},
    "no inbound in 30 days": {"conditions": [
        {"field": "last_inbound_at", "op": "not_within_days", "value": 30}]},
    "attribution: source ad": {"conditions": [
        {"field": "attribution.source", "op": "eq", "value": "ad"}]},
    "attribution: utm_source facebook, campaign verano": {"conditions": [
        {"field": "utm_source", "op": "eq", "value": "facebook"},
        {"field": "utm_campaign", "op": "eq", "value": "verano"}]},
    "AND/OR: vip|cliente AND (pro OR score>=80) AND inbound<14d": {"conditions": [
        {"field": "tags", "op": "has_any", "value": ["vip", "cliente"]},
        {"match": "any", "conditions": [
            {"field": "fields.plan", "op": "eq", "value": "pro"},
            {"field": "lead_score", "op": "gte", "value": 80}]},
        {"field": "last_inbound_at", "op": "within_days", "value": 14}]},
    "OR of ANDs: (google AND Rosario) OR (web+promo AND no inbound 60d)": {
        "match": "any", "conditions": [
            {"conditions": [
                {"field": "utm_source", "op": "eq", "value": "google"},
                {"field": "fields.city", "op": "eq", "value": "Rosario"}]},
            {"conditions": [
                {"field": "tags", "op": "has_all", "value": ["web", "promo"]},
                {"field": "last_inbound_at", "op": "not_within_days", "value": 60}]}]},
    "consent whatsapp opted_in, not opted out of marketing, newsletter": {"conditions": [
        {"field": "consent.whatsapp", "op": "eq", "value": "opted_in"},
        {"field": "opted_out_marketing", "op": "eq", "value": False},
        {"field": "fields.newsletter", "op": "eq", "value": True}]},
    "everyone (empty filter)": {"conditions": []},
}


def contact_rows(workspace_id: int, n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        fields: dict[str, Any] = {"plan": rng.choice(["free", "pro", "business"]),
                                  "city": rng.choice(CITIES)}
        if rng.random() < 0.8:
            fields["orders"] = rng.randint(0, 20)
        if rng.random() < 0.6:
            fields["since"] = (T0.date() - timedelta(days=rng.randint(0, 1500))).isoformat()
        if rng.random() < 0.5:
            fields["newsletter"] = rng.random() < 0.5
        source = rng.choice(["ad", "utm", "utm", None])
        utm = {"source": rng.choice(UTM_SOURCES), "campaign": rng.choice(["verano", "invierno"])}
        attribution: dict[str, Any] = {}
        if source == "ad":
            attribution = {"source": "ad", "referral": {"source_id": f"ad{i % 50}"}, "utm": {},
                           "at": T0.isoformat()}
        elif source == "utm":
            attribution = {"source": "utm", "referral": None, "utm": utm, "at": T0.isoformat()}
        inbound = None if rng.random() < 0.2 else T0 - timedelta(minutes=rng.randint(0, 129600))
        rows.append({
            "workspace_id": workspace_id, "phone": f"+54911{seed:02d}{i:06d}",
            "email": f"c{seed}-{i}@example.com", "name": f"Cliente {i}", "first_name": "",
            "last_name": "", "country": "AR", "timezone": "America/Argentina/Buenos_Aires",
            "fields": fields, "tags": rng.sample(TAGS, k=rng.randint(0, 3)),
            "lead_score": rng.randint(0, 100),
            "consent": {"whatsapp": {"status": rng.choice(["opted_in", "opted_out"]),
                                     "source": "bench", "at": T0.isoformat()}},
            "opted_out_marketing": rng.random() < 0.05, "attribution": attribution,
            "utm_source": utm["source"] if source == "utm" else None,
            "utm_campaign": utm["campaign"] if source == "utm" else None,
            "ad_id": f"ad{i % 50}" if source == "ad" else None, "source": "import",
            "last_inbound_at": inbound,
            "last_outbound_at": inbound + timedelta(minutes=1) if inbound else None,
            "created_at": T0 - timedelta(days=rng.randint(0, 900)), "updated_at": T0,
        })
    return rows


def load(db: Db, contacts: int) -> int:
    cauce = db.cauce
    with cauce.transaction() as session:
        ws = create_workspace(session, "bench-segments", "Bench", T0).id
        other = create_workspace(session, "bench-other", "Other", T0).id
        for w in (ws, other):
            create_field(session, w, "plan", "choice", T0, choices=["free", "pro", "business"])
            create_field(session, w, "city", "text", T0)
            create_field(session, w, "orders", "number", T0)
            create_field(session, w, "since", "date", T0)
            create_field(session, w, "newsletter", "boolean", T0)
    for workspace_id, n, seed in ((ws, contacts, 1), (other, contacts // 10, 2)):
        rows = contact_rows(workspace_id, n, seed)
        for start in range(0, n, 5000):
            with cauce.transaction() as session:
                session.execute(insert(Contact), rows[start:start + 5000])
    # Planner statistics, as autovacuum (PostgreSQL) or `PRAGMA optimize` (SQLite) keep them.
    with cauce.engine.begin() as conn:
        conn.execute(text("ANALYZE contacts"))
    return ws


def measure(db: Db, ws: int, repeat: int) -> list[list[Any]]:
    cauce = db.cauce
    rows = []
    for label, definition in DEFINITIONS.items():
        with cauce.transaction() as session:
            segment_id = segments.create_segment(session, ws, label[:100], definition, T0).id
        took = []
        count = 0
        for _ in range(repeat):
            with cauce.transaction() as session:
                started = time.perf_counter()
                count = segments.count_segment(session, ws, segment_id, T0)
                took.append((time.perf_counter() - started) * 1000)
        ordered = sorted(took)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        rows.append([db.kind, f"{contacts_in(db, ws):,}", label, f"{count:,}",
                     f"{took[0]:.0f}", f"{statistics.median(took):.0f}", f"{p95:.0f}",
                     f"<= {TARGET_MS:.0f}", "yes" if p95 <= TARGET_MS else "NO"])
    return rows


def contacts_in(db: Db, ws: int) -> int:
    with db.cauce.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM contacts WHERE workspace_id = :w"),
                                {"w": ws}).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    results: list[list[Any]] = []
    for kind in kinds:
        db = Db(kind)
        try:
            started = time.perf_counter()
            ws = load(db, args.contacts)
            print(f"{kind}: loaded {args.contacts:,} + {args.contacts // 10:,} contacts in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
            results += measure(db, ws, args.repeat)
        finally:
            db.close()
    table(f"Segment count (count_segment, {args.repeat} counts each)",
          ["backend", "contacts", "segment definition", "matches", "first ms", "p50 ms",
           "p95 ms", "target", "met"], results)
    # Same seed, same contacts: both backends must find the same members.
    counts: dict[str, set[str]] = {}
    for row in results:
        counts.setdefault(row[2], set()).add(row[3])
    disagree = [label for label, found in counts.items() if len(found) > 1]
    if disagree:
        raise SystemExit(f"SQLite and PostgreSQL counted differently: {disagree}")
    if any(row[-1] != "yes" for row in results):
        raise SystemExit("a segment count missed the 1 s target")


if __name__ == "__main__":
    main()
