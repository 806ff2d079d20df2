"""API: the evidence dossier of a firm and the instruments behind its figures; an institute's campaigns."""

from __future__ import annotations

from flask import jsonify, request

from service.api import bp
from service.api.docs import doc, items_of
from service.api.helpers import json_body
from service.clock import now_utc
from service.nominations import operations, queries
from service.nominations.schemas import (
    BehindOut,
    BehindQuery,
    CampaignIn,
    CampaignOut,
    CampaignPage,
    DossierOut,
    DossierQuery,
    NominationFileOut,
    NominationFileUploadIn,
    NominationIn,
    NominationOut,
    NominationPage,
    NominationStartIn,
    PhaseIn,
    RecommenderIn,
    RecommenderOut,
    RecommenderPage,
)
from service.schemas import load_or_invalid
from service.web.context import actor, attachments_dir, base_url, db, today
from service.web.downloads import commitment_letter_download, recommendation_form_download, send_attachment
from service.web.i18n import translate


@bp.get("/dossier")
@doc(tags=["nominations"], query=DossierQuery, responses={200: DossierOut}, errors=(400, 403))
def get_dossier():
    """Return every figure of the evidence dossier as of a day, with the pre-filled self-check table.

    Rates are fractions with 4 decimals, each with its numerator and denominator; the period
    figures cover the 12 months up to the day.
    """
    query = load_or_invalid(DossierQuery(), request.args)
    found = queries.dossier(db(), actor(), query.get("as_of") or today(), today())
    lines = [
        {
            "seq": line.item.seq,
            "category": line.item.category,
            "item": line.item.item,
            "question": line.item.question,
            "answer": line.prefill.answer if line.prefill else None,
            "evidence": translate(line.prefill.evidence) if line.prefill else None,
        }
        for line in queries.self_check_lines(found)
    ]
    return jsonify(DossierOut().dump(found.as_dict() | {"self_check": lines}))


@bp.get("/dossier/instruments")
@doc(tags=["nominations"], query=BehindQuery, responses={200: BehindOut}, errors=(400, 403))
def get_dossier_instruments():
    """Return the instruments a figure counts (or only those short of it, ``short=true``): the first 100."""
    query = load_or_invalid(BehindQuery(), request.args)
    found = queries.figure_sets(db(), actor(), query.get("as_of") or today(), today())
    behind = queries.instruments_behind(db(), actor(), found, query["figure"], bool(query.get("short")))
    items = [
        {
            "id": instrument.id,
            "management_no": instrument.management_no,
            "name": instrument.name,
            "missed": [day.isoformat() for day in behind.missed.get(instrument.id, [])],
        }
        for instrument in behind.instruments
    ]
    return jsonify(
        BehindOut().dump(
            {"figure": behind.figure, "counted": behind.counted, "short": behind.short, "items": items}
        )
    )


@bp.get("/campaigns")
@doc(tags=["nominations"], responses={200: CampaignPage}, errors=(404,))
def list_campaigns():
    """List the institute's award campaigns, newest year first (institute users)."""
    return jsonify(CampaignPage().dump({"items": queries.list_campaigns(db(), actor())}))


@bp.post("/campaigns")
@doc(tags=["nominations"], body=CampaignIn, responses={201: CampaignOut}, errors=(400, 403, 404))
def create_campaign():
    """Create a campaign as a draft (institute administrators)."""
    campaign = operations.create_campaign(db(), actor(), json_body())
    return jsonify(CampaignOut().dump(campaign)), 201


@bp.get("/campaigns/<int:campaign_id>")
@doc(tags=["nominations"], responses={200: CampaignOut}, errors=(404,))
def get_campaign(campaign_id: int):
    """Return one of the institute's campaigns."""
    return jsonify(CampaignOut().dump(queries.get_campaign(db(), actor(), campaign_id)))


@bp.patch("/campaigns/<int:campaign_id>")
@doc(tags=["nominations"], body=CampaignIn, responses={200: CampaignOut}, errors=(400, 403, 404, 409))
def update_campaign(campaign_id: int):
    """Change the fields sent: any while a draft, only the texts once open (409 otherwise)."""
    queries.get_campaign(db(), actor(), campaign_id)  # another institute's id is 404 whatever the body
    return jsonify(CampaignOut().dump(operations.update_campaign(db(), actor(), campaign_id, json_body())))


@bp.post("/campaigns/<int:campaign_id>/phase")
@doc(tags=["nominations"], body=PhaseIn, responses={200: CampaignOut}, errors=(400, 403, 404, 409))
def move_campaign(campaign_id: int):
    """Move the campaign to its next phase (``to``).

    draft → open before its window ends, → review after it, → notice once the winners are decided
    (the notice starts today), → decided after the notice's last day with every objection handled,
    → closed.
    """
    queries.get_campaign(db(), actor(), campaign_id)
    moved = operations.move_campaign(db(), actor(), campaign_id, json_body(), today(), base_url(), now_utc())
    return jsonify(CampaignOut().dump(moved))


@bp.get("/recommenders")
@doc(tags=["nominations"], responses={200: RecommenderPage}, errors=(404,))
def list_recommenders():
    """List the institute's recommenders (departments and industry alliances) with their members."""
    return jsonify(RecommenderPage().dump({"items": queries.list_recommenders(db(), actor())}))


@bp.post("/recommenders")
@doc(tags=["nominations"], body=RecommenderIn, responses={201: RecommenderOut}, errors=(400, 403, 404))
def create_recommender():
    """Add a recommender with its members (``member_ids``: active users of the institute)."""
    recommender = operations.save_recommender(db(), actor(), None, json_body())
    return jsonify(RecommenderOut().dump(recommender)), 201


@bp.put("/recommenders/<int:recommender_id>")
@doc(tags=["nominations"], body=RecommenderIn, responses={200: RecommenderOut}, errors=(400, 403, 404))
def replace_recommender(recommender_id: int):
    """Replace a recommender's name, kind, contact and members."""
    queries.get_recommender(db(), actor(), recommender_id)
    recommender = operations.save_recommender(db(), actor(), recommender_id, json_body())
    return jsonify(RecommenderOut().dump(recommender))


@bp.get("/nominations")
@doc(tags=["nominations"], responses={200: NominationPage}, errors=(404,))
def list_nominations():
    """List your firm's nominations, newest first."""
    return jsonify(NominationPage().dump({"items": queries.list_nominations(db(), actor())}))


@bp.post("/nominations")
@doc(
    tags=["nominations"], body=NominationStartIn, responses={201: NominationOut}, errors=(400, 403, 404, 409)
)
def start_nomination():
    """Start your firm's nomination in an open campaign of a linked institute, for one of its recommenders.

    The unit information starts from your organisation's profile. 409 outside the nomination window or
    when your firm already has a nomination in the campaign.
    """
    nomination = operations.start_nomination(db(), actor(), json_body(), today())
    return jsonify(NominationOut().dump(queries.get_nomination(db(), actor(), nomination.id))), 201


@bp.get("/nominations/<int:nomination_id>")
@doc(tags=["nominations"], responses={200: NominationOut}, errors=(404,))
def get_nomination(nomination_id: int):
    """Return one of your firm's nominations, with its frozen dossier once submitted."""
    return jsonify(NominationOut().dump(queries.get_nomination(db(), actor(), nomination_id)))


@bp.patch("/nominations/<int:nomination_id>")
@doc(tags=["nominations"], body=NominationIn, responses={200: NominationOut}, errors=(400, 403, 404, 409))
def update_nomination(nomination_id: int):
    """Change the fields sent of a draft nomination while the window is open."""
    queries.get_nomination(db(), actor(), nomination_id)
    operations.update_nomination(db(), actor(), nomination_id, json_body(), today())
    return jsonify(NominationOut().dump(queries.get_nomination(db(), actor(), nomination_id)))


@bp.post("/nominations/<int:nomination_id>/submit")
@doc(tags=["nominations"], responses={200: NominationOut}, errors=(400, 403, 404, 409))
def submit_nomination(nomination_id: int):
    """Submit a complete nomination: the dossier, the data's answers and the history's head are frozen.

    400 lists what the form still lacks, field by field.
    """
    return jsonify(
        NominationOut().dump(operations.submit_nomination(db(), actor(), nomination_id, today(), base_url()))
    )


@bp.post("/nominations/<int:nomination_id>/withdraw")
@doc(tags=["nominations"], responses={200: NominationOut}, errors=(403, 404, 409))
def withdraw_nomination(nomination_id: int):
    """Take a submitted nomination back to a draft while the window is open."""
    return jsonify(
        NominationOut().dump(operations.withdraw_nomination(db(), actor(), nomination_id, today()))
    )


@bp.post("/nominations/<int:nomination_id>/files")
@doc(
    tags=["nominations"],
    form=NominationFileUploadIn,
    responses={201: items_of(NominationFileOut)},
    errors=(400, 403, 404, 409),
)
def add_nomination_files(nomination_id: int):
    """Upload scans of one kind (PDF, PNG, JPEG; ``multipart/form-data``) to a draft nomination.

    The stamped recommendation form, the commitment letter and the credit-record screenshot are
    required before submitting; evidence scans are optional. 409 once submitted or outside the window.
    """
    uploads = [(f.stream, f.filename) for f in request.files.getlist("file") if f.filename]
    added = operations.add_nomination_files(
        db(), actor(), nomination_id, request.form, uploads, attachments_dir(), today()
    )
    return jsonify({"items": NominationFileOut(many=True).dump(added)}), 201


@bp.get("/nominations/<int:nomination_id>/files/<int:file_id>")
@doc(tags=["nominations"], responses={200: "The file, as a download."}, errors=(404,))
def download_nomination_file(nomination_id: int, file_id: int):
    """Download a scan of one of your firm's nominations."""
    found = queries.get_nomination(db(), actor(), nomination_id)
    return send_attachment(queries.nomination_file(db(), found, file_id), attachments_dir())


@bp.delete("/nominations/<int:nomination_id>/files/<int:file_id>")
@doc(tags=["nominations"], responses={204: "Removed."}, errors=(403, 404, 409))
def remove_nomination_file(nomination_id: int, file_id: int):
    """Remove a scan from a draft nomination while the window is open."""
    operations.remove_nomination_file(db(), actor(), nomination_id, file_id, today())
    return "", 204


@bp.get("/nominations/<int:nomination_id>/recommendation-form.docx")
@doc(tags=["nominations"], responses={200: "The Word document, as a download."}, errors=(404,))
def download_recommendation_form(nomination_id: int):
    """Download the recommendation form (推荐表) as Word: today's figures for a draft, frozen ones after."""
    return recommendation_form_download(queries.get_nomination(db(), actor(), nomination_id))


@bp.get("/nominations/<int:nomination_id>/commitment-letter.docx")
@doc(tags=["nominations"], responses={200: "The Word document, as a download."}, errors=(404,))
def download_commitment_letter(nomination_id: int):
    """Download the commitment letter (承诺书) to sign, stamp and upload as a scan."""
    return commitment_letter_download(queries.get_nomination(db(), actor(), nomination_id))
