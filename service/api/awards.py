"""API: a campaign's winners, the objections to its public notice, and the honour certificates.

For the institute's administrators (deciding, handling) and its users (reading); anyone else gets 404.
"""

from __future__ import annotations

from flask import jsonify

from service.api import bp
from service.api.docs import File, doc
from service.api.helpers import json_body
from service.clock import now_utc
from service.nominations import documents, operations, queries
from service.nominations.schemas import AwardPage, HandleIn, ObjectionOut, ObjectionPage, WinnersIn
from service.web.context import actor, base_url, db, today
from service.web.downloads import DOCX_MIMETYPE, document_download


def _awards(campaign_id: int):
    return jsonify(AwardPage().dump({"items": queries.list_awards(db(), actor(), campaign_id)}))


@bp.put("/campaigns/<int:campaign_id>/winners")
@doc(tags=["awards"], body=WinnersIn, responses={200: AwardPage}, errors=(400, 403, 404, 409))
def put_winners(campaign_id: int):
    """Replace the winners while the campaign is in review: nominations that went forward, at least one."""
    queries.get_campaign(db(), actor(), campaign_id)  # another institute's id is 404 whatever the body
    operations.decide_winners(db(), actor(), campaign_id, json_body(), now_utc())
    return _awards(campaign_id)


@bp.get("/campaigns/<int:campaign_id>/awards")
@doc(tags=["awards"], responses={200: AwardPage}, errors=(404,))
def list_awards(campaign_id: int):
    """List a campaign's winners in the order decided; removed ones carry the reason."""
    return _awards(campaign_id)


@bp.get("/campaigns/<int:campaign_id>/objections")
@doc(tags=["awards"], responses={200: ObjectionPage}, errors=(404,))
def list_objections(campaign_id: int):
    """List the objections to a campaign's public notice, those without an outcome first."""
    return jsonify(ObjectionPage().dump({"items": queries.list_objections(db(), actor(), campaign_id)}))


@bp.post("/objections/<int:objection_id>/handle")
@doc(tags=["awards"], body=HandleIn, responses={200: ObjectionOut}, errors=(400, 403, 404, 409))
def handle_objection(objection_id: int):
    """Record an objection's outcome once, during the notice: ``upheld`` removes the winner it names."""
    queries.get_objection(db(), actor(), objection_id)  # 404 before the body is read
    objection = operations.handle_objection(
        db(), actor(), objection_id, json_body(), today(), now_utc(), base_url()
    )
    return jsonify(ObjectionOut().dump(objection))


@bp.get("/campaigns/<int:campaign_id>/awards/<int:award_id>/certificate.docx")
@doc(tags=["awards"], responses={200: File(DOCX_MIMETYPE)}, errors=(404,))
def award_certificate(campaign_id: int, award_id: int):
    """Download a winner's honour certificate (荣誉证书) once the campaign is decided (404 before)."""
    campaign = queries.get_campaign(db(), actor(), campaign_id)
    data = queries.certificate_data(db(), campaign, queries.get_award(db(), actor(), campaign_id, award_id))
    content = documents.honour_certificate(data)
    return document_download(
        content, f"荣誉证书-{data.certificate_no}.docx", f"certificate-{data.certificate_no}.docx"
    )


@bp.get("/nominations/<int:nomination_id>/certificate.docx")
@doc(tags=["awards"], responses={200: File(DOCX_MIMETYPE)}, errors=(404,))
def nomination_certificate(nomination_id: int):
    """Download the firm's honour certificate for a winning nomination, once the campaign is decided."""
    _award, data = queries.firm_certificate(db(), actor(), nomination_id)
    content = documents.honour_certificate(data)
    return document_download(
        content, f"荣誉证书-{data.certificate_no}.docx", f"certificate-{data.certificate_no}.docx"
    )
