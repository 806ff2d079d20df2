"""The evidence dossier and an award campaign in a real browser.

A firm's engineer reads the dossier, opens the instruments behind a figure and tries a day in the
future; the institute's administrator announces a campaign, corrects a bad window and opens it.
Selectors are ids, names and data attributes, never translated text: the UI defaults to Chinese.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.browser import playwright_expect

expect = playwright_expect()

from service.ledger.dates import add_months  # noqa: E402
from tests.browser.test_journey import sign_in  # noqa: E402

pytestmark = pytest.mark.browser


def test_engineer_reads_the_dossier_and_what_lies_behind_it(page, live_server):
    today = live_server.today
    sign_in(page, live_server.metrology)
    # An instrument a year and a month past its last verification: out of validity, so short of coverage.
    page.goto("/instruments/new")
    page.fill("#f-management_no", "BR-EV-01")
    page.fill("#f-name", "一般压力表")
    page.fill("#f-interval_months", "12")
    page.fill("#f-last_done_on", add_months(today, -13).isoformat())
    page.locator("main form[method=post] button.btn-primary[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/instruments/\d+$"))

    page.goto("/evidence")
    expect(page.locator("#coverage")).to_be_visible()
    expect(page.locator("#self-check tbody tr")).to_have_count(33)
    page.locator("#coverage a").click()
    expect(page).to_have_url(re.compile(r"/evidence/instruments\?.*figure=coverage"))
    expect(page.locator("#behind")).to_contain_text("BR-EV-01")

    # A day in the future is refused with a message, and the dossier of today is shown.
    page.goto("/evidence")
    page.fill("#as_of", (today + timedelta(days=3)).isoformat())
    page.locator("form[method=get] button[type=submit]").click()
    expect(page.locator(".alert-danger")).to_be_visible()
    expect(page.locator("#as_of")).to_have_value(today.isoformat())


def test_institute_announces_and_opens_a_campaign(page, live_server):
    today = live_server.today
    sign_in(page, live_server.institute_admin)
    page.goto("/institute/campaigns")
    page.locator("a[href$='/institute/campaigns/new']").click()
    page.fill("#f-title", "浏览器测试评选")
    page.fill("#f-nomination_opens_on", today.isoformat())
    page.fill("#f-nomination_closes_on", (today + timedelta(days=6)).isoformat())
    page.fill("#f-review_opens_on", (today + timedelta(days=3)).isoformat())  # inside the window: refused
    page.fill("#f-review_closes_on", (today + timedelta(days=8)).isoformat())
    page.locator("form.card button[type=submit]").click()
    expect(page.locator("#f-review_opens_on.is-invalid")).to_have_count(1)

    page.fill("#f-review_opens_on", (today + timedelta(days=7)).isoformat())
    page.locator("form.card button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/institute/campaigns/\d+$"))
    expect(page.locator("#phase")).to_have_attribute("data-phase", "draft")
    page.locator("form[action$='/phase'] button[type=submit]").click()
    expect(page.locator("#phase")).to_have_attribute("data-phase", "open")
    expect(page.locator("#categories li")).to_have_count(3)
