"""API: nonconformity cases — list, read with the suspect window's users, open, assess, close."""

from __future__ import annotations

from flask import jsonify, request

from service.api import bp
from service.api.docs import doc, items_of
from service.api.helpers import json_body
from service.ledger.queries import get_instrument
from service.nonconformity import operations, queries
from service.nonconformity.schemas import (
    AssessmentIn,
    CaseDetailOut,
    CaseOut,
    CaseQuery,
    ClosingIn,
    OpeningIn,
)
from service.schemas import load_or_invalid
from service.web.context import actor, db, today

STATES = {"open": "open", "closed": "closed", "all": None}


def _out(case, with_exposure: bool = False) -> dict:
    if with_exposure:
        return CaseDetailOut(exposure=queries.exposure(db(), actor(), case)).dump(case)
    return CaseOut().dump(case)


@bp.get("/nonconformity")
@doc(tags=["nonconformity"], query=CaseQuery, responses={200: items_of(CaseOut)}, errors=(400,))
def list_cases():
    """Return the organisation's cases: ``state`` = open (default), closed or all."""
    state = load_or_invalid(CaseQuery(), request.args)["state"]
    return jsonify({"items": [_out(c) for c in queries.list_cases(db(), actor(), STATES[state])]})


@bp.get("/nonconformity/<int:case_id>")
@doc(tags=["nonconformity"], responses={200: CaseDetailOut}, errors=(404,))
def get_case(case_id: int):
    """Return one case with ``exposure``: who used the instrument, where, in the suspect window."""
    return jsonify(_out(queries.get_case(db(), actor(), case_id), with_exposure=True))


@bp.post("/instruments/<int:instrument_id>/nonconformity")
@doc(tags=["nonconformity"], body=OpeningIn, responses={201: CaseDetailOut}, errors=(400, 403, 404, 409))
def open_case(instrument_id: int):
    """Report an instrument as nonconforming (``description``); it is taken out of service at once."""
    get_instrument(db(), actor(), instrument_id)  # another firm's id is 404 whatever the body
    case = operations.open_case(db(), actor(), instrument_id, json_body(), today())
    return jsonify(_out(case, with_exposure=True)), 201


@bp.post("/nonconformity/<int:case_id>/assessment")
@doc(tags=["nonconformity"], body=AssessmentIn, responses={200: CaseOut}, errors=(400, 403, 404, 409))
def assess_case(case_id: int):
    """Record the impact assessment (``impact_assessment``) of an open case."""
    queries.get_case(db(), actor(), case_id)
    return jsonify(_out(operations.assess(db(), actor(), case_id, json_body(), today())))


@bp.post("/nonconformity/<int:case_id>/closing")
@doc(tags=["nonconformity"], body=ClosingIn, responses={200: CaseOut}, errors=(400, 403, 404, 409))
def close_case(case_id: int):
    """Approve a disposition and close the case (firm administrators); the instrument follows it."""
    queries.get_case(db(), actor(), case_id)
    return jsonify(_out(operations.close(db(), actor(), case_id, json_body(), today())))
