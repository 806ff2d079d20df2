"""The import pages: upload, preview with rejected rows, correct the mapping, import; jobs and their runs."""

import io
import re
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from models import Event, Instrument, LedgerImport
from service.clock import now_utc
from service.errors import Conflict
from service.ledger_io import operations as import_ops
from service.ledger_io import queries as import_queries
from service.ledger_io import runner as import_runner
from tests.conftest import login
from tests.sheets import messy_file, write_xlsx


def upload(client, path, name=None):
    with open(path, "rb") as f:
        return client.post(
            "/instruments/import",
            data={"file": (f, name or path.name)},
            content_type="multipart/form-data",
        )


def job_of(response) -> int:
    assert response.status_code == 303, response.text[:500]
    return int(re.search(r"/instruments/imports/(\d+)$", response.headers["Location"]).group(1))


def count(db_session, model, org_id):
    return db_session.scalar(select(func.count()).select_from(model).where(model.org_id == org_id))


def summary(page: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', page)}


def test_upload_preview_correct_the_mapping_and_import(client, world, db_session, tmp_path):
    login(client, world.a.admin)  # the file names new departments, which an administrator may add
    org_id = world.a.org.id
    before = count(db_session, Instrument, org_id), count(db_session, Event, org_id)

    import_id = job_of(upload(client, messy_file(tmp_path)))
    page = client.get(f"/instruments/imports/{import_id}")
    assert page.status_code == 200
    # The preview: what would happen, and nothing written.
    assert summary(page.text) == {"created": 4, "updated": 0, "unchanged": 0, "rejected": 0}
    assert 'id="confirm-import"' in page.text
    assert (count(db_session, Instrument, org_id), count(db_session, Event, org_id)) == before
    # The supplier column (供应商) is not a ledger column: kept in the notes, and the page says so.
    assert "供应商" in page.text

    # The user says the supplier column is the manufacturer; the preview runs again.
    job = db_session.get(LedgerImport, import_id)
    supplier = next(c for c in job.report["column_fields"] if c["header"] == "供应商")
    assert supplier["field"] == "?"
    response = client.post(
        f"/instruments/imports/{import_id}/mapping", data={f"column-{supplier['index']}": "manufacturer"}
    )
    assert response.status_code == 303
    db_session.expire_all()
    job = db_session.get(LedgerImport, import_id)
    assert (job.phase, job.state) == ("preview", "done")
    assert job.mapping == {str(supplier["index"]): "manufacturer"}
    assert next(c for c in job.report["column_fields"] if c["header"] == "供应商")["field"] == "manufacturer"

    response = client.post(f"/instruments/imports/{import_id}/confirm")
    assert response.status_code == 303
    page = client.get(f"/instruments/imports/{import_id}")
    assert summary(page.text) == {"created": 4, "updated": 0, "unchanged": 0, "rejected": 0}
    assert 'data-state="imported"' in page.text
    first = db_session.scalar(
        select(Instrument).where(Instrument.org_id == org_id, Instrument.management_no == "JL-001")
    )
    assert first.manufacturer == "红旗仪表"
    timeline = client.get(f"/instruments/{first.id}").text
    assert 'data-source="import"' in timeline
    assert "台账.xlsx" in timeline
    assert count(db_session, Instrument, org_id) == before[0] + 4
    db_session.expire_all()
    job = db_session.get(LedgerImport, import_id)
    assert job.imported_at is not None
    assert not import_queries.has_file(db_session, job)
    # Importing the same upload twice is refused.
    assert client.post(f"/instruments/imports/{import_id}/confirm").status_code == 303
    assert count(db_session, Instrument, org_id) == before[0] + 4


def test_rejected_rows_are_listed_and_downloadable(client, world, db_session, tmp_path):
    login(client, world.a.metrology)
    path = write_xlsx(
        tmp_path / "bad.xlsx",
        [
            ["管理编号", "器具名称", "检定日期", "检定周期"],
            ["OK-1", "压力表", "2025-03-01", "12"],
            ["BAD-1", "卡尺", "2024-13-45", "12"],
            ["BAD-2", None, "2025-03-01", "abc"],
            ["OK-1", "重复", "2025-03-01", "12"],
        ],
    )
    import_id = job_of(upload(client, path))
    page = client.get(f"/instruments/imports/{import_id}")
    assert summary(page.text) == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 3}
    assert "2024-13-45" in page.text
    assert 'id="download-rejected"' in page.text

    download = client.get(f"/instruments/imports/{import_id}/rejected.xlsx")
    assert download.status_code == 200
    assert download.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(download.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("管理编号", "器具名称", "检定日期", "检定周期")
    assert [r[0] for r in rows[1:]] == ["BAD-1", "BAD-2", "OK-1"]
    assert [r[4] for r in rows[1:]] == [3, 4, 5]  # the original row numbers


def test_a_file_without_a_management_number_column_can_be_mapped(client, world, db_session, tmp_path):
    login(client, world.a.metrology)
    path = write_xlsx(tmp_path / "odd.xlsx", [["代码", "器具名称"], ["X-1", "压力表"], ["X-2", "卡尺"]])
    import_id = job_of(upload(client, path))
    page = client.get(f"/instruments/imports/{import_id}")
    # No header found: the user says where it is, then which column holds the management number.
    assert 'id="import-error"' in page.text
    assert 'id="mapping-form"' in page.text
    client.post(f"/instruments/imports/{import_id}/mapping", data={"header_row": "1"})
    page = client.get(f"/instruments/imports/{import_id}")
    assert "代码" in page.text
    assert 'name="column-0"' in page.text
    client.post(
        f"/instruments/imports/{import_id}/mapping",
        data={"header_row": "1", "column-0": "management_no", "column-1": "name"},
    )
    page = client.get(f"/instruments/imports/{import_id}")
    assert summary(page.text) == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 0}


def test_bad_uploads_are_refused_with_a_message(client, world, tmp_path):
    login(client, world.a.metrology)
    assert client.post("/instruments/import", data={}, content_type="multipart/form-data").status_code == 422
    text_file = tmp_path / "notes.docx"
    text_file.write_bytes(b"PK\x03\x04 not really")
    response = upload(client, text_file)
    assert response.status_code == 422
    assert "xlsx" in response.text
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    assert upload(client, empty).status_code == 422


def test_a_hostile_file_fails_the_job_cleanly(client, world, db_session, tmp_path):
    login(client, world.a.metrology)
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"<html><body>not a spreadsheet</body></html>")
    import_id = job_of(upload(client, fake))
    page = client.get(f"/instruments/imports/{import_id}")
    assert page.status_code == 200
    assert 'id="import-error"' in page.text
    assert db_session.get(LedgerImport, import_id).state == "failed"


def test_viewers_cannot_import_and_other_firms_see_nothing(client, world, db_session, tmp_path):
    login(client, world.a.metrology)
    import_id = job_of(upload(client, messy_file(tmp_path)))
    client.post("/logout")
    login(client, world.b.admin)
    for url in (
        f"/instruments/imports/{import_id}",
        f"/instruments/imports/{import_id}/progress",
        f"/instruments/imports/{import_id}/rejected.xlsx",
    ):
        assert client.get(url).status_code == 404
    for action in ("confirm", "discard", "mapping"):
        assert client.post(f"/instruments/imports/{import_id}/{action}").status_code == 404
    assert db_session.get(LedgerImport, import_id).state == "done"
    client.post("/logout")
    login(client, world.a.viewer)
    assert client.get("/instruments/import").status_code == 403
    assert upload(client, messy_file(tmp_path)).status_code == 403


def test_progress_and_discard(client, world, db_session, tmp_path):
    login(client, world.a.admin)
    import_id = job_of(upload(client, messy_file(tmp_path)))
    progress = client.get(f"/instruments/imports/{import_id}/progress").get_json()
    assert progress == {
        "id": import_id,
        "phase": "preview",
        "state": "done",
        "rows_total": 8,
        "rows_data": 4,
        "rows_read": 8,
        "rows_validated": 8,
        "rows_written": 4,
        "imported": False,
    }
    assert client.post(f"/instruments/imports/{import_id}/discard").status_code == 303
    assert db_session.get(LedgerImport, import_id) is None


# The job machinery ------------------------------------------------------------------------------


@pytest.fixture
def queued(db_session, world, tmp_path):
    """A job uploaded but not yet run (as with IMPORT_RUNNER=scheduler)."""
    job = import_ops.upload(
        db_session, world.a.actor("admin"), messy_file(tmp_path).read_bytes(), "台账.xlsx"
    )
    db_session.commit()
    return job.id


def test_the_scheduler_runs_queued_jobs_once(sessions, db_session, queued):
    assert import_runner.run_pending_imports(sessions) == 1
    assert import_runner.run_pending_imports(sessions) == 0
    db_session.expire_all()
    job = db_session.get(LedgerImport, queued)
    assert (job.state, job.attempts) == ("done", 1)


def test_a_claimed_job_is_not_claimed_again_until_its_lease_runs_out(sessions, db_session, queued):
    now = now_utc()
    assert import_runner.claim(db_session, now) == import_runner.Claim(queued, 1)
    db_session.commit()
    assert import_runner.claim(db_session, now + timedelta(minutes=1)) is None
    # The worker died: after the lease, another takes the job over.
    assert import_runner.claim(
        db_session, now + import_runner.LEASE + timedelta(seconds=1)
    ) == import_runner.Claim(queued, 2)
    db_session.commit()
    later = now + 2 * import_runner.LEASE + timedelta(seconds=2)
    assert import_runner.run_import(sessions, now=lambda: later) == queued
    db_session.expire_all()
    job = db_session.get(LedgerImport, queued)
    assert (job.state, job.attempts) == ("done", 3)


def test_a_worker_that_lost_its_claim_commits_nothing(sessions, db_session, world, queued):
    """A slow worker whose lease ran out finishes after another took the job: its import is undone."""
    import_runner.run_pending_imports(sessions)
    import_ops.confirm(db_session, world.a.actor("admin"), queued)
    db_session.commit()
    before = count(db_session, Instrument, world.a.org.id)
    now = now_utc()
    stale = import_runner.claim(db_session, now)
    fresh = import_runner.claim(db_session, now + import_runner.LEASE + timedelta(seconds=1))
    db_session.commit()
    assert (stale.attempt, fresh.attempt) == (1, 2)
    import_runner._run(sessions, stale, now_utc)
    db_session.expire_all()
    job = db_session.get(LedgerImport, queued)
    assert (job.state, job.attempts, job.imported_at) == ("running", 2, None)
    assert count(db_session, Instrument, world.a.org.id) == before
    import_runner._run(sessions, fresh, now_utc)
    db_session.expire_all()
    assert db_session.get(LedgerImport, queued).imported_at is not None
    assert count(db_session, Instrument, world.a.org.id) == before + 4


def test_a_job_that_keeps_dying_fails_with_a_message(sessions, db_session, queued):
    now = now_utc()
    for attempt in range(import_runner.MAX_ATTEMPTS):
        assert (
            import_runner.claim(
                db_session, now + attempt * (import_runner.LEASE + timedelta(seconds=1))
            ).import_id
            == queued
        )
    db_session.commit()
    later = now + import_runner.MAX_ATTEMPTS * (import_runner.LEASE + timedelta(seconds=1))
    assert import_runner.run_pending_imports(sessions, now=lambda: later) == 0
    db_session.expire_all()
    job = db_session.get(LedgerImport, queued)
    assert job.state == "failed"
    assert "3" in import_queries.error_of(job).render()


def test_an_import_rolls_back_with_its_job_when_the_database_fails(
    sessions, db_session, world, queued, monkeypatch
):
    """The instruments and the job's "done" commit together: a failure leaves neither."""
    import_runner.run_pending_imports(sessions)
    import_ops.confirm(db_session, world.a.actor("admin"), queued)
    db_session.commit()
    before = count(db_session, Instrument, world.a.org.id)

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(import_runner, "dump_report", broken)
    assert import_runner.run_pending_imports(sessions) == 1
    db_session.expire_all()
    job = db_session.get(LedgerImport, queued)
    assert (job.state, job.imported_at) == ("failed", None)
    assert count(db_session, Instrument, world.a.org.id) == before
    assert import_queries.has_file(db_session, job)


def test_a_deactivated_uploader_imports_nothing(sessions, db_session, world, queued):
    world.a.admin.is_active = False
    db_session.commit()
    import_runner.run_pending_imports(sessions)
    db_session.expire_all()
    job = db_session.get(LedgerImport, queued)
    assert job.state == "failed"
    assert "no longer active" in import_queries.error_of(job).render()


def test_old_uploads_are_forgotten_but_not_imports_or_running_jobs(sessions, db_session, world, tmp_path):
    actor = world.a.actor("admin")
    waiting, imported, running = (
        import_ops.upload(db_session, actor, messy_file(tmp_path).read_bytes(), f"{n}.xlsx").id
        for n in range(3)
    )
    db_session.commit()
    import_runner.run_pending_imports(sessions)
    import_ops.confirm(db_session, actor, imported)
    db_session.commit()
    import_runner.run_pending_imports(sessions)
    import_ops.remap(db_session, actor, running, {})
    db_session.commit()
    assert import_runner.claim(db_session, now_utc()) == import_runner.Claim(running, 1)
    db_session.commit()
    later = now_utc() + import_runner.UPLOAD_RETENTION + timedelta(days=1)
    assert import_runner.forget_old_uploads(db_session, later) == 1
    db_session.expire_all()
    assert db_session.get(LedgerImport, waiting) is None
    assert db_session.get(LedgerImport, imported) is not None
    assert db_session.get(LedgerImport, running) is not None


def test_confirming_twice_imports_once(client, world, db_session, tmp_path):
    login(client, world.a.admin)
    import_id = job_of(upload(client, messy_file(tmp_path)))
    assert client.post(f"/instruments/imports/{import_id}/confirm").status_code == 303
    page = client.post(f"/instruments/imports/{import_id}/confirm", follow_redirects=True)
    assert "已经导入" in page.text or "already been imported" in page.text
    db_session.expire_all()
    job = db_session.get(LedgerImport, import_id)
    assert (job.phase, job.state, job.attempts) == ("import", "done", 1)
    assert job.report["created"] == 4


def test_a_queued_job_shows_its_progress_and_refuses_changes(client, world, db_session, queued):
    login(client, world.a.admin)
    page = client.get(f"/instruments/imports/{queued}")
    assert 'id="progress"' in page.text
    assert 'data-state="checking"' in page.text
    for action in ("confirm", "mapping"):
        client.post(f"/instruments/imports/{queued}/{action}")
        assert db_session.get(LedgerImport, queued).state == "queued"
    assert client.get(f"/instruments/imports/{queued}/progress").get_json()["state"] == "queued"


def test_checking_again_unchanged_keeps_the_detected_reading(client, world, db_session, tmp_path):
    """A header over two rows stays detected when the user checks again without changing anything."""
    login(client, world.a.admin)
    path = write_xlsx(
        tmp_path / "two-rows.xlsx",
        [
            ["管理编号", "器具名称", "检定", None],
            [None, None, "日期", "周期"],
            ["T-1", "表", "2025-03-01", "12"],
        ],
    )
    import_id = job_of(upload(client, path))
    job = db_session.get(LedgerImport, import_id)
    form = {f"column-{c['index']}": c["field"] or "" for c in job.report["column_fields"]}
    form.update(header_row=str(job.report["header_row"]), sheet=job.report["sheet"])
    client.post(f"/instruments/imports/{import_id}/mapping", data=form)
    db_session.expire_all()
    job = db_session.get(LedgerImport, import_id)
    assert (job.mapping, job.header_row, job.sheet) == (None, None, None)
    assert (job.report["created"], len(job.report["rejected_rows"])) == (1, 0)


def test_odd_numbers_and_names_in_the_forms_are_refused_cleanly(client, world, db_session, tmp_path):
    login(client, world.a.admin)
    import_id = job_of(upload(client, messy_file(tmp_path), name="台\x00账\x07.xlsx"))
    assert db_session.get(LedgerImport, import_id).filename == "台账.xlsx"
    for data in ({"column-²": "name"}, {"header_row": "²"}, {"column-99": "name"}):
        response = client.post(f"/instruments/imports/{import_id}/mapping", data=data, follow_redirects=True)
        assert response.status_code == 200


def test_a_firm_keeps_only_so_many_uploads_waiting(db_session, world, tmp_path):
    actor = world.a.actor("admin")
    content = messy_file(tmp_path).read_bytes()
    for n in range(import_ops.MAX_WAITING_UPLOADS):
        import_ops.upload(db_session, actor, content, f"{n}.xlsx")
    with pytest.raises(Conflict):
        import_ops.upload(db_session, actor, content, "one-more.xlsx")
    import_ops.upload(db_session, world.b.actor("admin"), content, "other-firm.xlsx")  # another firm's quota
