"""API: an instrument's chain of standards, and the institute's reverse traceability of its standards."""

from __future__ import annotations

from flask import jsonify, request

from service.api import bp
from service.api.docs import doc
from service.api.helpers import json_body
from service.clock import now_utc
from service.schemas import load_or_invalid
from service.traceability import reverse
from service.traceability.chain import standards_chain
from service.traceability.reverse import StandardNoticeIn
from service.traceability.schemas import (
    AffectedOut,
    AffectedQuery,
    ChainOut,
    NoticeSummaryOut,
)
from service.web.context import actor, base_url, db


@bp.get("/instruments/<int:instrument_id>/chain")
@doc(tags=["records"], responses={200: ChainOut}, errors=(404,))
def instrument_chain(instrument_id: int):
    """Return the chain of standards above an instrument, from its current verification or calibration."""
    return jsonify(standards_chain(db(), actor(), instrument_id).as_dict())


@bp.get("/standards/<int:instrument_id>/affected")
@doc(tags=["records"], query=AffectedQuery, responses={200: AffectedOut}, errors=(400, 403, 404))
def standard_affected(instrument_id: int):
    """List what one of the institute's standards verified or calibrated since a day, by linked firm.

    For institute staff and administrators; ``since`` defaults to the standard's last good result.
    """
    reverse.get_standard(db(), actor(), instrument_id)
    found = reverse.affected_by_standard(
        db(), actor(), instrument_id, load_or_invalid(AffectedQuery(), request.args).get("since")
    )
    return jsonify(AffectedOut().dump(found))


@bp.post("/standards/<int:instrument_id>/notices")
@doc(tags=["records"], body=StandardNoticeIn, responses={200: NoticeSummaryOut}, errors=(400, 403, 404))
def standard_notices(instrument_id: int):
    """Tell each affected linked firm, through the outbox.

    The same standard and ``since`` again adds nothing.
    """
    reverse.get_standard(db(), actor(), instrument_id)  # another ledger's id is 404 whatever the body
    data = reverse.load_notice(json_body())
    summary = reverse.notify_affected(
        db(),
        actor(),
        instrument_id,
        data.get("since"),
        data["reason"],
        now_utc(),
        base_url=base_url(),
    )
    return jsonify(NoticeSummaryOut().dump(summary))
