"""API: instruments, bulk edits and their history."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from flask import jsonify, request

from service.api import bp
from service.api.docs import doc, items_of
from service.api.helpers import json_body
from service.history.queries import timeline
from service.history.schemas import EventOut
from service.ledger import operations, queries
from service.ledger.queries import InstrumentFilter
from service.ledger.schemas import BulkEditIn, InstrumentIn, InstrumentOut
from service.schemas import load_or_invalid, plain_dumper
from service.web.context import actor, db, today


def _out(instrument) -> dict:
    return InstrumentOut(today()).dump(instrument)


def _out_many(instruments) -> list[dict]:
    dump = _dumper_on(today())
    return [dump(instrument) for instrument in instruments]


@lru_cache(maxsize=8)
def _dumper_on(day: date):
    # Built once a day and zone (a schema deep-copies its 36 fields) and dumping with the plain
    # dumper: marshmallow's own dump was three quarters of an API page's time.
    return plain_dumper(InstrumentOut(day))


@bp.get("/instruments")
@doc(
    tags=["instruments"],
    summary="List instruments, one page at a time.",
    description=(
        "Pass `next_cursor` of a page as `cursor` (with the same filters and sort) to get the next "
        "one; `next_cursor` is null on the last page."
    ),
    query=InstrumentFilter,
    responses={200: items_of(InstrumentOut, cursor=True)},
    errors=(400, 404),
)
def list_instruments():
    """List instruments with filters and a keyset cursor."""
    page = queries.list_instruments(db(), actor(), queries.parse_filters(request.args), today())
    return jsonify({"items": _out_many(page.items), "next_cursor": page.next_cursor})


@bp.post("/instruments")
@doc(tags=["instruments"], body=InstrumentIn, responses={201: InstrumentOut}, errors=(400, 403, 404))
def create_instrument():
    """Add an instrument."""
    instrument = operations.create_instrument(db(), actor(), json_body(), today())
    return jsonify(_out(instrument)), 201


@bp.get("/instruments/<int:instrument_id>")
@doc(tags=["instruments"], responses={200: InstrumentOut}, errors=(404,))
def get_instrument(instrument_id: int):
    """Return one instrument."""
    return jsonify(_out(queries.get_instrument(db(), actor(), instrument_id)))


@bp.patch("/instruments/<int:instrument_id>")
@doc(
    tags=["instruments"],
    summary="Change the given fields only; the others keep their values.",
    description=(
        "Status changes other than sending out for calibration, back into service or under repair need "
        "an approved status request."
    ),
    body=InstrumentIn(partial=True),
    responses={200: InstrumentOut},
    errors=(400, 403, 404),
)
def update_instrument(instrument_id: int):
    """Change some of an instrument's fields."""
    queries.get_instrument(db(), actor(), instrument_id)  # another firm's id is 404 whatever the body
    instrument = operations.update_instrument(
        db(), actor(), instrument_id, json_body(), today(), partial=True
    )
    return jsonify(_out(instrument))


@bp.post("/instruments/bulk")
@doc(tags=["instruments"], body=BulkEditIn, responses={200: items_of(InstrumentOut)}, errors=(400, 403, 404))
def bulk_edit():
    """Apply the same changes to many instruments, all or nothing."""
    data = load_or_invalid(BulkEditIn(), json_body())
    changed = operations.bulk_edit(db(), actor(), data["ids"], data["changes"], today())
    return jsonify({"items": _out_many(changed)})


@bp.get("/instruments/<int:instrument_id>/history")
@doc(tags=["instruments"], responses={200: items_of(EventOut)}, errors=(404,))
def instrument_history(instrument_id: int):
    """Return an instrument's history, newest first."""
    instrument = queries.get_instrument(db(), actor(), instrument_id)
    events = timeline(db(), actor(), "instrument", instrument.id)
    return jsonify({"items": EventOut(many=True).dump(events)})
