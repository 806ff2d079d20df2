"""The institute's region dashboard and service statistics in a real browser, on a desktop and a phone.

The chart is drawn (a canvas), nothing complains in the console, no page scrolls sideways at 390 px,
and a region's bar (its link in the chart's table) leads to its clients and on to the client's ledger.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.browser import playwright_expect

expect = playwright_expect()

from sqlalchemy import select  # noqa: E402

from models import Organization, User  # noqa: E402
from service.actors import Actor  # noqa: E402
from service.db import allow_all_tenants, unit_of_work  # noqa: E402
from tests import factories  # noqa: E402
from tests.browser.test_journey import sign_in  # noqa: E402

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture(scope="module")
def firm_id(live_server) -> int:
    """The browser world's firm in 郑州市, with a verified mandatory gauge and an overdue water meter."""
    today = live_server.today
    with live_server.app.app_context(), unit_of_work(live_server.sessions) as session:
        allow_all_tenants(session)
        engineer = session.scalar(select(User).where(User.email == live_server.metrology.email))
        firm = session.get(Organization, engineer.org_id)
        firm.region_code = "410100"
        who = Actor.of(engineer)
        for no, name, last in (
            ("RD-001", "一般压力表", today - timedelta(days=30)),
            ("RD-002", "冷水水表", today - timedelta(days=400)),
        ):
            factories.make_instrument(
                session,
                who,
                today,
                management_no=no,
                name=name,
                is_mandatory=True,
                mandatory_use="trade",
                control_method="verification",
                last_done_on=last.isoformat(),
            )
        return firm.id


def _complaints(page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: found.append(str(e)))
    return found


def _wide(page) -> bool:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return width[0] > width[1]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_staff_see_the_ranked_chart_and_follow_a_region_to_its_clients(
    browser, live_server, firm_id, viewport
):
    context = browser.new_context(base_url=live_server.base_url, viewport=viewport)
    page = context.new_page()
    try:
        complaints = _complaints(page)
        sign_in(page, live_server.institute_staff)
        page.goto("/reports/regions")
        expect(page.locator("#region-inspection canvas").first).to_be_visible()
        assert not _wide(page), "the region dashboard scrolls sideways"
        expect(page.locator("#regions-table tr[data-region='410100']")).to_have_attribute("data-clients", "1")
        page.locator("[data-chart-table=region-inspection] a").first.click()
        expect(page).to_have_url(re.compile(r"/reports/regions/410100\?year=\d{4}$"))
        assert not _wide(page), "a region's page scrolls sideways"
        page.locator(f"#clients-table tr[data-client='{firm_id}'] a").click()
        expect(page).to_have_url(re.compile(rf"/clients/{firm_id}/instruments$"))
        page.goto("/reports/service")
        expect(page.locator("#by-discipline")).to_be_visible()
        assert not _wide(page), "the service statistics scroll sideways"
        page.goto("/reports/regions?year=abc")
        expect(page.locator("#year-errors [data-field=year]")).to_be_visible()
        assert [c for c in complaints if "400" not in c] == []
    finally:
        context.close()
