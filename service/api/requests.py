"""API: maker-checker status requests (suspend, resume, seal, unseal, replace, scrap)."""

from __future__ import annotations

from flask import jsonify, request

from service.api import bp
from service.api.helpers import json_body, optional_json_body
from service.api.schemas import DecisionIn, EmptyIn, StatusRequestIn, StatusRequestOut, StatusRequestQuery
from service.ledger import operations, queries
from service.schemas import load_or_invalid
from service.web.context import actor, db


def _out(status_request) -> dict:
    return StatusRequestOut().dump(status_request)


@bp.get("/instruments/<int:instrument_id>/status-requests")
def instrument_status_requests(instrument_id: int):
    """Return every status request of one instrument, newest first.

    ---
    get:
      tags: [status requests]
      parameters: [instrument_id]
      responses:
        200:
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: StatusRequestOut}
        404: NotFound
    """
    instrument = queries.get_instrument(db(), actor(), instrument_id)
    found = queries.requests_for_instrument(db(), actor(), instrument.id)
    return jsonify({"items": [_out(r) for r in found]})


@bp.post("/instruments/<int:instrument_id>/status-requests")
def request_status_change(instrument_id: int):
    """Ask for a status change that an administrator other than the requester decides.

    ---
    post:
      tags: [status requests]
      parameters: [instrument_id]
      requestBody:
        required: true
        content:
          application/json:
            schema: StatusRequestIn
      responses:
        201:
          content:
            application/json:
              schema: StatusRequestOut
        400: Invalid
        403: Forbidden
        404: NotFound
        409: Conflict
    """
    queries.get_instrument(db(), actor(), instrument_id)  # another firm's id is 404 whatever the body
    data = load_or_invalid(StatusRequestIn(), json_body())
    created = operations.request_status_change(
        db(), actor(), instrument_id, data["action"], data.get("reason"), data.get("replacement_id")
    )
    return jsonify(_out(created)), 201


@bp.get("/status-requests")
def list_status_requests():
    """List the organisation's status requests in one state, newest first (at most 500).

    ---
    get:
      tags: [status requests]
      parameters:
        - {in: query, name: state, schema: {type: string, default: pending,
           enum: [pending, approved, rejected, withdrawn, all]}}
      responses:
        200:
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: StatusRequestOut}
        400: Invalid
    """
    state = load_or_invalid(StatusRequestQuery(), request.args)["state"]
    found = queries.list_status_requests(db(), actor(), None if state == "all" else state)
    return jsonify({"items": [_out(r) for r in found]})


def _decide(request_id: int, approve: bool):
    queries.get_status_request(db(), actor(), request_id)  # another firm's id is 404 whatever the body
    reason = load_or_invalid(DecisionIn(), optional_json_body()).get("reason")
    decided = operations.decide_status_request(db(), actor(), request_id, approve, reason)
    return jsonify(_out(decided))


@bp.post("/status-requests/<int:request_id>/approve")
def approve_status_request(request_id: int):
    """Approve a pending request (administrators other than the requester); the status changes.

    ---
    post:
      tags: [status requests]
      parameters: [request_id]
      requestBody:
        required: false
        content:
          application/json:
            schema: DecisionIn
      responses:
        200:
          content:
            application/json:
              schema: StatusRequestOut
        400: Invalid
        403: Forbidden
        404: NotFound
        409: Conflict
    """
    return _decide(request_id, approve=True)


@bp.post("/status-requests/<int:request_id>/reject")
def reject_status_request(request_id: int):
    """Reject a pending request with a reason (administrators other than the requester).

    ---
    post:
      tags: [status requests]
      parameters: [request_id]
      requestBody:
        required: true
        content:
          application/json:
            schema: DecisionIn
      responses:
        200:
          content:
            application/json:
              schema: StatusRequestOut
        400: Invalid
        403: Forbidden
        404: NotFound
        409: Conflict
    """
    return _decide(request_id, approve=False)


@bp.post("/status-requests/<int:request_id>/withdraw")
def withdraw_status_request(request_id: int):
    """Withdraw one's own pending request.

    ---
    post:
      tags: [status requests]
      parameters: [request_id]
      responses:
        200:
          content:
            application/json:
              schema: StatusRequestOut
        400: Invalid
        403: Forbidden
        404: NotFound
        409: Conflict
    """
    queries.get_status_request(db(), actor(), request_id)
    load_or_invalid(EmptyIn(), optional_json_body())
    return jsonify(_out(operations.withdraw_status_request(db(), actor(), request_id)))
