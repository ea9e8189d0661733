from __future__ import annotations

import csv
import io
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cauce.services import imports
from cauce.services.container import Cauce
from cauce.services.workspaces import DemoCredentials
from cauce.store.models import Contact, ImportChunk, ImportJob

MAPPING = {
    "Teléfono": "phone",
    "Correo": "email",
    "Nombre": "name",
    "Plan": "fields.plan",
    "Etiquetas": "tags",
    "WhatsApp": "consent.whatsapp",
    "Fuente": "utm_source",
}

CSV = (
    "Teléfono,Correo,Nombre,Plan,Etiquetas,WhatsApp,Fuente\n"
    "+5491122334455,ana@example.com,Ana,pro,vip;web,si,facebook\n"
    "12,,Malo,,,,\n"
    "+5491122334466,no-es-mail,Beto,,,,\n"
    "+5491122334477,carla@example.com,Carla,gold,,,\n"
    ",,SinDatos,,,,\n"
    "011 2233-4488,dani@example.com,Dani,free,,no,\n"
)


def _upload(api: TestClient, text: str, mapping: dict[str, str]) -> dict[str, object]:
    res = api.post(
        "/api/v1/contacts/imports",
        files={"file": ("clientes.csv", text.encode(), "text/csv")},
        data={"mapping": json.dumps(mapping)},
    )
    assert res.status_code == 202, res.text
    job = api.get(f"/api/v1/contacts/imports/{res.json()['id']}").json()
    return dict(job)


def test_import_reports_each_bad_row_and_imports_the_good(api: TestClient) -> None:
    api.post(
        "/api/v1/contact-fields", json={"key": "plan", "type": "choice", "choices": ["free", "pro"]}
    )
    job = _upload(api, CSV, MAPPING)
    assert job["status"] == "completed", job
    assert job["created_count"] == 2 and job["error_count"] == 4
    assert job["processed_rows"] == job["total_rows"] == 6
    errors = {e["row"]: e for e in job["errors"]}  # type: ignore[attr-defined]
    assert set(errors) == {3, 4, 5, 6}
    assert errors[3]["field"] == "phone"
    assert errors[4]["field"] == "email"
    assert errors[5]["field"] == "fields.plan" and "gold" in errors[5]["reason"]
    assert "no phone, email" in errors[6]["reason"]
    ana = api.get("/api/v1/contacts", params={"q": "ana@"}).json()["items"][0]
    assert ana["tags"] == ["vip", "web"] and ana["fields"] == {"plan": "pro"}
    assert ana["consent"]["whatsapp"]["status"] == "opted_in"
    assert ana["attribution"]["utm"]["source"] == "facebook"
    # re-running the same file updates instead of duplicating
    again = _upload(api, CSV, MAPPING)
    assert again["created_count"] == 0 and again["updated_count"] == 2
    assert len(api.get("/api/v1/contacts").json()["items"]) == 2
    assert len(api.get("/api/v1/contacts/imports").json()["items"]) == 2


def test_bad_mapping_is_rejected_before_importing(api: TestClient) -> None:
    res = api.post(
        "/api/v1/contacts/imports",
        files={"file": ("c.csv", b"A,B\n1,2\n", "text/csv")},
        data={"mapping": '{"A": "shoe_size"}'},
    )
    assert res.status_code == 422 and "shoe_size" in res.json()["error"]["message"]
    res = api.post(
        "/api/v1/contacts/imports",
        files={"file": ("c.csv", b"A,B\n1,2\n", "text/csv")},
        data={"mapping": '{"Phone": "phone"}'},
    )
    assert res.status_code == 422 and "not in the file" in res.json()["error"]["message"]
    res = api.post(
        "/api/v1/contacts/imports",
        files={"file": ("c.csv", b"A,B\n1,2\n", "text/csv")},
        data={"mapping": "{"},
    )
    assert res.status_code == 422 and res.json()["error"]["field"] == "mapping"


def _people(count: int, bad: tuple[int, ...] = ()) -> str:
    """A CSV of ``count`` people; the rows numbered in ``bad`` (spreadsheet rows, the header
    is row 1) have a phone that cannot be a number."""
    lines = ["phone,email,name"]
    for i in range(count):
        phone = "12" if i + 2 in bad else f"+54911223{i:05d}"
        lines.append(f"{phone},p{i}@example.com,P{i}")
    return "\n".join(lines) + "\n"


PEOPLE = {"phone": "phone", "email": "email", "name": "name"}


def _stage(cauce: Cauce, demo: DemoCredentials, text: str, batch_size: int) -> int:
    with cauce.transaction() as session:
        job = imports.stage_import(
            session, demo.workspace_id, "people.csv", io.BytesIO(text.encode()), PEOPLE,
            cauce.clock.now(), batch_size=batch_size,
        )
        return job.id


def _count_contacts(cauce: Cauce) -> int:
    with cauce.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(Contact)) or 0)


def test_progress_counters_advance_batch_by_batch(
    cauce: Cauce, demo: DemoCredentials, api: TestClient
) -> None:
    job_id = _stage(cauce, demo, _people(25, bad=(5, 15, 26)), batch_size=10)
    seen = api.get(f"/api/v1/contacts/imports/{job_id}").json()
    assert (seen["status"], seen["total_rows"], seen["processed_rows"]) == ("pending", 25, 0)

    def listed(active: str) -> list[int]:
        page = api.get("/api/v1/contacts/imports", params={"active": active})
        assert page.status_code == 200, page.text
        return [j["id"] for j in page.json()["items"]]

    # A screen opened after the upload finds the import still to finish, and follows it.
    assert (listed("true"), listed("false")) == ([job_id], [])
    progress = []
    while imports.process_next(cauce, job_id):
        job = api.get(f"/api/v1/contacts/imports/{job_id}").json()
        progress.append((job["status"], job["processed_rows"], job["created_count"],
                         job["error_count"]))
    assert progress == [
        ("running", 10, 9, 1), ("running", 20, 18, 2), ("completed", 25, 22, 3),
    ]
    assert [(e["row"], e["field"]) for e in job["errors"]] == [
        (5, "phone"), (15, "phone"), (26, "phone")
    ]
    assert job["finished_at"] is not None and "22 created" in job["message"]
    assert (listed("true"), listed("false")) == ([], [job_id])
    with cauce.transaction() as session:  # the stored file is gone once imported
        assert session.scalar(select(func.count()).select_from(ImportChunk)) == 0


class _Killed(BaseException):
    """The process dying mid-batch: nothing after it runs, not even error handling."""


def test_interrupted_import_leaves_whole_contacts_and_resumes(
    cauce: Cauce, demo: DemoCredentials, api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _people(25)
    job_id = _stage(cauce, demo, text, batch_size=10)
    assert imports.process_next(cauce, job_id) == 10
    assert imports.process_next(cauce, job_id) == 10
    real = imports._upsert_batch

    def die_after_writing(*args: object, **kwargs: object) -> object:
        real(*args, **kwargs)  # type: ignore[arg-type]
        raise _Killed

    monkeypatch.setattr(imports, "_upsert_batch", die_after_writing)
    with pytest.raises(_Killed):
        imports.process_next(cauce, job_id)
    monkeypatch.undo()
    assert _count_contacts(cauce) == 20  # the third batch's contacts were rolled back
    half = api.get(f"/api/v1/contacts/imports/{job_id}").json()
    assert (half["status"], half["processed_rows"], half["created_count"]) == ("running", 20, 20)
    # any process resumes it: the oldest unfinished job is the next one claimed
    assert imports.process_next(cauce) == 5
    done = api.get(f"/api/v1/contacts/imports/{job_id}").json()
    assert (done["status"], done["processed_rows"], done["created_count"]) == ("completed", 25, 25)
    assert _count_contacts(cauce) == 25
    # the same file again updates instead of duplicating
    again = _upload(api, text, PEOPLE)
    assert (again["created_count"], again["updated_count"]) == (0, 25)
    assert _count_contacts(cauce) == 25


def test_a_batch_that_cannot_be_imported_fails_the_job_and_keeps_whole_contacts(
    cauce: Cauce, demo: DemoCredentials, api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = _stage(cauce, demo, _people(25), batch_size=10)
    assert imports.process_next(cauce, job_id) == 10
    real = imports._upsert_batch

    def bug_after_writing(*args: object, **kwargs: object) -> object:
        real(*args, **kwargs)  # type: ignore[arg-type]
        raise ValueError("a bug")

    monkeypatch.setattr(imports, "_upsert_batch", bug_after_writing)
    assert imports.process_next(cauce, job_id) == 1
    job = api.get(f"/api/v1/contacts/imports/{job_id}").json()
    assert (job["status"], job["processed_rows"], job["message"]) == (
        "failed", 10, "ValueError: a bug")
    assert _count_contacts(cauce) == 10  # the failed batch's inserts were rolled back
    assert imports.process_next(cauce) == 0  # nothing left to claim
    with cauce.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ImportChunk)) == 0


def test_the_runtime_imports_a_job_nobody_finished(cauce: Cauce, demo: DemoCredentials) -> None:
    """A job staged by a process that died before importing it: a worker's runtime (here the
    embedded one, with only its import loop) claims it and imports it."""
    from cauce.runtime.runner import Runtime, RuntimeOptions

    job_id = _stage(cauce, demo, _people(30, bad=(7,)), batch_size=10)
    runtime = Runtime(cauce, options=RuntimeOptions(
        workers=0, scheduler=False, delivery=False, listen=False))
    runtime.start()
    try:
        deadline = time.monotonic() + 30
        while True:
            with cauce.transaction() as session:
                job = imports.get_job(session, demo.workspace_id, job_id)
            if job.status == "completed" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    finally:
        runtime.stop()
    assert (job.status, job.processed_rows, job.created_count, job.error_count) == (
        "completed", 30, 29, 1)


def test_two_processes_on_one_job_import_each_row_once(
    cauce: Cauce, demo: DemoCredentials
) -> None:
    job_id = _stage(cauce, demo, _people(60), batch_size=5)
    with ThreadPoolExecutor(2) as pool:
        jobs = list(pool.map(
            lambda _: imports.run_import(cauce, demo.workspace_id, job_id), range(2)))
    assert all(j.status == "completed" for j in jobs)
    assert (jobs[0].processed_rows, jobs[0].created_count, jobs[0].updated_count) == (60, 60, 0)
    assert _count_contacts(cauce) == 60


def test_a_job_another_process_holds_is_left_to_it(
    cauce: Cauce, demo: DemoCredentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = _stage(cauce, demo, _people(12), batch_size=5)
    if cauce.engine.dialect.name == "postgresql":
        # another process in the middle of a batch: its lock on the job row is skipped
        with cauce.transaction() as other:
            other.execute(select(ImportJob).where(ImportJob.id == job_id).with_for_update())
            assert imports.process_next(cauce) == 0
            assert imports.process_next(cauce, job_id) == 0
    # the API's background task leaves a held job to its holder instead of waiting
    monkeypatch.setattr(imports, "process_next", lambda *_a, **_k: 0)
    job = imports.run_import(cauce, demo.workspace_id, job_id, follow=False)
    assert (job.status, job.processed_rows) == ("pending", 0)
    monkeypatch.undo()
    job = imports.run_import(cauce, demo.workspace_id, job_id, follow=False)
    assert (job.status, job.processed_rows, job.created_count) == ("completed", 12, 12)


def test_bad_files_are_refused_and_leave_nothing(
    api: TestClient, cauce: Cauce, monkeypatch: pytest.MonkeyPatch
) -> None:
    def post(content: bytes, mapping: dict[str, str]) -> tuple[int, dict[str, str]]:
        res = api.post(
            "/api/v1/contacts/imports",
            files={"file": ("c.csv", content, "text/csv")},
            data={"mapping": json.dumps(mapping)},
        )
        return res.status_code, res.json()["error"]

    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00"
    status, error = post(png, {"phone": "phone"})
    assert (status, error["field"]) == (422, "file") and "UTF-8" in error["message"]
    status, error = post(b"phone,name\n+5491122334455,A\x00na\n", {"phone": "phone"})
    assert (status, error["field"]) == (422, "file") and "binary" in error["message"]
    status, error = post(b"", {"phone": "phone"})
    assert (status, error["field"]) == (422, "file") and "empty" in error["message"]
    status, error = post(b"phone,name\n", {"phone": "phone"})
    assert (status, error["field"]) == (422, "file") and "no rows" in error["message"]
    status, error = post(b"phone,name\n+5491122334455,Ana\n", {"name": "name"})
    assert (status, error["field"]) == (422, "mapping")
    assert "phone, email or external_id" in error["message"]
    status, error = post(b"phone,name\n+5491122334455,Ana\n", {"phone": "phone", "name": "age"})
    assert (status, error["field"]) == (422, "mapping") and "'age'" in error["message"]
    monkeypatch.setattr(imports, "MAX_IMPORT_BYTES", 64)
    status, error = post(b"phone,name\n" + b"+5491122334455,Ana\n" * 10, {"phone": "phone"})
    assert (status, error["code"], error["field"]) == (413, "payload_too_large", "file")
    assert api.get("/api/v1/contacts/imports").json()["items"] == []
    with cauce.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ImportChunk)) == 0


def test_export_csv_with_custom_fields(api: TestClient) -> None:
    api.post("/api/v1/contact-fields", json={"key": "plan", "type": "text"})
    api.post(
        "/api/v1/contacts",
        json={
            "phone": "+5491122334455",
            "name": "Ana",
            "tags": ["vip", "web"],
            "fields": {"plan": "pro"},
        },
    )
    api.post("/api/v1/contacts", json={"email": "b@example.com"})
    res = api.get("/api/v1/contacts/export")
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(res.text)))
    assert [r["phone"] for r in rows] == ["+5491122334455", ""]
    assert rows[0]["tags"] == "vip,web" and rows[0]["fields.plan"] == "pro"
    only_vip = list(
        csv.DictReader(io.StringIO(api.get("/api/v1/contacts/export", params={"tag": "vip"}).text))
    )
    assert len(only_vip) == 1
    assert api.get("/api/v1/contacts/export", params={"segment_id": 99}).status_code == 404


def test_cli_import_shows_progress_and_bad_rows(
    db_url: str, tmp_path: Path, demo: DemoCredentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from cauce.cli import _register, app

    _register()
    monkeypatch.setenv("CAUCE_DATABASE_URL", db_url)
    monkeypatch.setenv("CAUCE_SECRET_KEY", "test-secret-key-0123456789")
    monkeypatch.setenv("CAUCE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    source = tmp_path / "people.csv"
    source.write_text(_people(12, bad=(4,)))
    args = ["contacts", "import", str(source), "--map", "phone=phone", "--map", "name=name"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "11 created, 0 updated, 1 bad rows" in first.output
    assert "importing" in first.output and "12/12" in first.output  # the progress bar, done
    assert "│ 4   │ phone │ phone: '12' is not a valid number" in first.output
    again = CliRunner().invoke(app, args)
    assert "0 created, 11 updated, 1 bad rows" in again.output
    refused = CliRunner().invoke(app, [*args[:3], "--map", "Teléfono=phone"])
    assert refused.exit_code != 0 and "not in the file's header" in refused.output
