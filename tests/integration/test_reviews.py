"""Reviews (评审): reviewers given the forwarded nominations, the conflict rule, scores, the ranking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models import Notification
from service.actors import Actor
from service.clock import now_utc
from service.errors import Conflict, Invalid, NotFound
from service.nominations import operations, queries
from service.tenancy import operations as tenancy_ops
from tests import factories
from tests.api import API, auth
from tests.conftest import login, page_text
from tests.nominations import (
    BASE_URL,
    COMPLETE,
    NOMINATED_ON,
    TODAY,
    answer_everything,
    attach_scans,
    in_review,
    make_campaign,
)

#: The campaigns of these tests are nominated on NOMINATED_ON and reviewed today.
REVIEW_DAY = TODAY


@pytest.fixture
def admin(world):
    return Actor.of(world.institute_admin)


@pytest.fixture
def expert(db_session, world):
    return factories.make_user(db_session, world.institute, "expert", name="王专家")


@pytest.fixture
def reviewing(app, db_session, world, admin, expert):
    """Firm A's nomination forwarded and given to the outside expert."""
    storage = app.config["CALRECALL"].attachments_dir
    campaign, recommender, nomination, assignment = in_review(
        db_session, admin, world.a.actor(), storage, reviewer=expert
    )
    db_session.commit()
    return campaign, recommender, nomination, assignment


def _firm(db_session, world, name):
    org = factories.make_org(db_session, "firm", name=name)
    engineer = factories.make_user(db_session, org, "metrology")
    tenancy_ops.link_client(db_session, world.institute.id, org.id)
    return Actor.of(engineer)


def test_a_reviewer_scores_and_submits_once(db_session, world, reviewing, expert):
    campaign, _recommender, nomination, assignment = reviewing
    who = Actor.of(expert)
    with pytest.raises(Conflict):  # not before the review opens
        operations.save_review(
            db_session, who, assignment.id, {"scores": [80, 90]}, campaign.nomination_closes_on
        )
    for bad, field in (
        ({"scores": [80]}, "scores"),  # one per category
        ({"scores": [80, 101]}, "scores"),
        ({"scores": [80, "ninety"]}, "scores"),
        ({"comments": ["好"]}, "comments"),
    ):
        with pytest.raises(Invalid) as refused:
            operations.save_review(db_session, who, assignment.id, bad, REVIEW_DAY)
        assert field in {key.split(".")[0] for key in refused.value.field_errors}, bad
    operations.save_review(db_session, who, assignment.id, {"scores": [80, None]}, REVIEW_DAY)
    with pytest.raises(Invalid):  # every category scored first
        operations.submit_review(db_session, who, assignment.id, REVIEW_DAY)
    operations.save_review(
        db_session, who, assignment.id, {"scores": [80, 91], "comments": ["体系完整", None]}, REVIEW_DAY
    )
    submitted = operations.submit_review(db_session, who, assignment.id, REVIEW_DAY)
    assert (submitted.total, submitted.comments) == (85.5, ["体系完整", None])
    with pytest.raises(Conflict):  # final
        operations.save_review(db_session, who, assignment.id, {"scores": [1, 1]}, REVIEW_DAY)
    with pytest.raises(Conflict):  # and it stays in the ranking
        operations.unassign_reviewer(db_session, Actor.of(world.institute_admin), campaign.id, assignment.id)
    _campaign, [standing] = queries.ranking(db_session, Actor.of(world.institute_admin), campaign.id)
    assert (standing.nomination.id, standing.mean, standing.spread) == (nomination.id, 85.5, 0.0)


def test_a_member_of_the_recommender_is_not_given_its_nominations(db_session, world, reviewing, admin):
    campaign, recommender, nomination, _assignment = reviewing
    staff = world.institute_staff
    operations.save_recommender(
        db_session,
        admin,
        recommender.id,
        {"name": recommender.name, "kind": "alliance", "member_ids": [staff.id]},
    )
    with pytest.raises(Conflict) as kept_apart:
        operations.assign_reviewers(
            db_session, admin, campaign.id, {"reviewer_ids": [staff.id]}, REVIEW_DAY, BASE_URL
        )
    assert "不" not in str(kept_apart.value)
    assert staff.name in str(kept_apart.value.message.params.values())
    # Given with others, the member is skipped and the skip reported.
    assigned = operations.assign_reviewers(
        db_session,
        admin,
        campaign.id,
        {"reviewer_ids": [staff.id, world.institute_admin.id]},
        REVIEW_DAY,
        BASE_URL,
    )
    assert [(a.reviewer_id, a.nomination_id) for a in assigned.added] == [
        (world.institute_admin.id, nomination.id)
    ]
    assert [(r.id, n.id) for r, n in assigned.conflicts] == [(staff.id, nomination.id)]


def test_who_reviews_and_when(db_session, world, reviewing, admin):
    campaign, _recommender, nomination, _assignment = reviewing
    technician = world.institute_technician
    with pytest.raises(Invalid) as not_a_reviewer:
        operations.assign_reviewers(
            db_session, admin, campaign.id, {"reviewer_ids": [technician.id]}, REVIEW_DAY, BASE_URL
        )
    assert "reviewer_ids" in not_a_reviewer.value.field_errors
    with pytest.raises(Invalid) as not_forwarded:
        operations.assign_reviewers(
            db_session,
            admin,
            campaign.id,
            {"reviewer_ids": [world.institute_admin.id], "nomination_ids": [nomination.id + 1000]},
            REVIEW_DAY,
            BASE_URL,
        )
    assert "nomination_ids" in not_forwarded.value.field_errors
    with pytest.raises(NotFound):  # a firm has no say
        operations.assign_reviewers(
            db_session, world.a.actor("admin"), campaign.id, {"reviewer_ids": [1]}, REVIEW_DAY, BASE_URL
        )
    open_one = make_campaign(db_session, admin, title="尚在申报")
    with pytest.raises(Conflict):  # reviews wait for the review phase
        operations.assign_reviewers(
            db_session, admin, open_one.id, {"reviewer_ids": [world.institute_admin.id]}, TODAY, BASE_URL
        )


def test_scores_stay_hidden_until_ones_own_is_in_and_the_ranking_orders(
    app, client, db_session, world, admin, expert
):
    storage, day = app.config["CALRECALL"].attachments_dir, NOMINATED_ON
    campaign = make_campaign(db_session, admin, title="两家参评", today=day)
    recommender = operations.save_recommender(
        db_session, admin, None, {"name": "评审联盟", "kind": "alliance"}
    )
    nominations = []
    for firm in (world.a.actor(), _firm(db_session, world, "洛阳轴承有限公司")):
        nomination = operations.start_nomination(
            db_session, firm, {"campaign_id": campaign.id, "recommender_id": recommender.id}, day
        )
        operations.update_nomination(db_session, firm, nomination.id, COMPLETE, day)
        answer_everything(db_session, firm, nomination.id, today=day)
        attach_scans(db_session, firm, nomination.id, storage, today=day)
        operations.submit_nomination(db_session, firm, nomination.id, day)
        operations.accept_nomination(
            db_session, admin, campaign.id, recommender.id, nomination.id, TODAY, BASE_URL, now_utc()
        )
        nominations.append(nomination)
    operations.submit_list(db_session, admin, campaign.id, recommender.id, day, BASE_URL, now_utc())
    operations.move_campaign(db_session, admin, campaign.id, {"to": "review"}, REVIEW_DAY)
    reviewers = [expert, world.institute_staff]
    operations.assign_reviewers(
        db_session, admin, campaign.id, {"reviewer_ids": [r.id for r in reviewers]}, REVIEW_DAY, BASE_URL
    )
    mine = {
        r.id: {a.nomination_id: a for a in queries.my_assignments(db_session, Actor.of(r))} for r in reviewers
    }
    first, second = nominations
    expert_review = mine[expert.id][first.id]
    operations.save_review(db_session, Actor.of(expert), expert_review.id, {"scores": [90, 80]}, REVIEW_DAY)
    operations.submit_review(db_session, Actor.of(expert), expert_review.id, REVIEW_DAY)
    staff_review = mine[world.institute_staff.id][first.id]
    assert queries.peer_reviews(db_session, staff_review) == []  # the expert's 85 stays hidden
    db_session.commit()
    login(client, world.institute_staff)
    page = client.get(f"/reviews/{staff_review.id}").get_data(as_text=True)
    assert 'id="peers"' not in page
    assert "85.0" not in page_text(page)
    form = {"category_count": "2", "score-0": "70", "score-1": "abc", "submit": "1"}
    refused = client.post(f"/reviews/{staff_review.id}", data=form, follow_redirects=True).get_data(
        as_text=True
    )
    assert 'class="alert alert-danger' in refused
    form["score-1"] = "71"
    client.post(f"/reviews/{staff_review.id}", data=form)
    page = client.get(f"/reviews/{staff_review.id}").get_data(as_text=True)
    assert 'data-state="submitted"' in page
    assert 'id="peers"' in page
    assert "85.0" in page
    for assignment, scores in (
        (mine[expert.id][second.id], [95, 99]),
        (mine[world.institute_staff.id][second.id], [95, 96]),
    ):
        who = Actor.of(db_session.get(type(expert), assignment.reviewer_id))
        operations.save_review(db_session, who, assignment.id, {"scores": scores}, REVIEW_DAY)
        operations.submit_review(db_session, who, assignment.id, REVIEW_DAY)
    db_session.expire_all()  # the staff member's review was submitted through the page
    _campaign, standings = queries.ranking(db_session, admin, campaign.id)
    assert [(s.nomination.id, s.mean, s.spread, len(s.totals)) for s in standings] == [
        (second.id, 96.25, 1.5, 2),
        (first.id, 77.75, 14.5, 2),
    ]
    db_session.commit()
    ranking = client.get(
        f"{API}/campaigns/{campaign.id}/ranking", headers=auth(db_session, world.institute_admin)
    )
    assert [item["mean"] for item in ranking.json["items"]] == [96.25, 77.75]
    assert ranking.json["items"][0]["submitted"] == 2


def test_the_reviewer_hears_of_the_work(db_session, world, reviewing, expert):
    notice = db_session.scalars(
        select(Notification).where(
            Notification.recipient_user_id == expert.id, Notification.channel == "email"
        )
    ).one()
    assert "评审" in notice.subject or "review" in notice.subject
    assert notice.body.endswith("/reviews")


def test_pages_and_api_of_a_review_are_the_reviewers_alone(client, db_session, world, reviewing, expert):
    campaign, _recommender, nomination, assignment = reviewing
    login(client, expert)
    assert 'id="home-reviews"' in client.get("/").get_data(as_text=True)
    assert f'data-assignment="{assignment.id}"' in client.get("/reviews").get_data(as_text=True)
    page = client.get(f"/reviews/{assignment.id}").get_data(as_text=True)
    assert nomination.unit_name in page
    assert 'id="scans"' in page
    scan = nomination.frozen_files[0]
    with client.get(f"/reviews/{assignment.id}/files/{scan['id']}") as response:
        assert response.status_code == 200
    with client.get(f"/reviews/{assignment.id}/recommendation-form.docx") as response:
        assert response.status_code == 200
    assert (
        client.get(f"/institute/campaigns/{campaign.id}/reviews").status_code == 404
    )  # not the organiser's page
    client.post("/logout")
    for user in (world.institute_staff, world.institute_admin, world.a.admin):
        login(client, user)
        assert client.get(f"/reviews/{assignment.id}").status_code == 404, user.email
        assert client.get(f"/reviews/{assignment.id}/files/{scan['id']}").status_code == 404
        client.post("/logout")
    headers = auth(db_session, world.a.admin)
    assert client.get(f"{API}/reviews/{assignment.id}", headers=headers).status_code == 404
    assert client.get(f"{API}/campaigns/{campaign.id}/ranking", headers=headers).status_code == 404
    organiser = auth(db_session, world.institute_admin)
    assert (
        client.put(f"{API}/reviews/{assignment.id}", headers=organiser, json={"scores": [1, 1]}).status_code
        == 404
    )


def test_the_organiser_assigns_on_the_page(client, db_session, world, reviewing):
    campaign, _recommender, nomination, _assignment = reviewing
    login(client, world.institute_admin)
    page = client.get(f"/institute/campaigns/{campaign.id}/reviews").get_data(as_text=True)
    assert f'data-nomination="{nomination.id}"' in page
    assert 'id="assign-all"' in page
    response = client.post(
        f"/institute/campaigns/{campaign.id}/reviews/assign",
        data={"reviewer_ids": [world.institute_staff.id]},
    )
    assert response.status_code == 303
    page = client.get(f"/institute/campaigns/{campaign.id}/reviews").get_data(as_text=True)
    assert f'data-reviewer="{world.institute_staff.id}"' in page


def test_no_review_after_the_review_window(db_session, world, reviewing, expert):
    campaign, _recommender, _nomination, assignment = reviewing
    with pytest.raises(Conflict):
        operations.save_review(
            db_session,
            Actor.of(expert),
            assignment.id,
            {"scores": [80, 90]},
            campaign.review_closes_on + timedelta(days=1),
        )


def test_a_reviewer_who_joins_the_recommender_can_no_longer_score_its_nomination(
    db_session, world, reviewing, admin, expert
):
    campaign, recommender, _nomination, assignment = reviewing
    operations.save_recommender(
        db_session,
        admin,
        recommender.id,
        {"name": recommender.name, "kind": "alliance", "member_ids": [expert.id]},
    )
    with pytest.raises(Conflict):
        operations.save_review(db_session, Actor.of(expert), assignment.id, {"scores": [80, 90]}, REVIEW_DAY)


def test_a_draft_campaign_is_not_found_by_a_recommender(db_session, world, admin):
    draft = operations.create_campaign(
        db_session,
        admin,
        {
            "kind": "traceability_advanced",
            "title": "草稿评选",
            "year": TODAY.year,
            "categories": ["计量体系建设"],
            "nomination_opens_on": TODAY.isoformat(),
            "nomination_closes_on": (TODAY + timedelta(days=5)).isoformat(),
            "review_opens_on": (TODAY + timedelta(days=6)).isoformat(),
            "review_closes_on": (TODAY + timedelta(days=8)).isoformat(),
        },
    )
    recommender = operations.save_recommender(
        db_session,
        admin,
        None,
        {"name": "草稿推荐", "kind": "alliance", "member_ids": [world.institute_staff.id]},
    )
    with pytest.raises(NotFound):
        queries.addressed(db_session, Actor.of(world.institute_staff), draft.id, recommender.id)


def test_text_that_word_cannot_hold_is_refused(db_session, world, reviewing):
    _campaign, _recommender, nomination, _assignment = reviewing
    firm = world.a.actor()
    draft_campaign = make_campaign(db_session, Actor.of(world.institute_admin), title="再评选")
    recommender = operations.save_recommender(
        db_session, Actor.of(world.institute_admin), None, {"name": "另一推荐单位", "kind": "alliance"}
    )
    fresh = operations.start_nomination(
        db_session, firm, {"campaign_id": draft_campaign.id, "recommender_id": recommender.id}, TODAY
    )
    with pytest.raises(Invalid) as refused:
        operations.update_nomination(db_session, firm, fresh.id, {"address": "郑州\uffff"}, TODAY)
    assert "address" in refused.value.field_errors
