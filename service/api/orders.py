"""API: service orders — the client submits and cancels, the institute moves them on and records results."""

from __future__ import annotations

from flask import jsonify, request

from service.api import bp
from service.api.docs import doc, items_of
from service.api.helpers import json_body
from service.clock import now_utc
from service.orders import operations, queries
from service.orders.schemas import (
    OrderFilterIn,
    OrderIn,
    OrderOut,
    OrderSkipIn,
    TransitionIn,
)
from service.schemas import load_or_invalid
from service.traceability.schemas import RecordIn, RecordOut
from service.web.context import actor, base_url, db, today


def _out(order) -> dict:
    return OrderOut().dump(order)


@bp.get("/orders")
@doc(tags=["orders"], query=OrderFilterIn, responses={200: items_of(OrderOut)}, errors=(400,))
def list_orders():
    """Return your orders: your firm's, or an institute's from its clients (``state``: open by default)."""
    who = actor()
    if who.home_org_kind == "institute":
        orders = queries.institute_orders(db(), who, request.args.to_dict())
    else:
        load_or_invalid(OrderFilterIn(), request.args)  # a firm has one list, but a bad ``state`` is a 400
        orders = queries.firm_orders(db(), who)
    return jsonify({"items": [_out(o) for o in orders]})


@bp.post("/orders")
@doc(tags=["orders"], body=OrderIn, responses={201: OrderOut}, errors=(400, 403, 404))
def submit_order():
    """Submit an order to a linked institute (``instrument_ids`` or ``management_nos``); it is told."""
    order = operations.submit_order(db(), actor(), json_body(), today(), base_url(), now_utc())
    return jsonify(_out(order)), 201


@bp.get("/orders/<int:order_id>")
@doc(tags=["orders"], responses={200: OrderOut}, errors=(404,))
def get_order(order_id: int):
    """Return one order with its instruments and steps."""
    return jsonify(_out(queries.get_order(db(), actor(), order_id)))


@bp.post("/orders/<int:order_id>/transition")
@doc(tags=["orders"], body=TransitionIn, responses={200: OrderOut}, errors=(400, 403, 404, 409))
def transition_order(order_id: int):
    """Move an order on: accept, decline (``reason``), receive, start, complete, return, or cancel.

    A mail-in order is returned with the ``courier`` and ``tracking_no`` of the parcel back. The
    client is told of every change.
    """
    order = operations.transition(db(), actor(), order_id, json_body(), today(), base_url(), now_utc())
    return jsonify(_out(order))


@bp.post("/orders/<int:order_id>/items/<int:item_id>/result")
@doc(tags=["orders"], body=RecordIn, responses={201: RecordOut}, errors=(400, 404, 409))
def record_order_result(order_id: int, item_id: int):
    """Write an instrument's result into the client's ledger (a record; the certificate no. is issued)."""
    record = operations.record_item(db(), actor(), order_id, item_id, json_body(), today())
    return jsonify(RecordOut(base_url=base_url()).dump(record)), 201


@bp.post("/orders/<int:order_id>/items/<int:item_id>/skip")
@doc(tags=["orders"], body=OrderSkipIn, responses={200: OrderOut}, errors=(400, 404, 409))
def skip_order_item(order_id: int, item_id: int):
    """Record why an instrument got no result (``reason``)."""
    operations.skip_item(db(), actor(), order_id, item_id, json_body())
    return jsonify(_out(queries.get_order(db(), actor(), order_id)))
