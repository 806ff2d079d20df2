"""API: nonconformity cases — list, read with the suspect window's users, open, assess, close."""

from __future__ import annotations

from flask import jsonify, request

from service.api import bp
from service.api.helpers import json_body
from service.errors import Invalid
from service.i18n import N_
from service.ledger.queries import get_instrument
from service.nonconformity import operations, queries
from service.nonconformity.schemas import CaseOut, ExposureOut
from service.web.context import actor, db, today

STATES = {"open": "open", "closed": "closed", "all": None}


def _out(case, with_exposure: bool = False) -> dict:
    body = CaseOut().dump(case)
    if with_exposure:
        body["exposure"] = ExposureOut(many=True).dump(queries.exposure(db(), actor(), case))
    return body


@bp.get("/nonconformity")
def list_cases():
    """Return the organisation's cases: ``state`` = open (default), closed or all.

    ---
    get:
      tags: [nonconformity]
      parameters:
        - {name: state, in: query, schema: {type: string, enum: [open, closed, all]}}
      responses:
        200:
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: CaseOut}
        400: Invalid
    """
    state = request.args.get("state", "open")
    if state not in STATES:
        raise Invalid(
            N_("Please correct the marked fields."), {"state": [N_("Must be open, closed or all.")]}
        )
    return jsonify({"items": [_out(c) for c in queries.list_cases(db(), actor(), STATES[state])]})


@bp.get("/nonconformity/<int:case_id>")
def get_case(case_id: int):
    """Return one case with ``exposure``: who used the instrument, where, in the suspect window.

    ---
    get:
      tags: [nonconformity]
      parameters: [case_id]
      responses:
        200:
          content:
            application/json:
              schema: CaseOut
        404: NotFound
    """
    return jsonify(_out(queries.get_case(db(), actor(), case_id), with_exposure=True))


@bp.post("/instruments/<int:instrument_id>/nonconformity")
def open_case(instrument_id: int):
    """Report an instrument as nonconforming (``description``); it is taken out of service at once.

    ---
    post:
      tags: [nonconformity]
      parameters: [instrument_id]
      requestBody:
        required: true
        content:
          application/json:
            schema: OpeningIn
      responses:
        201:
          content:
            application/json:
              schema: CaseOut
        400: Invalid
        403: Forbidden
        404: NotFound
        409: Conflict
    """
    get_instrument(db(), actor(), instrument_id)  # another firm's id is 404 whatever the body
    case = operations.open_case(db(), actor(), instrument_id, json_body(), today())
    return jsonify(_out(case, with_exposure=True)), 201


@bp.post("/nonconformity/<int:case_id>/assessment")
def assess_case(case_id: int):
    """Record the impact assessment (``impact_assessment``) of an open case.

    ---
    post:
      tags: [nonconformity]
      parameters: [case_id]
      requestBody:
        required: true
        content:
          application/json:
            schema: AssessmentIn
      responses:
        200:
          content:
            application/json:
              schema: CaseOut
        400: Invalid
        403: Forbidden
        404: NotFound
        409: Conflict
    """
    queries.get_case(db(), actor(), case_id)
    return jsonify(_out(operations.assess(db(), actor(), case_id, json_body(), today())))


@bp.post("/nonconformity/<int:case_id>/closing")
def close_case(case_id: int):
    """Approve a disposition and close the case (firm administrators); the instrument follows it.

    ---
    post:
      tags: [nonconformity]
      parameters: [case_id]
      requestBody:
        required: true
        content:
          application/json:
            schema: ClosingIn
      responses:
        200:
          content:
            application/json:
              schema: CaseOut
        400: Invalid
        403: Forbidden
        404: NotFound
        409: Conflict
    """
    queries.get_case(db(), actor(), case_id)
    return jsonify(_out(operations.close(db(), actor(), case_id, json_body(), today())))
