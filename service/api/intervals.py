"""API: the interval review of an instrument, and the decision on it."""

from __future__ import annotations

from flask import jsonify

from service.api import bp
from service.api.helpers import json_body
from service.ledger.queries import get_instrument
from service.traceability import interval_review
from service.web.context import actor, db, today
from service.web.i18n import translate


def _out(suggestion) -> dict:
    return {
        "current_months": suggestion.current_months,
        "suggested_months": suggestion.suggested_months,
        "direction": suggestion.direction,
        "reasons": [translate(reason.message) for reason in suggestion.reasons],
    }


@bp.get("/instruments/<int:instrument_id>/interval-review")
def get_interval_review(instrument_id: int):
    """Return the interval the instrument's as-found history suggests, with the reasons.

    ---
    get:
      tags: [records]
      parameters: [instrument_id]
      responses:
        200:
          content:
            application/json:
              schema:
                type: object
                properties:
                  current_months: {type: integer}
                  suggested_months: {type: integer}
                  direction: {type: string, enum: [shorten, lengthen, keep]}
                  reasons: {type: array, items: {type: string}}
        404: NotFound
    """
    return jsonify(_out(interval_review.review(db(), actor(), instrument_id)))


@bp.post("/instruments/<int:instrument_id>/interval-review")
def decide_interval(instrument_id: int):
    """Accept or reject the suggestion (``decision``, the ``suggested_months`` you saw, ``reason``).

    ---
    post:
      tags: [records]
      parameters: [instrument_id]
      requestBody:
        required: true
        content:
          application/json:
            schema: IntervalDecisionIn
      responses:
        200:
          content:
            application/json:
              schema:
                type: object
                properties:
                  current_months: {type: integer}
                  suggested_months: {type: integer}
                  direction: {type: string}
                  reasons: {type: array, items: {type: string}}
        400: Invalid
        403: Forbidden
        404: NotFound
        409: Conflict
    """
    get_instrument(db(), actor(), instrument_id)  # another firm's id is 404 whatever the body
    return jsonify(_out(interval_review.decide(db(), actor(), instrument_id, json_body(), today())))
