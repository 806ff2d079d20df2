"""The institute's pages: the due board across linked clients (and its xlsx), and the technicians.

Institute users only: a firm's user gets 404 on every page here. Staff and technicians look;
administrators change technicians and their days off.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import login_required

from service.errors import Conflict, Invalid
from service.schemas import load_or_invalid
from service.tenancy import queries as tenancy_queries
from service.visits import board, technicians
from service.visits.schemas import DayOffIn
from service.web.context import actor, db, today
from service.web.downloads import board_download
from service.web.errors import error_response
from service.web.forms import flash_failure, form_data, form_error_page
from service.web.i18n import translate, translate_errors
from service.web.templating import DISCIPLINE_DISPLAY

bp = Blueprint("institute", __name__, url_prefix="/institute")

#: Instruments the board's page lists; its counts and its xlsx cover them all.
ROWS_SHOWN = 500
#: How far ahead the technicians' list shows days off, and a technician's own page.
LIST_DAYS_OFF_AHEAD = 60
PAGE_DAYS_OFF_AHEAD = 366
#: Query parameters the board's xlsx honours.
BOARD_PARAMS = frozenset(board.BoardFilter().fields)


# -- The due board -------------------------------------------------------------------------------


@bp.get("/due")
@login_required
def due_board():
    """Instruments of all linked clients due in a window, counted by city, client and discipline."""
    who, day = actor(), today()
    args = request.args.to_dict()
    errors: dict = {}
    try:
        filters = board.parse_board_filters(args)
        result = board.due_board(db(), who, day, filters)
    except Invalid as exc:
        errors = translate_errors(exc.field_errors)
        filters = {"within": board.DEFAULT_WINDOW}
        result = board.due_board(db(), who, day, filters)  # a firm's user still gets 404
    return render_template(
        "institute/board.html",
        board=result,
        filters=filters,
        args=args,
        errors=errors,
        windows=board.WINDOWS,
        max_window=board.MAX_WINDOW,
        disciplines=DISCIPLINE_DISPLAY,
        rows_shown=ROWS_SHOWN,
        export_args={k: v for k, v in args.items() if k in BOARD_PARAMS},
    ), (422 if errors else 200)


@bp.get("/due.xlsx")
@login_required
def due_board_xlsx():
    """Download the board, as filtered, as xlsx; a bad filter is a 422 with a message per filter."""
    try:
        return board_download(request.args.to_dict())
    except Invalid as exc:
        return error_response(422, translate(exc.message), translate_errors(exc.field_errors))


# -- Technicians ---------------------------------------------------------------------------------


def _form_context(technician=None, **extra) -> dict:
    who = actor()
    days_off = []
    if technician is not None:
        first = today()
        last = first + timedelta(days=PAGE_DAYS_OFF_AHEAD)
        days_off = board.upcoming_days_off(db(), who, first, last, technician.id).get(technician.id, [])
    return {
        "technician": technician,
        # A technician may be linked to an account of the institute with the technician role.
        "users": [u for u in tenancy_queries.list_users(db(), who) if u.role == "technician"],
        "disciplines": DISCIPLINE_DISPLAY,
        "days_off": days_off,
        "may_manage": who.can("clients.manage"),
        "values": {},
        "errors": {},
        "day_off_values": {},
    } | extra


def _values_of(technician) -> dict:
    return {
        "name": technician.name,
        "user_id": technician.user_id,
        "disciplines": list(technician.disciplines or []),
        "daily_capacity": technician.daily_capacity,
        "is_active": technician.is_active,
    }


def _posted() -> tuple[dict, dict]:
    """Return the posted technician form as shown again, and as the operation takes it.

    An unticked box is "not active", not "absent" (which the schema would read as active).
    """
    values = form_data(multi=("disciplines",))
    values["is_active"] = values.get("is_active") == "on"
    payload = {k: values.get(k) for k in ("name", "user_id", "daily_capacity", "disciplines", "is_active")}
    return values, payload


def _refused(exc: Invalid | Conflict) -> dict:
    """Return the field messages of a refused technician form (a taken account is the account's)."""
    return exc.field_errors if isinstance(exc, Invalid) else {"user_id": [exc.message]}


@bp.get("/technicians")
@login_required
def list_technicians():
    """The institute's technicians: disciplines, daily capacity, active flag, days off ahead."""
    who, first = actor(), today()
    return render_template(
        "institute/technicians.html",
        technicians=technicians.list_technicians(db(), who),
        days_off=board.upcoming_days_off(db(), who, first, first + timedelta(days=LIST_DAYS_OFF_AHEAD)),
        users={u.id: u for u in tenancy_queries.list_users(db(), who)},
        disciplines=DISCIPLINE_DISPLAY,
        ahead=LIST_DAYS_OFF_AHEAD,
        may_manage=who.can("clients.manage"),
    )


@bp.route("/technicians/new", methods=["GET", "POST"])
@login_required
def new_technician():
    """Add a technician (administrators)."""
    board.require_institute(actor())
    actor().require("clients.manage")
    if request.method == "GET":
        values = {"is_active": True, "daily_capacity": 20, "disciplines": []}
        return render_template("institute/technician.html", **_form_context(values=values))
    values, payload = _posted()
    try:
        technician = technicians.save_technician(db(), actor(), payload)
    except (Invalid, Conflict) as exc:
        return form_error_page("institute/technician.html", _refused(exc), **_form_context(values=values))
    flash(gettext("Technician %(name)s added.", name=technician.name), "success")
    return redirect(url_for("institute.edit_technician", technician_id=technician.id), code=303)


@bp.route("/technicians/<int:technician_id>", methods=["GET", "POST"])
@login_required
def edit_technician(technician_id: int):
    """One technician: their details (administrators change them) and their days off."""
    technician = technicians.get_technician(db(), actor(), technician_id)  # 404 before anything else
    if request.method == "GET":
        return render_template(
            "institute/technician.html", **_form_context(technician, values=_values_of(technician))
        )
    values, payload = _posted()
    try:
        technicians.save_technician(db(), actor(), payload, technician.id)
    except (Invalid, Conflict) as exc:
        return form_error_page(
            "institute/technician.html", _refused(exc), **_form_context(technician, values=values)
        )
    flash(gettext("Saved."), "success")
    return redirect(url_for("institute.edit_technician", technician_id=technician.id), code=303)


@bp.post("/technicians/<int:technician_id>/days-off")
@login_required
def add_day_off(technician_id: int):
    """Mark a day the technician is away (the planner leaves them out of it)."""
    technician = technicians.get_technician(db(), actor(), technician_id)
    values = form_data()
    try:
        technicians.add_day_off(db(), actor(), technician.id, values)
    except Invalid as exc:
        return form_error_page(
            "institute/technician.html",
            exc.field_errors,
            **_form_context(technician, values=_values_of(technician), day_off_values=values),
        )
    flash(gettext("Day off added."), "success")
    return redirect(url_for("institute.edit_technician", technician_id=technician.id), code=303)


@bp.post("/technicians/<int:technician_id>/days-off/remove")
@login_required
def remove_day_off(technician_id: int):
    """Make the technician available again on a day (the form's ``day``)."""
    technician = technicians.get_technician(db(), actor(), technician_id)
    actor().require("clients.manage")
    try:
        day = load_or_invalid(DayOffIn(), {"day": request.form.get("day")})["day"]
        technicians.remove_day_off(db(), actor(), technician.id, day)
    except Invalid as exc:
        flash_failure(exc)
    else:
        flash(gettext("Day off removed."), "success")
    return redirect(url_for("institute.edit_technician", technician_id=technician.id), code=303)
