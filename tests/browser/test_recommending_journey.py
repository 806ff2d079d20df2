"""A recommender's member at work in a real browser, on a desktop and on a 390 px phone.

The staff member of 力学研究所 accepts, returns (with a reason), reorders and submits its list;
the institute's administrator sees the list's state on the campaign page. Each page is also shown
390 px wide and must not scroll sideways. Selectors are ids, names and data attributes.
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
from service.db import unit_of_work  # noqa: E402
from service.nominations import operations  # noqa: E402
from service.tenancy import operations as tenancy_ops  # noqa: E402
from tests import factories  # noqa: E402
from tests.browser.test_journey import sign_in, sign_out  # noqa: E402
from tests.nominations import attach_scans  # noqa: E402

pytestmark = pytest.mark.browser

UNIT = {
    "address": "郑州市高新区科学大道 100 号",
    "industry": "高档数控机床和机器人",
    "contact_name": "李计量",
    "contact_mobile": "13903710001",
    "contact_email": "li@firm.example.cn",
    "narratives": ["建立了完整的测量管理体系，覆盖全部生产线的关键计量器具。"],
    "declarations": [True],
    "self_check": {str(seq): {"answer": "yes", "reason": "见说明"} for seq in range(1, 34)},
}
FIRMS = (
    ("浏览器测试有限公司", 320, "18000.00"),
    ("洛阳一拖智能装备股份有限公司（名称很长的大型企业集团）", 5200, "860000.00"),
    ("新乡电池有限公司", 90, "3000.00"),
)


def _arrange(live_server) -> tuple[int, int]:
    """An open campaign, 力学研究所 with the staff member, three submitted nominations to it."""
    today = live_server.today
    with unit_of_work(live_server.sessions) as session:
        admin_user = session.scalar(select(User).where(User.email == live_server.institute_admin.email))
        staff = session.scalar(select(User).where(User.email == live_server.institute_staff.email))
        admin = Actor.of(admin_user)
        notice = {
            "kind": "traceability_advanced",
            "title": "2026年度计量溯源先进单位评选",
            "year": today.year,
            "categories": ["计量体系建设"],
            "conditions": ["近三年未发生重大计量违法行为"],
            "nomination_opens_on": (today - timedelta(days=1)).isoformat(),
            "nomination_closes_on": (today + timedelta(days=5)).isoformat(),
            "review_opens_on": (today + timedelta(days=6)).isoformat(),
            "review_closes_on": (today + timedelta(days=8)).isoformat(),
            "large_quota": 1,
            "sme_quota": 2,
        }
        campaign = operations.create_campaign(session, admin, notice)
        operations.move_campaign(session, admin, campaign.id, {"to": "open"}, today)
        recommender = operations.save_recommender(
            session, admin, None, {"name": "力学研究所", "kind": "department", "member_ids": [staff.id]}
        )
        operations.save_recommender(session, admin, None, {"name": "产业计量联盟", "kind": "alliance"})
        for n, (name, employees, revenue) in enumerate(FIRMS):
            firm = session.scalar(select(Organization).where(Organization.name == name))
            if firm is None:
                firm = factories.make_org(session, "firm", name=name)
                tenancy_ops.link_client(session, admin_user.org_id, firm.id)
            engineer = factories.make_user(session, firm, "metrology")
            who = Actor.of(engineer)
            start = {"campaign_id": campaign.id, "recommender_id": recommender.id}
            nomination = operations.start_nomination(session, who, start, today)
            unit = UNIT | {
                "employees": employees,
                "annual_revenue_wan": revenue,
                "credit_code": factories.credit_code(7000 + n),
            }
            operations.update_nomination(session, who, nomination.id, unit, today)
            attach_scans(session, who, nomination.id, live_server.app.config["CALRECALL"].attachments_dir)
            operations.submit_nomination(session, who, nomination.id, today)
        return campaign.id, recommender.id


def _no_sideways_scroll(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px at {page.viewport_size['width']}px"


def _shoot(page, folder, name: str) -> None:
    """Screenshot the page at 1366 and at 390 px wide; at 390 it must not scroll sideways."""
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    _no_sideways_scroll(page)
    page.set_viewport_size({"width": 1366, "height": 900})


def test_a_member_decides_ranks_and_submits(page, live_server, tmp_path):
    campaign_id, recommender_id = _arrange(live_server)
    list_url = f"/recommending/campaigns/{campaign_id}/recommenders/{recommender_id}"
    sign_in(page, live_server.institute_staff)
    expect(page.locator("#nav-recommending")).to_have_count(1)
    page.goto("/recommending")
    _shoot(page, tmp_path, "recommending")
    page.locator(f"[data-recommender='{recommender_id}'] a[data-campaign='{campaign_id}']").click()
    expect(page).to_have_url(re.compile(re.escape(list_url) + "$"))
    expect(page.locator("#undecided [data-nomination]")).to_have_count(3)
    _shoot(page, tmp_path, "list-to-decide")

    # Accept the first two from the list: a small firm, then the large one (the quota allows one).
    page.locator("#undecided [data-nomination] form button[type=submit]").first.click()
    expect(page.locator("#accepted [data-nomination]")).to_have_count(1)
    page.locator("#undecided [data-nomination] form button[type=submit]").first.click()
    expect(page.locator("#accepted [data-nomination]")).to_have_count(2)

    # Open the last one and return it with a reason.
    page.locator("#undecided [data-nomination] a.fw-semibold").first.click()
    expect(page.locator("#self-check tbody tr")).to_have_count(33)
    _shoot(page, tmp_path, "nomination")
    page.fill("#reason", "请补充计量数据应用案例")
    page.locator("#return button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape(list_url) + "$"))
    expect(page.locator("#returned [data-nomination]")).to_have_count(1)

    # Move the second up: it becomes first.
    second = page.locator("#accepted [data-nomination]").nth(1).get_attribute("data-nomination")
    page.locator(f"#accepted [data-nomination='{second}'] button[name=up]").click()
    expect(page.locator("#accepted [data-nomination]").first).to_have_attribute("data-nomination", second)
    _shoot(page, tmp_path, "list-ranked")

    page.locator("#submit-list").click()
    expect(page.locator("#list-state")).to_have_attribute("data-state", "submitted")
    expect(page.locator("#submit-list")).to_have_count(0)
    _shoot(page, tmp_path, "list-submitted")

    sign_out(page)
    sign_in(page, live_server.institute_admin)
    page.goto(f"/institute/campaigns/{campaign_id}")
    expect(page.locator(f"#lists [data-recommender='{recommender_id}']")).to_have_attribute(
        "data-listed", "yes"
    )
    expect(page.locator("#unlisted")).to_contain_text("产业计量联盟")
    _shoot(page, tmp_path, "campaign")
    print(f"\nscreenshots in {tmp_path}")
