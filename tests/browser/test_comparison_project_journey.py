"""Issue 20's provincial comparison in a real browser: the institute creates a project, a client firm
enters its own result, the institute enters an outside lab's and publishes, and the report draws the
degrees of equivalence with their error bars for the institute and the participant.

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
from tests.browser.test_journey import sign_in, sign_out  # noqa: E402

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not vendor.FILES["echarts.js"].is_file(), reason="ECharts is not installed: `make assets` needs npm"
    ),
]

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def gauge(live_server) -> str:
    """The firm's pressure gauge measured in the comparison; its management number."""
    with live_server.app.app_context(), unit_of_work(live_server.sessions) as session:
        allow_all_tenants(session)
        engineer = session.scalar(select(User).where(User.email == live_server.metrology.email))
        factories.make_instrument(
            session, Actor.of(engineer), live_server.today, management_no="PRJ-1", name="精密压力表"
        )
    return "PRJ-1"


def _fill_results(page, measured_on: str, values) -> None:
    page.fill("#f-measured_on", measured_on)
    for row, (value, uncertainty) in enumerate(values):
        page.fill(f"[name='r{row}-value']", value)
        page.fill(f"[name='r{row}-uncertainty']", uncertainty)
    page.locator("#results-form button[type=submit]").click()


def test_institute_organises_a_comparison_and_the_participant_reads_the_report(page, live_server, gauge):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    today = live_server.today.isoformat()

    # The institute writes the protocol: the lead lab's value is the reference.
    sign_in(page, live_server.institute_staff)
    page.goto("/comparison-projects")
    page.locator("#new-project").click()
    page.fill("#f-title", "压力表示值比对")
    page.fill("#f-quantity", "压力")
    page.fill("#f-unit", "MPa")
    page.fill("#f-transfer_standard", "数字压力计 DPG-1")
    page.fill("#f-starts_on", today)
    page.fill("#f-results_due_on", today)
    page.select_option("#f-reference_kind", "lead_lab")
    for row, nominal in enumerate(("10", "20")):
        page.fill(f"[name='p{row}-nominal']", nominal)
        page.fill(f"[name='p{row}-lead_value']", f"{nominal}.00")
        page.fill(f"[name='p{row}-lead_uncertainty']", "0.03")
    page.locator("#project-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/comparison-projects/\d+$"))
    project_path = page.url.split(live_server.base_url)[1]

    # Participants: the client firm, and an outside lab by name and CNAS number.
    page.select_option("#f-firm_id", label=live_server.org_name)
    page.locator("#participant-form button[type=submit]").click()
    page.fill("#f-lab_name", "某检测所")
    page.fill("#f-cnas_no", "CNAS L1234")
    page.locator("#participant-form button[type=submit]").click()
    expect(page.locator("#participants tbody tr")).to_have_count(2)
    sign_out(page)

    # The firm enters its own result from its navigation.
    sign_in(page, live_server.metrology)
    page.locator("#nav-comparison-projects").click()
    page.locator(f"#projects a[href='{project_path}']").click()
    expect(page.locator("#report-link")).to_have_count(0)
    page.fill("#f-management_no", gauge)
    _fill_results(page, today, [("10.05", "0.04"), ("20.06", "0.04")])
    expect(page).to_have_url(re.compile(rf"{project_path}$"))
    expect(page.locator("[name='r1-value']")).to_have_value("20.06")
    sign_out(page)

    # The institute enters the outside lab's result on its behalf and publishes.
    sign_in(page, live_server.institute_staff)
    page.goto(project_path)
    page.locator("#participants tbody tr").nth(1).locator("a[href$='/results']").click()
    _fill_results(page, today, [("10.01", "0.02"), ("20.00", "0.02")])
    expect(page).to_have_url(re.compile(rf"{project_path}$"))
    page.locator("#publish-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"{project_path}/report$"))
    expect(page.locator("#equivalence-1")).to_have_attribute("data-drawn", "true")
    expect(page.locator("[data-report-point='2'] [data-verdict='unsatisfactory']")).to_have_count(1)
    sign_out(page)

    # The participant reads the report, on a phone too: chart drawn, the table beside it.
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.metrology)
    page.goto(f"{project_path}/report")
    chart = page.locator("#equivalence-2")
    expect(chart).to_have_attribute("data-drawn", "true")
    expect(chart.locator("canvas").first).to_be_attached()
    expect(page.locator("[data-chart-table='equivalence-2'] tbody tr")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert errors == []
