"""The periodic plan in a real browser: from the nav to the plan, its chart drawn, a bar's month, print.

Shown at 1366 and at 390 px wide (no sideways scroll at 390), with no console error; the printable
page hides the navigation when printed and repeats the table's header.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.browser import playwright_expect

expect = playwright_expect()

from sqlalchemy import select  # noqa: E402

from models import User  # noqa: E402
from service.actors import Actor  # noqa: E402
from service.db import unit_of_work  # noqa: E402
from service.traceability import operations as records  # noqa: E402
from tests import factories  # noqa: E402
from tests.browser.test_journey import sign_in  # noqa: E402
from tests.browser.test_recommending_journey import _shoot  # noqa: E402
from tests.browser.test_security_journey import _watch  # noqa: E402

pytestmark = pytest.mark.browser


def _arrange(live_server) -> int:
    """Four lines in last year's plan: March on time, March late, March overdue, overdue since before."""
    year = live_server.today.year - 1
    with unit_of_work(live_server.sessions) as session:
        admin = session.scalar(select(User).where(User.email == live_server.admin.email))
        who = Actor.of(admin)

        def instrument(no: str, *dates: str, **fields):
            made = factories.make_instrument(
                session,
                who,
                live_server.today,
                management_no=no,
                control_method="calibration",
                model="YB-150 精密压力表（带安全阀与隔膜密封）",
                measuring_range="(0～60) MPa",
                accuracy="0.4级",
                **fields,
            )
            made.created_at = datetime(year - 2, 1, 1, tzinfo=UTC)
            for day in dates:
                payload = {
                    "kind": "calibration",
                    "performed_on": day,
                    "lab_name": "河南省计量测试科学研究院",
                    "certificate_no": f"C-{no}-{day}",
                }
                records.record_result(session, who, made.id, payload, live_server.today)
            return made

        instrument("PLAN-1", f"{year - 1}-03-10", f"{year}-03-09", name="精密压力表")
        instrument("PLAN-2", f"{year - 1}-03-10", f"{year}-03-10", name="游标卡尺")
        instrument("PLAN-3", f"{year - 1}-03-12", name="数字温度计")
        instrument("PLAN-4", f"{year - 1}-01-10", name="电子天平", interval_months=6)
    return year


def test_the_plan_from_the_nav_to_print(page, live_server, tmp_path):
    year = _arrange(live_server)
    complaints = _watch(page)
    sign_in(page, live_server.metrology)
    page.locator("#nav-reports").click()
    page.locator("a[href='/reports/plan']").click()
    expect(page.locator("h1")).to_have_text("周期检定与校准计划")
    page.goto(f"/reports/plan?year={year}")
    expect(page.locator("[data-line]")).to_have_count(4)
    expect(page.locator("#plan-completion-chart canvas")).to_have_count(1)
    spec = json.loads(page.locator("#plan-completion-chart").get_attribute("data-chart"))
    assert spec["categories"][2] == "3月"
    assert spec["series"][0]["values"][2] == 66.7
    expect(page.locator("#plan-completion-chart-figure table a").first).to_be_visible()
    _shoot(page, tmp_path, "plan")
    page.locator("#plan-completion-chart-figure table a", has_text="66.7%").first.click()
    expect(page).to_have_url(f"{live_server.base_url}/reports/plan?year={year}&group=department&month=3")
    expect(page.locator("[data-line]")).to_have_count(4)
    page.goto(f"/reports/plan?year={year}&group=lab")
    _shoot(page, tmp_path, "plan-by-lab")
    page.locator("#plan-print-link").click()
    expect(page.locator("#plan-title")).to_have_text(f"{year}年度周期检定与校准计划")
    _shoot(page, tmp_path, "plan-print")
    page.emulate_media(media="print")
    expect(page.locator("nav.navbar")).to_be_hidden()
    assert page.locator(".plan-lines thead").first.evaluate("e => getComputedStyle(e).display") == (
        "table-header-group"
    )
    page.pdf(path=str(tmp_path / "plan.pdf"), prefer_css_page_size=True)
    assert (tmp_path / "plan.pdf").stat().st_size > 0
    page.emulate_media(media="screen")
    assert complaints == []
