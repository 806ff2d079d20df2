"""API: the institute's workspace: the client directory, the due board (JSON and xlsx), technicians.

Institute users only; a firm's token gets 404 on every endpoint here.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import jsonify, request
from marshmallow import fields

from service.api import bp
from service.api.helpers import json_body
from service.errors import NotFound
from service.i18n import N_
from service.schemas import StrictSchema
from service.validation import region_name
from service.visits import board, technicians
from service.visits.disciplines import DISCIPLINE_NAMES, DISCIPLINES
from service.web.context import actor, db, today
from service.web.downloads import board_download
from service.web.i18n import translate

#: How far ahead a technician's ``days_off`` reach.
DAYS_OFF_AHEAD = 366


class ClientCountsOut(StrictSchema):
    """A client's instrument counts; due and overdue count instruments still in use."""

    instruments = fields.Integer()
    due_30 = fields.Integer(metadata={"description": "Due from today to today + 30 days."})
    due_90 = fields.Integer(metadata={"description": "Due from today to today + 90 days."})
    overdue = fields.Integer()
    mandatory_overdue = fields.Integer(metadata={"description": "Overdue and under mandatory verification."})


class ContactOut(StrictSchema):
    """An active administrator of a client firm."""

    name = fields.String()
    mobile = fields.String(allow_none=True)
    email = fields.String()


class ClientOut(StrictSchema):
    """A linked client firm of the directory."""

    id = fields.Integer()
    slug = fields.String()
    name = fields.String()
    link_id = fields.Integer()
    linked_at = fields.DateTime()
    region_code = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    industry = fields.String(allow_none=True)
    size_class = fields.String(allow_none=True, metadata={"enum": ["small_medium", "large"]})
    is_sme = fields.Boolean(metadata={"description": "中小企业绿色通道: its work comes first in plans."})
    contacts = fields.List(fields.Nested(ContactOut))
    counts = fields.Nested(ClientCountsOut)


class BoardGroupOut(StrictSchema):
    """One group of the due board: a city, a client or a discipline, and its counts."""

    key = fields.Raw(
        allow_none=True, metadata={"description": "Region code, client id or discipline code (null: none)."}
    )
    name = fields.String(allow_none=True)
    count = fields.Integer()
    overdue = fields.Integer()
    mandatory = fields.Integer()


class BoardGroupsOut(StrictSchema):
    """The due board's counts by city (or directly administered county), client and discipline."""

    city = fields.List(fields.Nested(BoardGroupOut))
    client = fields.List(fields.Nested(BoardGroupOut))
    discipline = fields.List(fields.Nested(BoardGroupOut))


class BoardItemOut(StrictSchema):
    """A due instrument of a linked client."""

    id = fields.Integer()
    client_id = fields.Integer()
    client = fields.String(metadata={"description": "The client's slug."})
    client_name = fields.String()
    region_code = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    management_no = fields.String()
    name = fields.String()
    model = fields.String(allow_none=True)
    serial_no = fields.String(allow_none=True)
    location = fields.String(allow_none=True)
    discipline = fields.String(metadata={"enum": list(DISCIPLINES)})
    next_due_on = fields.Date()
    days_left = fields.Integer(metadata={"description": "Negative when overdue."})
    is_overdue = fields.Boolean()
    is_mandatory = fields.Boolean()
    status = fields.String()


class DueBoardOut(StrictSchema):
    """The due board: its window, the instruments and their counts by group."""

    today = fields.Date()
    last = fields.Date(metadata={"description": "The window's last day (today + within)."})
    within = fields.Integer()
    total = fields.Integer()
    overdue = fields.Integer()
    groups = fields.Nested(BoardGroupsOut)
    items = fields.List(fields.Nested(BoardItemOut))


class DayOffOut(StrictSchema):
    """A day a technician is away."""

    day = fields.Date()
    reason = fields.String(allow_none=True)


class TechnicianOut(StrictSchema):
    """A technician of the institute, with their days off from today up to a year ahead."""

    id = fields.Integer()
    name = fields.String()
    user_id = fields.Integer(allow_none=True)
    disciplines = fields.List(fields.String(metadata={"enum": list(DISCIPLINES)}))
    daily_capacity = fields.Integer()
    is_active = fields.Boolean()
    days_off = fields.List(fields.Nested(DayOffOut))


# -- Directory -----------------------------------------------------------------------------------


@bp.get("/clients")
def list_clients():
    """List the institute's linked client firms with their contacts and instrument counts.

    ---
    get:
      tags: [institute]
      parameters:
        - {in: query, name: region, schema: {type: string}, description: 'GB/T 2260 code of a Henan region.'}
        - {in: query, name: sme, schema: {type: boolean}, description: 'true: SMEs only; false: the others.'}
      responses:
        200:
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: ClientOut}
        400: Invalid
        404: NotFound
    """
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


# -- Due board -----------------------------------------------------------------------------------


def _group_name(kind: str, key, clients) -> str | None:
    if key is None:
        return None
    if kind == "city":
        return region_name(key)
    if kind == "client":
        return clients[key].name
    return translate(DISCIPLINE_NAMES.get(key, key))


@bp.get("/due-board")
def due_board():
    """Return the linked clients' instruments due within a window, overdue ones included, with counts.

    ---
    get:
      tags: [institute]
      description: >-
        Instruments still in use (in service, out for calibration, under repair) of every client
        firm with an active link to your institute, due by today + `within` days, overdue ones
        included; counted by city (or directly administered county), client and discipline.
      parameters:
        - {in: query, name: within, schema: {type: integer, minimum: 1, maximum: 366, default: 30},
           description: 'Days from today; overdue instruments are always included.'}
        - {in: query, name: region, schema: {type: string}, description: 'GB/T 2260 code of a Henan region.'}
        - {in: query, name: client, schema: {type: integer}, description: "A linked client's id."}
        - {in: query, name: discipline, schema: {type: string, enum: [length, pressure, mass, temperature,
           electrical, flow, torque, acoustics, chemistry, medical, other]}}
        - {in: query, name: mandatory, schema: {type: boolean}, description: Mandatory verification only.}
        - {in: query, name: overdue, schema: {type: boolean}, description: Overdue instruments only.}
      responses:
        200:
          content:
            application/json:
              schema: DueBoardOut
        400: Invalid
        404: NotFound
    """
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
def due_board_xlsx():
    """Download the due board, with the same filters, as xlsx in your language.

    Sheets: the instruments (client, city, management no., name, discipline, due date, days left,
    mandatory, status …) and the counts by city, client and discipline. Text cells never run as
    formulas.

    ---
    get:
      tags: [institute]
      parameters:
        - {in: query, name: within, schema: {type: integer, minimum: 1, maximum: 366, default: 30},
           description: 'Days from today; overdue instruments are always included.'}
        - {in: query, name: region, schema: {type: string}, description: 'GB/T 2260 code of a Henan region.'}
        - {in: query, name: client, schema: {type: integer}, description: "A linked client's id."}
        - {in: query, name: discipline, schema: {type: string, enum: [length, pressure, mass, temperature,
           electrical, flow, torque, acoustics, chemistry, medical, other]}}
        - {in: query, name: mandatory, schema: {type: boolean}, description: Mandatory verification only.}
        - {in: query, name: overdue, schema: {type: boolean}, description: Overdue instruments only.}
      responses:
        200:
          content:
            application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: {}
        400: Invalid
        404: NotFound
    """
    return board_download(request.args.to_dict())


# -- Technicians ---------------------------------------------------------------------------------


def _technician_out(technician, days_off) -> dict:
    return TechnicianOut().dump(
        {
            "id": technician.id,
            "name": technician.name,
            "user_id": technician.user_id,
            "disciplines": list(technician.disciplines or []),
            "daily_capacity": technician.daily_capacity,
            "is_active": technician.is_active,
            "days_off": [{"day": d.day, "reason": d.reason} for d in days_off.get(technician.id, [])],
        }
    )


def _days_off(technician_id: int | None = None) -> dict:
    first, last = today(), today() + timedelta(days=DAYS_OFF_AHEAD)
    return board.upcoming_days_off(db(), actor(), first, last, technician_id)


@bp.get("/technicians")
def list_technicians():
    """List the institute's technicians by name, with their days off from today up to a year ahead.

    ---
    get:
      tags: [institute]
      responses:
        200:
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: TechnicianOut}
        404: NotFound
    """
    found = technicians.list_technicians(db(), actor())
    days_off = _days_off()
    return jsonify({"items": [_technician_out(t, days_off) for t in found]})


@bp.post("/technicians")
def create_technician():
    """Add a technician (administrators).

    ---
    post:
      tags: [institute]
      requestBody:
        required: true
        content:
          application/json:
            schema: TechnicianIn
      responses:
        201:
          content:
            application/json:
              schema: TechnicianOut
        400: Invalid
        403: Forbidden
        404: NotFound
        409: Conflict
    """
    technician = technicians.save_technician(db(), actor(), json_body())
    return jsonify(_technician_out(technician, {})), 201


@bp.get("/technicians/<int:technician_id>")
def get_technician(technician_id: int):
    """Return one technician with their days off from today up to a year ahead.

    ---
    get:
      tags: [institute]
      parameters: [technician_id]
      responses:
        200:
          content:
            application/json:
              schema: TechnicianOut
        404: NotFound
    """
    technician = technicians.get_technician(db(), actor(), technician_id)
    return jsonify(_technician_out(technician, _days_off(technician.id)))


@bp.put("/technicians/<int:technician_id>")
def update_technician(technician_id: int):
    """Replace a technician's details (administrators): the whole technician again.

    ---
    put:
      tags: [institute]
      parameters: [technician_id]
      requestBody:
        required: true
        content:
          application/json:
            schema: TechnicianIn
      responses:
        200:
          content:
            application/json:
              schema: TechnicianOut
        400: Invalid
        403: Forbidden
        404: NotFound
        409: Conflict
    """
    technicians.get_technician(db(), actor(), technician_id)  # another institute's id: 404 whatever the body
    technician = technicians.save_technician(db(), actor(), json_body(), technician_id)
    return jsonify(_technician_out(technician, _days_off(technician.id)))


@bp.post("/technicians/<int:technician_id>/days-off")
def add_day_off(technician_id: int):
    """Mark a day a technician is away (administrators); visit plans then leave them out of it.

    Adding a day that is already off changes nothing and answers with that day.

    ---
    post:
      tags: [institute]
      parameters: [technician_id]
      requestBody:
        required: true
        content:
          application/json:
            schema: DayOffIn
      responses:
        201:
          content:
            application/json:
              schema: DayOffOut
        400: Invalid
        403: Forbidden
        404: NotFound
    """
    technicians.get_technician(db(), actor(), technician_id)
    day_off = technicians.add_day_off(db(), actor(), technician_id, json_body())
    return jsonify(DayOffOut().dump(day_off)), 201


@bp.delete("/technicians/<int:technician_id>/days-off/<day>")
def remove_day_off(technician_id: int, day: str):
    """Make a technician available again on a day (administrators); a day not off changes nothing.

    ---
    delete:
      tags: [institute]
      parameters:
        - technician_id
        - {in: path, name: day, required: true, schema: {type: string, format: date},
           description: 'The day, as YYYY-MM-DD.'}
      responses:
        204:
          description: Available again.
        403: Forbidden
        404: NotFound
    """
    technicians.get_technician(db(), actor(), technician_id)
    try:
        parsed = date.fromisoformat(day) if len(day) == 10 else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise NotFound(N_("Not found."))  # not a day: no such resource
    technicians.remove_day_off(db(), actor(), technician_id, parsed)
    return "", 204
