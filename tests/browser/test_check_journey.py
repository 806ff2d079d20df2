"""Intermediate checks in a real browser: a plan's control chart drawn (a canvas with its limit
lines, no console error) on desktop and on a phone, the signal listed under it; the instrument's
interval review says to calibrate early, and the periodic plan lists the checks.

Selectors are ids and data attributes, never translated text: the UI defaults to Chinese.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser import playwright_expect

expect = playwright_expect()

from sqlalchemy import select  # noqa: E402

from models import User  # noqa: E402
from service.actors import Actor  # noqa: E402
from service.clock import now_utc  # noqa: E402
from service.db import allow_all_tenants, unit_of_work  # noqa: E402
from service.measurement.checks import operations, rules  # noqa: E402
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
#: Ten stable checks (the baseline), then two beyond +2σ: rule 2 fires on the twelfth.
DEVIATIONS = [0.1, -0.1, 0.1, -0.1, 0.1, -0.1, 0.1, -0.1, 0.1, -0.1, 0.25, 0.26]


@pytest.fixture(scope="module")
def plan_id(live_server):
    """A plan of one point with twelve checks, the last two drifting up."""
    today = live_server.today
    with live_server.app.app_context(), unit_of_work(live_server.sessions) as session:
        allow_all_tenants(session)
        engineer = session.scalar(select(User).where(User.email == live_server.metrology.email))
        who = Actor.of(engineer)
        instrument = factories.make_instrument(session, who, today, management_no="CHK-1", name="电子天平")
        plan = operations.create_plan(
            session,
            who,
            instrument.id,
            {
                "check_object": "核查砝码 200 g",
                "interval_months": 1,
                "points": [{"label": "200 g", "nominal": 200, "unit": "g", "mpe": 1.0}],
            },
            today,
        )
        for n, deviation in enumerate(DEVIATIONS):
            day = today - timedelta(days=len(DEVIATIONS) - n)
            body = {
                "performed_on": day.isoformat(),
                "readings": [{"point_id": plan.points[0].id, "value": 200 + deviation, "reference": 200}],
            }
            operations.record_check(session, who, plan.id, body, today, now_utc())
        return plan.id, plan.points[0].id, instrument.id


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_control_chart_is_drawn_with_its_signal(page, live_server, plan_id, viewport):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size(viewport)
    sign_in(page, live_server.metrology)
    plan, point, _instrument = plan_id
    page.goto(f"/check-plans/{plan}")
    key = f"check-point-{point}"
    chart = page.locator(f"#{key}")
    expect(chart).to_have_attribute("data-drawn", "true")
    expect(chart.locator("canvas").first).to_be_attached()
    expect(page.locator(f"[data-chart-table='{key}'] tbody tr")).to_have_count(len(DEVIATIONS))
    expect(page.locator(f"[data-chart-marks='{key}'] li")).to_have_count(7)  # centre, ±2σ, ±3σ, ±MPE
    expect(page.locator(f".check-signals[data-point='{point}'] [data-rule='2']")).to_have_count(1)
    lines = page.evaluate(
        """(key) => {
            const chart = window.echarts.getInstanceByDom(document.getElementById(key));
            return chart.getOption().series[0].markLine.data.length;
        }""",
        key,
    )
    assert lines == 7
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert errors == []


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_signal_reaches_the_interval_review_and_the_plan_lists_the_checks(
    page, live_server, plan_id, viewport
):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size(viewport)
    sign_in(page, live_server.metrology)
    plan, _point, instrument = plan_id
    page.goto(f"/instruments/{instrument}")
    review = page.locator("#interval-review")
    expect(review).to_have_attribute("data-calibrate-early", "")
    expect(page.locator("#check-findings li[data-kind='signal']")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    # the open check (a month after the last one) is in its year's plan, whatever today is
    year = rules.next_due(live_server.today - timedelta(days=1), 1, None).year
    page.goto(f"/reports/plan?year={year}")
    rows = page.locator("#plan-checks-table tr[data-check='CHK-1']")
    expect(rows.first).to_be_visible()
    expect(rows.first.locator("a")).to_have_attribute("href", f"/check-plans/{plan}")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert errors == []
