"""API: instruments, their history and status requests."""

from __future__ import annotations

from flask import jsonify, request

from service.api import bp
from service.api.helpers import json_body
from service.ledger import operations, queries
from service.ledger.schemas import InstrumentOut
from service.web.context import actor, db, today


def _out(instrument) -> dict:
    return InstrumentOut(today()).dump(instrument)


@bp.get("/instruments")
def list_instruments():
    """List instruments with filters and a keyset cursor.

    ---
    get:
      tags: [instruments]
      parameters:
        - {in: query, name: q, schema: {type: string}, description: 'in name, management or serial no.'}
        - {in: query, name: management_no, schema: {type: string}}
        - {in: query, name: status, schema: {type: string}}
        - {in: query, name: department, schema: {type: string}, description: department id or name}
        - {in: query, name: label, schema: {type: string, enum: [green, yellow, red]}}
        - {in: query, name: is_mandatory, schema: {type: boolean}}
        - {in: query, name: due_within, schema: {type: integer}, description: days from today}
        - {in: query, name: overdue, schema: {type: boolean}}
        - {in: query, name: sort, schema: {type: string}}
        - {in: query, name: cursor, schema: {type: string}}
        - {in: query, name: limit, schema: {type: integer, maximum: 500}}
      responses:
        200:
          description: '{"items": [Instrument], "next_cursor": string|null}'
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
        content:
          application/json:
            schema: InstrumentIn
      responses:
        201:
          content:
            application/json:
              schema: InstrumentOut
        400:
          description: Invalid fields, with a message per field.
    """
    instrument = operations.create_instrument(db(), actor(), json_body(), today())
    return jsonify(_out(instrument)), 201


@bp.get("/instruments/<int:instrument_id>")
def get_instrument(instrument_id: int):
    """Return one instrument.

    ---
    get:
      tags: [instruments]
      parameters:
        - {in: path, name: instrument_id, required: true, schema: {type: integer}}
      responses:
        200:
          content:
            application/json:
              schema: InstrumentOut
        404:
          description: No such instrument in your organisation.
    """
    return jsonify(_out(queries.get_instrument(db(), actor(), instrument_id)))
