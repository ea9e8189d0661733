"""Delivery alone: an outbox of N WhatsApp template sends (3 per contact, as the end-to-end
bench's flow makes them) delivered to the fake Graph API (a process of its own) by one
``Delivery`` loop in this process. Reports the CPU time of this process per send, split into
claim, provider calls and record, so a change to delivery can be compared on a busy machine
(CPU, not wall time, is what the other sessions on the box do not distort much).

Usage: python bench/bench_delivery.py [CONTACTS [sqlite|postgres ...]]   (default 1000, both)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from _runtime_common import T0, Db, table
from bench_pipeline import FLOW, GraphProcess
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.runtime.support import drain, make_contacts, make_workspace, processor, publish

from cauce.channels import registry
from cauce.engine.types import MessageIn
from cauce.runtime.delivery import Delivery, DeliveryConfig
from cauce.runtime.handlers import MessageHandler, ResolvedChannel
from cauce.runtime.ingest import submit_input
from cauce.store.models import OutboxItem


class _Timed:
    """CPU seconds spent inside a wrapped method (this thread's and the pool's alike: the
    process clock), summed over calls."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[name] = self.spent.get(name, 0.0) + time.process_time() - start
        return timed


def run(kind: str, contacts: int, batch: int) -> list[object]:
    db = Db(kind)
    graph = GraphProcess()
    try:
        ws = make_workspace(db.cauce)
        ids = make_contacts(db.cauce, ws, contacts)
        publish(db.cauce, ws, FLOW)
        with db.cauce.transaction() as s:
            for c in ids:
                submit_input(s, workspace_id=ws, contact_id=c, dedupe_key=f"wamid.{c}",
                             input=MessageIn(channel="whatsapp", text="hola",
                                             message_id=f"wamid.{c}", received_at=T0))
        drain(processor(db.cauce, 300))
        config = {"phone_number_id": "1055", "access_token": "t", "graph_base_url": graph.url}

        def directory(_s: Session, _ws: int, _c: str) -> ResolvedChannel:
            return ResolvedChannel("whatsapp", config, "1055", rate_per_second=100_000)

        delivery = Delivery(db.cauce, DeliveryConfig(batch_size=batch),
                            handlers={"message_requested": MessageHandler(directory)})
        timer = _Timed()
        # Bound methods on the instance: claim and record run in this thread; the calls in
        # the pool threads overlap, so they are not timed apart (the rest is theirs).
        delivery._claim = timer.wrap("claim", delivery._claim)  # type: ignore[method-assign]
        delivery._record = timer.wrap("record", delivery._record)  # type: ignore[method-assign]
        cpu0, wall0 = time.process_time(), time.perf_counter()
        sent = 0
        while (n := delivery.deliver_batch()) > 0:
            sent += n
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        delivery.close()
        registry.close_all()  # the adapters' pooled connections, as Runtime.stop does
        with db.cauce.transaction() as s:
            done = s.scalar(select(func.count()).where(OutboxItem.status == "done"))
        assert done == 3 * contacts == sent, (done, sent)
        claim, record = timer.spent["claim"], timer.spent["record"]
        per = 1000 / sent
        return [kind, batch, sent, f"{wall:.1f}", f"{sent / wall:,.0f}", f"{cpu * per:.2f}",
                f"{claim * per:.2f}", f"{(cpu - claim - record) * per:.2f}",
                f"{record * per:.2f}"]
    finally:
        graph.stop()
        db.close()


def main() -> None:
    contacts = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    kinds = sys.argv[2:] or ["sqlite", "postgres"]
    rows = [run(kind, contacts, batch) for kind in kinds for batch in (64, 256)]
    table("delivery alone: outbox -> fake Graph API", [
        "database", "batch", "sends", "wall s", "sends/s", "CPU ms/send", "claim",
        "calls+rest", "record"], rows)


if __name__ == "__main__":
    main()
