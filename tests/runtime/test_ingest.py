"""submit_input stores inputs in the caller's transaction, in arrival order, de-duplicated."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from cauce.engine.types import DeliveryStatus, EventIn, MessageIn
from cauce.runtime.ingest import parse_input, submit_input
from cauce.services.container import Cauce
from cauce.store.models import RuntimeInput
from tests.conftest import T0
from tests.runtime.support import make_workspace


def test_inputs_are_stored_in_arrival_order_and_deduplicated(cauce: Cauce) -> None:
    ws = make_workspace(cauce)
    msg = MessageIn(channel="whatsapp", text="hola", message_id="wamid.1", received_at=T0)
    with cauce.transaction() as s:
        assert submit_input(s, workspace_id=ws, contact_id=7, input=msg, dedupe_key="wamid.1")
        assert not submit_input(s, workspace_id=ws, contact_id=7, input=msg,
                                dedupe_key="wamid.1")
        ev = EventIn(name="cart.abandoned", data={"total": 10}, occurred_at=T0)
        assert submit_input(s, workspace_id=ws, contact_id=7, input=ev)
    with cauce.transaction() as s:
        # A redelivery in a later transaction is refused as well.
        assert not submit_input(s, workspace_id=ws, contact_id=7, input=msg,
                                dedupe_key="wamid.1")
        rows = s.scalars(select(RuntimeInput).order_by(RuntimeInput.id)).all()
    assert [r.kind for r in rows] == ["message", "event"]
    assert parse_input(rows[0].payload) == msg
    assert parse_input(rows[1].payload) == ev


def test_nothing_is_stored_when_the_callers_transaction_rolls_back(cauce: Cauce) -> None:
    ws = make_workspace(cauce)
    status = DeliveryStatus(message_key="k1", status="delivered", at=T0 + timedelta(seconds=1))
    try:
        with cauce.transaction() as s:
            submit_input(s, workspace_id=ws, contact_id=1, input=status)
            raise RuntimeError("caller failed")
    except RuntimeError:
        pass
    with cauce.transaction() as s:
        assert s.scalars(select(RuntimeInput)).all() == []


def test_a_large_submission_goes_in_chunks_and_keeps_its_order(
    cauce: Cauce, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL rows travel as one JSON document per statement, which may not exceed
    256 MB: a million inputs at once must go in chunks, in order, in one transaction."""
    from cauce.runtime import bulk
    from cauce.runtime.ingest import submit_inputs

    monkeypatch.setattr(bulk, "CHUNK", 3)
    ws = make_workspace(cauce)
    with cauce.transaction() as s:
        submit_inputs(s, [(ws, c, EventIn(name="go", data={"n": c}, occurred_at=T0))
                          for c in range(1, 11)])
    with cauce.transaction() as s:
        rows = s.scalars(select(RuntimeInput).order_by(RuntimeInput.id)).all()
    assert [r.contact_id for r in rows] == list(range(1, 11))
    assert [parse_input(r.payload).data["n"] for r in rows] == list(range(1, 11))
