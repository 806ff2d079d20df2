"""API: the interval review of an instrument, and the decision on it."""

from __future__ import annotations

from flask import jsonify

from service.api import bp
from service.api.docs import doc
from service.api.helpers import json_body
from service.ledger.queries import get_instrument
from service.traceability import interval_review
from service.traceability.interval_review import IntervalDecisionIn
from service.traceability.schemas import IntervalSuggestionOut
from service.web.context import actor, db, today
from service.web.i18n import translate


def _out(suggestion) -> dict:
    return IntervalSuggestionOut(translate=translate).dump(suggestion)


@bp.get("/instruments/<int:instrument_id>/interval-review")
@doc(tags=["records"], responses={200: IntervalSuggestionOut}, errors=(404,))
def get_interval_review(instrument_id: int):
    """Return the interval the instrument's as-found history suggests, with the reasons.

    Intermediate checks done since the last calibration count too: a control-chart signal or a
    reading outside the MPE sets ``calibrate_early``, is named in ``check_findings``, and keeps
    any longer interval from being suggested.
    """
    return jsonify(_out(interval_review.review(db(), actor(), instrument_id)))


@bp.post("/instruments/<int:instrument_id>/interval-review")
@doc(
    tags=["records"],
    body=IntervalDecisionIn,
    responses={200: IntervalSuggestionOut},
    errors=(400, 403, 404, 409),
)
def decide_interval(instrument_id: int):
    """Accept or reject the suggestion (``decision``, the ``suggested_months`` you saw, ``reason``)."""
    get_instrument(db(), actor(), instrument_id)  # another firm's id is 404 whatever the body
    return jsonify(_out(interval_review.decide(db(), actor(), instrument_id, json_body(), today())))
