"""Award campaigns of an institute: created as drafts, corrected, moved on by their dates."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from models import Campaign, Event
from service.errors import Conflict, Forbidden, Invalid, NotFound
from service.nominations import operations, phases
from tests.api import API, auth
from tests.conftest import login

TODAY = date(2026, 5, 1)
NOTICE = {
    "kind": "traceability_advanced",
    "title": "2026年度计量溯源先进单位评选",
    "year": 2026,
    "categories": ["计量体系建设", "计量文化建设", "计量数据积累与应用"],
    "conditions": ["近三年未发生重大计量违法行为"],
    "nomination_opens_on": "2026-05-07",
    "nomination_closes_on": "2026-05-13",
    "review_opens_on": "2026-05-14",
    "review_closes_on": "2026-05-15",
}


@pytest.fixture
def organiser(world):
    from service.actors import Actor

    return Actor.of(world.institute_admin)


def test_a_campaign_starts_as_a_draft_with_the_notice_defaults(db_session, organiser):
    campaign = operations.create_campaign(db_session, organiser, NOTICE)
    assert (campaign.phase, campaign.notice_days, campaign.notice_in_working_days) == ("draft", 3, True)
    assert (campaign.large_quota, campaign.sme_quota) == (5, 5)
    assert db_session.scalar(select(Event.kind).where(Event.subject_type == "campaign")) == "campaign.created"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"nomination_closes_on": "2026-05-06"}, "nomination_closes_on"),  # closes before it opens
        ({"review_opens_on": "2026-05-13"}, "review_opens_on"),  # review while nominating
        ({"categories": []}, "categories"),
        ({"categories": "\n \n"}, "categories"),
        ({"kind": "beauty_contest"}, "kind"),
        ({"notice_days": 0}, "notice_days"),
        ({"year": 1999}, "year"),
        ({"title": " "}, "title"),
    ],
)
def test_bad_notices_are_refused_field_by_field(db_session, organiser, change, field):
    with pytest.raises(Invalid) as refused:
        operations.create_campaign(db_session, organiser, NOTICE | change)
    assert field in refused.value.field_errors


def test_only_the_institutes_administrators_organise(db_session, world):
    from service.actors import Actor

    with pytest.raises(Forbidden):
        operations.create_campaign(db_session, Actor.of(world.institute_staff), NOTICE)
    with pytest.raises(NotFound):
        operations.create_campaign(db_session, Actor.of(world.a.admin), NOTICE)


def test_phases_follow_the_dates(db_session, organiser):
    campaign = operations.create_campaign(db_session, organiser, NOTICE)
    with pytest.raises(Conflict):  # not the next phase
        operations.move_campaign(db_session, organiser, campaign.id, {"to": "review"}, TODAY)
    with pytest.raises(Conflict):  # the window has ended
        operations.move_campaign(db_session, organiser, campaign.id, {"to": "open"}, date(2026, 5, 14))
    operations.move_campaign(db_session, organiser, campaign.id, {"to": "open"}, TODAY)
    assert not phases.accepts_nominations(campaign, date(2026, 5, 6))
    assert phases.accepts_nominations(campaign, date(2026, 5, 7))
    assert phases.accepts_nominations(campaign, date(2026, 5, 13))
    with pytest.raises(Conflict):  # nominations still open on their last day
        operations.move_campaign(db_session, organiser, campaign.id, {"to": "review"}, date(2026, 5, 13))
    operations.move_campaign(db_session, organiser, campaign.id, {"to": "review"}, date(2026, 5, 14))
    assert campaign.phase == "review"
    assert not phases.accepts_nominations(campaign, date(2026, 5, 13))


def test_once_open_only_the_texts_change(db_session, organiser):
    campaign = operations.create_campaign(db_session, organiser, NOTICE)
    operations.update_campaign(db_session, organiser, campaign.id, {"sme_quota": 6})
    assert campaign.sme_quota == 6
    operations.move_campaign(db_session, organiser, campaign.id, {"to": "open"}, TODAY)
    operations.update_campaign(
        db_session, organiser, campaign.id, {"objection_contacts": "王老师 0371-12345678"}
    )
    with pytest.raises(Conflict):
        operations.update_campaign(db_session, organiser, campaign.id, {"nomination_closes_on": "2026-05-12"})
    with pytest.raises(Conflict):
        operations.update_campaign(db_session, organiser, campaign.id, {"categories": ["计量体系建设"]})
    assert campaign.nomination_closes_on == date(2026, 5, 13)


def test_pages_create_show_edit_and_move(client, db_session, world):
    login(client, world.institute_admin)
    assert client.get("/institute/campaigns/new").status_code == 200
    form = NOTICE | {
        "categories": "计量体系建设\n计量文化建设\n\n计量数据积累与应用",
        "conditions": "无不良信用记录",
    }
    form.pop("kind")
    response = client.post("/institute/campaigns/new", data=form | {"kind": "industrial_benchmark"})
    assert response.status_code == 303
    campaign = db_session.scalar(select(Campaign).where(Campaign.org_id == world.institute.id))
    assert campaign.categories == ["计量体系建设", "计量文化建设", "计量数据积累与应用"]
    page = client.get(f"/institute/campaigns/{campaign.id}").get_data(as_text=True)
    assert "2026年度计量溯源先进单位评选" in page
    assert 'data-phase="draft"' in page
    bad = client.post(
        f"/institute/campaigns/{campaign.id}/edit",
        data=form | {"kind": "other", "review_opens_on": "2026-05-01"},
    )
    assert bad.status_code == 400
    db_session.expire_all()
    assert campaign.kind == "industrial_benchmark"
    moved = client.post(f"/institute/campaigns/{campaign.id}/phase", data={"to": "review"})
    assert moved.status_code == 303
    db_session.expire_all()
    assert campaign.phase == "draft"
    listing = client.get("/institute/campaigns").get_data(as_text=True)
    assert "2026年度计量溯源先进单位评选" in listing


def test_firms_and_other_institutes_see_no_campaign(client, db_session, world, organiser):
    campaign = operations.create_campaign(db_session, organiser, NOTICE)
    db_session.commit()
    login(client, world.a.admin)
    assert client.get("/institute/campaigns").status_code == 404
    assert client.get(f"/institute/campaigns/{campaign.id}").status_code == 404
    client.post("/logout")
    login(client, world.institute_staff)
    assert client.get(f"/institute/campaigns/{campaign.id}").status_code == 200
    assert client.get("/institute/campaigns/new").status_code == 403


def test_api_creates_reads_patches_and_moves(client, db_session, world):
    headers = auth(db_session, world.institute_admin)
    created = client.post(f"{API}/campaigns", headers=headers, json=NOTICE)
    assert created.status_code == 201, created.json
    body = created.json
    assert (body["phase"], body["categories"]) == ("draft", NOTICE["categories"])
    patched = client.patch(f"{API}/campaigns/{body['id']}", headers=headers, json={"large_quota": 3})
    assert patched.json["large_quota"] == 3
    assert (
        client.patch(f"{API}/campaigns/{body['id']}", headers=headers, json={"large_quota": -1}).status_code
        == 400
    )
    listed = client.get(f"{API}/campaigns", headers=headers).json["items"]
    assert [c["id"] for c in listed] == [body["id"]]
    stale = client.post(f"{API}/campaigns/{body['id']}/phase", headers=headers, json={"to": "closed"})
    assert stale.status_code == 409


def test_api_hides_campaigns_from_firms_and_other_institutes(client, db_session, world, organiser):
    campaign = operations.create_campaign(db_session, organiser, NOTICE)
    db_session.commit()
    firm = auth(db_session, world.a.admin)
    assert client.get(f"{API}/campaigns/{campaign.id}", headers=firm).status_code == 404
    assert (
        client.patch(f"{API}/campaigns/{campaign.id}", headers=firm, json={"title": "x"}).status_code == 404
    )
    staff = auth(db_session, world.institute_staff)
    assert client.post(f"{API}/campaigns", headers=staff, json=NOTICE).status_code == 403


def test_recommenders_with_their_members(db_session, world, organiser):
    staff = world.institute_staff
    made = operations.save_recommender(
        db_session, organiser, None, {"name": "力学研究所", "kind": "department", "member_ids": [staff.id]}
    )
    assert [m.user_id for m in made.members] == [staff.id]
    with pytest.raises(Invalid) as clash:
        operations.save_recommender(db_session, organiser, None, {"name": "力学研究所", "kind": "alliance"})
    assert "name" in clash.value.field_errors
    with pytest.raises(Invalid) as foreign:  # a firm's user is no member of an institute's recommender
        operations.save_recommender(
            db_session,
            organiser,
            made.id,
            {"name": "力学研究所", "kind": "department", "member_ids": [world.a.admin.id]},
        )
    assert "member_ids" in foreign.value.field_errors
    changed = operations.save_recommender(
        db_session,
        organiser,
        made.id,
        {"name": "河南省装备制造业计量联盟", "kind": "alliance", "member_ids": []},
    )
    assert (changed.name, changed.kind, changed.members) == ("河南省装备制造业计量联盟", "alliance", [])


def test_recommender_pages_and_api(client, db_session, world):
    login(client, world.institute_admin)
    posted = client.post(
        "/institute/recommenders",
        data={"name": "热工研究所", "kind": "department", "member_ids": [str(world.institute_staff.id)]},
    )
    assert posted.status_code == 303
    page = client.get("/institute/recommenders").get_data(as_text=True)
    assert "热工研究所" in page
    bad = client.post("/institute/recommenders", data={"name": "", "kind": "department"})
    assert bad.status_code == 303
    assert client.get("/institute/recommenders").get_data(as_text=True).count("data-recommender=") == 1
    headers = auth(db_session, world.institute_admin)
    listed = client.get(f"{API}/recommenders", headers=headers).json["items"]
    assert [(r["name"], [m["id"] for m in r["members"]]) for r in listed] == [
        ("热工研究所", [world.institute_staff.id])
    ]
    replaced = client.put(
        f"{API}/recommenders/{listed[0]['id']}",
        headers=headers,
        json={"name": "热工所", "kind": "department"},
    )
    assert (replaced.status_code, replaced.json["members"]) == (200, [])
    firm = auth(db_session, world.a.admin)
    assert client.get(f"{API}/recommenders", headers=firm).status_code == 404
    assert client.put(f"{API}/recommenders/{listed[0]['id']}", headers=firm, json={}).status_code == 404


def test_a_campaign_without_conditions_saves_from_the_form(client, db_session, world):
    login(client, world.institute_admin)
    form = NOTICE | {"categories": "计量体系建设", "conditions": ""}
    assert client.post("/institute/campaigns/new", data=form).status_code == 303
    campaign = db_session.scalar(select(Campaign).where(Campaign.org_id == world.institute.id))
    assert campaign.conditions == []
    edited = client.post(f"/institute/campaigns/{campaign.id}/edit", data=form | {"title": "更正后的名称"})
    assert edited.status_code == 303
