"""Issue 19's charts in a real browser: drawn (a canvas, no console error) on desktop and on a phone,
each figure in a table beside its chart, and a bar followed to the instruments behind it.

Selectors are ids and data attributes, never translated text: the UI defaults to Chinese.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.browser import playwright_expect

expect = playwright_expect()

from sqlalchemy import select  # noqa: E402

from models import User  # noqa: E402
from service.actors import Actor  # noqa: E402
from service.db import allow_all_tenants, unit_of_work  # noqa: E402
from service.reports.dashboard import months_from  # noqa: E402
from service.web import vendor  # noqa: E402
from tests import factories  # noqa: E402
from tests.browser.test_journey import sign_in  # noqa: E402

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not vendor.FILES["echarts.js"].is_file(), reason="ECharts is not installed: `make assets` needs npm"
    ),
]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
#: The charts the arranged ledger gives figures to (no due date has passed yet: the on-time chart is empty).
FIRM_CHARTS = (
    "due-by-month",
    "inspection-rate",
    "overdue-by-department",
    "by-status",
    "by-abc",
)


@pytest.fixture(scope="module")
def arranged(live_server):
    """Instruments of the firm due next month, an overdue mandatory gauge and a household meter."""
    today = live_server.today
    next_month = months_from(today, 2)[1]
    with live_server.app.app_context(), unit_of_work(live_server.sessions) as session:
        allow_all_tenants(session)
        engineer = session.scalar(select(User).where(User.email == live_server.metrology.email))
        who = Actor.of(engineer)
        for n in range(3):
            made = factories.make_instrument(session, who, today, management_no=f"RPT-{n}", abc_class="B")
            made.next_due_on = next_month.first + timedelta(days=n)
        mandatory = {"is_mandatory": True, "control_method": "verification", "interval_months": 12}
        factories.make_instrument(
            session,
            who,
            today,
            management_no="RPT-G",
            name="压力表",
            mandatory_use="safety",
            last_done_on=today - timedelta(days=800),
            **mandatory,
        )
        factories.make_instrument(
            session,
            who,
            today,
            management_no="RPT-M",
            name="单相电能表",
            mandatory_use="trade",
            last_done_on=today - timedelta(days=10),
            **mandatory,
        )
    return next_month


def _watch_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _expect_drawn(page, keys) -> None:
    for key in keys:
        chart = page.locator(f"#{key}")
        expect(chart).to_have_attribute("data-drawn", "true")
        expect(chart.locator("canvas").first).to_be_attached()
        expect(page.locator(f"[data-chart-table='{key}'] tbody tr").first).to_be_attached()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_firm_dashboard_draws_its_charts(page, live_server, arranged, viewport):
    errors = _watch_errors(page)
    page.set_viewport_size(viewport)
    sign_in(page, live_server.metrology)
    _expect_drawn(page, FIRM_CHARTS)
    expect(page.locator("[data-chart-empty='on-time-by-month']")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.goto("/reports/kpis")
    _expect_drawn(page, ["kpi-by-department"])
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert errors == []


def test_a_bar_leads_to_the_instruments_behind_it(page, live_server, arranged):
    errors = _watch_errors(page)
    page.set_viewport_size(DESKTOP)
    page.emulate_media(reduced_motion="reduce")  # the bars are drawn at once, not grown: clickable now
    sign_in(page, live_server.metrology)
    chart = page.locator("#due-by-month")
    expect(chart).to_have_attribute("data-drawn", "true")
    chart.scroll_into_view_if_needed()
    # The middle of next month's green bar, in the chart's own pixels.
    x, y = page.evaluate(
        """(key) => {
            const element = document.getElementById('due-by-month');
            const spec = JSON.parse(element.getAttribute('data-chart'));
            const index = spec.categories.indexOf(key);
            const green = spec.series[0].values[index];
            const chart = window.echarts.getInstanceByDom(element);
            return chart.convertToPixel({seriesIndex: 0}, [index, green / 2]);
        }""",
        arranged.key,
    )
    box = chart.bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    expect(page).to_have_url(re.compile(rf"/instruments\?.*due_from={arranged.first.isoformat()}"))
    for n in range(3):
        expect(page.get_by_text(f"RPT-{n}", exact=True).first).to_be_visible()
    assert errors == []
