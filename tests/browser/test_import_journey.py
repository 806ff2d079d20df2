"""Importing a ledger in a real browser: upload, fix a column, preview with a rejected row, import.

The server runs its import jobs as it does in production (``IMPORT_RUNNER=process``): each in a
child process from the fork server, writing to the same SQLite file, so the page really follows a job
that runs outside the web process through its progress polling.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.browser import playwright_expect

expect = playwright_expect()

from tests.browser.test_journey import sign_in  # noqa: E402
from tests.sheets import write_xlsx  # noqa: E402

pytestmark = pytest.mark.browser

#: How long a page may wait for its import job: the file is read in a child process, and on a
#: busy machine a job takes longer than a click.
JOB_MS = 30_000


def ledger_file(tmp_path):
    """A firm's sheet: a title, a supplier column the reader cannot know is the maker, one bad date."""
    return write_xlsx(
        tmp_path / "车间台账.xlsx",
        [
            ["二车间计量器具台账"],
            ["管理编号", "器具名称", "供货商", "检定周期", "检定日期"],
            ["IMP-001", "压力表", "红旗仪表", "12个月", date(2026, 3, 1)],
            ["IMP-002", "游标卡尺", "哈量", "1年", "2026.04.15"],
            ["IMP-003", "电子天平", "舜宇恒平", "12", "2024-13-45"],
            ["IMP-004", "温度计", None, "半年", "2026年5月6日"],
            ["制表：王五", None, None, "审核：李四"],
        ],
    )


def summary(page, key: str):
    return page.locator(f'#summary [data-count="{key}"]')


def test_upload_fix_a_column_preview_and_import(page, live_server, tmp_path):
    sign_in(page, live_server.metrology)
    page.goto("/instruments")
    page.locator("#import-ledger").click()
    page.set_input_files("#f-file", str(ledger_file(tmp_path)))
    page.locator("#upload-form button[type=submit]").click()

    # The job runs in the background; the page follows it and shows the preview.
    expect(page).to_have_url(re.compile(r"/instruments/imports/\d+$"))
    expect(summary(page, "created")).to_have_text("3", timeout=JOB_MS)
    expect(summary(page, "rejected")).to_have_text("1")
    expect(page.locator("#rejected-rows")).to_contain_text("2024-13-45")
    expect(page.locator("#download-rejected")).to_be_visible()

    # The supplier column went into the notes; the engineer says it is the manufacturer.
    supplier = page.locator('#mapping select[name="column-2"]')
    expect(supplier).to_have_value("?")
    supplier.select_option("manufacturer")
    page.locator("#check-again").click()
    expect(page.locator('#mapping select[name="column-2"]')).to_have_value("manufacturer", timeout=JOB_MS)
    expect(summary(page, "created")).to_have_text("3")
    expect(summary(page, "rejected")).to_have_text("1")

    page.locator("#confirm-import").click()
    expect(page.locator('[data-state="imported"]')).to_be_visible(timeout=JOB_MS)
    expect(summary(page, "created")).to_have_text("3")

    # The instruments are in the ledger, with the column as corrected.
    page.locator("#to-ledger").click()
    rows = page.locator("table tbody")
    for number in ("IMP-001", "IMP-002", "IMP-004"):
        expect(rows).to_contain_text(number)
    expect(rows).not_to_contain_text("IMP-003")
    page.goto("/instruments?q=IMP-001")
    page.locator("table tbody a", has_text="IMP-001").first.click()
    expect(page.locator("body")).to_contain_text("红旗仪表")
