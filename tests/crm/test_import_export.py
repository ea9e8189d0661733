from __future__ import annotations

import contextlib
import csv
import io

from fastapi.testclient import TestClient

from cauce.services import imports
from cauce.services.container import Cauce
from cauce.services.workspaces import DemoCredentials

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
    import json

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


def test_interrupted_import_leaves_whole_contacts_and_resumes(
    cauce: Cauce, demo: DemoCredentials
) -> None:
    rows = "\n".join(f"+54911223{i:05d},p{i}@example.com,P{i}" for i in range(25))
    text = "phone,email,name\n" + rows + "\n"
    mapping = {"phone": "phone", "email": "email", "name": "name"}

    class Boom(Exception):
        pass

    def crash_after_two_batches(done: int) -> None:
        if done >= 20:
            raise Boom

    job = imports.create_job(cauce, demo.workspace_id, "c.csv", mapping, 25)
    with contextlib.suppress(Boom):
        imports.run_job(
            cauce,
            demo.workspace_id,
            job,
            io.StringIO(text),
            progress=crash_after_two_batches,
            batch_size=10,
        )
    with cauce.transaction() as session:
        from sqlalchemy import func, select

        from cauce.store.models import Contact, ImportJob

        assert session.scalar(select(func.count()).select_from(Contact)) == 20
        names = set(session.scalars(select(Contact.name)))
        assert all(n.startswith("P") for n in names)  # no half-written contact
        half = session.get(ImportJob, job)
        assert half is not None and half.status == "running" and half.processed_rows == 20
    job2 = imports.create_job(cauce, demo.workspace_id, "c.csv", mapping, 25)
    result = imports.run_job(cauce, demo.workspace_id, job2, io.StringIO(text), batch_size=10)
    assert (result.created, result.updated) == (5, 20)
    with cauce.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 25


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
