"""The dashboard computed from real data: flows published and run by the product's engine,
messages delivered through the outbox (simulator channel) with WhatsApp-style statuses and
pricing, NPS answers typed in the simulator, tickets handled by an agent, an opportunity won
and a paid order event. Also the price table and settings, the filters, and CSV/XLSX export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from cauce.clock import VirtualClock
from cauce.engine.types import EventIn
from cauce.runtime.delivery import HANDLERS, Delivery
from cauce.runtime.engine_port import default_engine
from cauce.runtime.handlers import install_default_handlers
from cauce.runtime.ingest import submit_input
from cauce.runtime.processor import Processor
from cauce.services import dashboard, flows
from cauce.services.auth import Principal
from cauce.services.container import Cauce
from cauce.services.inbound import SimulatedMessage, simulate_inbound
from cauce.services.messages import apply_status
from cauce.services.workspaces import DemoCredentials
from cauce.store.models import Message

# Delivery records outbound messages at the wall-clock time (delivery is infrastructure and
# runs on the real clock), so the flows' virtual clock starts at the real time here and the
# whole scene falls in one range.
T0 = datetime.now(UTC).replace(microsecond=0)
RANGE = {"from": (T0 - timedelta(days=1)).isoformat(),
         "to": (T0 + timedelta(days=10)).isoformat()}


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(T0)

SALES = {
    "format": 1, "metadata": {"name": "Ventas", "language": "es"},
    "triggers": [{"type": "business_event", "event": "lead"}],
    "settings": {"goal": {"condition": {"rules": [
        {"field": "contact.tags", "operator": "contains", "value": "compró"}]}, "node": "won"}},
    "nodes": [
        {"id": "hello", "type": "whatsapp_template", "name": "Bienvenida",
         "config": {"name": "bienvenida", "language": "es"},
         "exits": {"next": "more", "failed": None}},
        {"id": "more", "type": "add_tag", "config": {"tags": ["seguimiento"]},
         "exits": {"next": None}},
        {"id": "won", "type": "end", "config": {"reason": "converted"}, "exits": {}},
    ],
}

SURVEY = {
    "format": 1, "metadata": {"name": "Encuesta", "language": "es"},
    "triggers": [{"type": "business_event", "event": "delivered"}],
    "settings": {"category": "utility"},
    "nodes": [
        {"id": "ask", "type": "whatsapp_template",
         "config": {"name": "nps_pregunta", "language": "es"},
         "exits": {"next": "nps", "failed": None}},
        {"id": "nps", "type": "wait_for_reply", "config": {"timeout": "1d"},
         "exits": {"replied": None, "timeout": None}},
    ],
}


@dataclass
class Scene:
    sales: int
    survey: int
    contacts: list[int]


def _publish(cauce: Cauce, ws: int, document: dict[str, Any]) -> int:
    principal = Principal(workspace_id=ws, actor="user:1", role="owner")
    now = cauce.clock.now()
    with cauce.transaction() as s:
        flow = flows.create_flow(s, principal, document, now)
        flows.publish(s, principal, flow.id, now)
        return flow.id


def _settle(cauce: Cauce) -> None:
    install_default_handlers()
    processor = Processor(cauce, default_engine())
    delivery = Delivery(cauce, handlers=dict(HANDLERS))
    try:
        for _ in range(50):
            while processor.process_batch():
                pass
            if not delivery.deliver_batch():
                while processor.process_batch():
                    pass
                return
    finally:
        delivery.close()


def _event(cauce: Cauce, ws: int, contact: int, name: str) -> None:
    with cauce.transaction() as s:
        submit_input(s, workspace_id=ws, contact_id=contact,
                     input=EventIn(name=name, occurred_at=cauce.clock.now()))


def _status(cauce: Cauce, ws: int, key: str, status: str, **extra: Any) -> None:
    with cauce.transaction() as s:
        assert apply_status(s, workspace_id=ws, key=key, status=status, at=cauce.clock.now(),
                            **extra) is not None


def _scene(api: TestClient, cauce: Cauce, demo: DemoCredentials, clock: VirtualClock) -> Scene:
    ws = demo.workspace_id
    sales, survey = _publish(cauce, ws, SALES), _publish(cauce, ws, SURVEY)
    contacts = []
    for i, tags in enumerate([["compró"], ["compró"], [], [], [], []]):
        body = {"phone": f"+54911223344{i:02d}", "name": f"C{i}", "tags": tags}
        contacts.append(api.post("/api/v1/contacts", json=body).json()["id"])
    # Sales flow: C0 and C1 already bought (the goal is met at once), C2 did not.
    for c in contacts[:3]:
        _event(cauce, ws, c, "lead")
    # Survey: C3, C4, C5 are asked for a score.
    for c in contacts[3:]:
        _event(cauce, ws, c, "delivered")
    _settle(cauce)
    with cauce.transaction() as s:
        out = {m.contact_id: m.key for m in s.scalars(
            select(Message).where(Message.direction == "out"))}
    assert set(out) == {contacts[2], *contacts[3:]}
    paid = {"category": "marketing", "type": "regular", "pricing_model": "PMP",
            "billable": True}
    _status(cauce, ws, out[contacts[2]], "delivered", pricing=paid)
    _status(cauce, ws, out[contacts[2]], "read")
    utility = {**paid, "category": "utility"}
    for c in contacts[3:5]:
        _status(cauce, ws, out[c], "delivered", pricing=utility)
    _status(cauce, ws, out[contacts[3]], "read")
    _status(cauce, ws, out[contacts[5]], "failed", error_code="131047",
            error_reason="Re-engagement message")
    clock.advance(timedelta(minutes=5))
    for c, text in ((contacts[3], "9"), (contacts[4], "un 5")):
        with cauce.transaction() as s:
            simulate_inbound(s, ws, SimulatedMessage(contact_id=c, text=text), clock.now())
    _settle(cauce)
    # Support: one ticket answered after 10 minutes and solved after 1 hour, one still open.
    ticket = api.post("/api/v1/tickets", json={"subject": "No puedo entrar",
                                               "contact_id": contacts[2]}).json()
    api.post("/api/v1/tickets", json={"subject": "Factura", "contact_id": contacts[3]})
    clock.advance(timedelta(minutes=10))
    api.post(f"/api/v1/tickets/{ticket['id']}/transcript", json={
        "direction": "out", "text": "Hola, ya lo vemos", "at": clock.now().isoformat(),
        "author": "agente"})
    clock.advance(timedelta(minutes=50))
    api.patch(f"/api/v1/tickets/{ticket['id']}", json={"status": "solved"})
    # Revenue: C0 wins an opportunity (after its sales run); C3 pays an order (after the
    # survey run); C1's order has no amount and counts for nothing.
    api.post("/api/v1/pipelines", json={"name": "Ventas", "stages": ["Nuevo", "Ganado"]})
    opp = api.post("/api/v1/opportunities", json={
        "contact_id": contacts[0], "pipeline": "Ventas", "value": 1000,
        "currency": "ARS"}).json()
    api.patch(f"/api/v1/opportunities/{opp['id']}", json={"status": "won"})
    phone3 = api.get(f"/api/v1/contacts/{contacts[3]}").json()["phone"]
    phone1 = api.get(f"/api/v1/contacts/{contacts[1]}").json()["phone"]
    for event_id, phone, data in (("o-1", phone3, {"amount": 500, "currency": "ars"}),
                                  ("o-2", phone1, {"total": 900})):
        res = api.post("/api/v1/events", json={
            "name": "order.paid", "event_id": event_id, "contact": {"phone": phone},
            "data": data})
        assert res.status_code == 202, res.text
    _settle(cauce)
    return Scene(sales, survey, contacts)


def test_every_figure_is_computed_from_the_stored_data(
    api: TestClient, cauce: Cauce, demo: DemoCredentials, clock: VirtualClock,
) -> None:
    scene = _scene(api, cauce, demo, clock)
    res = api.get("/api/v1/dashboard", params={**RANGE, "lang": "en"})
    assert res.status_code == 200, res.text
    d = res.json()
    cards = d["cards"]
    # Conversion: only the sales flow has a goal; 2 of its 3 runs reached it.
    assert (cards["runs_started"], cards["runs_with_goal"], cards["conversions"]) == (6, 3, 2)
    assert cards["conversion_rate"] == pytest.approx(2 / 3, abs=1e-4)
    by_flow = {c["flow_id"]: c for c in d["conversion"]}
    assert by_flow[scene.survey]["has_goal"] is False
    assert by_flow[scene.survey]["conversion_rate"] is None
    assert by_flow[scene.sales]["flow_name"] == "Ventas"
    # NPS from the saved replies "9" (promoter) and "un 5" (detractor): 50 − 50 = 0.
    assert (cards["nps"], cards["nps_responses"], cards["nps_note"]) == (0.0, 2, None)
    assert cards["csat"] is None and "csat" in cards["csat_note"]
    # Funnel: runs that entered each node, in the document's order.
    funnels = {f["flow_id"]: f for f in d["funnel"]}
    sales_nodes = {n["node_id"]: n for n in funnels[scene.sales]["nodes"]}
    assert [n["node_id"] for n in funnels[scene.sales]["nodes"]] == ["hello", "more", "won"]
    assert (sales_nodes["hello"]["entered"], sales_nodes["won"]["entered"]) == (1, 2)
    assert sales_nodes["hello"]["label"] == "Bienvenida"
    survey_nodes = {n["node_id"]: n["entered"] for n in funnels[scene.survey]["nodes"]}
    assert survey_nodes == {"ask": 3, "nps": 3}
    # Hours saved: 3 delivered flow messages × 2 min + steps × 0.5 min, scaled to 30 days.
    steps = cards["automated_steps"]
    assert cards["automated_messages"] == 3
    assert steps == 1 + 1 + 2 + 3 * 2
    assert cards["hours_saved_month"] == pytest.approx(
        round((3 * 2 + steps * 0.5) / 60 * 30 / 11, 2))
    # Messages per flow and channel.
    assert {(m["flow_id"], m["channel"]): m["count"] for m in d["messages"]} == {
        (scene.sales, "whatsapp"): 1, (scene.survey, "whatsapp"): 3}
    # Delivery: 4 sent, 3 delivered, 2 read, 1 failed.
    dl = d["delivery"]
    assert (dl["total"], dl["sent"], dl["delivered"], dl["read"], dl["failed"]) == (
        4, 3, 3, 2, 1)
    assert dl["delivery_rate"] == 0.75 and dl["read_rate"] == pytest.approx(0.6667)
    # Cost with the example prices: 1 marketing (0.05) + 2 utility (0.01); the failed is free.
    cost = d["cost"]
    assert cost["currency"] == "USD" and cost["total"] == pytest.approx(0.07)
    per_flow = {c["flow_id"]: c for c in cost["per_flow"]}
    assert per_flow[scene.sales]["cost"] == pytest.approx(0.05)
    assert per_flow[scene.survey]["cost"] == pytest.approx(0.02)
    assert per_flow[scene.survey]["per_run"] == pytest.approx(0.02 / 3, abs=1e-4)
    # Conversations: one 24-hour window per contact that exchanged messages (C2..C5).
    assert cost["conversations"] == 4
    assert cost["per_conversation"] == pytest.approx(0.07 / 4, abs=1e-4)
    # Handling time from tickets: first response 10 min, resolution 1 h; one still open.
    ht = d["handling_time"]
    assert (ht["opened"], ht["responded"], ht["resolved"]) == (2, 1, 1)
    assert (ht["avg_first_response_s"], ht["avg_resolution_s"]) == (600.0, 3600.0)
    assert ht["series"][0]["opened"] == 2 and ht["sources"] == ["tickets"]
    # Revenue: last touch within 30 days.
    revenue = {(r["flow_id"], r["currency"]): r for r in d["revenue"]}
    assert revenue[(scene.sales, "ARS")]["amount"] == 1000.0
    assert revenue[(scene.sales, "ARS")]["opportunities"] == 1
    assert revenue[(scene.survey, "ARS")]["amount"] == 500.0
    assert revenue[(scene.survey, "ARS")]["events"] == 1
    assert len(revenue) == 2
    # Errors with a recommendation.
    (error,) = d["errors"]
    assert (error["code"], error["count"], error["known"]) == ("131047", 1, True)
    assert "template outside the 24-hour window" in error["recommendation"]
    assert "plantilla" in error["recommendation_es"]
    assert error["example"] == "Re-engagement message"


def test_flow_filter_and_range(
    api: TestClient, cauce: Cauce, demo: DemoCredentials, clock: VirtualClock,
) -> None:
    scene = _scene(api, cauce, demo, clock)
    d = api.get("/api/v1/dashboard", params={**RANGE, "flow_id": scene.survey}).json()
    assert [c["flow_id"] for c in d["conversion"]] == [scene.survey]
    assert d["cards"]["conversion_rate"] is None and d["cards"]["conversion_note"]
    assert d["delivery"]["total"] == 3
    assert [r["flow_id"] for r in d["revenue"]] == [scene.survey]
    assert d["handling_time"]["opened"] == 0  # the tickets were opened by hand, not the flow
    assert d["errors"][0]["recommendation"].startswith("Fuera de la ventana")  # workspace: es
    # A range before anything happened: zeros and nulls with their reasons, never made up.
    early = api.get("/api/v1/dashboard", params={
        "from": (T0 - timedelta(days=30)).isoformat(),
        "to": (T0 - timedelta(days=1)).isoformat()}).json()
    assert early["cards"]["runs_started"] == 0 and early["cards"]["conversion_rate"] is None
    assert early["cards"]["nps"] is None and early["cards"]["hours_saved_month"] == 0
    assert early["delivery"]["delivery_rate"] is None and early["cost"]["per_conversation"] is None
    assert early["funnel"] == [] and early["errors"] == [] and early["revenue"] == []
    # Bad input is a 4xx in the one error shape.
    bad = api.get("/api/v1/dashboard", params={"from": RANGE["to"], "to": RANGE["from"]})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "from"
    assert api.get("/api/v1/dashboard", params={"flow_id": 987654}).status_code == 404
    assert api.get("/api/v1/dashboard", params={"to": "0001-01-01T00:00:00Z"}).status_code == 422
    assert api.get("/api/v1/dashboard", params={
        "from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}).status_code == 422


def test_the_default_range_counts_what_happened_at_this_instant(
    api: TestClient, cauce: Cauce, demo: DemoCredentials, clock: VirtualClock,
) -> None:
    """The virtual clock stands still between jumps: a run started a moment ago carries
    exactly the server's now, and the dashboard without dates must still count it."""
    ws = demo.workspace_id
    sales = _publish(cauce, ws, SALES)
    contact = api.post("/api/v1/contacts", json={"phone": "+5491122334499"}).json()["id"]
    _event(cauce, ws, contact, "lead")
    _settle(cauce)
    d = api.get("/api/v1/dashboard").json()
    assert datetime.fromisoformat(d["range"]["to"].replace("Z", "+00:00")) > clock.now()
    funnel = {f["flow_id"]: f for f in d["funnel"]}
    assert funnel[sales]["runs"] == 1
    assert funnel[sales]["nodes"][0] == {**funnel[sales]["nodes"][0], "node_id": "hello",
                                         "entered": 1}


def test_price_table_and_settings_change_the_figures(
    api: TestClient, cauce: Cauce, demo: DemoCredentials, clock: VirtualClock,
) -> None:
    _scene(api, cauce, demo, clock)
    assert api.get("/api/v1/dashboard/prices").json() == dashboard.DEFAULT_PRICES.model_dump(
        mode="json")
    table = {"currency": "ARS", "prices": [
        {"channel": "whatsapp", "category": "marketing", "country": "AR", "price": 80},
        {"channel": "whatsapp", "category": "marketing", "country": None, "price": 60},
        {"channel": "whatsapp", "category": "any", "country": None, "price": 10},
    ]}
    res = api.put("/api/v1/dashboard/prices", json=table)
    assert res.status_code == 200, res.text
    assert api.get("/api/v1/dashboard/prices").json() == table
    cost = api.get("/api/v1/dashboard", params=RANGE).json()["cost"]
    # The marketing message goes to an Argentine number (80); utility falls back to "any".
    assert cost["currency"] == "ARS" and cost["total"] == pytest.approx(80 + 2 * 10)
    dup = api.put("/api/v1/dashboard/prices", json={"currency": "ARS", "prices": [
        table["prices"][0], table["prices"][0]]})
    assert dup.status_code == 422 and dup.json()["error"]["field"] == "prices.1"
    assert api.put("/api/v1/dashboard/prices", json={
        "currency": "ars", "prices": []}).status_code == 422
    assert api.put("/api/v1/dashboard/prices", json={"currency": "ARS", "prices": [
        {"channel": "whatsapp", "category": "marketing", "price": -1}]}).status_code == 422
    # Without any matching row a billable message is reported as unpriced, not as free.
    api.put("/api/v1/dashboard/prices", json={"currency": "USD", "prices": []})
    cost = api.get("/api/v1/dashboard", params=RANGE).json()["cost"]
    assert (cost["total"], cost["unpriced_messages"]) == (0, 3)
    before = api.get("/api/v1/dashboard", params=RANGE).json()["cards"]
    settings = {"minutes_per_message": 10, "minutes_per_step": 0, "attribution_window_days": 1}
    assert api.put("/api/v1/dashboard/settings", json=settings).json() == settings
    after = api.get("/api/v1/dashboard", params=RANGE).json()
    assert after["cards"]["hours_saved_month"] == pytest.approx(
        round(before["automated_messages"] * 10 / 60 * 30 / 11, 2))
    assert api.put("/api/v1/dashboard/settings",
                   json={"minutes_per_step": -1}).status_code == 422


def test_reports_export_as_csv_and_xlsx(
    api: TestClient, cauce: Cauce, demo: DemoCredentials, clock: VirtualClock,
) -> None:
    scene = _scene(api, cauce, demo, clock)
    res = api.get("/api/v1/dashboard/export", params={**RANGE, "report": "funnel",
                                                      "format": "csv"})
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith("text/csv")
    assert 'filename="cauce-funnel-' in res.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(res.content.decode("utf-8-sig"))))
    assert rows[0] == ["flow_id", "flow_name", "runs", "node_id", "label", "type", "entered",
                       "rate"]
    assert [str(scene.sales), "Ventas", "3", "won", "won", "end", "2", "0.6667"] in rows
    errors = api.get("/api/v1/dashboard/export", params={**RANGE, "report": "errors",
                                                         "lang": "en"})
    err_rows = list(csv.reader(io.StringIO(errors.content.decode("utf-8-sig"))))
    assert err_rows[1][:3] == ["131047", "message", "1"]
    res = api.get("/api/v1/dashboard/export", params={**RANGE, "report": "all",
                                                      "format": "xlsx"})
    assert res.status_code == 200
    book = load_workbook(io.BytesIO(res.content))
    assert "cost" in book.sheetnames and "revenue" in book.sheetnames
    sheet = book["delivery"]
    header = [c.value for c in sheet[1]]
    last = [c.value for c in sheet[sheet.max_row]]
    assert header[:6] == ["channel", "total", "sent", "delivered", "read", "failed"]
    assert last[:6] == ["all", 4, 3, 3, 2, 1]
    assert api.get("/api/v1/dashboard/export", params={
        "report": "all", "format": "csv"}).status_code == 422
    assert api.get("/api/v1/dashboard/export", params={"report": "nope"}).status_code == 422


def test_formula_like_text_is_neutralised_in_exports() -> None:
    from cauce.services.dashboard_export import _safe

    assert _safe("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert _safe("-1+2") == "'-1+2" and _safe(-1) == -1 and _safe("hola") == "hola"


@pytest.mark.parametrize(("results", "expected"), [
    ({"nps": {"text": "9", "button_id": None}}, (9.0, None)),
    ({"nps_score": 10, "csat": {"text": "Muy bien", "button_id": "5"}}, (10.0, 5.0)),
    ({"nps": "11", "csat": "0"}, (None, None)),
    ({"nps": "entre 7 y 8"}, (None, None)),
    ({"nps": True, "other": 3}, (None, None)),
])
def test_survey_answers_are_read_from_saved_results(
    results: dict[str, Any], expected: tuple[float | None, float | None],
) -> None:
    assert dashboard.survey_answers(results) == expected


def test_flow_list_shows_runs_active_and_conversion_of_each_flow(
    api: TestClient, cauce: Cauce, demo: DemoCredentials, clock: VirtualClock,
) -> None:
    scene = _scene(api, cauce, demo, clock)
    listed = {f["id"]: f for f in api.get("/api/v1/flows").json()}
    sales, survey = listed[scene.sales], listed[scene.survey]
    # Sales has a goal: 2 of its 3 runs reached it.
    assert sales["runs_total"] == 3
    assert sales["conversion_rate"] == pytest.approx(2 / 3)
    # The survey has no goal: no conversion figure, but its runs are counted.
    assert survey["runs_total"] == 3 and survey["conversion_rate"] is None
    # Every sales run ended; C5 never answered the survey, so its run still waits.
    assert (sales["runs_active"], survey["runs_active"]) == (0, 1)
    assert sales["template_id"] is None
