"""API: instruments, bulk edits and their history."""

from __future__ import annotations

from flask import jsonify, request

from service.api import bp
from service.api.helpers import json_body
from service.api.schemas import BulkEditIn, EventOut
from service.history.queries import timeline
from service.ledger import operations, queries
from service.ledger.schemas import InstrumentOut
from service.schemas import load_or_invalid
from service.web.context import actor, db, today


def _out(instrument) -> dict:
    return InstrumentOut(today()).dump(instrument)


@bp.get("/instruments")
def list_instruments():
    """List instruments with filters and a keyset cursor.

    ---
    get:
      tags: [instruments]
      summary: List instruments, one page at a time.
      description: >-
        Pass `next_cursor` of a page as `cursor` (with the same filters and sort) to get the next
        one; `next_cursor` is null on the last page.
      parameters:
        - {in: query, name: q, schema: {type: string, maxLength: 100},
           description: 'Part of the name, management number or serial number.'}
        - {in: query, name: management_no, schema: {type: string, maxLength: 64}}
        - {in: query, name: status, schema: {type: string, enum: [in_service, out_for_calibration, suspended,
           sealed, under_repair, scrapped]}}
        - {in: query, name: department, schema: {type: string}, description: A department's id or name.}
        - {in: query, name: label, schema: {type: string, enum: [green, yellow, red]}}
        - {in: query, name: abc_class, schema: {type: string, enum: [A, B, C]}}
        - {in: query, name: is_mandatory, schema: {type: boolean}}
        - {in: query, name: due_within, schema: {type: integer, minimum: 0, maximum: 3650},
           description: 'Instruments in use falling due between today and today + N days.'}
        - {in: query, name: overdue, schema: {type: boolean},
           description: Instruments in use past their due date.}
        - {in: query, name: in_use, schema: {type: boolean},
           description: 'Only instruments in service, out for calibration or under repair.'}
        - {in: query, name: due_from, schema: {type: string, format: date}}
        - {in: query, name: due_to, schema: {type: string, format: date}}
        - {in: query, name: sort, schema: {type: string, default: next_due_on,
           enum: [next_due_on, -next_due_on, management_no, -management_no, name, -name, updated_at,
                  -updated_at]}}
        - {in: query, name: cursor, schema: {type: string}}
        - {in: query, name: limit, schema: {type: integer, minimum: 1, maximum: 500, default: 50}}
      responses:
        200:
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: InstrumentOut}
                  next_cursor: {type: string, nullable: true}
        400: Invalid
        404: NotFound
    """
    page = queries.list_instruments(db(), actor(), queries.parse_filters(request.args), today())
    return jsonify({"items": [_out(i) for i in page.items], "next_cursor": page.next_cursor})


@bp.post("/instruments")
def create_instrument():
    """Add an instrument.

    ---
    post:
      tags: [instruments]
      requestBody:
        required: true
        content:
          application/json:
            schema: InstrumentIn
      responses:
        201:
          content:
            application/json:
              schema: InstrumentOut
        400: Invalid
        403: Forbidden
        404: NotFound
    """
    instrument = operations.create_instrument(db(), actor(), json_body(), today())
    return jsonify(_out(instrument)), 201


@bp.get("/instruments/<int:instrument_id>")
def get_instrument(instrument_id: int):
    """Return one instrument.

    ---
    get:
      tags: [instruments]
      parameters: [instrument_id]
      responses:
        200:
          content:
            application/json:
              schema: InstrumentOut
        404: NotFound
    """
    return jsonify(_out(queries.get_instrument(db(), actor(), instrument_id)))


@bp.patch("/instruments/<int:instrument_id>")
def update_instrument(instrument_id: int):
    """Change some of an instrument's fields.

    ---
    patch:
      tags: [instruments]
      summary: Change the given fields only; the others keep their values.
      description: >-
        Status changes other than sending out for calibration, back into service or under repair
        need an approved status request.
      parameters: [instrument_id]
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/InstrumentPatch'}
      responses:
        200:
          content:
            application/json:
              schema: InstrumentOut
        400: Invalid
        403: Forbidden
        404: NotFound
    """
    queries.get_instrument(db(), actor(), instrument_id)  # another firm's id is 404 whatever the body
    instrument = operations.update_instrument(
        db(), actor(), instrument_id, json_body(), today(), partial=True
    )
    return jsonify(_out(instrument))


@bp.post("/instruments/bulk")
def bulk_edit():
    """Apply the same changes to many instruments, all or nothing.

    ---
    post:
      tags: [instruments]
      requestBody:
        required: true
        content:
          application/json:
            schema: BulkEditIn
      responses:
        200:
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: InstrumentOut}
        400: Invalid
        403: Forbidden
        404: NotFound
    """
    data = load_or_invalid(BulkEditIn(), json_body())
    changed = operations.bulk_edit(db(), actor(), data["ids"], data["changes"], today())
    return jsonify({"items": [_out(i) for i in changed]})


@bp.get("/instruments/<int:instrument_id>/history")
def instrument_history(instrument_id: int):
    """Return an instrument's history, newest first.

    ---
    get:
      tags: [instruments]
      parameters: [instrument_id]
      responses:
        200:
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: EventOut}
        404: NotFound
    """
    instrument = queries.get_instrument(db(), actor(), instrument_id)
    events = timeline(db(), actor(), "instrument", instrument.id)
    return jsonify({"items": EventOut(many=True).dump(events)})
