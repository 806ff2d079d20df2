"""SME assistance in a real browser: staff start the year's plan, record help for a client, and see
the progress per region drawn as a chart with its table, on a desktop and at 390 px.

Selectors are ids, names and data attributes, never translated text: the UI defaults to Chinese.
"""

from __future__ import annotations

import re

import pytest

from tests.browser import playwright_expect

expect = playwright_expect()

from sqlalchemy import select  # noqa: E402

from models import Organization  # noqa: E402
from service.db import allow_all_tenants, unit_of_work  # noqa: E402
from tests.browser.test_journey import sign_in  # noqa: E402

pytestmark = pytest.mark.browser
ZHENGZHOU = "410100"


def _firm_in_zhengzhou(live_server) -> int:
    """Make the browser world's firm a small one of Zhengzhou; return its id."""
    with unit_of_work(live_server.sessions) as session:
        allow_all_tenants(session)
        firm = session.scalar(select(Organization).where(Organization.name == live_server.org_name))
        firm.region_code, firm.employees = ZHENGZHOU, 120
        return firm.id


def test_staff_plan_record_and_see_progress(page, live_server):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    firm_id = _firm_in_zhengzhou(live_server)
    year = live_server.today.year
    sign_in(page, live_server.institute_staff)
    page.locator("[data-menu=clients] .dropdown-toggle").click()
    page.locator("#nav-assistance").click()
    expect(page).to_have_url(re.compile(r"/assistance$"))
    expect(page.locator("#no-plan")).to_have_count(1)
    # The year's plan starts from the provincial 2020 notice.
    page.goto(f"/assistance/plan?year={year}")
    page.locator("#plan-reference button[type=submit]").click()
    expect(page.locator(f"input[name=help-{ZHENGZHOU}]")).to_have_value("80")
    # From the client directory to the client's page: two records, the person prefilled.
    page.goto("/org/clients")
    page.locator(f"[data-assistance-link][href$='/assistance/clients/{firm_id}']").click()
    expect(page.locator("#f-person")).not_to_have_value("")
    for kind in ("survey", "consultation"):
        page.select_option("#f-kind", kind)
        page.locator("#record-form button[type=submit]").click()
    expect(page.locator("#records [data-record]")).to_have_count(2)
    # Progress: helped twice, counted once; 1 of 80 is 1.25%, shown as 1.2% (service.figures.percent).
    page.goto(f"/assistance?year={year}")
    row = page.locator(f"#progress tr[data-region='{ZHENGZHOU}']")
    expect(row.locator("[data-figure=helped]")).to_have_text("1")
    expect(row.locator("[data-figure=help_rate]")).to_have_text("1.2%")
    echarts = page.request.get("/vendor/echarts.js").ok
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"/assistance?year={year}")
        if echarts:
            expect(page.locator("#assistance-progress canvas")).to_have_count(1)
        expect(page.locator("[data-chart-table=assistance-progress]")).to_have_count(1)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), width
    # The chart's table leads from the region to its records.
    page.locator("[data-chart-table=assistance-progress] a").first.click()
    expect(page).to_have_url(re.compile(rf"region={ZHENGZHOU}"))
    expect(page.locator("#records [data-record]")).to_have_count(2)
    assert errors == []
