"""API: the institute's workspace: the client directory, the due board (JSON and xlsx), technicians.

Institute users only; a firm's token gets 404 on every endpoint here.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import jsonify, request

from service.api import bp
from service.api.docs import File, doc, items_of
from service.api.helpers import json_body
from service.errors import NotFound
from service.i18n import N_
from service.validation import region_name
from service.visits import board, technicians
from service.visits.disciplines import DISCIPLINE_NAMES
from service.visits.schemas import (
    ClientOut,
    DayOffIn,
    DayOffOut,
    DueBoardOut,
    TechnicianIn,
    TechnicianOut,
)
from service.web.context import actor, db, today
from service.web.downloads import board_download
from service.web.i18n import translate

#: How far ahead a technician's ``days_off`` reach.
DAYS_OFF_AHEAD = 366


# Directory


@bp.get("/clients")
@doc(tags=["institute"], query=board.DirectoryFilter, responses={200: items_of(ClientOut)}, errors=(400, 404))
def list_clients():
    """List the institute's linked client firms with their contacts and instrument counts."""
    who = actor()
    board.require_institute(who)
    filters = board.parse_directory_filters(request.args.to_dict())
    entries = board.client_directory(db(), who, today(), filters)
    items = [
        {
            "id": e.firm.id,
            "slug": e.firm.slug,
            "name": e.firm.name,
            "link_id": e.link.id,
            "linked_at": e.link.created_at,
            "region_code": e.firm.region_code,
            "region": e.region,
            "industry": e.firm.industry,
            "size_class": e.firm.size_class,
            "is_sme": e.is_sme,
            "contacts": e.contacts,
            "counts": e.counts,
        }
        for e in entries
    ]
    return jsonify({"items": ClientOut(many=True).dump(items)})


# Due board


def _group_name(kind: str, key, clients) -> str | None:
    if key is None:
        return None
    if kind == "city":
        return region_name(key)
    if kind == "client":
        return clients[key].name
    return translate(DISCIPLINE_NAMES.get(key, key))


@bp.get("/due-board")
@doc(
    tags=["institute"],
    description=(
        "Instruments still in use (in service, out for calibration, under repair) of every client firm "
        "with an active link to your institute, due by today + `within` days, overdue ones included; "
        "counted by city (or directly administered county), client and discipline."
    ),
    query=board.BoardFilter,
    responses={200: DueBoardOut},
    errors=(400, 404),
)
def due_board():
    """Return the linked clients' instruments due within a window, overdue ones included, with counts."""
    who = actor()
    board.require_institute(who)
    filters = board.parse_board_filters(request.args.to_dict())
    result = board.due_board(db(), who, today(), filters)
    groups = {
        kind: [
            {
                "key": g.key,
                "name": _group_name(kind, g.key, result.clients),
                "count": g.count,
                "overdue": g.overdue,
                "mandatory": g.mandatory,
            }
            for g in lines
        ]
        for kind, lines in (
            ("city", result.by_region),
            ("client", result.by_client),
            ("discipline", result.by_discipline),
        )
    }
    items = [
        {
            "id": i.id,
            "client_id": i.client_id,
            "client": i.client_slug,
            "client_name": i.client_name,
            "region_code": i.region_code,
            "region": region_name(i.region_code),
            "management_no": i.management_no,
            "name": i.name,
            "model": i.model,
            "serial_no": i.serial_no,
            "location": i.location,
            "discipline": i.discipline,
            "next_due_on": i.next_due_on,
            "days_left": i.days_left,
            "is_overdue": i.is_overdue,
            "is_mandatory": i.is_mandatory,
            "status": i.status,
        }
        for i in result.items
    ]
    body = {
        "today": result.today,
        "last": result.last,
        "within": filters["within"],
        "total": len(result.items),
        "overdue": result.overdue,
        "groups": groups,
        "items": items,
    }
    return jsonify(DueBoardOut().dump(body))


@bp.get("/due-board.xlsx")
@doc(
    tags=["institute"],
    query=board.BoardFilter,
    responses={200: File("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
    errors=(400, 404),
)
def due_board_xlsx():
    """Download the due board, with the same filters, as xlsx in your language.

    Sheets: the instruments (client, city, management no., name, discipline, due date, days left,
    mandatory, status …) and the counts by city, client and discipline. Text cells never run as
    formulas.
    """
    return board_download(request.args.to_dict())


# Technicians


def _technician_out(technician, days_off) -> dict:
    return TechnicianOut(days_off=days_off).dump(technician)


def _days_off(technician_id: int | None = None) -> dict:
    first, last = today(), today() + timedelta(days=DAYS_OFF_AHEAD)
    return board.upcoming_days_off(db(), actor(), first, last, technician_id)


@bp.get("/technicians")
@doc(tags=["institute"], responses={200: items_of(TechnicianOut)}, errors=(404,))
def list_technicians():
    """List the institute's technicians by name, with their days off from today up to a year ahead."""
    found = technicians.list_technicians(db(), actor())
    return jsonify({"items": TechnicianOut(days_off=_days_off(), many=True).dump(found)})


@bp.post("/technicians")
@doc(tags=["institute"], body=TechnicianIn, responses={201: TechnicianOut}, errors=(400, 403, 404, 409))
def create_technician():
    """Add a technician (administrators)."""
    technician = technicians.save_technician(db(), actor(), json_body())
    return jsonify(_technician_out(technician, {})), 201


@bp.get("/technicians/<int:technician_id>")
@doc(tags=["institute"], responses={200: TechnicianOut}, errors=(404,))
def get_technician(technician_id: int):
    """Return one technician with their days off from today up to a year ahead."""
    technician = technicians.get_technician(db(), actor(), technician_id)
    return jsonify(_technician_out(technician, _days_off(technician.id)))


@bp.put("/technicians/<int:technician_id>")
@doc(tags=["institute"], body=TechnicianIn, responses={200: TechnicianOut}, errors=(400, 403, 404, 409))
def update_technician(technician_id: int):
    """Replace a technician's details (administrators): the whole technician again."""
    technicians.get_technician(db(), actor(), technician_id)  # another institute's id: 404 whatever the body
    technician = technicians.save_technician(db(), actor(), json_body(), technician_id)
    return jsonify(_technician_out(technician, _days_off(technician.id)))


@bp.post("/technicians/<int:technician_id>/days-off")
@doc(tags=["institute"], body=DayOffIn, responses={201: DayOffOut}, errors=(400, 403, 404))
def add_day_off(technician_id: int):
    """Mark a day a technician is away (administrators); visit plans then leave them out of it.

    Adding a day that is already off changes nothing and answers with that day.
    """
    technicians.get_technician(db(), actor(), technician_id)
    day_off = technicians.add_day_off(db(), actor(), technician_id, json_body())
    return jsonify(DayOffOut().dump(day_off)), 201


@bp.delete("/technicians/<int:technician_id>/days-off/<day>")
@doc(tags=["institute"], responses={204: "Available again."}, errors=(403, 404))
def remove_day_off(technician_id: int, day: str):
    """Make a technician available again on a day (administrators); a day not off changes nothing."""
    technicians.get_technician(db(), actor(), technician_id)
    try:
        parsed = date.fromisoformat(day) if len(day) == 10 else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise NotFound(N_("Not found."))  # not a day: no such resource
    technicians.remove_day_off(db(), actor(), technician_id, parsed)
    return "", 204
