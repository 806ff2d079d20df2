"""Ledger exports as background jobs (xlsx) and the streamed CSV: pages, API, progress, tenancy, expiry."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import date, timedelta

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select, update

from models import LedgerExport
from service.clock import now_utc
from service.db import allow_all_tenants
from service.ledger_io import export_runner, exporter, runner
from service.ledger_io.columns import COLUMNS
from service.ledger_io.exporter import HEADERS
from service.ledger_io.operations import MAX_ACTIVE_EXPORTS
from tests.api import API, auth
from tests.conftest import login
from tests.factories import make_instrument

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COL = {column.field: index for index, column in enumerate(COLUMNS)}


def _sheet(data: bytes) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def _csv(data: bytes) -> list[list[str]]:
    assert data.startswith(codecs.BOM_UTF8)  # Excel reads UTF-8 CSV only with a BOM
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.fixture
def queued(app):
    """Leave exports queued (as EXPORT_RUNNER=scheduler does) for the test to run."""
    runner_ = app.extensions["calrecall.export_runner"]
    mode, runner_.mode = runner_.mode, "scheduler"
    yield runner_
    runner_.mode = mode


@pytest.fixture
def hostile(world, db_session):
    """A firm-A instrument whose text a spreadsheet would run as formulas, with Chinese text around."""
    instrument = make_instrument(
        db_session,
        world.a.actor(),
        management_no="-INJ-1",
        name='=HYPERLINK("http://evil.example","点我")',
        model="+1+1",
        manufacturer="@SUM(A1:A9)",
        notes="压力表，含中文",
    )
    db_session.commit()
    return instrument


# -- the page: ask, watch, download -----------------------------------------------------------


def test_export_button_starts_a_job_whose_page_offers_the_file(client, world):
    login(client, world.a.viewer)  # read-only roles may export
    response = client.post("/instruments/exports?sort=-management_no")
    assert response.status_code == 303
    page_url = response.headers["Location"]
    job_id = int(page_url.rstrip("/").rsplit("/", 1)[1])
    page = client.get(page_url)
    assert page.status_code == 200
    assert 'data-state="ready"' in page.text
    assert f"/instruments/exports/{job_id}/download" in page.text
    download = client.get(f"/instruments/exports/{job_id}/download")
    assert download.status_code == 200
    assert download.mimetype == XLSX
    assert f"ledger-{world.a.org.slug}-" in download.headers["Content-Disposition"]
    rows = _sheet(download.data)
    assert rows[0] == list(HEADERS)
    expected = sorted((i.management_no for i in world.a.instruments), reverse=True)
    assert [row[0] for row in rows[1:]] == expected  # the list's sort applies, firm B's rows do not
    progress = client.get(f"/instruments/exports/{job_id}/progress").json
    assert progress | {"expires_at": None} == {
        "id": job_id,
        "state": "done",
        "rows_total": 3,
        "rows_written": 3,
        "percent": 100,
        "ready": True,
        "expires_at": None,
    }


def test_the_page_shows_progress_while_the_job_waits_and_refreshes_itself(client, world, queued, sessions):
    login(client, world.a.metrology)
    page_url = client.post("/instruments/exports").headers["Location"]
    job_id = int(page_url.rsplit("/", 1)[1])
    page = client.get(page_url).text
    assert 'id="progress"' in page
    assert f'data-url="/instruments/exports/{job_id}/progress"' in page
    assert '<meta http-equiv="refresh"' in page  # without scripts too
    assert "imports/progress.js" in page
    assert client.get(f"{page_url}/progress").json["state"] == "queued"
    # Not ready: the download link leads back to the page, which says what is happening.
    response = client.get(f"{page_url}/download")
    assert (response.status_code, response.headers["Location"]) == (303, page_url)

    assert export_runner.run_pending_exports(sessions) == 1
    page = client.get(page_url).text
    assert 'id="progress"' not in page
    assert 'id="download-export"' in page
    assert "<meta http-equiv" not in page


def test_progress_is_saved_while_rows_are_written(world, db_session, sessions, queued, client, monkeypatch):
    login(client, world.a.metrology)
    job_id = int(client.post("/instruments/exports").headers["Location"].rsplit("/", 1)[1])
    seen = []
    real_save = runner.ProgressSaver.save

    def save(self):
        real_save(self)
        check = sessions()
        allow_all_tenants(check)
        seen.append(
            check.execute(
                select(LedgerExport.rows_written, LedgerExport.rows_total).where(LedgerExport.id == job_id)
            ).one()
        )
        check.close()

    monkeypatch.setattr(runner.ProgressSaver, "save", save)
    monkeypatch.setattr(runner, "PROGRESS_INTERVAL", 0.0)
    export_runner.run_export(sessions, job_id)
    assert seen[0] == (0, 3)  # the total is known before the first row
    assert (3, 3) in seen
    job = db_session.get(LedgerExport, job_id, populate_existing=True)
    assert (job.state, job.rows_written, job.rows_total, job.size > 0) == ("done", 3, 3, True)
    assert abs(job.expires_at - job.finished_at - export_runner.RETENTION) < timedelta(seconds=5)


def test_bad_filters_are_refused_before_anything_is_queued(client, world, db_session):
    login(client, world.a.metrology)
    response = client.post("/instruments/exports?label=purple&due_within=abc")
    assert response.status_code == 422
    assert "label" in response.text
    response = client.post("/instruments/exports?colour=red")  # an unknown parameter, as the list's API
    assert response.status_code == 422
    assert db_session.scalar(select(func.count(LedgerExport.id))) == 0


def test_a_firm_may_not_pile_up_exports(client, world, queued, db_session):
    login(client, world.a.metrology)
    for _ in range(MAX_ACTIVE_EXPORTS):
        assert client.post("/instruments/exports").status_code == 303
    response = client.post("/instruments/exports", follow_redirects=True)
    assert response.request.path == "/instruments"
    assert "个导出正在生成" in response.text  # "exports being written", in the users' Chinese
    assert db_session.scalar(select(func.count(LedgerExport.id))) == MAX_ACTIVE_EXPORTS


def test_a_failed_export_shows_its_message(client, world, queued, sessions, monkeypatch):
    login(client, world.a.metrology)
    page_url = client.post("/instruments/exports").headers["Location"]

    def broken(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export_runner, "write_xlsx", broken)
    export_runner.run_pending_exports(sessions)
    page = client.get(page_url).text
    assert 'data-state="failed"' in page
    assert 'id="export-error"' in page
    assert "导出因意外错误而中断" in page  # "stopped because of an unexpected error"
    assert 'id="progress"' not in page  # no endless spinner
    assert client.get(f"{page_url}/download").status_code == 303


def test_an_export_runs_as_its_user_sees_the_ledger_when_it_runs(client, world, queued, sessions, db_session):
    login(client, world.a.metrology)
    page_url = client.post("/instruments/exports").headers["Location"]
    db_session.execute(
        update(type(world.a.metrology))
        .where(type(world.a.metrology).id == world.a.metrology.id)
        .values(is_active=False)
    )
    db_session.commit()
    export_runner.run_pending_exports(sessions)
    job = db_session.get(LedgerExport, int(page_url.rsplit("/", 1)[1]), populate_existing=True)
    assert job.state == "failed"
    assert job.content is None


def test_expired_files_are_not_served_and_are_forgotten(client, world, db_session, sessions):
    login(client, world.a.metrology)
    page_url = client.post("/instruments/exports").headers["Location"]
    job_id = int(page_url.rsplit("/", 1)[1])
    db_session.execute(
        update(LedgerExport)
        .where(LedgerExport.id == job_id)
        .values(expires_at=now_utc() - timedelta(seconds=1))
    )
    db_session.commit()
    assert 'id="export-expired"' in client.get(page_url).text
    assert client.get(f"{page_url}/download").status_code == 303
    export_runner.run_pending_exports(sessions)
    assert client.get(page_url).status_code == 404
    assert db_session.get(LedgerExport, job_id, populate_existing=True) is None


def test_a_dead_run_is_taken_over_after_its_lease(world, client, queued, sessions, db_session):
    login(client, world.a.metrology)
    job_id = int(client.post("/instruments/exports").headers["Location"].rsplit("/", 1)[1])
    now = now_utc()
    stale = runner.claim(db_session, now, job_id, LedgerExport)  # a worker that then dies
    db_session.commit()
    assert export_runner.run_export(sessions, job_id) is None  # still leased
    later = now + runner.LEASE + timedelta(seconds=1)
    assert export_runner.run_export(sessions, job_id, now=lambda: later) == job_id
    job = db_session.get(LedgerExport, job_id, populate_existing=True)
    assert (job.state, job.attempts, stale.attempt) == ("done", 2, 1)


# -- tenancy -----------------------------------------------------------------------------------


def test_another_firm_gets_404_for_every_export_route(client, world):
    login(client, world.a.metrology)
    page_url = client.post("/instruments/exports").headers["Location"]
    client.post("/logout")
    login(client, world.b.admin)
    for suffix in ("", "/progress", "/download"):
        assert client.get(page_url + suffix).status_code == 404, suffix


def test_api_another_firm_gets_404(client, world, db_session):
    a = auth(db_session, world.a.metrology)
    b = auth(db_session, world.b.admin)
    job = client.post(f"{API}/exports", headers=a).json
    for suffix in ("", "/download"):
        assert client.get(f"{API}/exports/{job['id']}{suffix}", headers=b).status_code == 404
    assert client.get(f"{API}/exports", headers=b).json["items"] == []


# -- the API -------------------------------------------------------------------------------------


def test_api_start_poll_download(client, world, db_session, hostile):
    headers = auth(db_session, world.a.viewer)
    response = client.post(f"{API}/exports", headers=headers, json={"q": "INJ", "is_mandatory": False})
    assert response.status_code == 202
    job = response.json
    assert response.headers["Location"].endswith(f"{API}/exports/{job['id']}")
    assert job["filters"] == {"q": "INJ", "is_mandatory": "false"}
    polled = client.get(f"{API}/exports/{job['id']}", headers=headers).json
    assert (polled["state"], polled["ready"], polled["rows_written"], polled["rows_total"]) == (
        "done",
        True,
        1,
        1,
    )
    assert polled["download_url"] == f"{API}/exports/{job['id']}/download"
    assert polled["error"] is None
    download = client.get(polled["download_url"], headers=headers)
    assert download.status_code == 200
    rows = _sheet(download.data)
    assert rows[1][COL["management_no"]] == "'-INJ-1"
    assert rows[1][COL["name"]].startswith("'=HYPERLINK")
    assert rows[1][COL["model"]] == "'+1+1"
    assert rows[1][COL["manufacturer"]] == "'@SUM(A1:A9)"
    assert rows[1][COL["notes"]] == "压力表，含中文"
    listed = client.get(f"{API}/exports", headers=headers).json["items"]
    assert [item["id"] for item in listed] == [job["id"]]


def test_api_bad_input_and_not_ready(client, world, db_session, queued):
    headers = auth(db_session, world.a.metrology)
    bad = client.post(f"{API}/exports", headers=headers, query_string={"label": "purple"})
    assert (bad.status_code, list(bad.json["errors"])) == (400, ["label"])
    bad = client.post(f"{API}/exports", headers=headers, json={"due_within": -1, "colour": "red"})
    assert (bad.status_code, sorted(bad.json["errors"])) == (400, ["colour", "due_within"])
    bad = client.post(f"{API}/exports", headers=headers, json=["label"])
    assert bad.status_code == 400
    assert client.get(f"{API}/exports", headers=headers).json["items"] == []
    job = client.post(f"{API}/exports", headers=headers).json
    assert (job["state"], job["ready"], job["download_url"]) == ("queued", False, None)
    response = client.get(f"{API}/exports/{job['id']}/download", headers=headers)
    assert response.status_code == 409
    assert "导出尚未完成" in response.json["message"]  # "not ready"
    assert client.get(f"{API}/exports/999999", headers=headers).status_code == 404


def test_api_documents_the_export_routes(client):
    paths = client.get(f"{API}/openapi.json").json["paths"]
    assert "202" in paths[f"{API}/exports"]["post"]["responses"]
    assert {"200", "404"} <= set(paths[f"{API}/exports/{{export_id}}"]["get"]["responses"])
    assert XLSX in paths[f"{API}/exports/{{export_id}}/download"]["get"]["responses"]["200"]["content"]
    body = paths[f"{API}/exports"]["post"]["requestBody"]
    assert body["required"] is False
    schema = body["content"]["application/json"]["schema"]
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = client.get(f"{API}/openapi.json").json["components"]["schemas"][name]
    assert {"q", "label", "sort", "is_mandatory"} <= set(schema["properties"])
    assert "cursor" not in schema["properties"]


# -- the CSV stream ------------------------------------------------------------------------------


def test_csv_is_streamed_with_a_bom_and_formulas_neutralised(client, world, hostile):
    login(client, world.a.viewer)
    response = client.get("/instruments/export.csv?sort=management_no")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers.get("Content-Length") is None
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = _csv(response.data)
    assert rows[0] == list(HEADERS)
    by_no = {row[0]: row for row in rows[1:]}
    row = by_no["'-INJ-1"]
    assert row[COL["name"]].startswith("'=HYPERLINK")
    assert row[COL["model"]] == "'+1+1"
    assert row[COL["manufacturer"]] == "'@SUM(A1:A9)"
    assert row[COL["notes"]] == "压力表，含中文"
    assert len(rows) == 1 + 4


def test_csv_sends_its_header_before_reading_a_row(app, client, world, monkeypatch):
    login(client, world.a.viewer)
    read = []
    real = exporter.ledger_row

    def spy(instrument, today):
        read.append(instrument.management_no)
        return real(instrument, today)

    monkeypatch.setattr("service.web.downloads.ledger_row", spy)
    response = client.get("/instruments/export.csv", buffered=False)
    chunks = iter(response.response)
    first = next(chunks)
    assert first.startswith(codecs.BOM_UTF8 + "管理编号".encode())
    assert read == []  # nothing read from the ledger before the first byte went out
    rest = b"".join(chunks)
    response.close()
    assert len(read) == 3
    assert rest.count(b"\n") == 3


def test_csv_and_xlsx_hold_the_same_rows(client, world, hostile):
    login(client, world.a.metrology)
    rows_csv = _csv(client.get("/instruments/export.csv?sort=management_no").data)
    page_url = client.post("/instruments/exports?sort=management_no").headers["Location"]
    rows_xlsx = _sheet(client.get(f"{page_url}/download").data)

    def text(value):
        if value is None:
            return ""
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    assert [[text(v) for v in row] for row in rows_xlsx] == rows_csv


def test_csv_bad_filter_is_422_not_a_broken_stream(client, world):
    login(client, world.a.metrology)
    response = client.get("/instruments/export.csv?due_within=-4")
    assert response.status_code == 422
    assert not response.data.startswith(codecs.BOM_UTF8)


def test_a_large_ledger_is_not_written_to_xlsx_inside_a_request(client, world, db_session, monkeypatch):
    monkeypatch.setattr("service.web.downloads.DIRECT_XLSX_ROWS", 2)  # the world's firm A holds 3
    login(client, world.a.metrology)
    response = client.get("/instruments/export.xlsx")
    assert response.status_code == 409
    assert "请以后台任务导出Excel" in response.text  # "export it to Excel as a background job"
    assert client.get("/instruments/export.xlsx?label=red").status_code == 200  # few rows: at once
    assert client.get("/instruments/export.csv").status_code == 200  # streamed: any size
    headers = auth(db_session, world.a.metrology)
    response = client.get(f"{API}/instruments/export.xlsx", headers=headers)
    assert response.status_code == 409
    assert "POST /api/v1/exports" in response.json["message"]
