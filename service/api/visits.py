"""API: calibration visits — the plan, creating visits, the client's answer, results on site."""

from __future__ import annotations

from flask import jsonify, request
from marshmallow import fields

from service.api import bp
from service.api.helpers import json_body
from service.clock import now_utc
from service.errors import Invalid
from service.i18n import N_
from service.schemas import StrictSchema, int_range, load_or_invalid
from service.scoping import MAX_ID
from service.traceability.schemas import RecordOut
from service.visits import operations, proposals, queries
from service.visits.operations import NewVisit
from service.visits.schemas import PlanIn
from service.web.context import actor, base_url, db, today


class VisitItemOut(StrictSchema):
    """An instrument of a visit and its outcome."""

    id = fields.Integer()
    instrument_id = fields.Integer()
    management_no = fields.String(attribute="instrument.management_no")
    name = fields.String(attribute="instrument.name")
    technician_id = fields.Integer(allow_none=True)
    due_on = fields.Date(allow_none=True)
    state = fields.String()
    record_id = fields.Integer(allow_none=True)
    skip_reason = fields.String(allow_none=True)


class VisitOut(StrictSchema):
    """A calibration visit of an institute to a client firm."""

    id = fields.Integer()
    institute_id = fields.Integer()
    firm_id = fields.Integer()
    planned_on = fields.Date()
    state = fields.String()
    earliest_due_on = fields.Date(allow_none=True)
    requested_on = fields.Date(allow_none=True)
    client_note = fields.String(allow_none=True)
    answered_by_name = fields.String(allow_none=True)
    items = fields.List(fields.Nested(VisitItemOut))


class VisitItemIn(StrictSchema):
    """An instrument to put on a visit, and who calibrates it."""

    instrument_id = fields.Integer(required=True, validate=int_range(1, MAX_ID))
    technician_id = fields.Integer(allow_none=True, validate=int_range(1, MAX_ID))


class VisitIn(StrictSchema):
    """A visit to propose to a linked client."""

    firm_id = fields.Integer(required=True, validate=int_range(1, MAX_ID))
    planned_on = fields.Date(required=True)
    items = fields.List(fields.Nested(VisitItemIn), required=True)


class VisitsIn(StrictSchema):
    """Visits to propose (for example those of ``GET /visits/plan`` you keep)."""

    visits = fields.List(fields.Nested(VisitIn), required=True)


def _out(visit) -> dict:
    return VisitOut().dump(visit)


def _visit(visit_id: int):
    """Return the visit as the actor's side sees it (the institute's, or the client's)."""
    who = actor()
    if who.home_org_kind == "institute":
        return queries.get_institute_visit(db(), who, visit_id)
    return queries.get_firm_visit(db(), who, visit_id)


@bp.get("/visits")
def list_visits():
    """Return your visits: an institute's to its clients, or those proposed to your firm.

    ---
    get:
      tags: [visits]
      responses:
        200:
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: VisitOut}
    """
    who = actor()
    if who.home_org_kind == "institute":
        visits = queries.institute_visits(db(), who)
    else:
        visits = queries.firm_visits(db(), who)
    return jsonify({"items": [_out(v) for v in visits]})


@bp.get("/visits/plan")
def plan_visits():
    """Propose visits for ``from`` (YYYY-MM-DD) and ``days``, as ``flask visits plan`` prints them.

    ---
    get:
      tags: [visits]
      parameters:
        - {name: from, in: query, required: true, schema: {type: string, format: date}}
        - {name: days, in: query, required: true, schema: {type: integer}}
      responses:
        200:
          description: "{visits: [...], unplaced: [...]}"
        400: Invalid
        404: NotFound
    """
    window = load_or_invalid(PlanIn(), {"from": request.args.get("from"), "days": request.args.get("days")})
    return jsonify(proposals.propose(db(), actor(), window["start"], window["days"]).as_json())


@bp.post("/visits")
def create_visits():
    """Propose visits to linked clients; each client is told and asked to confirm.

    ---
    post:
      tags: [visits]
      requestBody:
        required: true
        content:
          application/json:
            schema: VisitsIn
      responses:
        201:
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: VisitOut}
        400: Invalid
        403: Forbidden
        404: NotFound
        409: Conflict
    """
    data = load_or_invalid(VisitsIn(), json_body())
    planned = []
    for visit in data["visits"]:
        if not visit["items"]:
            raise Invalid(
                N_("Please correct the marked fields."), {"items": [N_("A visit needs instruments.")]}
            )
        assignments = {i["instrument_id"]: i.get("technician_id") for i in visit["items"]}
        planned.append(NewVisit(visit["firm_id"], visit["planned_on"], assignments))
    created = operations.create_visits(db(), actor(), planned, today(), base_url(), now_utc())
    return jsonify({"items": [_out(v) for v in created]}), 201


@bp.get("/visits/<int:visit_id>")
def get_visit(visit_id: int):
    """Return one visit with its instruments.

    ---
    get:
      tags: [visits]
      parameters: [visit_id]
      responses:
        200:
          content:
            application/json:
              schema: VisitOut
        404: NotFound
    """
    return jsonify(_out(_visit(visit_id)))


@bp.post("/visits/<int:visit_id>/answer")
def answer_visit(visit_id: int):
    """The client confirms (``{"answer": "confirm"}``) or asks for ``requested_on`` instead.

    ---
    post:
      tags: [visits]
      parameters: [visit_id]
      requestBody:
        required: true
        content:
          application/json:
            schema: AnswerIn
      responses:
        200:
          content:
            application/json:
              schema: VisitOut
        400: Invalid
        403: Forbidden
        404: NotFound
        409: Conflict
    """
    return jsonify(
        _out(operations.answer(db(), actor(), visit_id, json_body(), today(), base_url(), now_utc()))
    )


@bp.post("/visits/<int:visit_id>/move")
def move_visit(visit_id: int):
    """Move an open visit to ``planned_on``; the client is asked again.

    ---
    post:
      tags: [visits]
      parameters: [visit_id]
      requestBody:
        required: true
        content:
          application/json:
            schema: MoveIn
      responses:
        200:
          content:
            application/json:
              schema: VisitOut
        400: Invalid
        403: Forbidden
        404: NotFound
        409: Conflict
    """
    return jsonify(
        _out(operations.move(db(), actor(), visit_id, json_body(), today(), base_url(), now_utc()))
    )


@bp.post("/visits/<int:visit_id>/cancel")
def cancel_visit(visit_id: int):
    """Cancel an open visit; the client is told.

    ---
    post:
      tags: [visits]
      parameters: [visit_id]
      responses:
        200:
          content:
            application/json:
              schema: VisitOut
        403: Forbidden
        404: NotFound
        409: Conflict
    """
    return jsonify(_out(operations.cancel(db(), actor(), visit_id, today(), base_url(), now_utc())))


@bp.post("/visits/<int:visit_id>/items/<int:item_id>/result")
def record_visit_result(visit_id: int, item_id: int):
    """Write an instrument's result into the client's ledger (a record; the certificate no. is issued).

    ---
    post:
      tags: [visits]
      parameters: [visit_id, item_id]
      requestBody:
        required: true
        content:
          application/json:
            schema: RecordIn
      responses:
        201:
          content:
            application/json:
              schema: RecordOut
        400: Invalid
        404: NotFound
        409: Conflict
    """
    record = operations.record_item(db(), actor(), visit_id, item_id, json_body(), today())
    return jsonify(RecordOut(base_url=base_url()).dump(record)), 201


@bp.post("/visits/<int:visit_id>/items/<int:item_id>/skip")
def skip_visit_item(visit_id: int, item_id: int):
    """Record why an instrument got no result (``reason``).

    ---
    post:
      tags: [visits]
      parameters: [visit_id, item_id]
      requestBody:
        required: true
        content:
          application/json:
            schema: SkipIn
      responses:
        200:
          content:
            application/json:
              schema: VisitOut
        400: Invalid
        404: NotFound
        409: Conflict
    """
    operations.skip_item(db(), actor(), visit_id, item_id, json_body())
    return jsonify(_out(_visit(visit_id)))
