"""API: service orders — the client submits and cancels, the institute moves them on and records results."""

from __future__ import annotations

from flask import jsonify, request
from marshmallow import fields

from service.api import bp
from service.api.helpers import json_body
from service.clock import now_utc
from service.orders import operations, queries
from service.schemas import StrictSchema
from service.traceability.schemas import RecordOut
from service.web.context import actor, base_url, db, today


class OrderItemOut(StrictSchema):
    """An instrument of an order and its outcome."""

    id = fields.Integer()
    instrument_id = fields.Integer()
    management_no = fields.String(attribute="instrument.management_no")
    name = fields.String(attribute="instrument.name")
    status = fields.String(attribute="instrument.status")
    state = fields.String()
    record_id = fields.Integer(allow_none=True)
    skip_reason = fields.String(allow_none=True)


class OrderStepOut(StrictSchema):
    """One change of an order's state: by which side and person, when, and why."""

    state = fields.String()
    side = fields.String()
    actor_name = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    at = fields.DateTime()


class OrderOut(StrictSchema):
    """A client's service order to an institute."""

    id = fields.Integer()
    institute_id = fields.Integer()
    firm_id = fields.Integer()
    method = fields.String()
    state = fields.String()
    courier = fields.String(allow_none=True)
    tracking_no = fields.String(allow_none=True)
    return_courier = fields.String(allow_none=True)
    return_tracking_no = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    submitted_by_name = fields.String(allow_none=True)
    created_at = fields.DateTime()
    items = fields.List(fields.Nested(OrderItemOut))
    steps = fields.List(fields.Nested(OrderStepOut))


def _out(order) -> dict:
    return OrderOut().dump(order)


@bp.get("/orders")
def list_orders():
    """Return your orders: your firm's, or an institute's from its clients (``state``: open by default).

    ---
    get:
      tags: [orders]
      parameters:
        - name: state
          in: query
          description: "Institutes: one state, `open` (default) or `all`."
          schema: {type: string}
      responses:
        200:
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: OrderOut}
        400: Invalid
    """
    who = actor()
    if who.home_org_kind == "institute":
        orders = queries.institute_orders(db(), who, request.args.to_dict())
    else:
        orders = queries.firm_orders(db(), who)
    return jsonify({"items": [_out(o) for o in orders]})


@bp.post("/orders")
def submit_order():
    """Submit an order to a linked institute (``instrument_ids`` or ``management_nos``); it is told.

    ---
    post:
      tags: [orders]
      requestBody:
        required: true
        content:
          application/json:
            schema: OrderIn
      responses:
        201:
          content:
            application/json:
              schema: OrderOut
        400: Invalid
        403: Forbidden
        404: NotFound
    """
    order = operations.submit_order(db(), actor(), json_body(), today(), base_url(), now_utc())
    return jsonify(_out(order)), 201


@bp.get("/orders/<int:order_id>")
def get_order(order_id: int):
    """Return one order with its instruments and steps.

    ---
    get:
      tags: [orders]
      parameters: [order_id]
      responses:
        200:
          content:
            application/json:
              schema: OrderOut
        404: NotFound
    """
    return jsonify(_out(queries.get_order(db(), actor(), order_id)))


@bp.post("/orders/<int:order_id>/transition")
def transition_order(order_id: int):
    """Move an order on: accept, decline (``reason``), receive, start, complete, return, or cancel.

    A mail-in order is returned with the ``courier`` and ``tracking_no`` of the parcel back. The
    client is told of every change.

    ---
    post:
      tags: [orders]
      parameters: [order_id]
      requestBody:
        required: true
        content:
          application/json:
            schema: TransitionIn
      responses:
        200:
          content:
            application/json:
              schema: OrderOut
        400: Invalid
        403: Forbidden
        404: NotFound
        409: Conflict
    """
    order = operations.transition(db(), actor(), order_id, json_body(), today(), base_url(), now_utc())
    return jsonify(_out(order))


@bp.post("/orders/<int:order_id>/items/<int:item_id>/result")
def record_order_result(order_id: int, item_id: int):
    """Write an instrument's result into the client's ledger (a record; the certificate no. is issued).

    ---
    post:
      tags: [orders]
      parameters: [order_id, item_id]
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
    record = operations.record_item(db(), actor(), order_id, item_id, json_body(), today())
    return jsonify(RecordOut(base_url=base_url()).dump(record)), 201


@bp.post("/orders/<int:order_id>/items/<int:item_id>/skip")
def skip_order_item(order_id: int, item_id: int):
    """Record why an instrument got no result (``reason``).

    ---
    post:
      tags: [orders]
      parameters: [order_id, item_id]
      requestBody:
        required: true
        content:
          application/json:
            schema: OrderSkipIn
      responses:
        200:
          content:
            application/json:
              schema: OrderOut
        400: Invalid
        404: NotFound
        409: Conflict
    """
    operations.skip_item(db(), actor(), order_id, item_id, json_body())
    return jsonify(_out(queries.get_order(db(), actor(), order_id)))
