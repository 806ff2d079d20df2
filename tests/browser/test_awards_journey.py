"""Winners, the public notice and an objection, in a real browser, on a desktop and on a 390 px phone.

The institute's administrator decides the winners of a campaign in review and starts its public
notice; an anonymous visitor, on a phone, lodges an objection on the notice page; the administrator
dismisses it. Every page is also shown 390 px wide and must not scroll sideways.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.browser import playwright_expect

expect = playwright_expect()

from sqlalchemy import select  # noqa: E402

from models import Campaign, Nomination, User  # noqa: E402
from service.actors import Actor  # noqa: E402
from service.clock import now_utc  # noqa: E402
from service.db import unit_of_work  # noqa: E402
from service.nominations import operations, queries  # noqa: E402
from tests.browser.conftest import Login  # noqa: E402
from tests.browser.test_journey import sign_in, sign_out  # noqa: E402
from tests.browser.test_recommending_journey import _arrange, _shoot  # noqa: E402

pytestmark = pytest.mark.browser


def _in_review(live_server) -> int:
    """A campaign whose list went forward with its three nominations, now in review."""
    campaign_id, recommender_id = _arrange(live_server)
    today = live_server.today
    with unit_of_work(live_server.sessions) as session:
        admin = Actor.of(session.scalar(select(User).where(User.email == live_server.institute_admin.email)))
        campaign = session.get(Campaign, campaign_id)
        campaign.objection_contacts = "评选办公室 王老师 0371-12345678，pingxuan@institute.example.cn"
        campaign.co_organisers = "河南省计量测试学会\n河南省质量协会"
        nominations = session.scalars(
            select(Nomination).where(Nomination.campaign_id == campaign_id).order_by(Nomination.id)
        ).all()
        for nomination in nominations[:2]:  # the quota allows one large firm: the first two
            operations.accept_nomination(
                session, admin, campaign_id, recommender_id, nomination.id, today, "", now_utc()
            )
        operations.return_nomination(
            session,
            admin,
            campaign_id,
            recommender_id,
            nominations[2].id,
            {"reason": "材料不全"},
            today,
            "",
            now_utc(),
        )
        operations.submit_list(session, admin, campaign_id, recommender_id, today, "", now_utc())
        later = campaign.nomination_closes_on + timedelta(days=1)
        operations.move_campaign(session, admin, campaign_id, {"to": "review"}, later)
    return campaign_id


def test_winners_notice_and_an_objection(page, browser, live_server, tmp_path):
    campaign_id = _in_review(live_server)
    sign_in(page, live_server.institute_admin)
    page.goto(f"/institute/campaigns/{campaign_id}")
    _shoot(page, tmp_path, "campaign-review")
    page.locator("#awards-link").click()
    expect(page.locator("#forwarded input[name=nomination_ids]")).to_have_count(2)
    _shoot(page, tmp_path, "awards-review")
    for box in page.locator("#forwarded input[name=nomination_ids]").all():
        box.check()
    page.locator("#winners-form button[type=submit]").click()
    expect(page.locator("#awards [data-award]")).to_have_count(2)

    page.goto(f"/institute/campaigns/{campaign_id}")
    page.locator("form[action$='/phase'] button[type=submit]").click()
    expect(page.locator("#phase")).to_have_attribute("data-phase", "notice")
    _shoot(page, tmp_path, "campaign-notice")
    page.locator("#awards-link").click()
    public_url = page.locator("#public-link").get_attribute("href")

    # An anonymous visitor on a phone.
    context = browser.new_context(viewport={"width": 390, "height": 844})
    visitor = context.new_page()
    try:
        visitor.goto(public_url)
        expect(visitor.locator("#winners [data-award]")).to_have_count(2)
        expect(visitor.locator("#contacts")).to_contain_text("0371-12345678")
        expect(visitor.locator("form[action*='/logout']")).to_have_count(0)
        overflow = visitor.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the public notice scrolls sideways by {overflow}px at 390px"
        visitor.screenshot(path=str(tmp_path / "public-notice-390-visitor.png"), full_page=True)
        visitor.fill("#f-name", "王先生")
        visitor.fill("#f-contact", "13800000000")
        visitor.select_option("#f-award_id", index=1)
        visitor.fill("#f-text", "该单位近三年存在计量违法行为，请核实。")
        visitor.locator("#objection button[type=submit]").click()
        expect(visitor.locator("#lodged")).to_be_visible()
        _shoot(visitor, tmp_path, "public-notice-lodged")
        # Four more from the same address pass; the sixth within the hour gets the 429 page.
        for n in range(operations.OBJECTIONS_PER_SENDER):
            visitor.goto(public_url)
            visitor.fill("#f-name", "王先生")
            visitor.fill("#f-contact", "13800000000")
            visitor.fill("#f-text", f"补充异议 {n + 1}")
            visitor.locator("#objection button[type=submit]").click()
        expect(visitor.locator("#throttled")).to_be_visible()
        _shoot(visitor, tmp_path, "public-throttled")
    finally:
        context.close()

    page.reload()
    expect(page.locator("#objections [data-outcome=open]")).to_have_count(operations.OBJECTIONS_PER_SENDER)
    objection = page.locator("#objections [data-outcome=open]").first
    expect(objection).to_contain_text("该单位近三年存在计量违法行为")
    _shoot(page, tmp_path, "awards-objection")
    objection.locator("input[name=reason]").fill("经核实，反映情况不属实")
    objection.locator("button[value=dismissed]").click()
    expect(page.locator("#objections [data-outcome=dismissed]")).to_have_count(1)
    expect(page.locator("#awards [data-removed=no]")).to_have_count(2)
    _shoot(page, tmp_path, "awards-handled")

    # Once the notice has ended the campaign is decided (here through the operation, days later):
    # the public page shows the final list, and the organiser downloads the certificates.
    with unit_of_work(live_server.sessions) as session:
        admin = Actor.of(session.scalar(select(User).where(User.email == live_server.institute_admin.email)))
        campaign = session.get(Campaign, campaign_id)
        for extra in queries.objections_of(session, campaign):
            if extra.outcome is None:  # the visitor's further objections, dismissed here
                reason = {"outcome": "dismissed", "reason": "重复提交"}
                operations.handle_objection(session, admin, extra.id, reason, live_server.today, now_utc())
        ends = campaign.notice_ends_on
        operations.move_campaign(session, admin, campaign_id, {"to": "decided"}, ends + timedelta(days=1))
    page.reload()
    expect(page.locator("#awards a[href$='certificate.docx']")).to_have_count(2)
    _shoot(page, tmp_path, "awards-decided")
    sign_out(page)
    page.goto(public_url)
    expect(page.locator("#period")).to_have_attribute("data-phase", "decided")
    expect(page.locator("#objection")).to_have_count(0)
    _shoot(page, tmp_path, "public-decided")
    page.goto(re.sub(r"/notice/.*", "/notice/not-a-token", public_url))
    _shoot(page, tmp_path, "public-missing")

    # The winning firm sees its award on its dashboard and its nomination, with the certificate.
    with unit_of_work(live_server.sessions) as session:
        nomination = session.scalars(
            select(Nomination).where(Nomination.campaign_id == campaign_id).order_by(Nomination.id)
        ).first()
        engineer = session.scalar(
            select(User).where(User.org_id == nomination.firm_id, User.role == "metrology").order_by(User.id)
        )
        nomination_id, engineer_email = nomination.id, engineer.email
    sign_in(page, Login(engineer_email))
    expect(page.locator("[data-award] a[href$='certificate.docx']")).to_have_count(1)
    _shoot(page, tmp_path, "firm-dashboard")
    page.goto(f"/nominations/{nomination_id}")
    expect(page.locator("#certificate-docx")).to_have_count(1)
    _shoot(page, tmp_path, "firm-nomination")
    with page.expect_download() as download:
        page.locator("#certificate-docx").click()
    assert download.value.suggested_filename.endswith(".docx")
    print(f"\nscreenshots in {tmp_path}")
