"""One award campaign end to end in a real browser, each role in its own session.

The institute's administrator announces and opens the campaign; the firm's engineer nominates with
the pre-filled self-check, downloads the Word form and uploads the stamped scans; the recommender's
member recommends it and submits the list; the administrator moves the campaign to review and gives
the nomination to an outside expert, who scores it; the administrator decides the winner from the
ranking and publishes the notice; a visitor objects on a phone without signing in; the objection is
dismissed, the campaign decided, and the firm downloads its honour certificate. Days pass between
phases: the test moves the campaign's dates back as the calendar would (the server's rules read the
dates, not the test).
Every page on the way is also shown 390 px wide and must not scroll sideways.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.browser import playwright_expect

expect = playwright_expect()

from sqlalchemy import select, update  # noqa: E402

from models import Campaign, User  # noqa: E402
from service.actors import Actor  # noqa: E402
from service.db import unit_of_work  # noqa: E402
from service.nominations import operations  # noqa: E402
from tests import factories  # noqa: E402
from tests.browser.conftest import Login  # noqa: E402
from tests.browser.test_journey import sign_in, sign_out  # noqa: E402
from tests.browser.test_recommending_journey import _no_sideways_scroll  # noqa: E402
from tests.files import pdf_bytes, png_bytes  # noqa: E402

pytestmark = pytest.mark.browser

TITLE = "2026年度计量溯源先进单位评选（端到端）"


def _on_phone(page) -> None:
    """Show the page 390 px wide (it must not scroll sideways), then back on the desktop."""
    page.set_viewport_size({"width": 390, "height": 900})
    _no_sideways_scroll(page)
    page.set_viewport_size({"width": 1366, "height": 900})


def _arrange(live_server) -> tuple[int, Login]:
    """力学研究所 with the staff member, and an outside expert of the institute."""
    with unit_of_work(live_server.sessions) as session:
        admin = session.scalar(select(User).where(User.email == live_server.institute_admin.email))
        staff = session.scalar(select(User).where(User.email == live_server.institute_staff.email))
        recommender = operations.save_recommender(
            session,
            Actor.of(admin),
            None,
            {"name": "力学研究所", "kind": "department", "member_ids": [staff.id]},
        )
        expert = factories.make_user(
            session, admin.org, "expert", name="王专家", email="expert@alliance.test"
        )
        engineer = session.scalar(select(User).where(User.email == live_server.metrology.email))
        for _ in range(3):  # a ledger for the self-check to read
            factories.make_instrument(session, Actor.of(engineer), live_server.today)
        session.commit()
        return recommender.id, Login(expert.email)


def _days_pass(live_server, campaign_id: int) -> None:
    """The nomination window ends: it closed yesterday, and the review runs from today."""
    today = live_server.today
    with unit_of_work(live_server.sessions) as session:
        session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(
                nomination_opens_on=today - timedelta(days=7),
                nomination_closes_on=today - timedelta(days=1),
                review_opens_on=today,
                review_closes_on=today + timedelta(days=2),
            )
            .execution_options(all_tenants=True)
        )
        session.commit()


def _notice_ends(live_server, campaign_id: int) -> None:
    """The public notice period ends: it ended yesterday."""
    today = live_server.today
    with unit_of_work(live_server.sessions) as session:
        session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(notice_starts_on=today - timedelta(days=5), notice_ends_on=today - timedelta(days=1))
            .execution_options(all_tenants=True)
        )
        session.commit()


def test_one_campaign_end_to_end(page, live_server, tmp_path):
    today = live_server.today
    recommender_id, expert = _arrange(live_server)

    # The institute announces the campaign and opens it.
    sign_in(page, live_server.institute_admin)
    page.goto("/institute/campaigns/new")
    page.fill("#f-title", TITLE)
    page.fill("#f-nomination_opens_on", today.isoformat())
    page.fill("#f-nomination_closes_on", (today + timedelta(days=6)).isoformat())
    page.fill("#f-review_opens_on", (today + timedelta(days=7)).isoformat())
    page.fill("#f-review_closes_on", (today + timedelta(days=8)).isoformat())
    page.locator("form.card button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/institute/campaigns/\d+$"))
    campaign_id = int(page.url.rsplit("/", 1)[1])
    page.locator("form[action$='/phase'] button[type=submit]").click()
    expect(page.locator("#phase")).to_have_attribute("data-phase", "open")
    sign_out(page)

    # The firm nominates itself: the self-check comes pre-filled where its data answers.
    sign_in(page, live_server.metrology)
    page.goto("/nominations")
    page.locator(f"#r-{campaign_id}").select_option(str(recommender_id))
    page.locator("form[action$='/nominations'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/nominations/\d+$"))
    nomination_url = page.url
    prefilled = page.locator("#self-check select").evaluate_all(
        "selects => selects.filter(s => s.value !== '').length"
    )
    assert prefilled > 0, "the data answers some items"
    for name, value in {
        "credit_code": factories.credit_code(8080),
        "address": "郑州市高新区科学大道 100 号",
        "employees": "320",
        "annual_revenue_wan": "18000",
        "contact_name": "李计量",
        "contact_mobile": "13903710001",
        "contact_email": "li@firm.example.cn",
    }.items():
        page.fill(f"#f-{name}", value)
    page.locator("#f-industry").select_option("高档数控机床和机器人")
    for index in range(3):
        page.fill(f"#narratives-{index}", f"第{index + 1}项成果：建立了覆盖全部生产线的测量管理体系。")
    page.locator("#declarations-0").check()
    page.locator("#declarations-1").check()
    # The firm answers the items the data leaves open; a changed data answer would need a reason.
    page.locator("#self-check select").evaluate_all(
        "selects => selects.filter(s => s.value === '').forEach(s => { s.value = 'yes'; })"
    )
    page.locator("#save").click()
    expect(page.locator(".alert-success")).to_have_count(1)
    with page.expect_download() as download:
        page.locator("#form-docx").click()
    assert download.value.suggested_filename.endswith(".docx")
    for kind, name, content in (
        ("recommendation_form", "推荐表.pdf", pdf_bytes(b"stamped")),
        ("commitment_letter", "承诺书.pdf", pdf_bytes(b"promise")),
        ("credit_record", "信用截图.png", png_bytes()),
    ):
        page.locator("#file-kind").select_option(kind)
        page.locator("#file-input").set_input_files(
            {"name": name, "mimeType": "application/octet-stream", "buffer": content}
        )
        page.locator("#upload").click()
        expect(page.locator(f"#file-list [data-kind='{kind}'] a")).to_have_count(1)
    _on_phone(page)
    page.locator("#submit").click()
    expect(page.locator("#state")).to_have_attribute("data-state", "submitted")
    sign_out(page)

    # The recommender's member recommends it and submits the list.
    sign_in(page, live_server.institute_staff)
    page.goto(f"/recommending/campaigns/{campaign_id}/recommenders/{recommender_id}")
    page.locator("#undecided [data-nomination] form button[type=submit]").first.click()
    expect(page.locator("#accepted [data-nomination]")).to_have_count(1)
    page.locator("#submit-list").click()
    expect(page.locator("#list-state")).to_have_attribute("data-state", "submitted")
    sign_out(page)

    # After the window the administrator moves to review and gives the nomination to the expert.
    _days_pass(live_server, campaign_id)
    sign_in(page, live_server.institute_admin)
    page.goto(f"/institute/campaigns/{campaign_id}")
    page.locator("form[action$='/phase'] button[type=submit]").click()
    expect(page.locator("#phase")).to_have_attribute("data-phase", "review")
    page.locator("#reviews-link").click()
    expect(page.locator("#ranking [data-nomination]")).to_have_count(1)
    page.locator("#assign-all label", has_text="王专家").click()
    page.locator("#assign").click()
    expect(page.locator("#ranking [data-reviewer]")).to_have_count(1)
    _on_phone(page)
    sign_out(page)

    # The expert sees its work and nothing else, scores each category and submits.
    sign_in(page, expert)
    expect(page.locator("#home-reviews")).to_have_count(1)
    assert page.goto("/instruments").status == 404
    page.goto("/reviews")
    page.locator("[data-assignment]").first.click()
    expect(page.locator("#scans li a")).to_have_count(3)
    for index, score in enumerate(("88", "92", "90")):
        page.fill(f"#score-{index}", score)
    _on_phone(page)
    page.locator("#submit-review").click()
    expect(page.locator("#review-state")).to_have_attribute("data-state", "submitted")
    expect(page.locator("#own-scores")).to_contain_text("90.0")
    sign_out(page)

    # The administrator reads the ranking, decides the winner and publishes the notice.
    sign_in(page, live_server.institute_admin)
    page.goto(f"/institute/campaigns/{campaign_id}/reviews")
    expect(page.locator("#ranking [data-mean]").first).to_have_attribute("data-mean", "90.00")
    page.goto(f"/institute/campaigns/{campaign_id}")
    page.locator("#awards-link").click()
    expect(page.locator("#forwarded [data-mean]").first).to_have_attribute("data-mean", "90.00")
    page.locator("#forwarded input[name=nomination_ids]").first.check()
    page.locator("#winners-form button[type=submit]").click()
    expect(page.locator("#awards [data-award]")).to_have_count(1)
    page.goto(f"/institute/campaigns/{campaign_id}")
    page.locator("form[action$='/phase'] button[type=submit]").click()
    expect(page.locator("#phase")).to_have_attribute("data-phase", "notice")
    page.locator("#awards-link").click()
    public_url = page.locator("#public-link").get_attribute("href")
    sign_out(page)

    # Anyone, on a phone and without signing in, reads the notice and objects.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(public_url)
    expect(page.locator("#winners [data-award]")).to_contain_text(live_server.org_name)
    _no_sideways_scroll(page)
    page.fill("#f-name", "王先生")
    page.fill("#f-contact", "13800000000")
    page.fill("#f-text", "")
    page.locator("#objection button[type=submit]").click()  # an empty objection is refused
    expect(page.locator("#lodged")).to_have_count(0)
    page.fill("#f-text", "该单位的计量数据请核实。")
    page.locator("#objection button[type=submit]").click()
    expect(page.locator("#lodged")).to_be_visible()
    page.set_viewport_size({"width": 1366, "height": 900})

    # The administrator dismisses it with the reason; after the notice period the list is final.
    sign_in(page, live_server.institute_admin)
    page.goto(f"/institute/campaigns/{campaign_id}/awards")
    objection = page.locator("#objections [data-outcome=open]").first
    objection.locator("input[name=reason]").fill("经核实，数据与证书一致")
    objection.locator("button[value=dismissed]").click()
    expect(page.locator("#objections [data-outcome=dismissed]")).to_have_count(1)
    _notice_ends(live_server, campaign_id)
    page.goto(f"/institute/campaigns/{campaign_id}")
    page.locator("form[action$='/phase'] button[type=submit]").click()
    expect(page.locator("#phase")).to_have_attribute("data-phase", "decided")
    sign_out(page)
    page.goto(public_url)
    expect(page.locator("#period")).to_have_attribute("data-phase", "decided")
    expect(page.locator("#objection")).to_have_count(0)

    # The firm finds its award and its honour certificate.
    sign_in(page, live_server.metrology)
    expect(page.locator("[data-award] a[href$='certificate.docx']")).to_have_count(1)
    page.goto(nomination_url)
    with page.expect_download() as download:
        page.locator("#certificate-docx").click()
    assert download.value.suggested_filename.endswith(".docx")
