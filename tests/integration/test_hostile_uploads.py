"""A file that kills its reader fails its own job, the CLI exits cleanly, and nobody else notices."""

import pytest

from models import LedgerImport
from service.ledger_io import runner as import_runner
from tests.conftest import login
from tests.integration.test_import_pages import job_of, upload
from tests.integration.test_ledger_import import cli
from tests.integration.test_real_ledgers import QR007, real
from tests.sheets import far_cell_xlsx, xls_claiming_rows


@pytest.mark.parametrize(
    ("dimension", "message"),
    [(None, "文件过大或已损坏，无法读取。"), ("true", "文件中有工作表延伸到单元格 XFD190000")],
    ids=["the reader dies", "refused by its dimension"],
)
def test_an_upload_that_would_abort_the_reader_fails_its_job_only(
    client, world, db_session, sessions, tmp_path, dimension, message
):
    login(client, world.a.metrology)
    path = far_cell_xlsx(tmp_path / "台账.xlsx", dimension=dimension)
    import_id = job_of(upload(client, path))  # the inline runner reads it during the request
    page = client.get(f"/instruments/imports/{import_id}")
    assert page.status_code == 200
    assert 'id="import-error"' in page.text
    assert message in page.text
    job = db_session.get(LedgerImport, import_id)
    assert (job.state, job.attempts, job.lease_until) == ("failed", 1, None)
    # Not taken up again by the scheduler's sweep, and the process serves the next request.
    assert import_runner.run_pending_imports(sessions) == 0
    db_session.expire_all()
    assert db_session.get(LedgerImport, import_id).state == "failed"
    assert client.get("/instruments").status_code == 200


def test_the_cli_refuses_a_file_that_would_abort_the_reader(app, sessions, world, tmp_path):
    path = far_cell_xlsx(tmp_path / "crash.xlsx", dimension=None)
    result = cli(app, path, "--org", world.a.org.slug, "--dry-run")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "error: 文件过大或已损坏，无法读取。\n"


def test_an_xls_whose_sheet_claims_a_million_rows_fails_its_job_only(
    client, world, db_session, sessions, tmp_path
):
    """The .xls counterpart of the far cell: a mutated DIMENSIONS record, which calamine trusts."""
    path = xls_claiming_rows(real(QR007), tmp_path / "计划.xls")
    login(client, world.a.metrology)
    import_id = job_of(upload(client, path))
    page = client.get(f"/instruments/imports/{import_id}")
    assert "文件过大或已损坏，无法读取。" in page.text
    job = db_session.get(LedgerImport, import_id)
    assert (job.state, job.attempts) == ("failed", 1)
    assert import_runner.run_pending_imports(sessions) == 0
    assert client.get("/instruments").status_code == 200
    # The same file as it was imports as an empty form: the refusal is about the claim, not the file.
    plain = job_of(upload(client, real(QR007)))
    assert db_session.get(LedgerImport, plain).state == "done"
