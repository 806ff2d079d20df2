"""Nonconformity pages: the open cases, one case with its suspect window, assessment and closing."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required

from service.errors import DomainError
from service.nonconformity import operations, queries
from service.web.context import actor, db, enter_client, today
from service.web.forms import flash_failure, form_data

bp = Blueprint("nonconformity", __name__)


@bp.get("/nonconformity")
@login_required
def list_cases():
    """The firm's open cases, oldest first, and the latest closed ones."""
    who = actor()
    return render_template(
        "nonconformity/list.html",
        open_cases=queries.list_cases(db(), who, "open"),
        closed_cases=queries.recently_closed(db(), who),
        today=today(),
    )


@bp.get("/nonconformity/<int:case_id>")
@bp.get("/clients/<int:client_id>/nonconformity/<int:case_id>")
@login_required
def show_case(case_id: int, client_id: int | None = None):
    """One case: what failed, the suspect window and who used the instrument in it, the decisions."""
    enter_client(client_id)
    who = actor()
    case = queries.get_case(db(), who, case_id)
    return render_template(
        "nonconformity/show.html",
        case=case,
        exposure=queries.exposure(db(), who, case),
        client_id=client_id,
        writable=client_id is None and who.can("ledger.write"),
        may_close=client_id is None and who.can("status.decide"),
    )


@bp.post("/instruments/<int:instrument_id>/nonconformity")
@login_required
def open_case(instrument_id: int):
    """Report an instrument as nonconforming by hand; it is taken out of service at once."""
    try:
        case = operations.open_case(db(), actor(), instrument_id, form_data(), today())
    except DomainError as exc:
        flash_failure(exc)
        return redirect(url_for("ledger.show_instrument", instrument_id=instrument_id), code=303)
    flash(gettext("Nonconformity case opened; the instrument is out of service."), "warning")
    return redirect(url_for("nonconformity.show_case", case_id=case.id), code=303)


@bp.post("/nonconformity/<int:case_id>/assessment")
@login_required
def assess(case_id: int):
    """Record the impact assessment of the suspect window."""
    return _decide(case_id, operations.assess, gettext("Impact assessment recorded."))


@bp.post("/nonconformity/<int:case_id>/close")
@login_required
def close(case_id: int):
    """Approve a disposition and close the case."""
    return _decide(case_id, operations.close, gettext("Case closed."))


def _decide(case_id: int, operation, done: str):
    try:
        operation(db(), actor(), case_id, form_data(), today())
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(done, "success")
    return redirect(url_for("nonconformity.show_case", case_id=case_id), code=303)
