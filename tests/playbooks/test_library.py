"""The playbook library: every template validates clean in both languages, publishes from the
API with parameters, and refuses bad parameters with a 422 naming them."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from cauce.flows.examples import load_example
from cauce.flows.playbooks import TEMPLATES, ParameterError, get_template, template_ids
from cauce.flows.validate import validate_document

# Non-default values for every template, so publishing exercises the parameters.
PARAMETERS: dict[str, dict[str, Any]] = {
    "lead_capture": {"entry_keywords": ["escribinos", "hola tienda"], "alert_target": "email",
                     "alert_to": "asesor@tienda.example", "answer_timeout": "30m"},
    "cart_recovery": {"cart_event": "checkout.abandoned", "follow_up_after": "12h",
                      "last_call_sms": "Último aviso, {{ contact.first_name }}"},
    "support_handoff": {"keywords": ["no anda", "factura"], "team": "mesa-de-ayuda",
                        "priority": "urgent"},
    "post_sale_nps": {"ask_after": "48h", "delivered_event": "service.done"},
    "b2b_onboarding": {"pipeline": "Enterprise", "tutorial_gap": "3d"},
    "lead_scoring": {"hot_threshold": 60, "signals": ["precio", "stock"]},
    "operations_risk": {"erp_webhook_url": "https://erp.example.com/hooks/incidents",
                        "alert_target": "slack"},
    "scene_lead_from_ad": {"team": "comercial"},
    "scene_abandoned_cart": {"reply_timeout": "6h"},
    "scene_support_self_service": {"team": "soporte-n2"},
    "reactivation": {"pipeline": "Mayoristas", "stage": "Propuesta", "first_wait": "5d",
                     "resume_days": "lunes-sabado", "resume_start": "09:00"},
}


def test_the_library_has_the_seven_playbooks_three_scenes_and_the_reactivation() -> None:
    kinds = [t.kind for t in TEMPLATES]
    assert kinds.count("playbook") == 7 and kinds.count("scene") == 3
    assert kinds.count("workflow") == 1 and len(set(template_ids())) == len(TEMPLATES)
    assert set(PARAMETERS) == set(template_ids())
    for t in TEMPLATES:
        assert t.name.es and t.name.en and t.description.es and t.description.en
        assert t.kpis, f"{t.id} declares no KPI"
        texts = [p for p in t.params if p.kind == "text" and p.default is not None]
        assert all(p.default_en for p in texts), t.id


@pytest.mark.parametrize("template_id", template_ids())
@pytest.mark.parametrize("language", ["es", "en"])
def test_every_template_validates_with_zero_problems(template_id: str, language: str) -> None:
    t = get_template(template_id)
    for given in ({"language": language}, {**PARAMETERS[template_id], "language": language}):
        doc = t.build(given)
        assert [p.line() for p in validate_document(doc)] == []
        assert doc["metadata"]["language"] == language
        assert f"template:{template_id}" in doc["metadata"]["tags"]
        # KPIs name nodes of the flow they measure.
        ids = {n["id"] for n in doc["nodes"]}
        for kpi in t.kpis:
            refs = [*getattr(kpi.measure, "nodes", ()), *getattr(kpi.measure, "of_nodes", ())]
            refs += [r for r in [getattr(kpi.measure, "event_node", None)] if r]
            assert set(refs) <= ids, (kpi.id, set(refs) - ids)


@pytest.mark.parametrize(("template_id", "example"), [
    ("scene_lead_from_ad", "lead_from_ad"), ("scene_abandoned_cart", "abandoned_cart"),
    ("scene_support_self_service", "support_self_service"), ("reactivation", "reactivation")])
def test_scene_and_reactivation_templates_build_the_shipped_examples(template_id: str,
                                                                     example: str) -> None:
    # The examples keep their golden scenarios (tests/golden/flows); the templates reuse them.
    built, shipped = get_template(template_id).build(), load_example(example)
    for key in ("triggers", "settings", "nodes", "layout", "start"):
        assert built.get(key) == shipped.get(key), key


def test_english_defaults_replace_the_spanish_copy() -> None:
    es = get_template("post_sale_nps").build()
    en = get_template("post_sale_nps").build({"language": "en"})
    ask = {n["id"]: n for n in es["nodes"]}["ask"]["config"]["text"]
    assert ask.startswith("¿Cómo fue tu experiencia de 0 a 10?")
    assert {n["id"]: n for n in en["nodes"]}["ask"]["config"]["text"].startswith(
        "How was your experience from 0 to 10?")


@pytest.mark.parametrize(("given", "parameter"), [
    ({"follow_up_after": "soon"}, "follow_up_after"),
    ({"follow_up_after": "0s"}, "follow_up_after"),
    ({"cart_event": "no spaces allowed"}, "cart_event"),
    ({"button_pay": ""}, "button_pay"),
    ({"button_pay": 3}, "button_pay"),
    ({"language": "fr"}, "language"),
    ({"colour": "red"}, "colour"),
    ({"reminder_template": "Con Mayúsculas"}, "reminder_template"),
])
def test_bad_parameters_name_the_parameter(given: dict[str, Any], parameter: str) -> None:
    with pytest.raises(ParameterError) as caught:
        get_template("cart_recovery").build(given)
    assert caught.value.parameter == parameter


@pytest.mark.parametrize("template_id", template_ids())
def test_every_template_publishes_from_the_api_with_parameters(
    api: TestClient, template_id: str
) -> None:
    response = api.post("/api/v1/flows/from-template", json={
        "template_id": template_id, "parameters": PARAMETERS[template_id],
        "name": f"Mi {template_id}", "publish": True})
    assert response.status_code == 201, response.text
    flow = response.json()
    assert flow["published_version"] == 1 and flow["name"] == f"Mi {template_id}"
    assert api.post(f"/api/v1/flows/{flow['id']}/validate").json()["problems"] == []
    (version,) = api.get(f"/api/v1/flows/{flow['id']}/versions").json()
    assert version["note"] == f"from template {template_id}"
    doc = api.get(f"/api/v1/flows/{flow['id']}/versions/1").json()["document"]
    expected = get_template(template_id).build(PARAMETERS[template_id])
    assert [n["id"] for n in doc["nodes"]] == [n["id"] for n in expected["nodes"]]
    kpis = api.get(f"/api/v1/flows/{flow['id']}/kpis")
    assert kpis.status_code == 200, kpis.text
    body = kpis.json()
    assert body["runs_started"] == 0
    assert [k["id"] for k in body["kpis"]] == [k.id for k in get_template(template_id).kpis]
    assert all(k["value"] is None and k["reason"] for k in body["kpis"])


def test_the_api_lists_and_describes_templates(api: TestClient) -> None:
    first = api.get("/api/v1/flow-templates", params={"limit": 4}).json()
    assert len(first["items"]) == 4 and first["next_cursor"] == "4"
    rest = api.get("/api/v1/flow-templates", params={"cursor": first["next_cursor"]}).json()
    ids = [t["id"] for t in first["items"] + rest["items"]]
    assert ids == template_ids() and rest["next_cursor"] is None
    scenes = api.get("/api/v1/flow-templates", params={"kind": "scene"}).json()["items"]
    assert [t["id"] for t in scenes] == ["scene_lead_from_ad", "scene_abandoned_cart",
                                         "scene_support_self_service"]
    cart = first["items"][1]
    assert cart["id"] == "cart_recovery" and "document" not in cart
    params = {p["id"]: p for p in cart["parameters"]}
    assert params["follow_up_after"]["kind"] == "duration"
    assert params["mail_subject"]["default"] == "Tu carrito te espera"
    assert params["mail_subject"]["default_en"] == "Your cart is waiting"
    assert cart["parameters_schema"]["properties"]["language"]["enum"] == ["es", "en"]
    assert {k["id"] for k in cart["kpis"]} >= {"recovery_rate", "attributed_revenue"}

    detail = api.get("/api/v1/flow-templates/reactivation", params={"language": "en"}).json()
    assert detail["document"]["metadata"]["language"] == "en"
    assert detail["document"]["triggers"][0]["pipeline"] == "Ventas"
    assert api.get("/api/v1/flow-templates/nope").status_code == 404
    bad = api.get("/api/v1/flow-templates", params={"cursor": "x"})
    assert bad.status_code == 422


def test_bad_input_to_from_template_is_a_422_naming_it_and_saves_nothing(
    api: TestClient
) -> None:
    before = api.get("/api/v1/flows").json()
    for body, field in [
        ({"template_id": "cart_recovery", "parameters": {"follow_up_after": "pronto"}},
         "parameters.follow_up_after"),
        ({"template_id": "cart_recovery", "parameters": {"colour": "red"}}, "parameters.colour"),
        ({"template_id": "lead_scoring", "parameters": {"hot_threshold": "mucho"}},
         "parameters.hot_threshold"),
        ({"template_id": "nope"}, "template_id"),
        ({"template_id": "cart_recovery", "parameters": []}, "parameters"),
    ]:
        response = api.post("/api/v1/flows/from-template", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == field, response.json()
    # A parameter that breaks the flow: the draft would be saved, publishing refuses it and
    # nothing is kept.
    broken = api.post("/api/v1/flows/from-template", json={
        "template_id": "cart_recovery", "publish": True,
        "parameters": {"mail_subject": "{{ contact.first_name "}})
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "flow_invalid"
    assert api.get("/api/v1/flows").json() == before
    draft = api.post("/api/v1/flows/from-template", json={"template_id": "cart_recovery"})
    assert draft.status_code == 201 and draft.json()["published_version"] is None


def test_kpis_of_a_flow_without_template_and_bad_periods(api: TestClient) -> None:
    plain = api.post("/api/v1/flows", json={"document": load_example("reactivation")}).json()
    response = api.get(f"/api/v1/flows/{plain['id']}/kpis")
    assert response.status_code == 409 and response.json()["error"]["code"] == "no_template"
    flow = api.post("/api/v1/flows/from-template", json={"template_id": "reactivation"}).json()
    bad = api.get(f"/api/v1/flows/{flow['id']}/kpis", params={
        "from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "from"
    assert api.get("/api/v1/flows/999999/kpis").status_code == 404
