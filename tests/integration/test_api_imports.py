"""The API's ledger imports, export and template."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from sqlalchemy import func, select

from models import Instrument, LedgerImport
from tests.api import API, auth
from tests.sheets import messy_file, write_xlsx


@pytest.fixture
def admin(db_session, world):
    return auth(db_session, world.a.admin)


def post_file(client, headers, path, **form):
    with open(path, "rb") as f:
        return client.post(
            f"{API}/imports",
            headers=headers,
            data={"file": (f, path.name), **form},
            content_type="multipart/form-data",
        )


def count(db_session, org_id):
    return db_session.scalar(select(func.count()).select_from(Instrument).where(Instrument.org_id == org_id))


def test_upload_preview_then_confirm(client, db_session, world, admin, tmp_path):
    before = count(db_session, world.a.org.id)
    response = post_file(client, admin, messy_file(tmp_path))
    assert response.status_code == 202, response.json
    job = response.json
    assert response.headers["Location"].endswith(f"/api/v1/imports/{job['id']}")
    assert (job["phase"], job["state"], job["report"]) == ("preview", "queued", None)

    job = client.get(f"{API}/imports/{job['id']}", headers=admin).json
    assert (job["phase"], job["state"], job["imported"]) == ("preview", "done", False)
    report = job["report"]
    assert (report["created"], report["updated"], report["rejected"], report["dry_run"]) == (4, 0, 0, True)
    assert count(db_session, world.a.org.id) == before

    assert client.post(f"{API}/imports/{job['id']}/confirm", headers=admin).status_code == 202
    job = client.get(f"{API}/imports/{job['id']}", headers=admin).json
    assert (job["phase"], job["state"], job["imported"]) == ("import", "done", True)
    assert (job["report"]["created"], job["report"]["dry_run"]) == (4, False)
    assert count(db_session, world.a.org.id) == before + 4
    # Once imported, the upload cannot be imported again.
    assert client.post(f"{API}/imports/{job['id']}/confirm", headers=admin).status_code == 409
    listed = client.get(f"{API}/imports", headers=admin).json["items"]
    assert [(j["id"], j["report"]) for j in listed] == [(job["id"], None)]


def test_import_at_once_with_a_mapping(client, db_session, world, admin, tmp_path):
    path = write_xlsx(tmp_path / "odd.xlsx", [["代码", "器具名称", "颜色"], ["X-1", "压力表", "红"]])
    mapping = json.dumps({"0": "management_no", "2": None})
    response = post_file(client, admin, path, dry_run="false", mapping=mapping, header_row="1")
    assert response.status_code == 202, response.json
    job = client.get(f"{API}/imports/{response.json['id']}", headers=admin).json
    assert (job["phase"], job["state"], job["imported"], job["report"]["created"]) == (
        "import",
        "done",
        True,
        1,
    )
    assert job["report"]["column_fields"][2] == {"index": 2, "letter": "C", "header": "颜色", "field": None}
    instrument = db_session.scalar(select(Instrument).where(Instrument.management_no == "X-1"))
    assert instrument.notes is None  # the left-out column did not go into the notes


def test_correct_the_reading_of_a_previewed_file(client, db_session, world, admin, tmp_path):
    path = write_xlsx(tmp_path / "odd.xlsx", [["代码", "器具名称"], ["X-1", "压力表"]])
    job = post_file(client, admin, path).json
    job = client.get(f"{API}/imports/{job['id']}", headers=admin).json
    assert job["state"] == "failed"
    assert "表头" in job["error"]  # no header row found (in the user's language)
    response = client.put(f"{API}/imports/{job['id']}/reading", headers=admin, json={"header_row": 1})
    job = client.get(f"{API}/imports/{job['id']}", headers=admin).json
    assert job["state"] == "failed"  # still no management number column, but now the columns are known
    assert [c["header"] for c in job["column_fields"]] == ["代码", "器具名称"]
    response = client.put(
        f"{API}/imports/{job['id']}/reading",
        headers=admin,
        json={"mapping": {"0": "management_no"}, "header_row": 1},
    )
    assert response.status_code == 202, response.json
    job = client.get(f"{API}/imports/{job['id']}", headers=admin).json
    assert (job["state"], job["report"]["created"]) == ("done", 1)


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"mapping": "{not json"}, "mapping"),
        ({"mapping": json.dumps({"0": "colour"})}, "mapping.0"),
        ({"mapping": json.dumps({"A": "name"})}, "mapping"),
        ({"header_row": "first"}, "header_row"),
        ({"header_row": "0"}, "header_row"),
        ({"dry_run": "perhaps"}, "dry_run"),
        ({"dry_run": "0"}, "dry_run"),
        ({"dry_run": "off"}, "dry_run"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_upload_bad_input(client, db_session, world, admin, tmp_path, form, field):
    response = post_file(client, admin, messy_file(tmp_path), **form)
    assert response.status_code == 400
    assert field in response.json["errors"], response.json
    assert db_session.scalar(select(func.count()).select_from(LedgerImport)) == 0


def test_upload_without_a_file_or_of_another_kind(client, admin, tmp_path):
    response = client.post(f"{API}/imports", headers=admin, data={}, content_type="multipart/form-data")
    assert (response.status_code, list(response.json["errors"])) == (400, ["file"])
    other = tmp_path / "photo.png"
    other.write_bytes(b"\x89PNG\r\n")
    response = post_file(client, admin, other)
    assert (response.status_code, list(response.json["errors"])) == (400, ["file"])


def test_viewers_cannot_import(client, db_session, world, tmp_path):
    viewer = auth(db_session, world.a.viewer)
    assert post_file(client, viewer, messy_file(tmp_path)).status_code == 403
    assert client.get(f"{API}/imports", headers=viewer).status_code == 403


def test_rejected_rows_download(client, admin, tmp_path):
    path = write_xlsx(tmp_path / "bad.xlsx", [["管理编号", "器具名称", "检定周期"], ["B-1", "表", "abc"]])
    job = post_file(client, admin, path).json
    response = client.get(f"{API}/imports/{job['id']}/rejected.xlsx", headers=admin)
    assert response.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[1][:3] == ("B-1", "表", "abc")
    assert "abc" in rows[1][4]


def test_export_and_template(client, db_session, world, admin):
    response = client.get(f"{API}/instruments/export.csv", headers=admin)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][0] == "管理编号"
    assert sorted(r[0] for r in rows[1:]) == sorted(i.management_no for i in world.a.instruments)
    number = world.a.instruments[0].management_no
    response = client.get(f"{API}/instruments/export.xlsx", headers=admin, query_string={"q": number})
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == [number]
    bad = client.get(f"{API}/instruments/export.xlsx", headers=admin, query_string={"label": "purple"})
    assert (bad.status_code, list(bad.json["errors"])) == (400, ["label"])
    template = client.get(f"{API}/instruments/template.xlsx", headers=admin)
    assert template.status_code == 200
    assert openpyxl.load_workbook(io.BytesIO(template.data)).active["A1"].value == "管理编号"
