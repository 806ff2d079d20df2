"""A recommender's work in a campaign: accept or return, rank, submit the list once, the summary table."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
from docx import Document
from docx.oxml.ns import qn
from sqlalchemy import select

from models import Event, Notification
from service.actors import Actor
from service.clock import now_utc, today_in
from service.errors import Conflict, Invalid, NotFound
from service.nominations import operations, queries, summary
from service.tenancy import operations as tenancy_ops
from tests import factories
from tests.api import API, auth
from tests.conftest import login
from tests.nominations import COMPLETE as FULL_FORM
from tests.nominations import attach_scans
from tests.snapshot import assert_snapshot

TODAY = today_in("Asia/Shanghai")
BASE = "http://testserver"

#: The shared complete form for this campaign's one category; each firm keeps its own name.
COMPLETE = {k: v for k, v in FULL_FORM.items() if k != "unit_name"} | {
    "narratives": ["建立了完整的测量管理体系……"]
}
#: The programme's rule makes these figures a large firm (1,000 employees and 400 million yuan).
LARGE = {"employees": 1200, "annual_revenue_wan": "50000.00"}


class Arranged:
    """An open campaign, two recommenders (the staff member acts for the first), firms to nominate."""

    def __init__(self, db_session, world, storage, **quotas):
        self.db, self.world, self.storage = db_session, world, storage
        self.admin = Actor.of(world.institute_admin)
        notice = {
            "kind": "traceability_advanced",
            "title": "2026年度计量溯源先进单位评选",
            "year": TODAY.year,
            "categories": ["计量体系建设"],
            "conditions": ["近三年未发生重大计量违法行为"],
            "nomination_opens_on": (TODAY - timedelta(days=1)).isoformat(),
            "nomination_closes_on": (TODAY + timedelta(days=5)).isoformat(),
            "review_opens_on": (TODAY + timedelta(days=6)).isoformat(),
            "review_closes_on": (TODAY + timedelta(days=8)).isoformat(),
        } | quotas
        self.campaign = operations.create_campaign(db_session, self.admin, notice)
        operations.move_campaign(db_session, self.admin, self.campaign.id, {"to": "open"}, TODAY)
        self.mech = operations.save_recommender(
            db_session,
            self.admin,
            None,
            {"name": "力学研究所", "kind": "department", "member_ids": [world.institute_staff.id]},
        )
        self.alliance = operations.save_recommender(
            db_session,
            self.admin,
            None,
            {"name": "产业计量联盟", "kind": "alliance", "member_ids": [world.institute_technician.id]},
        )
        self.member = Actor.of(world.institute_staff)
        self.other_member = Actor.of(world.institute_technician)
        db_session.commit()

    def firm(self, name: str):
        """A firm linked to the institute, with an administrator and a metrology engineer."""
        org = factories.make_org(self.db, "firm", name=name)
        factories.make_user(self.db, org, "admin")
        engineer = factories.make_user(self.db, org, "metrology")
        tenancy_ops.link_client(self.db, self.world.institute.id, org.id)
        return Actor.of(engineer)

    def submitted(self, who: Actor | None = None, recommender=None, **unit):
        """Start, complete and submit a nomination of ``who`` (firm A's engineer by default)."""
        who = who or self.world.a.actor()
        recommender = recommender or self.mech
        start = {"campaign_id": self.campaign.id, "recommender_id": recommender.id}
        nomination = operations.start_nomination(self.db, who, start, TODAY)
        answers = {str(seq): {"answer": "yes", "reason": "见说明"} for seq in range(1, 34)}
        fields = COMPLETE | {"self_check": answers} | unit
        operations.update_nomination(self.db, who, nomination.id, fields, TODAY)
        attach_scans(self.db, who, nomination.id, self.storage)
        operations.submit_nomination(self.db, who, nomination.id, TODAY)
        return nomination

    def accept(self, nomination, who: Actor | None = None, recommender=None):
        return operations.accept_nomination(
            self.db,
            who or self.member,
            self.campaign.id,
            (recommender or self.mech).id,
            nomination.id,
            TODAY,
            BASE,
            now_utc(),
        )

    def send_back(self, nomination, reason="请补充计量数据应用案例", who: Actor | None = None):
        return operations.return_nomination(
            self.db,
            who or self.member,
            self.campaign.id,
            self.mech.id,
            nomination.id,
            {"reason": reason},
            TODAY,
            BASE,
            now_utc(),
        )

    def rank(self, ids, who: Actor | None = None):
        return operations.rank_nominations(
            self.db, who or self.member, self.campaign.id, self.mech.id, {"ids": ids}
        )

    def submit_list(self, who: Actor | None = None, recommender=None):
        return operations.submit_list(
            self.db,
            who or self.member,
            self.campaign.id,
            (recommender or self.mech).id,
            TODAY,
            BASE,
            now_utc(),
        )


@pytest.fixture
def arranged(db_session, world, tmp_path):
    return Arranged(db_session, world, tmp_path)


def _notices(db_session, org_id: int) -> list[Notification]:
    """The firm's notices of recommending (not the announcement of the campaign: it links to the list)."""
    return [
        n
        for n in db_session.scalars(
            select(Notification)
            .where(Notification.org_id == org_id, Notification.kind == "nomination")
            .order_by(Notification.id)
        )
        if not n.body.rstrip().endswith("/nominations")
    ]


def test_accept_rank_and_submit_the_list(db_session, world, arranged):
    first = arranged.submitted()
    # The recommender's member hears of each submission, in the app and by email.
    told = db_session.scalars(
        select(Notification).where(Notification.recipient_user_id == world.institute_staff.id)
    ).all()
    assert sorted(n.channel for n in told) == ["email", "in_app"]
    assert f"/nominations/{first.id}" in told[0].body
    second = arranged.submitted(arranged.firm("洛阳轴承有限公司"), **LARGE)
    arranged.accept(first)
    arranged.accept(second)
    assert (first.recommendation, first.rank, second.rank) == ("accepted", 1, 2)
    assert second.size_class == "large"

    ranked = arranged.rank([second.id, first.id])
    assert [n.id for n in ranked] == [second.id, first.id]
    assert (second.rank, first.rank) == (1, 2)

    listed = arranged.submit_list()
    assert listed.submitted_by_name == world.institute_staff.name
    found = queries.addressed(db_session, arranged.member, arranged.campaign.id, arranged.mech.id)
    assert [n.id for n in found.accepted] == [second.id, first.id]
    assert found.counts == {"large": {"accepted": 1, "quota": 5}, "small_medium": {"accepted": 1, "quota": 5}}
    assert not found.may_change

    kinds = set(db_session.scalars(select(Event.kind).where(Event.org_id == world.institute.id)))
    assert {"nomination.accepted", "recommendation.ranked", "recommendation.submitted"} <= kinds
    # Firm A's people hear of the acceptance and of the list, in the app and by email.
    notices = _notices(db_session, world.a.org.id)
    assert {n.channel for n in notices} == {"in_app", "email"}
    assert len(notices) == 2 * 2 * 2  # two messages, two people, two channels
    assert any("力学研究所" in n.subject for n in notices)

    # Nothing of the list changes any more, and the firm can no longer withdraw.
    with pytest.raises(Conflict):
        arranged.submit_list()
    with pytest.raises(Conflict):
        arranged.rank([first.id, second.id])
    with pytest.raises(Conflict):
        arranged.send_back(first)
    with pytest.raises(Conflict):
        operations.withdraw_nomination(db_session, world.a.actor(), first.id, TODAY)


def test_returning_sends_it_back_to_the_firm_with_the_reason(db_session, world, arranged):
    nomination = arranged.submitted()
    with pytest.raises(Invalid) as no_reason:
        arranged.send_back(nomination, reason="  ")
    assert "reason" in no_reason.value.field_errors
    returned = arranged.send_back(nomination)
    assert (returned.state, returned.frozen_dossier, returned.submitted_at) == ("draft", None, None)
    assert (returned.recommendation, returned.returned_reason) == ("returned", "请补充计量数据应用案例")
    # The firm reads the reason on its nomination until it submits again.
    firm_view = queries.get_nomination(db_session, world.a.actor(), nomination.id)
    assert firm_view.returned_reason == "请补充计量数据应用案例"
    notice = _notices(db_session, world.a.org.id)[-1]
    assert "请补充计量数据应用案例" in notice.body
    # A returned nomination stays in the recommender's sight but can no longer be decided on.
    listed = queries.addressed(db_session, arranged.member, arranged.campaign.id, arranged.mech.id)
    assert [n.id for n in listed.nominations] == [nomination.id]
    with pytest.raises(Conflict):
        arranged.accept(nomination)

    # Saving the draft keeps the reason; only submitting again (or another recommender) clears it.
    operations.update_nomination(db_session, world.a.actor(), nomination.id, {"address": "别处"}, TODAY)
    assert nomination.returned_reason == "请补充计量数据应用案例"
    resubmitted = operations.submit_nomination(db_session, world.a.actor(), nomination.id, TODAY)
    assert (resubmitted.recommendation, resubmitted.returned_reason) == (None, None)
    assert arranged.accept(resubmitted).recommendation == "accepted"


def test_another_recommender_does_not_inherit_the_reason(db_session, world, arranged):
    nomination = arranged.send_back(arranged.submitted())
    change = {"recommender_id": arranged.alliance.id}
    operations.update_nomination(db_session, world.a.actor(), nomination.id, change, TODAY)
    assert (nomination.recommendation, nomination.returned_reason) == (None, None)
    found = queries.addressed(db_session, arranged.other_member, arranged.campaign.id, arranged.alliance.id)
    assert found.nominations == []


def test_a_withdrawn_nomination_loses_its_place(db_session, world, arranged):
    first = arranged.submitted()
    second = arranged.submitted(arranged.firm("新乡电池有限公司"))
    arranged.accept(first)
    arranged.accept(second)
    withdrawn = operations.withdraw_nomination(db_session, world.a.actor(), first.id, TODAY)
    assert (withdrawn.recommendation, withdrawn.rank) == (None, None)
    with pytest.raises(Invalid):  # the withdrawn one is no longer among the accepted
        arranged.rank([first.id, second.id])
    arranged.submit_list()
    assert second.rank == 1  # ranks close up at submission


@pytest.mark.parametrize(
    "ids",
    ["none", "text", "dup", "missing", "foreign", "undecided"],
)
def test_a_ranking_must_be_every_accepted_one_once(db_session, world, arranged, ids):
    first = arranged.submitted()
    second = arranged.submitted(arranged.firm("安阳钢铁有限公司"))
    undecided = arranged.submitted(arranged.firm("焦作化工有限公司"))
    arranged.accept(first)
    arranged.accept(second)
    ids = {
        "none": [],
        "text": ["x"],
        "dup": [first.id, first.id, second.id],
        "missing": [first.id],
        "foreign": [first.id, second.id, 2**31 - 1],
        "undecided": [first.id, second.id, undecided.id],
    }.get(ids, ids)
    with pytest.raises(Invalid) as refused:
        arranged.rank(ids)
    assert any(key.split(".")[0] == "ids" for key in refused.value.field_errors)
    assert (first.rank, second.rank) == (1, 2)


def test_the_list_needs_every_nomination_decided_and_one_accepted(db_session, world, arranged):
    with pytest.raises(Conflict) as empty:
        arranged.submit_list()
    assert "at least one" in empty.value.message
    nomination = arranged.submitted()
    with pytest.raises(Conflict) as undecided:
        arranged.submit_list()
    assert undecided.value.message.params["count"] == 1
    arranged.send_back(nomination)
    with pytest.raises(Conflict):  # returned is decided, but nothing is accepted
        arranged.submit_list()


@pytest.mark.parametrize(
    ("quotas", "size"), [({"large_quota": 0}, "large"), ({"sme_quota": 1}, "small_medium")]
)
def test_the_quotas_hold_per_size_class(db_session, world, tmp_path, quotas, size):
    arranged = Arranged(db_session, world, tmp_path, **quotas)
    unit = LARGE if size == "large" else {}
    for name in ("甲公司", "乙公司"):
        arranged.accept(arranged.submitted(arranged.firm(name), **unit))
    with pytest.raises(Conflict) as refused:
        arranged.submit_list()
    message = refused.value.message
    assert message.params["count"] == 2
    assert message.params["quota"] == (0 if size == "large" else 1)
    assert str(message.params["size"]) == {"large": "Large", "small_medium": "Small / medium"}[size]
    assert (
        operations.quota_refusal(
            {"large": {"accepted": 0, "quota": 0}, "small_medium": {"accepted": 1, "quota": 1}}
        )
        is None
    )


def test_only_while_the_campaign_is_open(db_session, world, arranged):
    nomination = arranged.submitted()
    arranged.campaign.phase = "review"
    with pytest.raises(Conflict):
        arranged.accept(nomination)
    with pytest.raises(Conflict):
        arranged.submit_list()


def test_who_may_recommend(db_session, world, arranged):
    nomination = arranged.submitted()
    # A member of another recommender, a firm, and an institute user of no recommender: 404.
    with pytest.raises(NotFound):
        arranged.accept(nomination, who=arranged.other_member)
    with pytest.raises(NotFound):
        queries.addressed(db_session, arranged.other_member, arranged.campaign.id, arranged.mech.id)
    with pytest.raises(NotFound):
        arranged.accept(nomination, who=world.a.actor("admin"))
    with pytest.raises(NotFound):
        arranged.accept(nomination, who=world.a.actor())
    # The nomination is not addressed to the alliance: its own member gets 404 through it too.
    with pytest.raises(NotFound):
        arranged.accept(nomination, who=arranged.other_member, recommender=arranged.alliance)
    # The institute's administrator organises: it acts for every recommender.
    assert arranged.accept(nomination, who=arranged.admin).recommendation == "accepted"


def test_a_listed_recommender_takes_no_new_nomination(db_session, world, arranged):
    arranged.accept(arranged.submitted(arranged.firm("许昌电气有限公司")))
    arranged.submit_list()
    with pytest.raises(Conflict):
        arranged.submitted()


def test_moving_to_review_forwards_only_submitted_lists(db_session, world, arranged):
    arranged.accept(arranged.submitted())
    arranged.submit_list()
    arranged.submitted(arranged.firm("平顶山煤机有限公司"), recommender=arranged.alliance)
    operations.move_campaign(
        db_session, arranged.admin, arranged.campaign.id, {"to": "review"}, TODAY + timedelta(days=6)
    )
    event = db_session.scalars(
        select(Event).where(Event.kind == "campaign.moved").order_by(Event.id.desc())
    ).first()
    assert (event.data["forwarded"], event.data["unlisted"]) == (1, ["产业计量联盟"])
    states = queries.list_states(db_session, arranged.admin, arranged.campaign.id)
    assert [(s.recommender.name, s.listed is not None, s.undecided) for s in states] == [
        ("产业计量联盟", False, 1),
        ("力学研究所", True, 0),
    ]


def test_the_summary_reads_back(db_session, world, arranged):
    first = arranged.submitted()
    second = arranged.submitted(arranged.firm("洛阳轴承有限公司"), **LARGE, contact_name="=HYPERLINK(1)")
    arranged.accept(first)
    arranged.accept(second)
    arranged.rank([second.id, first.id])
    arranged.submit_list()
    alliance_one = arranged.submitted(arranged.firm("南阳防爆电机有限公司"), recommender=arranged.alliance)
    arranged.accept(alliance_one, who=arranged.other_member, recommender=arranged.alliance)

    table = summary.campaign_summary(db_session, arranged.admin, arranged.campaign.id)
    out = io.BytesIO()
    assert summary.write_xlsx(table, out) == 3
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    rows = [tuple(c for c in row if c is not None) for row in sheet.iter_rows(values_only=True)]
    rows = [row for row in rows if row]
    assert rows[0] == ("2026年度计量溯源先进单位评选推荐汇总表",)
    assert rows[1] == ("推荐单位：产业计量联盟（名单尚未提交）",)
    assert rows[2] == summary.HEADERS
    assert rows[3][:3] == (1, "南阳防爆电机有限公司", "中小企业")
    assert rows[4][0].startswith("推荐单位：力学研究所（名单已于 ")
    assert [row[:3] for row in rows[6:8]] == [
        (1, "洛阳轴承有限公司", "大型企业"),
        (2, world.a.org.name, "中小企业"),
    ]
    assert rows[6][3:] == ("高档数控机床和机器人", "'=HYPERLINK(1)", "13903710001", "li@firm.example.cn")

    out = io.BytesIO()
    mine = summary.recommender_summary(db_session, arranged.member, arranged.campaign.id, arranged.mech.id)
    assert summary.write_docx(mine, out) == 2
    document = Document(io.BytesIO(out.getvalue()))
    section = document.sections[0]
    assert {round(section.page_width.mm), round(section.page_height.mm)} == {210, 297}
    assert document.paragraphs[0].text == "2026年度计量溯源先进单位评选推荐汇总表"
    [table] = document.tables
    cells = [[cell.text for cell in row.cells] for row in table.rows]
    assert tuple(cells[0]) == summary.HEADERS
    assert cells[1][:3] == ["1", "洛阳轴承有限公司", "大型企业"]
    assert cells[2][:2] == ["2", world.a.org.name]
    fonts = table.rows[1].cells[1].paragraphs[0].runs[0]._element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "宋体"
    with pytest.raises(NotFound):
        summary.recommender_summary(db_session, arranged.other_member, arranged.campaign.id, arranged.mech.id)


def _list_url(arranged, recommender=None) -> str:
    recommender = recommender or arranged.mech
    return f"/recommending/campaigns/{arranged.campaign.id}/recommenders/{recommender.id}"


def test_the_pages_journey(client, db_session, world, arranged):
    first = arranged.submitted()
    second = arranged.submitted(arranged.firm("洛阳轴承有限公司"), **LARGE)
    third = arranged.submitted(arranged.firm("开封空分有限公司"))
    db_session.commit()
    login(client, world.institute_staff)
    home = client.get("/recommending").get_data(as_text=True)
    assert 'id="nav-recommending"' in home
    assert f'data-recommender="{arranged.mech.id}"' in home
    assert f'data-recommender="{arranged.alliance.id}"' not in home
    url = _list_url(arranged)
    page = client.get(url).get_data(as_text=True)
    assert page.count("data-nomination=") == 3
    assert "1200" in page  # the size comes with the figures it came from

    shown = client.get(f"{url}/nominations/{first.id}").get_data(as_text=True)
    assert 'id="accept"' in shown
    assert 'id="self-check"' in shown
    for nomination in (first, second):
        assert client.post(f"{url}/nominations/{nomination.id}/accept").status_code == 303
    # Returning without a reason is refused and changes nothing; with one, the firm gets it back.
    client.post(f"{url}/nominations/{third.id}/return", data={"reason": " "})
    db_session.expire_all()
    assert (
        queries.addressed_nomination(
            db_session, arranged.member, arranged.campaign.id, arranged.mech.id, third.id
        ).state
        == "submitted"
    )
    client.post(f"{url}/nominations/{third.id}/return", data={"reason": "材料不全"})

    # Down moves one place; numbers sort them all.
    client.post(f"{url}/rank", data={"down": str(first.id)})
    db_session.expire_all()
    assert [
        n.id
        for n in queries.addressed(
            db_session, arranged.member, arranged.campaign.id, arranged.mech.id
        ).accepted
    ] == [second.id, first.id]
    client.post(f"{url}/rank", data={f"rank-{first.id}": "1", f"rank-{second.id}": "2"})
    page = client.get(url).get_data(as_text=True)
    assert page.index(f'data-nomination="{first.id}"') < page.index(f'data-nomination="{second.id}"')
    assert "材料不全" in page
    client.post(f"{url}/rank", data={f"rank-{first.id}": "x", f"rank-{second.id}": "2"})
    assert "请为每个已推荐的申报填写排序" in client.get(url).get_data(as_text=True)  # refused, nothing moved

    assert client.get(f"{url}/summary.xlsx").status_code == 200
    docx = client.get(f"{url}/summary.docx")
    assert docx.mimetype == summary.DOCX_MIMETYPE
    assert Document(io.BytesIO(docx.data)).tables[0].rows[1].cells[1].text == world.a.org.name

    assert client.post(f"{url}/submit").status_code == 303
    page = client.get(url).get_data(as_text=True)
    assert 'data-state="submitted"' in page
    assert 'id="submit-list"' not in page
    assert client.post(f"{url}/nominations/{first.id}/return", data={"reason": "x"}).status_code == 303
    db_session.expire_all()
    assert db_session.get(type(first), first.id).recommendation == "accepted"  # refused: the list is in

    # The firm sees the decision; the one put forward can no longer be withdrawn.
    client.post("/logout")
    login(client, world.a.metrology)
    mine = client.get(f"/nominations/{first.id}").get_data(as_text=True)
    assert 'data-listed="yes"' in mine
    assert 'id="withdraw"' not in mine

    # The organiser sees every recommender's list from the campaign page, and the whole summary.
    client.post("/logout")
    login(client, world.institute_admin)
    campaign = client.get(f"/institute/campaigns/{arranged.campaign.id}").get_data(as_text=True)
    assert f'data-recommender="{arranged.alliance.id}" data-listed="no"' in campaign
    assert f'data-recommender="{arranged.mech.id}" data-listed="yes"' in campaign
    assert "产业计量联盟" in campaign.split('id="unlisted"')[1].split("</p>")[0]
    whole = client.get(f"/institute/campaigns/{arranged.campaign.id}/summary.xlsx")
    assert whole.status_code == 200
    assert client.get(_list_url(arranged, arranged.alliance)).status_code == 200


def test_the_firm_reads_the_reason(client, db_session, world, arranged):
    nomination = arranged.submitted()
    arranged.send_back(nomination, reason="请补充近三年的计量数据")
    db_session.commit()
    login(client, world.a.metrology)
    assert 'data-recommendation="returned"' in client.get("/nominations").get_data(as_text=True)
    page = client.get(f"/nominations/{nomination.id}").get_data(as_text=True)
    assert 'id="returned"' in page
    assert "请补充近三年的计量数据" in page


def test_pages_are_404_to_everyone_else(client, db_session, world, arranged):
    nomination = arranged.submitted()
    db_session.commit()
    url = _list_url(arranged)
    paths = [url, f"{url}/nominations/{nomination.id}", f"{url}/summary.xlsx"]
    posts = [f"{url}/nominations/{nomination.id}/accept", f"{url}/rank", f"{url}/submit"]
    for user in (world.institute_technician, world.a.admin):  # another recommender's member; a firm
        client.post("/logout")
        login(client, user)
        for path in paths:
            assert client.get(path).status_code == 404, (user.role, path)
        for path in posts:
            assert client.post(path).status_code == 404, (user.role, path)
        whole = client.get(f"/institute/campaigns/{arranged.campaign.id}/summary.xlsx")
        assert whole.status_code == (404 if user is world.a.admin else 403)  # the institute's, admins only
    db_session.expire_all()
    assert db_session.get(type(nomination), nomination.id).recommendation is None


def test_the_navigation_shows_recommending_to_members_only(client, db_session, world, arranged):
    login(client, world.institute_admin)  # organises, is no member
    assert 'id="nav-recommending"' not in client.get("/institute/campaigns").get_data(as_text=True)
    client.post("/logout")
    login(client, world.institute_technician)
    assert 'id="nav-recommending"' in client.get("/institute/campaigns").get_data(as_text=True)
    # Also while working in a client's ledger.
    assert 'id="nav-recommending"' in client.get(f"/clients/{world.a.org.id}/evidence").get_data(as_text=True)


def test_the_api_journey(client, db_session, world, arranged):
    first = arranged.submitted()
    second = arranged.submitted(arranged.firm("洛阳轴承有限公司"), **LARGE)
    db_session.commit()
    headers = auth(db_session, world.institute_staff)
    base = f"{API}/campaigns/{arranged.campaign.id}/recommenders/{arranged.mech.id}"
    listed = client.get(f"{base}/nominations", headers=headers)
    assert listed.status_code == 200, listed.json
    assert {item["id"] for item in listed.json["items"]} == {first.id, second.id}
    assert listed.json["counts"]["large"] == {"accepted": 0, "quota": 5}
    accepted = client.post(f"{base}/nominations/{first.id}/accept", headers=headers)
    assert (accepted.status_code, accepted.json["rank"]) == (200, 1)
    refused = client.post(f"{base}/nominations/{second.id}/return", headers=headers, json={})
    assert refused.status_code == 400
    assert "reason" in refused.json["errors"]
    assert client.post(f"{base}/submit", headers=headers).status_code == 409  # one left to decide
    client.post(f"{base}/nominations/{second.id}/accept", headers=headers)
    bad = client.post(f"{base}/rank", headers=headers, json={"ids": [first.id]})
    assert bad.status_code == 400
    ranked = client.post(f"{base}/rank", headers=headers, json={"ids": [second.id, first.id]})
    assert [item["id"] for item in ranked.json["items"]] == [second.id, first.id]
    sheet = client.get(f"{base}/summary.xlsx", headers=headers)
    assert sheet.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert rows[4][:2] == (1, "洛阳轴承有限公司")
    submitted = client.post(f"{base}/submit", headers=headers)
    assert submitted.status_code == 200, submitted.json
    assert submitted.json["submitted_at"]
    assert client.post(f"{base}/submit", headers=headers).status_code == 409
    lists = client.get(f"{API}/campaigns/{arranged.campaign.id}/lists", headers=headers).json["items"]
    assert [(i["recommender"], bool(i["submitted_at"])) for i in lists] == [
        ("产业计量联盟", False),
        ("力学研究所", True),
    ]

    # The firm may not withdraw what the list put forward; another recommender's member and a firm get 404.
    firm = auth(db_session, world.a.metrology)
    assert client.post(f"{API}/nominations/{first.id}/withdraw", headers=firm).status_code == 409
    for user in (world.institute_technician, world.a.admin):
        other = auth(db_session, user)
        assert client.get(f"{base}/nominations", headers=other).status_code == 404
        assert client.post(f"{base}/nominations/{first.id}/accept", headers=other).status_code == 404
        assert (
            client.post(f"{base}/nominations/{first.id}/return", headers=other, data="x").status_code == 404
        )
        assert client.get(f"{base}/summary.xlsx", headers=other).status_code == 404
    admin = auth(db_session, world.institute_admin)
    assert (
        client.get(f"{API}/campaigns/{arranged.campaign.id}/summary.xlsx", headers=admin).status_code == 200
    )
    assert (
        client.get(f"{API}/campaigns/{arranged.campaign.id}/summary.xlsx", headers=headers).status_code == 403
    )


def test_the_cli_writes_the_summary(app, db_session, world, arranged, tmp_path):
    arranged.accept(arranged.submitted())
    arranged.submit_list()
    db_session.commit()
    runner = app.test_cli_runner()
    out = tmp_path / "汇总.xlsx"
    result = runner.invoke(
        args=["campaigns", "summary", "--campaign", str(arranged.campaign.id), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "1 nominations of 2 recommenders" in result.output
    rows = [r for r in openpyxl.load_workbook(out).active.iter_rows(values_only=True) if any(r)]
    assert rows[1][0] == "推荐单位：产业计量联盟（名单尚未提交）"
    word = tmp_path / "summary.docx"
    args = ["campaigns", "summary", "--campaign", str(arranged.campaign.id), "--out", str(word)]
    result = runner.invoke(args=[*args, "--recommender", str(arranged.mech.id)])
    assert result.exit_code == 0, result.output
    assert Document(str(word)).tables[0].rows[1].cells[1].text == world.a.org.name
    for bad, said in (
        (["--campaign", "999999", "--out", str(out)], "no campaign"),
        (["--campaign", "x", "--out", str(out)], "no campaign"),
        (["--campaign", str(arranged.campaign.id), "--out", str(tmp_path / "a.pdf")], ".xlsx or .docx"),
        ([*args[2:], "--recommender", "999999"], "no recommender"),
        (["--campaign", str(arranged.campaign.id), "--out", str(tmp_path / "no" / "a.xlsx")], "cannot write"),
    ):
        result = runner.invoke(args=["campaigns", "summary", *bad])
        assert result.exit_code == 2, bad
        assert said in result.output, result.output
        assert "Traceback" not in result.output


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_the_firms_notices(app, locale):
    from service.reminders.messages import render_notice

    context = {
        "campaign": "2026年度计量溯源先进单位评选",
        "recommender": "力学研究所",
        "unit": "郑州精工机械有限公司",
        "link": "https://ledger.example.cn/nominations/7",
    }
    texts = []
    for state, reason in (("accepted", None), ("returned", "请补充计量数据应用案例"), ("listed", None)):
        with app.test_request_context():
            rendered = render_notice(
                "nomination_decided", "email", locale, state=state, reason=reason, **context
            )
        texts.append(f"{rendered.subject}\n\n{rendered.body}")
    assert_snapshot(f"nominations/notices.{locale}.txt", "\n\n----\n\n".join(texts))


@pytest.fixture
def committed(request):
    """A world committed for real in a PostgreSQL database of its own, so that two connections see it."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from models import Base
    from service.db import make_engine, make_session_factory, unit_of_work
    from tests.conftest import TEST_DATABASE_URL

    if not TEST_DATABASE_URL:
        pytest.skip("row locks need PostgreSQL")
    name = f"calrecall_rec_{uuid.uuid4().hex[:8]}"
    url = make_url(TEST_DATABASE_URL)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(url.set(database=name).render_as_string(hide_password=False))
    Base.metadata.create_all(engine)
    sessions = make_session_factory(engine)
    with unit_of_work(sessions) as session:
        world = factories.World.build(session)
        session.commit()
        arranged = Arranged(session, world, request.getfixturevalue("tmp_path"))
        nomination = arranged.submitted()
        arranged.accept(nomination)
        ids = (arranged.campaign.id, arranged.mech.id, nomination.id)
    yield sessions, world, ids
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_list_is_not_submitted_while_a_nomination_on_it_is_withdrawn(committed):
    import threading
    import time

    from service.db import unit_of_work

    sessions, world, (campaign_id, recommender_id, nomination_id) = committed
    member = Actor.of(world.institute_staff)
    outcome: list = []

    def submit() -> None:
        try:
            with unit_of_work(sessions, member.org_id) as session:
                operations.submit_list(session, member, campaign_id, recommender_id, TODAY, BASE, now_utc())
            outcome.append("submitted")
        except Conflict as exc:
            outcome.append(exc.message)

    firm = world.a.actor()
    with unit_of_work(sessions, firm.org_id) as session:
        operations.withdraw_nomination(session, firm, nomination_id, TODAY)
        submitting = threading.Thread(target=submit)
        submitting.start()
        time.sleep(0.5)
        assert submitting.is_alive()  # waits for the withdrawal to commit
    submitting.join(timeout=10)
    # It then sees the list empty: nothing accepted any more.
    assert [str(m) for m in outcome] == ["Accept at least one nomination before submitting the list."]


def test_a_scan_removed_while_the_nomination_is_submitted_is_not_frozen(committed):
    """The firm's changes to a draft and its submission take the same locks: one waits for the other."""
    import threading
    import time

    from service.db import unit_of_work

    sessions, world, (_campaign_id, _recommender_id, nomination_id) = committed
    firm = world.a.actor()
    with unit_of_work(sessions, firm.org_id) as session:
        operations.withdraw_nomination(session, firm, nomination_id, TODAY)
        session.commit()
    outcome: list = []

    def submit() -> None:
        try:
            with unit_of_work(sessions, firm.org_id) as session:
                operations.submit_nomination(session, firm, nomination_id, TODAY)
            outcome.append("submitted")
        except Invalid as exc:
            outcome.append(sorted(exc.field_errors))

    with unit_of_work(sessions, firm.org_id) as session:
        scans = queries.get_nomination(session, firm, nomination_id).files
        credit = next(scan for scan in scans if scan.kind == "credit_record")
        operations.remove_nomination_file(session, firm, nomination_id, credit.id, TODAY)
        submitting = threading.Thread(target=submit)
        submitting.start()
        time.sleep(0.5)
        assert submitting.is_alive()  # waits for the removal to commit
    submitting.join(timeout=10)
    assert outcome == [["files"]]  # then finds the credit record missing
