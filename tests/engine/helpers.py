"""Small builders for engine tests: flows from node lists, a deterministic context."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from cauce.engine.types import ContactSnapshot, Context, WorkspaceSnapshot
from cauce.flows.document import FlowDocument, load_flow

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # Monday 09:00 in Buenos Aires


def flow(*nodes: dict[str, Any], triggers: list[dict[str, Any]] | None = None,
         **settings: Any) -> FlowDocument:
    return load_flow({"metadata": {"name": "test"},
                      "triggers": triggers if triggers is not None else [{"type": "manual"}],
                      "settings": settings, "nodes": list(nodes)})


def node(node_id: str, node_type: str, config: dict[str, Any] | None = None,
         **exits: str | None) -> dict[str, Any]:
    return {"id": node_id, "type": node_type, "config": config or {}, "exits": exits}


def end(node_id: str = "done") -> dict[str, Any]:
    return node(node_id, "end")


def ctx(now: datetime = T0, contact: ContactSnapshot | None = None, **contact_fields: Any
        ) -> Context:
    counter = itertools.count(1)
    return Context(now=now, contact=contact or ContactSnapshot(**{"id": 1, **contact_fields}),
                   workspace=WorkspaceSnapshot(id=1), new_id=lambda: f"id{next(counter)}")


def types(events: list[Any]) -> list[str]:
    return [e.type for e in events]
