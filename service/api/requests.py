"""API: maker-checker status requests (suspend, resume, seal, unseal, replace, scrap)."""

from __future__ import annotations

from flask import jsonify, request

from service.api import bp
from service.api.docs import doc, items_of
from service.api.helpers import json_body, optional_json_body
from service.api.schemas import EmptyIn
from service.ledger import operations, queries
from service.ledger.schemas import DecisionIn, StatusRequestIn, StatusRequestOut, StatusRequestQuery
from service.schemas import load_or_invalid
from service.web.context import actor, db


def _out(status_request) -> dict:
    return StatusRequestOut().dump(status_request)


@bp.get("/instruments/<int:instrument_id>/status-requests")
@doc(tags=["status requests"], responses={200: items_of(StatusRequestOut)}, errors=(404,))
def instrument_status_requests(instrument_id: int):
    """Return every status request of one instrument, newest first."""
    instrument = queries.get_instrument(db(), actor(), instrument_id)
    found = queries.requests_for_instrument(db(), actor(), instrument.id)
    return jsonify({"items": [_out(r) for r in found]})


@bp.post("/instruments/<int:instrument_id>/status-requests")
@doc(
    tags=["status requests"],
    body=StatusRequestIn,
    responses={201: StatusRequestOut},
    errors=(400, 403, 404, 409),
)
def request_status_change(instrument_id: int):
    """Ask for a status change that an administrator other than the requester decides."""
    queries.get_instrument(db(), actor(), instrument_id)  # another firm's id is 404 whatever the body
    data = load_or_invalid(StatusRequestIn(), json_body())
    created = operations.request_status_change(
        db(), actor(), instrument_id, data["action"], data.get("reason"), data.get("replacement_id")
    )
    return jsonify(_out(created)), 201


@bp.get("/status-requests")
@doc(
    tags=["status requests"],
    query=StatusRequestQuery,
    responses={200: items_of(StatusRequestOut)},
    errors=(400,),
)
def list_status_requests():
    """List the organisation's status requests in one state, newest first (at most 500)."""
    state = load_or_invalid(StatusRequestQuery(), request.args)["state"]
    found = queries.list_status_requests(db(), actor(), None if state == "all" else state)
    return jsonify({"items": [_out(r) for r in found]})


def _decide(request_id: int, approve: bool):
    queries.get_status_request(db(), actor(), request_id)  # another firm's id is 404 whatever the body
    reason = load_or_invalid(DecisionIn(), optional_json_body()).get("reason")
    decided = operations.decide_status_request(db(), actor(), request_id, approve, reason)
    return jsonify(_out(decided))


@bp.post("/status-requests/<int:request_id>/approve")
@doc(
    tags=["status requests"],
    body=DecisionIn,
    body_required=False,
    responses={200: StatusRequestOut},
    errors=(400, 403, 404, 409),
)
def approve_status_request(request_id: int):
    """Approve a pending request (administrators other than the requester); the status changes."""
    return _decide(request_id, approve=True)


@bp.post("/status-requests/<int:request_id>/reject")
@doc(
    tags=["status requests"], body=DecisionIn, responses={200: StatusRequestOut}, errors=(400, 403, 404, 409)
)
def reject_status_request(request_id: int):
    """Reject a pending request with a reason (administrators other than the requester)."""
    return _decide(request_id, approve=False)


@bp.post("/status-requests/<int:request_id>/withdraw")
@doc(
    tags=["status requests"],
    body=EmptyIn,
    body_required=False,
    responses={200: StatusRequestOut},
    errors=(400, 403, 404, 409),
)
def withdraw_status_request(request_id: int):
    """Withdraw one's own pending request."""
    queries.get_status_request(db(), actor(), request_id)
    load_or_invalid(EmptyIn(), optional_json_body())
    return jsonify(_out(operations.withdraw_status_request(db(), actor(), request_id)))
