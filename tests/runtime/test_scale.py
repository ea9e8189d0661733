"""The runtime's guarantees at size: per-contact order over several worker processes, long
waits resumed exactly once, and nothing lost or repeated (beyond counted uncertainty) when
workers are killed at random."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from cauce.clock import RealClock
from cauce.engine.types import DeliveryStatus, EventIn, Input
from cauce.runtime.ingest import submit_input, submit_inputs
from cauce.runtime.simclock import advance, wait_until_drained
from cauce.services.container import Cauce
from cauce.settings import load_settings
from cauce.store.db import make_engine
from cauce.store.models import (
    Contact,
    OutboxItem,
    RuntimeInput,
    RuntimeRun,
    RuntimeTimer,
    StepLogEntry,
)
from tests.conftest import T0
from tests.runtime.procs import Workers
from tests.runtime.support import make_contacts, make_workspace, processor, publish
from tests.support.databases import PostgresSchema, SqliteTemplate
from tests.support.fakes.graph_api import FakeGraphApi
from tests.support.fakes.http import Recorded, Reply

WEEK = 7 * 86400


@pytest.fixture
def pg(postgres_schema: PostgresSchema, tmp_path: Path) -> Iterator[Cauce]:
    """A clean PostgreSQL schema on the real clock, for tests with worker processes."""
    engine = make_engine(postgres_schema.url)
    postgres_schema.reset(engine)
    engine.dispose()
    settings = load_settings(database_url=postgres_schema.url, data_dir=tmp_path,
                             secret_key="test-secret-key-0123456789", clock="real")
    cauce = Cauce.open(settings, clock=RealClock())
    yield cauce
    cauce.close()


@dataclass
class Live:
    """A database on the real clock and how its workers run: PostgreSQL scale-out (3 worker
    processes, as `cauce worker` runs) or SQLite embedded (one process with 3 worker threads,
    as `cauce serve` runs it; killing it kills everything at once)."""

    cauce: Cauce
    procs: int
    env: dict[str, str]


@pytest.fixture(params=["sqlite", "postgres"])
def live(request: pytest.FixtureRequest, tmp_path: Path,
         sqlite_template: SqliteTemplate) -> Iterator[Live]:
    if request.param == "postgres":
        request.node.add_marker(pytest.mark.postgres)
        cauce = request.getfixturevalue("pg")
        yield Live(cauce, 3, {})
        return
    url = sqlite_template.fresh_url(tmp_path)
    settings = load_settings(database_url=url, data_dir=tmp_path,
                             secret_key="test-secret-key-0123456789", clock="real")
    cauce = Cauce.open(settings, clock=RealClock())
    yield Live(cauce, 1, {"CAUCE_TEST_WORKERS": "3"})
    cauce.close()


def _wait_for(cauce: Cauce, condition: str, check: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with cauce.transaction() as s:
            if check(s):  # type: ignore[operator]
                return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {condition}")


def test_per_contact_order_holds_across_three_workers(live: Live) -> None:
    pg = live.cauce
    ws = make_workspace(pg)
    contacts = make_contacts(pg, ws, 1000)
    publish(pg, ws, {"trigger": {"event": "seq"}, "steps": [{"append": "seen"}]})
    workers = Workers(pg.settings.database_url, env={"CAUCE_TEST_BATCH": "50", **live.env})
    workers.start(live.procs)
    try:
        # Inputs arrive while the workers run, interleaved across contacts, as webhooks would.
        for n in range(5):
            with pg.transaction() as s:
                rows: list[tuple[int, int, Input]] = [
                    (ws, c, EventIn(name="seq", data={"n": n}, occurred_at=T0))
                    for c in contacts
                ]
                submit_inputs(s, rows)

        def settled(s: object) -> bool:
            pending = s.scalar(  # type: ignore[attr-defined]
                select(func.count()).where(RuntimeInput.status != "done"))
            return pending == 0

        _wait_for(pg, "all inputs processed", settled, timeout=240)
    finally:
        assert workers.stop() == [0] * live.procs  # SIGTERM is a clean exit
    with pg.transaction() as s:
        seen = dict(s.execute(select(Contact.id, Contact.fields)).all())
    wrong = {c: f.get("seen") for c, f in seen.items() if f.get("seen") != [0, 1, 2, 3, 4]}
    assert not wrong, f"{len(wrong)} contacts out of order, e.g. {list(wrong.items())[:3]}"


def test_ten_thousand_week_long_waits_resume_exactly_once(cauce: Cauce) -> None:
    ws = make_workspace(cauce)
    contacts = make_contacts(cauce, ws, 10_000)
    publish(cauce, ws, {"trigger": {"event": "go"},
                        "steps": [{"wait": WEEK}, {"send": "una semana después"}]})
    p = processor(cauce, batch_size=500)
    with cauce.transaction() as s:
        submit_inputs(s, [(ws, c, EventIn(name="go", occurred_at=T0)) for c in contacts])
    wait_until_drained(cauce, p.process_batch)
    with cauce.transaction() as s:
        assert s.scalar(select(func.count()).select_from(RuntimeTimer)) == 10_000
        assert s.scalar(select(func.count()).where(RuntimeRun.status == "waiting")) == 10_000
    # A day short of the week: nothing fires.
    early = advance(cauce, WEEK - 86400, lambda: wait_until_drained(cauce, p.process_batch))
    assert early.timers_fired == 0
    result = advance(cauce, 2 * 86400, lambda: wait_until_drained(cauce, p.process_batch))
    assert result.timers_fired == 10_000
    assert result.now == T0 + timedelta(days=8)
    with cauce.transaction() as s:
        assert s.scalar(select(func.count()).select_from(RuntimeTimer)) == 0
        statuses = Counter(s.scalars(select(RuntimeRun.status)).all())
        assert statuses == {"completed": 10_000}
        per_run = Counter(s.scalars(select(OutboxItem.run_id)).all())
        assert len(per_run) == 10_000 and set(per_run.values()) == {1}
        resumed = Counter(s.scalars(select(StepLogEntry.run_id)
                                    .where(StepLogEntry.input_kind == "timer")).all())
        assert len(resumed) == 10_000 and set(resumed.values()) == {1}
    # Jumping again fires nothing more.
    again = advance(cauce, WEEK, lambda: wait_until_drained(cauce, p.process_batch))
    assert again.timers_fired == 0


class StatusEchoingGraphApi(FakeGraphApi):
    """The fake Graph API plus WhatsApp's status webhooks: shortly after accepting a message
    it reports ``sent`` with our key (``biz_opaque_callback_data``), through the runtime's
    ingest API as the channels' webhook does."""

    def __init__(self, cauce: Cauce, workspace_id: int, contact_of: dict[str, int]) -> None:
        super().__init__()
        self.cauce, self.workspace_id, self.contact_of = cauce, workspace_id, contact_of
        self._statuses: list[tuple[str, str]] = []
        self._status_lock = threading.Lock()
        self._stop = threading.Event()
        self._reporter = threading.Thread(target=self._report, daemon=True)
        self._reporter.start()

    def _send(self, request: Recorded) -> Reply:
        reply = super()._send(request)
        if reply.status == 200:
            body = request.json()
            with self._status_lock:
                self._statuses.append((body["biz_opaque_callback_data"], body["to"]))
        return reply

    def _report(self) -> None:
        while not self._stop.wait(0.2):
            with self._status_lock:
                batch, self._statuses = self._statuses, []
            if not batch:
                continue
            # Settling uncertain sends updates outbox rows the workers' delivery also updates:
            # a deadlock can abort this transaction, which is then tried again, as the
            # runtime's webhook drain does.
            for attempt in range(5):
                try:
                    with self.cauce.transaction() as s:
                        for key, to in batch:
                            submit_input(s, workspace_id=self.workspace_id,
                                         contact_id=self.contact_of[to],
                                         input=DeliveryStatus(message_key=key, status="sent",
                                                              at=self.cauce.clock.now()),
                                         dedupe_key=f"status:{key}:sent")
                    break
                except OperationalError:
                    if attempt == 4:
                        raise

    def close(self) -> None:
        self._stop.set()
        self._reporter.join()


@pytest.mark.slow
def test_sigkilled_workers_lose_nothing_and_duplicate_only_uncertain_sends(live: Live) -> None:
    pg = live.cauce
    ws = make_workspace(pg)
    contacts = make_contacts(pg, ws, 2000)
    with pg.transaction() as s:
        phones = dict(s.execute(select(Contact.phone, Contact.id)).all())
    contact_of = {str(p).lstrip("+"): c for p, c in phones.items()}
    publish(pg, ws, {"trigger": {"event": "go"},
                     "steps": [{"template": "uno"}, {"template": "dos"},
                               {"template": "tres"}]})
    graph = StatusEchoingGraphApi(pg, ws, contact_of)
    graph.start()
    # SQLite embedded: one process does everything, so sends are paced (100/s, a minute for
    # the 6,000) to leave time for ten kills of it mid-work.
    pace = {"CAUCE_TEST_RATE": "100"} if live.procs == 1 else {}
    workers = Workers(pg.settings.database_url, f"{graph.url}",
                      env={"CAUCE_TEST_LEASE": "4", "CAUCE_TEST_GRACE": "1.5", **pace,
                           **live.env})
    workers.start(live.procs)
    rng = random.Random(7)
    kills = 0
    try:
        with pg.transaction() as s:
            submit_inputs(s, [(ws, c, EventIn(name="go", occurred_at=T0)) for c in contacts])
        deadline = time.monotonic() + 400
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(0.5, 2.0))
            with pg.transaction() as s:
                open_items = s.scalar(select(func.count()).where(
                    OutboxItem.status.in_(["pending", "sending"])))
                total = s.scalar(select(func.count()).select_from(OutboxItem))
                pending_inputs = s.scalar(select(func.count()).where(
                    RuntimeInput.status == "pending"))
            if total == 6000 and open_items == 0 and pending_inputs == 0:
                break
            # Kill only workers that have been up long enough to be in the middle of work
            # (processing a batch or waiting for the provider), spread over the whole run.
            busy = [i for i in range(live.procs) if workers.age(i) > 3.0]
            if kills < 15 and busy:
                workers.kill(rng.choice(busy))
                kills += 1
    finally:
        workers.stop()
        graph.close()
        graph.stop()
    assert kills >= 10
    with pg.transaction() as s:
        items = s.execute(select(OutboxItem.key, OutboxItem.status, OutboxItem.uncertain,
                                 OutboxItem.contact_id)).all()
        failed_inputs = s.scalar(select(func.count()).where(RuntimeInput.status == "failed"))
    assert failed_inputs == 0
    assert len(items) == 6000, "every contact's run asked for exactly three messages"
    assert Counter(i.contact_id for i in items) == {c: 3 for c in contacts}
    assert {i.status for i in items} == {"done"}
    delivered: Counter[str] = Counter()
    for canonical, n in graph.accepted.items():
        delivered[json.loads(canonical)["biz_opaque_callback_data"]] += n
    expected = {i.key for i in items}
    assert set(delivered) == expected, "every expected message reached the provider"
    duplicates = sum(n - 1 for n in delivered.values())
    uncertain = sum(i.uncertain for i in items)
    print(f"\nkills={kills} sends={sum(delivered.values())} duplicates={duplicates} "
          f"uncertain_windows={uncertain}")
    assert duplicates <= uncertain


@pytest.mark.postgres
def test_a_csv_import_survives_sigkilled_workers(pg: Cauce) -> None:
    """An import left to worker processes (nobody in the API imports it), the workers killed
    at random mid-batch: the job completes, every row is counted once, no contact is half
    written or duplicated."""
    import io

    from cauce.services import imports
    from cauce.store.models import ImportJob

    ws = make_workspace(pg)
    rows = 12_000
    lines = ["phone,email,name"] + [
        f"+54911{i:08d},i{i}@example.com,Imp {i}" if i % 100 else f"12,bad{i}@example.com,x"
        for i in range(rows)
    ]
    with pg.transaction() as s:
        job_id = imports.stage_import(
            s, ws, "big.csv", io.BytesIO(("\n".join(lines) + "\n").encode()),
            {"phone": "phone", "email": "email", "name": "name"}, pg.clock.now(),
            batch_size=250,  # 48 batches: many commits for the kills to fall between
        ).id
    workers = Workers(pg.settings.database_url)
    workers.start(2)
    rng = random.Random(11)
    kills = 0
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(0.2, 0.6))
            with pg.transaction() as s:
                job = s.get(ImportJob, job_id)
                assert job is not None
                if job.status != "pending" and job.status != "running":
                    break
            busy = [i for i in range(2) if workers.age(i) > 1.0]
            if kills < 6 and busy and job.processed_rows > 0:
                workers.kill(rng.choice(busy))
                kills += 1
    finally:
        workers.stop()
    assert kills >= 2, "the import ended before the workers could be killed mid-way"
    with pg.transaction() as s:
        job = s.get(ImportJob, job_id)
        assert job is not None
        contacts = s.scalar(select(func.count()).select_from(Contact).where(
            Contact.workspace_id == ws))
        half_written = s.scalar(select(func.count()).select_from(Contact).where(
            Contact.workspace_id == ws, Contact.name == ""))
    assert (job.status, job.processed_rows, job.error_count) == ("completed", rows, rows // 100)
    assert job.created_count == contacts == rows - rows // 100
    assert job.updated_count == 0 and half_written == 0
    print(f"\nimport kills={kills}")
