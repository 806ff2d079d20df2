"""API: a recommender's work in a campaign (推荐): decide on the nominations addressed to it, rank, submit.

For the recommender's members and the institute's administrators; anyone else gets 404.
"""

from __future__ import annotations

from flask import jsonify

from service.api import bp
from service.api.docs import File, doc
from service.api.helpers import json_body
from service.clock import now_utc
from service.ledger_io.exporter import XLSX_MIMETYPE
from service.nominations import operations, queries, summary
from service.nominations.schemas import AddressedOut, AddressedPage, ListStatePage, RankIn, ReturnIn
from service.web.access import open_to_experts
from service.web.context import actor, base_url, db, today
from service.web.downloads import send_download, spooled

_PATH = "/campaigns/<int:campaign_id>/recommenders/<int:recommender_id>"


def _page(campaign_id: int, recommender_id: int):
    found = queries.addressed(db(), actor(), campaign_id, recommender_id)
    return jsonify(
        AddressedPage().dump(
            {
                "campaign_id": found.campaign.id,
                "recommender_id": found.recommender.id,
                "recommender": found.recommender.name,
                "submitted_at": found.listed.submitted_at if found.listed else None,
                "submitted_by_name": found.listed.submitted_by_name if found.listed else None,
                "counts": found.counts,
                "items": found.nominations,
            }
        )
    )


@bp.get(f"{_PATH}/nominations")
@open_to_experts
@doc(tags=["recommending"], responses={200: AddressedPage}, errors=(404,))
def list_addressed(campaign_id: int, recommender_id: int):
    """List the nominations addressed to a recommender: accepted in rank, then to decide, then returned.

    With the accepted counts per size class against the campaign's quotas, and the list's state.
    """
    return _page(campaign_id, recommender_id)


@bp.post(f"{_PATH}/nominations/<int:nomination_id>/accept")
@open_to_experts
@doc(tags=["recommending"], responses={200: AddressedOut}, errors=(404, 409))
def accept_addressed(campaign_id: int, recommender_id: int, nomination_id: int):
    """Accept a submitted nomination onto the recommender's list, last in rank (409 once the list is in)."""
    nomination = operations.accept_nomination(
        db(), actor(), campaign_id, recommender_id, nomination_id, today(), base_url(), now_utc()
    )
    return jsonify(AddressedOut().dump(nomination))


@bp.post(f"{_PATH}/nominations/<int:nomination_id>/return")
@open_to_experts
@doc(tags=["recommending"], body=ReturnIn, responses={200: AddressedOut}, errors=(400, 404, 409))
def return_addressed(campaign_id: int, recommender_id: int, nomination_id: int):
    """Return a submitted nomination to the firm as a draft, with the reason it reads (required)."""
    queries.addressed_nomination(db(), actor(), campaign_id, recommender_id, nomination_id)  # 404 first
    nomination = operations.return_nomination(
        db(), actor(), campaign_id, recommender_id, nomination_id, json_body(), today(), base_url(), now_utc()
    )
    return jsonify(AddressedOut().dump(nomination))


@bp.post(f"{_PATH}/rank")
@open_to_experts
@doc(tags=["recommending"], body=RankIn, responses={200: AddressedPage}, errors=(400, 404, 409))
def rank_addressed(campaign_id: int, recommender_id: int):
    """Put the accepted nominations in order: ``ids`` names every accepted one once, first first."""
    queries.addressed(db(), actor(), campaign_id, recommender_id)  # 404 before the body is read
    operations.rank_nominations(db(), actor(), campaign_id, recommender_id, json_body())
    return _page(campaign_id, recommender_id)


@bp.post(f"{_PATH}/submit")
@open_to_experts
@doc(tags=["recommending"], responses={200: AddressedPage}, errors=(404, 409))
def submit_addressed(campaign_id: int, recommender_id: int):
    """Submit the recommender's list once: nothing left to decide, one accepted at least, within the quotas.

    409 says what stands in the way (the size class, its count and its quota when over a quota).
    """
    operations.submit_list(db(), actor(), campaign_id, recommender_id, today(), base_url(), now_utc())
    return _page(campaign_id, recommender_id)


@bp.get(f"{_PATH}/summary.xlsx")
@open_to_experts
@doc(tags=["recommending"], responses={200: File(XLSX_MIMETYPE)}, errors=(404,))
def addressed_summary(campaign_id: int, recommender_id: int):
    """Download the recommender's summary table (推荐汇总表): its accepted nominations in rank, as xlsx."""
    table = summary.recommender_summary(db(), actor(), campaign_id, recommender_id)
    spool = spooled(lambda out: summary.write_xlsx(table, out))
    fallback = f"summary-{campaign_id}-{recommender_id}.xlsx"
    return send_download(spool, f"{summary.file_stem(table)}.xlsx", fallback, XLSX_MIMETYPE)


@bp.get("/campaigns/<int:campaign_id>/lists")
@doc(tags=["recommending"], responses={200: ListStatePage}, errors=(404,))
def list_lists(campaign_id: int):
    """List every recommender's list in a campaign: submitted or not, accepted and undecided counts."""
    states = queries.list_states(db(), actor(), campaign_id)
    items = [
        {
            "recommender_id": state.recommender.id,
            "recommender": state.recommender.name,
            "submitted_at": state.listed.submitted_at if state.listed else None,
            "submitted_by_name": state.listed.submitted_by_name if state.listed else None,
            "accepted": state.accepted,
            "undecided": state.undecided,
        }
        for state in states
    ]
    return jsonify(ListStatePage().dump({"items": items}))


@bp.get("/campaigns/<int:campaign_id>/summary.xlsx")
@doc(tags=["recommending"], responses={200: File(XLSX_MIMETYPE)}, errors=(403, 404))
def campaign_summary(campaign_id: int):
    """Download the whole campaign's summary table, recommender by recommender, as xlsx (administrators)."""
    table = summary.campaign_summary(db(), actor(), campaign_id)
    spool = spooled(lambda out: summary.write_xlsx(table, out))
    return send_download(
        spool, f"{summary.file_stem(table)}.xlsx", f"summary-{campaign_id}.xlsx", XLSX_MIMETYPE
    )
