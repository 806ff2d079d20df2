"""Campaigns and nominations arranged for tests: an open campaign, a complete form, the scans."""

from __future__ import annotations

import io
from datetime import timedelta

from models.nominations import REQUIRED_FILE_KINDS
from service.actors import Actor
from service.clock import now_utc, today_in
from service.nominations import operations
from tests import factories
from tests.files import pdf_bytes

TODAY = today_in("Asia/Shanghai")
BASE_URL = "http://testserver"
#: The day :func:`in_review` nominates on: its window closes 3 days before today, its review runs
#: from 2 days ago until today.
NOMINATED_ON = TODAY - timedelta(days=8)

#: A recommendation form with every unit field, narrative and declaration filled in.
COMPLETE = {
    "unit_name": "郑州精密机械有限公司",
    "credit_code": factories.credit_code(4242),
    "address": "郑州市高新区科学大道 100 号",
    "employees": 320,
    "annual_revenue_wan": "18000.00",
    "industry": "高档数控机床和机器人",
    "contact_name": "李计量",
    "contact_mobile": "13903710001",
    "contact_email": "li@firm.example.cn",
    "narratives": ["建立了完整的测量管理体系……", "开展计量文化宣传……"],
    "declarations": [True],
}


def make_campaign(db_session, admin, opens=-1, closes=5, today=TODAY, **overrides):
    """Create a campaign whose window runs ``opens`` to ``closes`` days from ``today``; open it if it can."""
    notice = {
        "kind": "traceability_advanced",
        "title": "计量溯源先进单位评选",
        "year": today.year,
        "categories": ["计量体系建设", "计量文化建设"],
        "conditions": ["近三年未发生重大计量违法行为"],
        "nomination_opens_on": (today + timedelta(days=opens)).isoformat(),
        "nomination_closes_on": (today + timedelta(days=closes)).isoformat(),
        "review_opens_on": (today + timedelta(days=closes + 1)).isoformat(),
        "review_closes_on": (today + timedelta(days=closes + 3)).isoformat(),
    } | overrides
    campaign = operations.create_campaign(db_session, admin, notice)
    if campaign.nomination_closes_on >= today:
        operations.move_campaign(db_session, admin, campaign.id, {"to": "open"}, today)
    return campaign


def open_campaign(db_session, world):
    """Return an open campaign of the world's institute (linked to firm A) and one recommender."""
    admin = Actor.of(world.institute_admin)
    campaign = make_campaign(db_session, admin)
    recommender = operations.save_recommender(
        db_session, admin, None, {"name": "力学研究所", "kind": "department"}
    )
    db_session.commit()
    return campaign, recommender


def attach_scans(db_session, who, nomination_id, storage, today=TODAY):
    """Upload one scan of each kind the notice requires."""
    for kind in REQUIRED_FILE_KINDS:
        scan = [(io.BytesIO(pdf_bytes(kind.encode())), f"{kind}.pdf")]
        operations.add_nomination_files(db_session, who, nomination_id, {"kind": kind}, scan, storage, today)


def answer_everything(db_session, who, nomination_id, reason: str | None = "见说明", today=TODAY):
    """Answer all 33 self-check items "yes", each with ``reason`` (the data may answer otherwise)."""
    answers = {str(seq): {"answer": "yes", "reason": reason} for seq in range(1, 34)}
    return operations.update_nomination(db_session, who, nomination_id, {"self_check": answers}, today)


#: The categories of a campaign in review.
CATEGORIES = ("计量体系建设", "计量文化建设")


def in_review(db_session, admin, firm, storage, today=NOMINATED_ON, reviewer=None, categories=CATEGORIES):
    """Return a campaign in review with the firm's nomination forwarded by a recommender, and the review.

    The firm (an actor of a linked firm) nominates, the recommender accepts and submits its list, the
    campaign moves on after its window (the moves take the day they happen), and ``reviewer`` (a
    user of the institute, the administrator by default) is given the nomination.
    """
    campaign = make_campaign(
        db_session, admin, title=f"评审中的评选 {firm.org_id}", categories=list(categories), today=today
    )
    recommender = operations.save_recommender(
        db_session, admin, None, {"name": f"评审推荐单位 {campaign.id}", "kind": "alliance"}
    )
    start = {"campaign_id": campaign.id, "recommender_id": recommender.id}
    nomination = operations.start_nomination(db_session, firm, start, today)
    operations.update_nomination(
        db_session, firm, nomination.id, COMPLETE | {"narratives": ["……" for _ in categories]}, today
    )
    answer_everything(db_session, firm, nomination.id, today=today)
    attach_scans(db_session, firm, nomination.id, storage, today=today)
    operations.submit_nomination(db_session, firm, nomination.id, today)
    now = now_utc()
    operations.accept_nomination(
        db_session, admin, campaign.id, recommender.id, nomination.id, today, BASE_URL, now
    )
    operations.submit_list(db_session, admin, campaign.id, recommender.id, today, BASE_URL, now)
    after = campaign.nomination_closes_on + timedelta(days=1)
    operations.move_campaign(db_session, admin, campaign.id, {"to": "review"}, after)
    reviewer_id = reviewer.id if reviewer is not None else admin.user_id
    assigned = operations.assign_reviewers(
        db_session, admin, campaign.id, {"reviewer_ids": [reviewer_id]}, after, BASE_URL
    )
    return campaign, recommender, nomination, assigned.added[0]
