"""The Content-Security-Policy in a real browser: the main pages work and Chromium reports nothing.

The policy allows scripts and styles from this site only (files under service/static/), no inline
ones and no style attributes; a page that still relied on one would log a violation to the
console. Also: the sign-in form warns before the last attempt ahead of a pause.
"""

from __future__ import annotations

import re

import pytest

from tests.browser import playwright_expect

expect = playwright_expect()

from sqlalchemy import select  # noqa: E402

from models import User  # noqa: E402
from service.actors import Actor  # noqa: E402
from service.db import allow_all_tenants  # noqa: E402
from tests import factories  # noqa: E402
from tests.browser.test_journey import sign_in, sign_out  # noqa: E402
from tests.sheets import write_xlsx  # noqa: E402

pytestmark = pytest.mark.browser

FIRM_PAGES = [
    "/",
    "/instruments",
    "/instruments/new",
    "/recall/30",
    "/calendar",
    "/approvals",
    "/nonconformity",
    "/reminders",
    "/reminders/policy",
    "/reminders/outbox",
    "/visits/mine",
    "/orders",
    "/orders/new",
    "/org",
    "/org/departments",
    "/org/sign-ins",
    "/account",
    "/account/tokens",
    "/instruments/import",
]
INSTITUTE_PAGES = [
    "/",
    "/org/clients",
    "/institute/due",
    "/institute/technicians",
    "/visits",
    "/institute/orders",
]


def _watch(page) -> list[str]:
    """Collect what the browser complains about: console errors and warnings, uncaught errors."""
    complaints: list[str] = []
    page.on("console", lambda m: complaints.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: complaints.append(str(e)))
    return complaints


def _instrument_id(live_server) -> int:
    with live_server.sessions() as session:
        allow_all_tenants(session)
        admin = session.scalar(select(User).where(User.email == live_server.admin.email))
        instrument = factories.make_instrument(
            session, Actor.of(admin), live_server.today, management_no="CSP-001", notes="第一行\n第二行"
        )
        session.commit()
        return instrument.id


def test_the_main_pages_raise_no_policy_violations(page, live_server, tmp_path):
    complaints = _watch(page)
    instrument_id = _instrument_id(live_server)
    sign_in(page, live_server.admin)
    for path in [*FIRM_PAGES, f"/instruments/{instrument_id}", f"/instruments/{instrument_id}/edit"]:
        page.goto(path)
        expect(page.locator("main")).to_be_visible()
    # The stylesheet of the pages' own classes applies: notes keep their lines.
    page.goto(f"/instruments/{instrument_id}")
    assert page.locator("dd.pre-wrap").first.evaluate("e => getComputedStyle(e).whiteSpace") == "pre-wrap"
    # An import preview: its confirm button is disabled once pressed (a script file, not onsubmit).
    sheet = write_xlsx(
        tmp_path / "台账.xlsx", [["管理编号", "器具名称", "检定周期"], ["CSP-002", "压力表", "12"]]
    )
    page.goto("/instruments/import")
    page.set_input_files("#f-file", str(sheet))
    page.locator("#upload-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/instruments/imports/\d+$"))
    page.locator("#confirm-import").click()
    expect(page.locator('[data-state="imported"]')).to_be_visible()
    sign_out(page)  # Bootstrap's dropdown works: its script is allowed
    sign_in(page, live_server.institute_staff)
    for path in INSTITUTE_PAGES:
        page.goto(path)
        expect(page.locator("main")).to_be_visible()
    sign_out(page)
    page.goto("/password/forgot")
    page.goto("/c/not-a-real-label")
    assert sorted({c for c in complaints if "Content Security Policy" in c or "Refused" in c}) == []


def test_the_sign_in_form_warns_before_the_last_attempt(page, live_server):
    page.goto("/login")
    alerts = []
    for _ in range(5):
        page.fill("#email", "nobody-here@example.com")
        page.fill("#password", "wrong-password")
        page.locator("form[action$='/login'] button[type=submit]").click()
        alert = page.locator(".alert-danger")
        expect(alert).to_be_visible()
        alerts.append(alert.inner_text())
    assert ["再输错一次" in text for text in alerts] == [False, False, False, True, False]
