"""Re-importing a changed ledger in a real browser: the preview shows each update before → after.

Before the engineer confirms, the page says which instrument would be renamed, moved to another
department and have a value cleared; on a phone-sized screen the page does not scroll sideways.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.browser import playwright_expect

expect = playwright_expect()

from sqlalchemy import update  # noqa: E402

from models import User  # noqa: E402
from service.db import allow_all_tenants  # noqa: E402
from tests.browser.test_journey import sign_in  # noqa: E402
from tests.sheets import write_xlsx  # noqa: E402

pytestmark = pytest.mark.browser

#: How long a page may wait for its import job (read in a child process; longer on a busy machine).
JOB_MS = 30_000

HEADER = ["管理编号", "器具名称", "规格型号", "使用部门", "检定周期", "检定日期"]


def set_locale(live_server, locale: str) -> None:
    with live_server.sessions() as session:
        allow_all_tenants(session)
        session.execute(update(User).where(User.email == live_server.admin.email).values(locale=locale))
        session.commit()


def upload_file(page, path) -> None:
    page.goto("/instruments/import")
    page.set_input_files("#f-file", str(path))
    page.locator("#upload-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/instruments/imports/\d+$"))


def test_a_changed_ledger_shows_each_update_before_confirming(page, live_server, tmp_path):
    sign_in(page, live_server.admin)
    first = write_xlsx(
        tmp_path / "台账.xlsx",
        [
            HEADER,
            ["PV-001", "压力表", "Y-100", "质检部", "12", date(2026, 1, 10)],
            ["PV-002", "游标卡尺", "0-150mm", "质检部", "12", date(2026, 1, 10)],
        ],
    )
    upload_file(page, first)
    expect(page.locator('#summary [data-count="created"]')).to_have_text("2", timeout=JOB_MS)
    expect(page.locator("#created-rows")).to_contain_text("PV-002")
    page.locator("#confirm-import").click()
    expect(page.locator('[data-state="imported"]')).to_be_visible(timeout=JOB_MS)

    changed = write_xlsx(
        tmp_path / "台账-修订.xlsx",
        [
            HEADER,
            ["PV-001", "精密数字压力表（量程0~2.5MPa，0.25级）", None, "计量室", "12", date(2026, 1, 10)],
            ["PV-002", "游标卡尺", "0-150mm", "质检部", "12", date(2026, 1, 10)],
            ["PV-003", "电子天平", "JA2003", "计量室", "12", date(2026, 2, 1)],
        ],
    )
    upload_file(page, changed)
    expect(page.locator('#summary [data-count="updated"]')).to_have_text("1", timeout=JOB_MS)
    expect(page.locator("#confirm-import")).to_be_enabled()

    # Nothing written yet, and the update is spelled out field by field.
    update = page.locator('#updated-rows [data-row="2"]')
    expect(update.locator("[data-renamed]")).to_be_visible()
    expect(update.locator('[data-field="name"] del')).to_have_text("压力表")
    expect(update.locator('[data-field="name"] ins')).to_have_text("精密数字压力表（量程0~2.5MPa，0.25级）")
    expect(update.locator('[data-field="department"] del')).to_have_text("质检部")
    expect(update.locator('[data-field="department"] ins')).to_have_text("计量室")
    expect(update.locator('[data-field="model"] del')).to_have_text("Y-100")
    expect(update.locator('[data-field="model"] [data-cleared]')).to_be_visible()
    page.locator("#tab-created").click()
    expect(page.locator("#created-rows")).to_contain_text("PV-003")
    expect(page.locator("#created-rows")).not_to_contain_text("PV-002")

    # On a phone the preview fits the screen's width, with either tab open, in either language.
    page.set_viewport_size({"width": 390, "height": 844})
    preview = re.sub(r"\?.*$", "", page.url)
    for locale in ("zh_Hans_CN", "en"):
        set_locale(live_server, locale)
        for kind in ("created", "updated"):
            page.goto(f"{preview}?kind={kind}")
            expect(page.locator("#changes")).to_have_attribute("data-kind", kind)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    expect(page.locator("#tab-updated")).to_contain_text("Would be updated")
    set_locale(live_server, "zh_Hans_CN")

    page.locator("#confirm-import").click()
    expect(page.locator('[data-state="imported"]')).to_be_visible(timeout=JOB_MS)
    expect(page.locator('#updated-rows [data-row="2"] [data-field="department"] ins')).to_have_text("计量室")
