"""Issue 20's comparisons in a real browser: a comparison with a failing point recorded through the
form opens a nonconformity case, the result page links it and draws the En chart, on desktop and phone.

Selectors are ids, names and data attributes, never translated text: the UI defaults to Chinese.
"""

from __future__ import annotations

import re

import pytest

from tests.browser import playwright_expect

expect = playwright_expect()

from sqlalchemy import select  # noqa: E402

from models import User  # noqa: E402
from service.actors import Actor  # noqa: E402
from service.db import allow_all_tenants, unit_of_work  # noqa: E402
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


@pytest.fixture(scope="module")
def gauges(live_server):
    """Two pressure gauges of the firm, one per viewport."""
    ids = []
    with live_server.app.app_context(), unit_of_work(live_server.sessions) as session:
        allow_all_tenants(session)
        engineer = session.scalar(select(User).where(User.email == live_server.metrology.email))
        for n in range(2):
            made = factories.make_instrument(
                session, Actor.of(engineer), live_server.today, management_no=f"CMP-{n}", name="精密压力表"
            )
            session.flush()
            ids.append(made.id)
    return ids


@pytest.mark.parametrize(("viewport", "index"), [(DESKTOP, 0), (PHONE, 1)], ids=["desktop", "phone"])
def test_a_failing_comparison_opens_a_case_and_draws_its_chart(page, live_server, gauges, viewport, index):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size(viewport)
    sign_in(page, live_server.metrology)
    page.goto(f"/instruments/{gauges[index]}")
    page.locator("#instrument-comparisons a").click()
    expect(page).to_have_url(re.compile(rf"/instruments/{gauges[index]}/comparisons$"))
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    page.select_option("#f-kind", "comparison")
    page.fill("#f-scheme", "2026年压力表示值比对")
    page.select_option("#f-organiser_kind", "provincial")
    for row, (nominal, lab) in enumerate([("10", "10.05"), ("20", "20.06")]):
        page.fill(f"[name='p{row}-nominal']", nominal)
        page.fill(f"[name='p{row}-reference_value']", nominal)
        page.fill(f"[name='p{row}-reference_uncertainty']", "0.03")
        page.fill(f"[name='p{row}-lab_value']", lab)
        page.fill(f"[name='p{row}-lab_uncertainty']", "0.04")
    page.locator("#comparison-form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/comparisons/\d+$"))
    expect(page.locator("#comparison-points [data-verdict='unsatisfactory']")).to_have_count(1)
    expect(page.locator("#comparison-points [data-verdict='satisfactory']")).to_have_count(1)
    case_link = page.locator("#comparison-case a[href*='/nonconformity/']")
    expect(case_link).to_have_count(1)
    chart = page.locator("#comparison-scores")
    expect(chart).to_have_attribute("data-drawn", "true")
    expect(chart.locator("canvas").first).to_be_attached()
    expect(page.locator("[data-chart-table='comparison-scores'] tbody tr")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    case_link.click()
    expect(page).to_have_url(re.compile(r"/nonconformity/\d+$"))
    assert errors == []
