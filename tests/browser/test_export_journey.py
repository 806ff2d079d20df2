"""Exporting the ledger in a real browser: Excel as a background job, then the download; CSV streamed.

The server runs its export jobs as it does in production (``EXPORT_RUNNER=process``): each in a
child process from the fork server, writing to the same SQLite file, so the page really follows a
job that runs outside the web process.
"""

from __future__ import annotations

import codecs
import re

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import select

from tests.browser import playwright_expect

expect = playwright_expect()

from models import User  # noqa: E402
from service.actors import Actor  # noqa: E402
from service.db import allow_all_tenants, unit_of_work  # noqa: E402
from tests.browser.test_journey import sign_in  # noqa: E402
from tests.factories import make_instrument  # noqa: E402

pytestmark = pytest.mark.browser

#: How long the page may wait for its job: a process is started for it, on a busy machine.
JOB_MS = 60_000


def _instruments(live_server) -> None:
    with unit_of_work(live_server.sessions) as session:
        allow_all_tenants(session)
        engineer = session.scalar(select(User).where(User.email == live_server.metrology.email))
        for n, name in enumerate(["压力表", "=HYPERLINK(1)", "游标卡尺"]):
            make_instrument(session, Actor.of(engineer), management_no=f"EXP-{n:03d}", name=name)


def test_export_excel_then_csv(page, live_server, tmp_path):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _instruments(live_server)
    sign_in(page, live_server.metrology)
    page.goto("/instruments?q=EXP-&sort=management_no")
    page.locator("#ledger-more").click()
    page.locator("#export-xlsx").click()
    expect(page).to_have_url(re.compile(r"/instruments/exports/\d+$"))
    expect(page.locator("#download-export")).to_be_visible(timeout=JOB_MS)
    expect(page.locator("[data-state=ready]")).to_have_count(1)
    with page.expect_download() as download:
        page.locator("#download-export").click()
    assert download.value.suggested_filename.startswith("台账-")
    path = tmp_path / "ledger.xlsx"
    download.value.save_as(path)
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert [row[0] for row in rows[1:]] == ["EXP-000", "EXP-001", "EXP-002"]
    assert rows[2][1] == "'=HYPERLINK(1)"
    page.locator("#back-to-ledger").click()
    expect(page).to_have_url(re.compile(r"/instruments\?"))
    page.locator("#ledger-more").click()
    with page.expect_download() as download:
        page.locator("#export-csv").click()
    path = tmp_path / "ledger.csv"
    download.value.save_as(path)
    data = path.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    assert "压力表" in data.decode("utf-8-sig")
    assert errors == []
