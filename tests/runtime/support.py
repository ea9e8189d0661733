"""Helpers shared by the runtime tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from cauce.runtime.processor import Processor
from cauce.services.container import Cauce
from cauce.services.workspaces import create_workspace
from cauce.store.models import Contact, Flow, FlowVersion
from tests.runtime.fake_engine import FakeEngine


def make_workspace(cauce: Cauce, slug: str = "shop") -> int:
    with cauce.transaction() as s:
        return create_workspace(s, slug, "Shop", cauce.clock.now()).id


def make_contacts(cauce: Cauce, workspace_id: int, n: int, start: int = 0) -> list[int]:
    now = cauce.clock.now()
    rows = [
        {"workspace_id": workspace_id, "phone": f"+54911{start + i:08d}", "name": f"C{i}",
         "fields": {}, "tags": [], "created_at": now, "updated_at": now}
        for i in range(n)
    ]
    with cauce.transaction() as s:
        s.execute(insert(Contact), rows)
        from sqlalchemy import select

        return list(s.scalars(select(Contact.id).where(Contact.workspace_id == workspace_id)
                              .order_by(Contact.id)).all())[-n:]


def publish(cauce: Cauce, workspace_id: int, document: dict[str, Any], name: str = "f") -> int:
    now = cauce.clock.now()
    with cauce.transaction() as s:
        flow = Flow(workspace_id=workspace_id, name=name, draft=document, published_version=1,
                    created_at=now, updated_at=now)
        s.add(flow)
        s.flush()
        s.add(FlowVersion(workspace_id=workspace_id, flow_id=flow.id, number=1,
                          document=document, published_at=now))
        return flow.id


def processor(cauce: Cauce, batch_size: int = 200) -> Processor:
    return Processor(cauce, FakeEngine(), batch_size=batch_size)


def drain(p: Processor) -> int:
    total = 0
    while n := p.process_batch():
        total += n
    return total
