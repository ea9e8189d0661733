"""Validation finds each problem the issue lists, in a flow made to contain it."""

from __future__ import annotations

from typing import Any

import pytest

from cauce.flows.examples import example_names, load_example
from cauce.flows.validate import validate_document

MANUAL = [{"type": "manual"}]
INBOUND = [{"type": "inbound_message"}]


def doc(*nodes: dict[str, Any], triggers: list[dict[str, Any]] | None = None,
        **settings: Any) -> dict[str, Any]:
    return {"metadata": {"name": "v"}, "triggers": MANUAL if triggers is None else triggers,
            "settings": settings, "nodes": list(nodes)}


def n(node_id: str, node_type: str, config: dict[str, Any] | None = None,
      **exits: str | None) -> dict[str, Any]:
    return {"id": node_id, "type": node_type, "config": config or {}, "exits": exits}


END = n("done", "end")


def found(document: dict[str, Any], code: str) -> list[tuple[str, str | None, str | None]]:
    return [(p.severity, p.node_id, p.field) for p in validate_document(document)
            if p.code == code]


def test_unknown_node_type_with_suggestion() -> None:
    problems = validate_document(doc(n("a", "whatsap_text", {"text": "x"}, next=None)))
    [p] = [p for p in problems if p.code == "unknown_node_type"]
    assert p.node_id == "a" and p.field == "type" and "whatsapp_text" in p.message


def test_dangling_and_unwired_and_unknown_exits() -> None:
    d = doc(n("a", "add_tag", {"tags": ["x"]}, next="ghost"),
            n("b", "condition", {"branches": [{"name": "yes", "when": {"rules": [
                {"field": "contact.tags", "operator": "contains", "value": "x"}]}}]},
              yes="done", nope="done"), END)
    assert found(d, "dangling_exit") == [("error", "a", "exits.next")]
    assert ("warning", "b", "exits.else") in found(d, "unwired_exit")
    assert found(d, "unknown_exit") == [("error", "b", "exits.nope")]


def test_unreachable_node() -> None:
    d = doc(n("a", "add_tag", {"tags": ["x"]}, next="done"), END,
            n("island", "add_tag", {"tags": ["y"]}, next="done"))
    assert found(d, "unreachable_node") == [("warning", "island", None)]


def test_loop_without_wait_and_loop_with_wait() -> None:
    hot = doc(n("a", "add_tag", {"tags": ["x"]}, next="b"),
              n("b", "lead_score", {"points": 1}, next="a"))
    assert found(hot, "loop_without_wait") == [("error", "a", None)]
    self_loop = doc(n("a", "add_tag", {"tags": ["x"]}, next="a"))
    assert found(self_loop, "loop_without_wait") == [("error", "a", None)]
    calm = doc(n("a", "add_tag", {"tags": ["x"]}, next="w"),
               n("w", "delay", {"duration": "1d"}, next="a"))
    assert found(calm, "loop_without_wait") == []


def test_wait_for_reply_without_timeout() -> None:
    d = doc(n("t", "whatsapp_template", {"name": "hola"}, next="w", failed="done"),
            n("w", "wait_for_reply", {}, replied="done", timeout="done"),
            n("b", "whatsapp_buttons", {"body": "?", "buttons": [{"id": "y", "title": "Sí"}]},
              y="done", replied="done", timeout="done", failed="done"), END)
    assert ("error", "w", "config.timeout") in found(d, "missing_timeout")
    assert ("error", "b", "config.timeout") in found(d, "missing_timeout")


def test_unknown_template_variables_and_syntax() -> None:
    d = doc(n("a", "sms", {"text": "Hola {{ contact.nombre }} {{ results.ghost.x }} "
                                   "{{ cliente }} {{ contact.fields.anything }}"},
              next="b", failed="done"),
            n("b", "sms", {"text": "{% if %}"}, next="done", failed="done"), END)
    unknown = found(d, "unknown_variable")
    assert unknown == [("error", "a", "config.text")] * 3
    assert found(d, "template_syntax") == [("error", "b", "config.text")]


def test_results_names_from_node_ids_and_save_as_are_known() -> None:
    d = doc(n("crm", "http_request", {"url": "https://x.example", "save_as": "client"},
              success="s", failed="done"),
            n("s", "sms", {"text": "{{ results.client.json.plan }} {{ results.crm.status }}"},
              next="done", failed="done"), END)
    assert found(d, "unknown_variable") == []


def test_button_limits() -> None:
    buttons = [{"id": f"b{i}", "title": "A" * (21 if i == 0 else 5)} for i in range(4)]
    d = doc(n("ask", "whatsapp_buttons", {"body": "?", "buttons": buttons, "timeout": "1d"},
              replied="done", timeout="done", failed="done"), END, triggers=INBOUND)
    assert found(d, "too_many_buttons") == [("error", "ask", "config.buttons")]
    assert found(d, "button_title_too_long") == [("error", "ask", "config.buttons.0.title")]


def test_list_limits() -> None:
    rows = [{"id": f"r{i}", "title": "T" * (25 if i == 0 else 3),
             "description": "D" * (73 if i == 1 else 3)} for i in range(11)]
    d = doc(n("pick", "whatsapp_list", {"body": "?", "button": "Ver",
                                        "sections": [{"title": "s", "rows": rows}],
                                        "timeout": "1d"},
              replied="done", timeout="done", failed="done"), END, triggers=INBOUND)
    assert found(d, "too_many_rows") == [("error", "pick", "config.sections")]
    assert found(d, "row_title_too_long") == [("error", "pick",
                                               "config.sections.0.rows.0.title")]
    assert found(d, "row_description_too_long") == [("error", "pick",
                                                     "config.sections.0.rows.1.description")]


@pytest.mark.parametrize("trigger", [
    {"type": "inbound_message", "match": "keyword", "keywords": []},
    {"type": "inbound_message", "match": "regex", "regex": "(unclosed"},
    {"type": "opportunity_changed", "moved_from": "open", "moved_to": "Open"},
    {"type": "opportunity_changed", "moved_to": "abandoned", "status": "abandoned"},
    {"type": "opportunity_changed", "moved_from": "lost", "moved_to": "open", "status": "won"},
    {"type": "business_event", "event": "cart.abandoned", "filters": {"rules": [
        {"field": "event.country", "operator": "eq", "value": "AR"},
        {"field": "event.country", "operator": "eq", "value": "UY"}]}},
    {"type": "schedule", "cron": "every monday"},
])
def test_trigger_that_can_never_match(trigger: dict[str, Any]) -> None:
    problems = found(doc(END, triggers=[trigger]), "trigger_never_matches")
    assert len(problems) == 1 and problems[0][0] == "error"
    assert problems[0][2] and problems[0][2].startswith("triggers.0.")


def test_the_seed_reactivation_trigger_can_match() -> None:
    trigger = {"type": "opportunity_changed", "pipeline": "Ventas",
               "stage": "Volumetric Appenders", "moved_to": "Abandoned", "status": "Open"}
    assert found(doc(END, triggers=[trigger]), "trigger_never_matches") == []


TEXT = {"text": "Hola"}


def test_whatsapp_free_form_without_a_window_is_flagged() -> None:
    d = doc(n("t", "whatsapp_text", TEXT, next="done", failed="done"), END,
            triggers=[{"type": "business_event", "event": "cart.abandoned"}])
    assert found(d, "whatsapp_window") == [("error", "t", "config.fallback_template")]


def test_whatsapp_free_form_guards() -> None:
    event = [{"type": "business_event", "event": "cart.abandoned"}]
    guarded_by_check = doc(n("csw", "window_check", open="t", closed="done"),
                           n("t", "whatsapp_text", TEXT, next="done", failed="done"), END,
                           triggers=event)
    with_fallback = doc(n("t", "whatsapp_text", {**TEXT, "fallback_template": {"name": "hola"}},
                          next="done", failed="done"), END, triggers=event)
    after_reply = doc(n("tpl", "whatsapp_template", {"name": "hola"}, next="w", failed="done"),
                      n("w", "wait_for_reply", {"timeout": "2d"}, replied="t", timeout="done"),
                      n("t", "whatsapp_text", TEXT, next="done", failed="done"), END,
                      triggers=event)
    started_by_message = doc(n("t", "whatsapp_text", TEXT, next="done", failed="done"), END,
                             triggers=INBOUND)
    for d in (guarded_by_check, with_fallback, after_reply, started_by_message):
        assert found(d, "whatsapp_window") == []


def test_whatsapp_window_may_close_on_some_path() -> None:
    closed_branch = doc(n("csw", "window_check", open="done", closed="t"),
                        n("t", "whatsapp_media", {"media_type": "image", "link": "https://x"},
                          next="done", failed="done"), END, triggers=INBOUND)
    long_delay = doc(n("w", "delay", {"duration": "2d"}, next="t"),
                     n("t", "whatsapp_text", TEXT, next="done", failed="done"), END,
                     triggers=INBOUND)
    reply_timeout = doc(n("tpl", "whatsapp_template", {"name": "hola"}, next="w", failed="done"),
                        n("w", "wait_for_reply", {"timeout": "2d"}, replied="t", timeout="t"),
                        n("t", "whatsapp_text", TEXT, next="done", failed="done"), END,
                        triggers=INBOUND)
    for d, node_id in ((closed_branch, "t"), (long_delay, "t"), (reply_timeout, "t")):
        assert found(d, "whatsapp_window") == [("error", node_id, "config.fallback_template")]


def test_all_problems_at_once_even_with_broken_nodes() -> None:
    d = doc(n("a", "sms", {"text": "{{ nope }}"}, next="b", failed="zzz"),
            n("b", "delay", {"duration": "soon"}, next="done"),
            n("c", "teleport"),
            {"type": "add_tag"}, END, triggers=[{"type": "schedule"}])
    codes = {(p.code, p.node_id) for p in validate_document(d)}
    assert {("unknown_variable", "a"), ("dangling_exit", "a"), ("invalid", "b"),
            ("unknown_node_type", "c"), ("invalid", None), ("trigger_never_matches", None)} <= codes
    [bad_duration] = [p for p in validate_document(d) if p.node_id == "b"]
    assert bad_duration.field == "config.duration" and "duration" in bad_duration.message


def test_not_an_object() -> None:
    assert [p.code for p in validate_document([1, 2])] == ["invalid"]


@pytest.mark.parametrize("name", example_names())
def test_shipped_examples_are_clean(name: str) -> None:
    assert [p.line() for p in validate_document(load_example(name))] == []
