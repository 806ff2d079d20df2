"""The main journey in a real browser: sign in, add an instrument, recall it, suspend it, approve.

Selectors are ids, names and data attributes, never translated text: the UI defaults to Chinese.
CSRF protection stays on, so every form must carry its token as a user's browser would send it.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from tests.browser import playwright_expect

expect = playwright_expect()

from service.ledger.dates import add_months, next_due_on  # noqa: E402

pytestmark = pytest.mark.browser

NUMBER = "BR-0001"
CHINESE_CATALOG = (
    Path(__file__).resolve().parents[2] / "service/translations/zh_Hans_CN/LC_MESSAGES/messages.mo"
)


def sign_in(page, login) -> None:
    page.goto("/login")
    page.fill("#email", login.email)
    page.fill("#password", login.password)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("form[action$='/logout']")).to_have_count(1)


def sign_out(page) -> None:
    page.locator("#nav [data-menu=user] .dropdown-toggle").click()
    page.locator("form[action$='/logout'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("#email")).to_be_visible()


def test_engineer_recalls_and_suspends_an_instrument_an_admin_approves(page, live_server):
    today = live_server.today
    last_done = add_months(today, -12) + timedelta(days=10)
    due = next_due_on(last_done, 12, None)
    assert today <= due <= today + timedelta(days=30)

    # The firm's metrology engineer adds an instrument whose verification falls due within 30 days.
    sign_in(page, live_server.metrology)
    page.goto("/instruments/new")
    page.fill("#f-management_no", NUMBER)
    page.fill("#f-name", "精密压力表")
    page.fill("#f-model", "YB-150")
    page.select_option("#f-department_id", label=live_server.department)
    page.select_option("#f-control_method", "verification")
    page.fill("#f-interval_months", "12")
    page.fill("#f-last_done_on", last_done.isoformat())
    page.locator("main form[method=post] button.btn-primary[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/instruments/\d+$"))
    instrument_url = page.url
    expect(page.locator(".alert-success")).to_contain_text(NUMBER)
    expect(page.locator("#instrument-label [data-label='green']")).to_be_visible()
    expect(page.locator("main")).to_contain_text(due.isoformat())

    # It shows in the "due in 30 days" recall view, with its due date; the row leads back to it.
    page.goto("/recall/30")
    expect(page.locator(".nav-tabs a.nav-link.active[href$='/recall/30']")).to_have_count(1)
    row = page.locator(f"tr[data-instrument='{NUMBER}']")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(due.isoformat())
    expect(row.locator("[data-label='green']")).to_be_visible()
    row.locator(f"a:text-is('{NUMBER}')").click()
    expect(page).to_have_url(instrument_url)

    # The engineer asks for a suspension; the request waits, and only its author may withdraw it.
    page.select_option("#action", "suspend")
    page.fill("#reason", "示值超差，送修")
    page.locator("form[action$='/requests'] button[type=submit]").click()
    expect(page).to_have_url(instrument_url)
    expect(page.locator(".alert-success")).to_have_count(1)
    request_row = page.locator("tr[data-request]")
    expect(request_row).to_have_count(1)
    expect(request_row).to_contain_text("示值超差，送修")
    expect(request_row.locator("form[action$='/withdraw']")).to_have_count(1)
    expect(request_row.locator(".decide-form")).to_have_count(0)
    expect(page.locator("#instrument-label [data-label='green']")).to_be_visible()
    sign_out(page)

    # The firm admin approves it from the approvals page.
    sign_in(page, live_server.admin)
    page.goto("/approvals")
    pending = page.locator("[data-request]", has_text=NUMBER)
    expect(pending).to_have_count(1)
    pending.locator(".decide-form input[name=reason]").fill("同意停用")
    pending.locator(".decide-form button[name=decision][value=approve]").click()
    expect(page).to_have_url(re.compile(r"/approvals$"))
    expect(page.locator(".alert-success")).to_have_count(1)
    expect(page.locator("#pending-requests [data-request]")).to_have_count(0)

    # The instrument now carries a red label and is suspended: only resuming (not suspending) is offered.
    page.goto(instrument_url)
    expect(page.locator("#instrument-label [data-label='red']")).to_be_visible()
    expect(page.locator("#instrument-label [data-label='green']")).to_have_count(0)
    expect(page.locator("#action option[value='resume']")).to_have_count(1)
    expect(page.locator("#action option[value='suspend']")).to_have_count(0)
    decided = page.locator("tr[data-request]")
    expect(decided).to_contain_text("同意停用")
    expect(decided.locator("form")).to_have_count(0)

    # The ledger agrees: filtered by status "suspended" and by label "red", the instrument is listed.
    page.goto("/instruments?status=suspended&label=red")
    expect(page.locator(f"tr[data-instrument='{NUMBER}']")).to_have_count(1)
    expect(page.locator(f"tr[data-instrument='{NUMBER}'] [data-label='red']")).to_be_visible()
    page.goto("/instruments?status=in_service")
    expect(page.locator(f"tr[data-instrument='{NUMBER}']")).to_have_count(0)


def test_language_switch_on_the_login_page(page, live_server):
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    chinese_heading = page.locator("main h1").inner_text()
    page.locator("button[name=locale][value=en]").click()

    expect(page).to_have_url(re.compile(r"/login\??$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#email")).to_be_visible()
    expect(page.locator("main h1")).to_have_text("Sign in")
    expect(page.locator("button[name=locale][value=en]")).to_have_count(0)
    page.locator("button[name=locale][value=zh_Hans_CN]").click()

    expect(page).to_have_url(re.compile(r"/login\??$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("main h1")).to_have_text(chinese_heading)
    expect(page.locator("button[name=locale][value=en]")).to_have_count(1)
    if CHINESE_CATALOG.exists():
        # Once the catalog is compiled the Chinese page must really be in Chinese.
        assert re.search(r"[\u4e00-\u9fff]", chinese_heading), chinese_heading
