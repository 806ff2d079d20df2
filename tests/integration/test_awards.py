"""Winners, the public notice (公示) with its objections, and the honour certificates."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from docx import Document
from sqlalchemy import select

from models import Event, Notification, Objection
from service.actors import Actor
from service.clock import now_utc, today_in
from service.errors import Conflict, Invalid, NotFound, Throttled
from service.nominations import operations, queries
from tests import factories
from tests.conftest import login
from tests.integration.test_recommending import BASE, Arranged

TODAY = today_in("Asia/Shanghai")
#: Any day after the nomination window: the campaign goes to review then.
REVIEW_DAY = TODAY + timedelta(days=6)
#: The notice starts on Wed 30 Sep 2026, before 国庆: three working days end on Fri 9 Oct.
NOTICE_DAY = date(2026, 9, 30)
NOTICE_ENDS = date(2026, 10, 9)


class InReview(Arranged):
    """A campaign in review: firm A's and a second firm's nominations forwarded, a third not."""

    def __init__(self, db_session, world, storage):
        super().__init__(db_session, world, storage)
        self.first = self.submitted()
        self.second_firm = self.firm("洛阳轴承有限公司")
        self.second = self.submitted(self.second_firm, unit_name="洛阳轴承有限公司")
        self.third = self.submitted(self.firm("新乡电池有限公司"), recommender=self.alliance)
        self.accept(self.first)
        self.accept(self.second)
        self.submit_list()
        # The alliance accepts the third but never submits its list: it does not go forward.
        self.accept(self.third, who=self.other_member, recommender=self.alliance)
        self.move("review", REVIEW_DAY)
        db_session.commit()

    def move(self, to: str, day: date):
        return operations.move_campaign(
            self.db, self.admin, self.campaign.id, {"to": to}, day, BASE, now_utc()
        )

    def winners(self, *nominations):
        ids = [n.id for n in nominations]
        return operations.decide_winners(
            self.db, self.admin, self.campaign.id, {"nomination_ids": ids}, now_utc()
        )

    def on_notice(self):
        self.winners(self.first, self.second)
        self.move("notice", NOTICE_DAY)
        self.db.commit()

    def lodge(self, sender="a" * 64, award=None, day=NOTICE_DAY, **fields):
        payload = {"name": "王先生", "contact": "13800000000", "text": "该单位存在计量违法记录。"} | fields
        if award is not None:
            payload["award_id"] = award.id
        return operations.lodge_objection(self.db, self.campaign, payload, sender, day, now_utc())

    def handle(self, objection, outcome, reason="经核实", day=NOTICE_DAY):
        payload = {"outcome": outcome, "reason": reason}
        return operations.handle_objection(self.db, self.admin, objection.id, payload, day, now_utc(), BASE)


@pytest.fixture
def review(db_session, world, tmp_path):
    return InReview(db_session, world, tmp_path)


def _award_notices(db_session, org_id: int) -> list[Notification]:
    """The award notices of a firm."""
    return [
        n
        for n in db_session.scalars(
            select(Notification)
            .where(Notification.org_id == org_id, Notification.kind == "nomination")
            .order_by(Notification.id)
        )
        # Neither the recommending ones nor the announcement of the campaign (it links to the list).
        if "力学研究所" not in n.subject and not n.body.rstrip().endswith("/nominations")
    ]


def test_forwarded_are_the_accepted_nominations_of_submitted_lists(db_session, review):
    forwarded = queries.forwarded(db_session, review.campaign)
    assert {n.id for n in forwarded} == {review.first.id, review.second.id}


def test_winners_only_from_forwarded_nominations_and_only_in_review(db_session, review):
    with pytest.raises(Invalid) as not_forwarded:
        review.winners(review.first, review.third)
    assert "nomination_ids" in not_forwarded.value.field_errors
    with pytest.raises(Invalid):
        review.winners()
    with pytest.raises(Invalid):
        operations.decide_winners(
            db_session, review.admin, review.campaign.id, {"nomination_ids": [review.first.id] * 2}, now_utc()
        )
    awards = review.winners(review.first, review.second)
    assert [a.nomination_id for a in awards] == [review.first.id, review.second.id]
    # Deciding again replaces the set.
    awards = review.winners(review.second)
    assert [a.nomination_id for a in awards] == [review.second.id]
    # A recommender's member is not an organiser.
    with pytest.raises(Exception):  # noqa: B017,PT011  Forbidden
        operations.decide_winners(
            db_session, review.member, review.campaign.id, {"nomination_ids": [review.first.id]}, now_utc()
        )
    review.move("notice", NOTICE_DAY)
    with pytest.raises(Conflict):
        review.winners(review.first)


def test_phases_and_the_notice_dates(db_session, world, review):
    with pytest.raises(Conflict) as no_winners:
        review.move("notice", NOTICE_DAY)
    assert "winners" in str(no_winners.value.message)
    with pytest.raises(Conflict):
        review.move("decided", NOTICE_DAY)  # not the next phase
    review.on_notice()
    campaign = review.campaign
    assert (campaign.phase, campaign.notice_starts_on, campaign.notice_ends_on) == (
        "notice",
        NOTICE_DAY,
        NOTICE_ENDS,
    )
    with pytest.raises(Conflict) as running:
        review.move("decided", NOTICE_ENDS)
    assert running.value.message.params["day"] == NOTICE_ENDS
    objection = review.lodge()
    with pytest.raises(Conflict) as unhandled:
        review.move("decided", NOTICE_ENDS + timedelta(days=1))
    assert unhandled.value.message.params["count"] == 1
    review.handle(objection, "dismissed")
    review.move("decided", NOTICE_ENDS + timedelta(days=1))
    nos = [a.certificate_no for a in queries.awards_of(db_session, campaign)]
    assert nos == [f"{campaign.year}-001", f"{campaign.year}-002"]
    review.move("closed", NOTICE_ENDS + timedelta(days=1))
    assert campaign.phase == "closed"
    kinds = list(db_session.scalars(select(Event.kind).where(Event.org_id == world.institute.id)))
    assert {"award.winners_decided", "objection.lodged", "objection.handled", "campaign.moved"} <= set(kinds)


def test_the_winners_firms_hear_of_the_notice_and_the_decision(db_session, world, review):
    review.on_notice()
    notices = _award_notices(db_session, world.a.org.id)
    assert len(notices) == 2 * 2  # two people, two channels
    assert all("2026-10-09" in n.body for n in notices if n.channel == "email")
    review.move("decided", NOTICE_ENDS + timedelta(days=1))
    assert len(_award_notices(db_session, world.a.org.id)) == 2 * 2 * 2
    assert len(_award_notices(db_session, review.second_firm.org_id)) == 2 * 2 * 2


def test_objections_upheld_remove_the_winner_dismissed_keep_it(db_session, world, review):
    review.on_notice()
    first_award, second_award = queries.awards_of(db_session, review.campaign)
    upheld = review.lodge(award=first_award)
    dismissed = review.lodge(award=second_award, sender="b" * 64)
    told = db_session.scalars(
        select(Notification).where(
            Notification.recipient_user_id == world.institute_admin.id, Notification.channel == "email"
        )
    ).all()
    assert len([n for n in told if f"/institute/campaigns/{review.campaign.id}/awards" in n.body]) == 2
    review.handle(upheld, "upheld", reason="查实存在违法记录")
    review.handle(dismissed, "dismissed", reason="反映情况不属实")
    assert first_award.is_removed
    assert first_award.removed_reason == "查实存在违法记录"
    assert not second_award.is_removed
    with pytest.raises(Conflict):
        review.handle(upheld, "dismissed")  # once only
    removed = [n for n in _award_notices(db_session, world.a.org.id) if "查实存在违法记录" in n.body]
    assert len(removed) == 2 * 2  # two people, two channels
    winners = queries.public_winners(db_session, review.campaign)
    assert [w.unit_name for w in winners] == ["洛阳轴承有限公司"]
    review.move("decided", NOTICE_ENDS + timedelta(days=1))
    assert first_award.certificate_no is None
    assert second_award.certificate_no == f"{review.campaign.year}-001"


def test_objections_are_limited_per_sender_and_only_during_the_notice(db_session, review):
    with pytest.raises(Conflict):
        review.lodge()  # not on notice yet
    review.on_notice()
    for _ in range(operations.OBJECTIONS_PER_SENDER):
        review.lodge()
    with pytest.raises(Throttled):
        review.lodge()
    review.lodge(sender="c" * 64)  # another sender is not affected
    with pytest.raises(Conflict):
        review.lodge(sender="d" * 64, day=NOTICE_ENDS + timedelta(days=1))
    with pytest.raises(Invalid) as blank:
        review.lodge(sender="d" * 64, text=" ")
    assert "text" in blank.value.field_errors
    with pytest.raises(Invalid):
        review.lodge(sender="d" * 64, award_id=2**31 - 1)


# The pages and the API


def _notice_today(review):
    """Decide firm A and the second firm, and start the notice today (objections are taken today)."""
    review.winners(review.first, review.second)
    review.move("notice", TODAY)
    review.campaign.objection_contacts = "评选办公室 王老师 0371-12345678"
    review.campaign.no_fee_statement = "评选活动不收取任何费用。"
    review.db.commit()


def _decide(review):
    review.move("decided", review.campaign.notice_ends_on + timedelta(days=1))
    review.db.commit()


def _objection_form(page: str) -> bool:
    return 'name="text"' in page


def test_the_public_page_in_each_phase(client, db_session, world, review):
    path = f"/notice/{review.campaign.public_token}"
    assert client.get(path).status_code == 404  # in review: no notice yet
    assert client.get("/notice/not-a-token").status_code == 404
    _notice_today(review)
    page = client.get(path)
    assert page.status_code == 200
    text = page.text
    assert review.campaign.title in text
    assert "洛阳轴承有限公司" in text
    assert "力学研究所" in text
    assert "0371-12345678" in text
    assert "不收取任何费用" in text
    assert review.campaign.notice_ends_on.isoformat() in text
    assert _objection_form(text)
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Robots-Tag"] == "noindex, nofollow"
    # Nothing of the institute's work beyond the list: no contacts of the firms, no figures.
    assert "13903710001" not in text
    assert "li@firm.example.cn" not in text

    lodged = client.post(path, data={"name": "王先生", "contact": "13800000000", "text": "有异议"})
    assert lodged.status_code == 303
    assert "lodged=1" in lodged.headers["Location"]
    assert 'id="lodged"' in client.get(lodged.headers["Location"]).text
    objection = db_session.scalars(select(Objection)).one()
    assert objection.sender_hash != "127.0.0.1"
    assert len(objection.sender_hash) == 64
    assert "127.0.0.1" not in {objection.name, objection.contact, objection.text}

    refused = client.post(path, data={"name": "", "contact": "x", "text": ""})
    assert refused.status_code == 400
    assert _objection_form(refused.text)

    review.handle(objection, "dismissed", day=TODAY)
    _decide(review)
    final = client.get(path)
    assert final.status_code == 200
    assert "洛阳轴承有限公司" in final.text
    assert not _objection_form(final.text)
    assert client.post(path, data={"name": "x", "contact": "x", "text": "x"}).status_code == 400


def test_objections_from_one_address_are_limited(client, db_session, review):
    _notice_today(review)
    path = f"/notice/{review.campaign.public_token}"
    form = {"name": "王先生", "contact": "13800000000", "text": "有异议"}
    for _ in range(operations.OBJECTIONS_PER_SENDER):
        assert client.post(path, data=form).status_code == 303
    throttled = client.post(path, data=form)
    assert throttled.status_code == 429
    assert len(db_session.scalars(select(Objection)).all()) == operations.OBJECTIONS_PER_SENDER
    # Another address is not affected.
    other = client.post(path, data=form, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 303


def test_organiser_pages_decide_handle_and_download(client, db_session, world, review):
    login(client, world.institute_admin)
    campaign_page = client.get(f"/institute/campaigns/{review.campaign.id}")
    assert 'id="awards-link"' in campaign_page.text
    awards_path = f"/institute/campaigns/{review.campaign.id}/awards"
    page = client.get(awards_path)
    assert page.status_code == 200
    assert f'value="{review.first.id}"' in page.text
    assert f'value="{review.third.id}"' not in page.text
    saved = client.post(
        f"/institute/campaigns/{review.campaign.id}/winners",
        data={"nomination_ids": [review.first.id, review.second.id]},
    )
    assert saved.status_code == 303
    refused = client.post(f"/institute/campaigns/{review.campaign.id}/winners", data={})
    assert refused.status_code == 303
    assert len(queries.awards_of(db_session, review.campaign)) == 2
    moved = client.post(f"/institute/campaigns/{review.campaign.id}/phase", data={"to": "notice"})
    assert moved.status_code == 303
    db_session.refresh(review.campaign)
    assert review.campaign.phase == "notice"
    assert review.campaign.notice_starts_on == TODAY
    first_award = queries.awards_of(db_session, review.campaign)[0]
    objection = review.lodge(award=first_award, day=TODAY)
    db_session.commit()
    page = client.get(awards_path)
    assert f'id="objection-{objection.id}"' in page.text
    assert 'value="upheld"' in page.text
    handled = client.post(
        f"/institute/campaigns/{review.campaign.id}/objections/{objection.id}/handle",
        data={"outcome": "upheld", "reason": "查实"},
    )
    assert handled.status_code == 303
    db_session.refresh(first_award)
    assert first_award.is_removed
    # The certificate exists only once decided.
    second_award = queries.awards_of(db_session, review.campaign)[1]
    certificate = f"/institute/campaigns/{review.campaign.id}/awards/{second_award.id}/certificate.docx"
    assert client.get(certificate).status_code == 404
    _decide(review)
    response = client.get(certificate)
    assert response.status_code == 200
    document = Document(io.BytesIO(response.data))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "荣 誉 证 书" in text
    assert "洛阳轴承有限公司" in text
    assert review.campaign.title in text
    assert f"{review.campaign.year}-001" in text
    assert world.institute.name in text
    section = document.sections[0]
    assert section.page_width > section.page_height  # A4 landscape
    fonts = document.element.xpath("//w:rFonts/@w:eastAsia")
    assert fonts
    assert set(fonts) == {"宋体"}
    removed = f"/institute/campaigns/{review.campaign.id}/awards/{first_award.id}/certificate.docx"
    assert client.get(removed).status_code == 404


def test_the_firm_sees_its_award_and_downloads_the_certificate(client, db_session, world, review):
    _notice_today(review)
    _decide(review)
    login(client, world.a.admin)
    dashboard = client.get("/")
    assert "荣誉证书" in dashboard.text or "Honour certificate" in dashboard.text
    page = client.get(f"/nominations/{review.first.id}")
    assert 'id="certificate-docx"' in page.text
    response = client.get(f"/nominations/{review.first.id}/certificate.docx")
    assert response.status_code == 200
    assert review.first.unit_name in "\n".join(p.text for p in Document(io.BytesIO(response.data)).paragraphs)


def test_foreign_firms_and_institutes_get_404(client, db_session, world, review):
    _notice_today(review)
    objection = review.lodge(day=TODAY)
    _award = queries.awards_of(db_session, review.campaign)[0]
    db_session.commit()
    review.handle(objection, "dismissed", day=TODAY)
    _decide(review)
    other_institute = factories.make_org(db_session, "institute")
    other_admin = factories.make_user(db_session, other_institute, "admin")
    db_session.commit()
    campaign_id = review.campaign.id
    paths = [
        f"/institute/campaigns/{campaign_id}/awards",
        f"/institute/campaigns/{campaign_id}/awards/{_award.id}/certificate.docx",
        f"/nominations/{review.first.id}/certificate.docx",
    ]
    for user in (world.b.admin, other_admin):
        client.post("/logout")
        login(client, user)
        for path in paths:
            assert client.get(path).status_code == 404, (user.email, path)
        handled = client.post(
            f"/institute/campaigns/{campaign_id}/objections/{objection.id}/handle",
            data={"outcome": "upheld", "reason": "x"},
        )
        assert handled.status_code == 404
    with pytest.raises(NotFound):
        queries.list_awards(db_session, Actor.of(other_admin), campaign_id)


def test_the_api(client, db_session, world, review):
    from tests.api import API, auth

    headers = auth(db_session, world.institute_admin)
    base = f"{API}/campaigns/{review.campaign.id}"
    refused = client.put(f"{base}/winners", json={"nomination_ids": [review.third.id]}, headers=headers)
    assert refused.status_code == 400
    put = client.put(f"{base}/winners", json={"nomination_ids": [review.first.id]}, headers=headers)
    assert put.status_code == 200
    [item] = put.json["items"]
    assert (item["nomination_id"], item["recommender"], item["certificate_no"]) == (
        review.first.id,
        "力学研究所",
        None,
    )
    moved = client.post(f"{base}/phase", json={"to": "notice"}, headers=headers)
    assert moved.status_code == 200
    assert moved.json["notice_starts_on"] == TODAY.isoformat()
    db_session.refresh(review.campaign)
    objection = review.lodge(day=TODAY)
    db_session.commit()
    listed = client.get(f"{base}/objections", headers=headers)
    assert [o["id"] for o in listed.json["items"]] == [objection.id]
    handled = client.post(
        f"{API}/objections/{objection.id}/handle",
        json={"outcome": "dismissed", "reason": "不属实"},
        headers=headers,
    )
    assert handled.status_code == 200
    assert handled.json["outcome"] == "dismissed"
    again = client.post(
        f"{API}/objections/{objection.id}/handle", json={"outcome": "upheld", "reason": "x"}, headers=headers
    )
    assert again.status_code == 409
    _decide(review)
    awards = client.get(f"{base}/awards", headers=headers).json["items"]
    assert awards[0]["certificate_no"] == f"{review.campaign.year}-001"
    docx = client.get(f"{base}/awards/{awards[0]['id']}/certificate.docx", headers=headers)
    assert docx.status_code == 200
    firm = auth(db_session, world.a.admin)
    assert (
        client.get(f"{API}/nominations/{review.first.id}/certificate.docx", headers=firm).status_code == 200
    )
    foreign = auth(db_session, world.b.admin)
    assert (
        client.get(f"{API}/nominations/{review.first.id}/certificate.docx", headers=foreign).status_code
        == 404
    )
    assert client.get(f"{base}/awards", headers=foreign).status_code == 404


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_the_winners_notices(app, locale):
    from service.reminders.messages import render_notice
    from tests.snapshot import assert_snapshot

    context = {
        "campaign": "2026年度计量溯源先进单位评选",
        "unit": "郑州精工机械有限公司",
        "notice_ends_on": "2026-10-09",
        "link": "https://ledger.example.cn/nominations/7",
    }
    texts = []
    for state, reason in (("notice", None), ("decided", None), ("removed", "经核实存在计量违法记录")):
        with app.test_request_context():
            rendered = render_notice("award_decided", "email", locale, state=state, reason=reason, **context)
        texts.append(f"{rendered.subject}\n\n{rendered.body}")
    assert_snapshot(f"nominations/award_notices.{locale}.txt", "\n\n----\n\n".join(texts))
