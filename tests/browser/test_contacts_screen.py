"""The contacts screen: CSV import with column mapping, progress and the bad-row report; the
segment builder with its live count, saving, and filtering the list by a segment."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from cauce.services import imports
from cauce.services.auth import create_api_key
from cauce.services.contacts import create_field, list_contacts
from cauce.services.workspaces import create_workspace
from tests.browser.conftest import WebApp
from tests.browser.helpers import (
    api_call,
    axe_violations,
    describe,
    sign_in_with_key,
    untranslated,
    use_language,
)

ROWS = 2500  # three batches of the importer (1,000 rows each)
BAD = {  # spreadsheet row (the header is row 1) -> what is wrong with it
    7: ("12", "Roto", "pro"),
    1502: ("+5491140001500", "Plan raro", "gold"),
    2501: ("", "Sin teléfono", "free"),
}


def _csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Celular del cliente", "Nombre", "Plan", "Etiquetas", "Notas"])
    for row in range(2, ROWS + 2):
        phone, name, plan = BAD.get(row, (f"+54911400{row:05d}", f"Importada {row}", "pro"))
        writer.writerow([phone, name, plan, "csv-ui;feria", "nota"])
    return out.getvalue().encode()


def _own_workspace(webapp: WebApp) -> tuple[int, str]:
    """A workspace of its own (id, owner API key) with a ``plan`` custom field, so the
    thousands of imported contacts stay out of the demo workspace other tests list."""
    with webapp.cauce.transaction() as session:
        now = webapp.cauce.clock.now()
        ws = create_workspace(session, f"import-{uuid.uuid4().hex[:8]}", "Importación", now)
        create_field(session, ws.id, "plan", "choice", now, label="Plan",
                     choices=["free", "pro"])
        return ws.id, create_api_key(session, ws.id, "import test", now, role="owner").key


def test_import_csv_with_mapping_progress_and_bad_rows(
    page: Page, webapp: WebApp, screenshots: Path, axe_source: str, tmp_path: Path
) -> None:
    ws_id, api_key = _own_workspace(webapp)
    use_language(page, "es")
    sign_in_with_key(page, api_key)
    page.get_by_role("link", name="Contactos", exact=True).click()
    page.get_by_text("Importar CSV", exact=True).click()
    page.get_by_test_id("import-file").set_input_files(
        files=[{"name": "clientes.csv", "mimeType": "text/csv", "buffer": _csv()}])
    # Guessed from the header: Nombre, Plan (the custom field) and Etiquetas; "Celular del
    # cliente" is not a header the guess knows, so the import cannot start yet.
    expect(page.get_by_label("Campo para la columna Nombre")).to_have_value("name")
    expect(page.get_by_label("Campo para la columna Plan")).to_have_value("fields.plan")
    expect(page.get_by_label("Campo para la columna Etiquetas")).to_have_value("tags")
    expect(page.get_by_label("Campo para la columna Notas")).to_have_value("")
    expect(page.get_by_test_id("import-problem")).to_contain_text("Asigna una columna de teléfono")
    start = page.get_by_role("button", name="Empezar la importación")
    expect(start).to_be_disabled()
    page.get_by_label("Campo para la columna Celular del cliente").select_option("phone")
    expect(page.get_by_test_id("import-problem")).to_have_count(0)
    assert untranslated(page, "es") == []
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)
    start.click()

    job = page.get_by_test_id("import-job")
    expect(job).to_have_attribute("data-status", "completed", timeout=60_000)
    expect(page.get_by_role("progressbar", name="Progreso de la importación: 100%")).to_be_visible()
    progress = page.get_by_test_id("import-progress")
    assert progress.evaluate("el => [el.value, el.max]") == [ROWS, ROWS]
    expect(page.get_by_test_id("import-counts")).to_have_text(
        f"100% — {ROWS} de {ROWS} filas: {ROWS - 3} creados, 0 actualizados, 3 con errores")
    report = page.get_by_test_id("import-errors")
    expect(report.locator("tbody tr")).to_have_count(3)
    rows = [r.split("\t") for r in report.locator("tbody tr").all_inner_texts()]
    assert [(int(r[0]), r[1]) for r in rows] == [
        (7, "Teléfono"), (1502, "Campo personalizado: Plan"), (2501, "Teléfono")]
    assert "gold" in rows[1][2] and "no phone, email" in rows[2][2]
    with page.expect_download() as download:
        page.get_by_role("button", name="Descargar el informe (CSV)").click()
    saved = tmp_path / "bad.csv"
    download.value.save_as(saved)
    lines = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert lines[0] == ["row", "field", "reason"] and [r[0] for r in lines[1:]] == [
        "7", "1502", "2501"]
    # the imported contacts, with their tags and custom field
    with webapp.cauce.transaction() as session:
        imported = list_contacts(session, ws_id, limit=500, cursor=None, tag="csv-ui")
        assert len(imported.items) == 500 and imported.next_cursor
        assert imported.items[0].fields == {"plan": "pro"}
    page.get_by_role("textbox", name="Etiqueta", exact=True).fill("csv-ui")
    page.get_by_role("button", name="Buscar", exact=True).click()
    expect(page.get_by_test_id("contacts")).to_contain_text("Importada 2")
    assert untranslated(page, "es") == []
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)
    page.screenshot(path=screenshots / "contacts-import-es.png", full_page=True)
    page.get_by_test_id("lang").select_option("en")
    expect(page.get_by_test_id("import-counts")).to_have_text(
        f"100% — {ROWS} of {ROWS} rows: {ROWS - 3} created, 0 updated, 3 bad")
    expect(report).to_contain_text("Custom field: Plan")
    assert untranslated(page, "en") == []


def test_segment_builder_counts_saves_and_filters(
    page: Page, webapp: WebApp, screenshots: Path, axe_source: str
) -> None:
    for name, tags, score in (("Seg Ana", ["seg-vip"], 80), ("Seg Beto", ["seg-vip"], 20),
                              ("Seg Carla", [], 90)):
        api_call(webapp, "POST", "/contacts", json={
            "name": name, "email": f"{name.split()[1].lower()}@seg.example.com", "tags": tags,
            "lead_score": score})
    use_language(page, "en")
    sign_in_with_key(page, webapp.demo.api_key)
    page.get_by_role("link", name="Contacts", exact=True).click()
    page.get_by_text("Segments", exact=True).click()
    builder = page.get_by_test_id("segment-builder")
    expect(page.get_by_label("Field of condition 1")).to_have_value("tags")
    expect(page.get_by_label("Operator of condition 1")).to_have_value("has")
    page.get_by_label("Value of condition 1").fill("seg-vip")
    count = page.get_by_test_id("segment-count")
    expect(count).to_have_text("Contacts matching now: 2")
    builder.get_by_role("button", name="Add condition").click()
    page.get_by_label("Field of condition 2").select_option(label="Lead score")
    page.get_by_label("Operator of condition 2").select_option(label="at least")
    expect(count).to_contain_text("1 incomplete conditions are not counted")
    page.get_by_label("Value of condition 2").fill("50")
    expect(count).to_have_text("Contacts matching now: 1")
    # any condition instead of all: the VIPs or a score of 50 or more (Ana, Beto, Carla and
    # whoever else other tests gave a high score)
    page.get_by_label("Contacts matching").select_option("any")
    expect(count).not_to_have_text("Contacts matching now: 1")
    assert int(count.inner_text().rsplit(" ", 1)[1]) >= 3
    page.get_by_label("Contacts matching").select_option("all")
    expect(count).to_have_text("Contacts matching now: 1")
    page.get_by_label("Segment name").fill("Hot VIPs")
    assert untranslated(page, "en") == []
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)
    builder.get_by_role("button", name="Save segment").click()

    saved = page.get_by_test_id("segments")
    expect(saved.get_by_role("row", name="Hot VIPs")).to_contain_text("1")
    segment = next(s for s in api_call(webapp, "GET", "/segments")["items"]
                   if s["name"] == "Hot VIPs")
    assert segment["filter"]["conditions"] == [
        {"field": "tags", "op": "has", "value": "seg-vip"},
        {"field": "lead_score", "op": "gte", "value": 50},
    ]
    # saving shows the segment's contacts; "All contacts" shows everyone again
    expect(page.get_by_test_id("segment-filter")).to_have_value(str(segment["id"]))
    table = page.get_by_test_id("contacts")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("Seg Ana")
    page.get_by_test_id("segment-filter").select_option(label="All contacts")
    expect(table.locator("tbody tr")).not_to_have_count(1)
    page.get_by_role("button", name="Show the contacts of Hot VIPs").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    page.get_by_test_id("lang").select_option("es")
    expect(page.get_by_role("button", name="Ver los contactos de Hot VIPs")).to_be_visible()
    assert untranslated(page, "es") == []
    page.screenshot(path=screenshots / "contacts-segments-es.png", full_page=True)


def test_an_import_started_elsewhere_is_followed_after_a_reload(
    page: Page, webapp: WebApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import goes on without the page (the runtime imports it); a screen opened while it
    runs — a reload, another tab — opens the import panel on it and follows it to the end."""
    ws_id, api_key = _own_workspace(webapp)
    use_language(page, "en")
    sign_in_with_key(page, api_key)
    rows = 3000
    text = "phone,name\n" + "".join(f"+54911500{i:05d},Later {i}\n" for i in range(rows))
    # The server's runtime imports batches through imports.process_next: hold it back until
    # the screen has found the job, so the test sees a running import whatever the speed.
    process_next = imports.process_next
    monkeypatch.setattr(imports, "process_next", lambda *args, **kwargs: 0)
    with webapp.cauce.transaction() as session:
        job_id = imports.stage_import(session, ws_id, "later.csv", io.BytesIO(text.encode()),
                                      {"phone": "phone", "name": "name"},
                                      webapp.cauce.clock.now()).id
    page.get_by_role("link", name="Contacts", exact=True).click()
    panel = page.get_by_test_id("import-job")
    expect(panel).to_be_visible()  # the import section opened by itself, on the running job
    expect(panel).to_have_attribute("data-status", "pending")
    expect(page.get_by_test_id("import-counts")).to_contain_text(f"0 of {rows} rows")
    monkeypatch.setattr(imports, "process_next", process_next)
    expect(panel).to_have_attribute("data-status", "completed", timeout=60_000)
    expect(page.get_by_test_id("import-counts")).to_have_text(
        f"100% — {rows} of {rows} rows: {rows} created, 0 updated, 0 bad")
    with webapp.cauce.transaction() as session:
        assert imports.get_job(session, ws_id, job_id).created_count == rows
