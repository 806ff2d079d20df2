"""Campaigns and nominations arranged for tests: an open campaign, a complete form, the scans."""

from __future__ import annotations

import io
from datetime import timedelta

from models.nominations import REQUIRED_FILE_KINDS
from service.actors import Actor
from service.clock import today_in
from service.nominations import operations
from tests import factories
from tests.files import pdf_bytes

TODAY = today_in("Asia/Shanghai")

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


def make_campaign(db_session, admin, opens=-1, closes=5, **overrides):
    """Create a campaign whose window runs from ``opens`` to ``closes`` days from today; open it if it can."""
    notice = {
        "kind": "traceability_advanced",
        "title": "计量溯源先进单位评选",
        "year": TODAY.year,
        "categories": ["计量体系建设", "计量文化建设"],
        "conditions": ["近三年未发生重大计量违法行为"],
        "nomination_opens_on": (TODAY + timedelta(days=opens)).isoformat(),
        "nomination_closes_on": (TODAY + timedelta(days=closes)).isoformat(),
        "review_opens_on": (TODAY + timedelta(days=closes + 1)).isoformat(),
        "review_closes_on": (TODAY + timedelta(days=closes + 3)).isoformat(),
    } | overrides
    campaign = operations.create_campaign(db_session, admin, notice)
    if campaign.nomination_closes_on >= TODAY:
        operations.move_campaign(db_session, admin, campaign.id, {"to": "open"}, TODAY)
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


def attach_scans(db_session, who, nomination_id, storage):
    """Upload one scan of each kind the notice requires."""
    for kind in REQUIRED_FILE_KINDS:
        scan = [(io.BytesIO(pdf_bytes(kind.encode())), f"{kind}.pdf")]
        operations.add_nomination_files(db_session, who, nomination_id, {"kind": kind}, scan, storage, TODAY)


def answer_everything(db_session, who, nomination_id, reason: str | None = "见说明"):
    """Answer all 33 self-check items "yes", each with ``reason`` (the data may answer otherwise)."""
    answers = {str(seq): {"answer": "yes", "reason": reason} for seq in range(1, 34)}
    return operations.update_nomination(db_session, who, nomination_id, {"self_check": answers}, TODAY)
