"""Visit pages: the institute's plan and visits, the technician's worksheet, the client's answers."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import login_required
from sqlalchemy import select

from models import Organization
from models.ledger import CONCLUSIONS
from models.traceability import CONFIRMATIONS
from service.clock import now_utc
from service.errors import DomainError, Invalid, invalid_field
from service.i18n import N_
from service.reminders.rules import is_working_day
from service.schemas import load_or_invalid
from service.scoping import parse_id
from service.visits import operations, proposals, queries
from service.visits.disciplines import discipline_of
from service.visits.operations import NewVisit
from service.visits.schemas import PlanIn
from service.visits.technicians import list_technicians
from service.web.context import actor, attachments_dir, base_url, db, today
from service.web.forms import flash_failure, form_data, result_form
from service.web.i18n import translate_errors
from service.web.templating import DISCIPLINE_DISPLAY

bp = Blueprint("visits", __name__)

#: The plan a page shows first: the next two weeks.
DEFAULT_DAYS = 14


def _window(values) -> tuple[dict, dict]:
    """Return the plan window from query or form values, and the field errors (translated)."""
    raw = {"from": values.get("from") or today().isoformat(), "days": values.get("days") or str(DEFAULT_DAYS)}
    try:
        window = load_or_invalid(PlanIn(), raw)
        proposals.check_start(window["start"], today())
        return window, {}
    except Invalid as exc:
        # The plan shown is the default one; the fields keep what was typed, next to its message.
        typed = {"typed_from": raw["from"], "typed_days": raw["days"]}
        return {"start": today(), "days": DEFAULT_DAYS, **typed}, translate_errors(exc.field_errors)


@bp.get("/visits")
@login_required
def list_visits():
    """The institute's upcoming and open visits."""
    visits = queries.institute_visits(db(), actor(), today() - timedelta(days=7))
    return render_template("visits/list.html", visits=visits, clients=_client_names(), today=today())


def _client_names() -> dict[int, str]:
    return {c.id: c.name for c in proposals.linked_clients(db(), actor())}


@bp.get("/visits/plan")
@login_required
def plan():
    """Propose visits for a window; staff keep, move or leave out each before creating them."""
    window, errors = _window(request.args)
    proposal = proposals.propose(db(), actor(), window["start"], window["days"])
    return render_template(
        "visits/plan.html",
        proposal=proposal,
        window=window,
        errors=errors,
        names={t.id: t.name for t in list_technicians(db(), actor())},
        disciplines=DISCIPLINE_DISPLAY,
        discipline_of=discipline_of,
    ), (422 if errors else 200)


@bp.post("/visits/plan")
@login_required
def create_from_plan():
    """Create the visits kept on the page, as the page showed them (client, instruments, technicians).

    The plan is not computed again: another user may have planned since, and a visit must never
    land on a client other than the one shown. ``create_visits`` checks what is posted.
    """
    values = form_data(multi=("keep",))
    window, _errors = _window(values)
    back = url_for("visits.plan", **{"from": window["start"].isoformat(), "days": window["days"]})
    try:
        chosen = [
            _posted_visit(values, index)
            for index in sorted({parse_id(k) for k in values.get("keep", [])} - {None})
        ]
        created = operations.create_visits(db(), actor(), chosen, today(), base_url(), now_utc())
    except DomainError as exc:
        flash_failure(exc)
        return redirect(back, code=303)
    flash(
        ngettext(
            "%(num)s visit proposed to the client.", "%(num)s visits proposed to the clients.", len(created)
        ),
        "success",
    )
    return redirect(url_for("visits.list_visits"), code=303)


def _posted_visit(values: dict, index: int) -> NewVisit:
    """Read one kept visit of the form: ``firm-N``, ``date-N``, ``items-N`` ("instrument:technician,…")."""
    day = load_or_invalid(PlanIn(), {"from": values.get(f"date-{index}"), "days": 1})["start"]
    firm_id = parse_id(values.get(f"firm-{index}"))
    assignments: dict[int, int | None] = {}
    for pair in (values.get(f"items-{index}") or "").split(","):
        instrument, _, technician = pair.partition(":")
        instrument_id = parse_id(instrument)
        if instrument_id is None or firm_id is None:
            raise invalid_field("items", N_("Propose the plan again."))
        assignments[instrument_id] = parse_id(technician)
    return NewVisit(firm_id, day, assignments)


@bp.get("/visits/<int:visit_id>")
@login_required
def show_visit(visit_id: int):
    """One visit: its instruments and technicians, the client's answer, move or cancel."""
    visit = queries.get_institute_visit(db(), actor(), visit_id)
    return render_template(
        "visits/show.html",
        visit=visit,
        client=_client_names().get(visit.firm_id),
        names={t.id: t.name for t in list_technicians(db(), actor())},
        today=today(),
    )


@bp.post("/visits/<int:visit_id>/move")
@login_required
def move(visit_id: int):
    """Move a visit to another day; the client is asked again."""
    try:
        operations.move(db(), actor(), visit_id, form_data(), today(), base_url(), now_utc())
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("Visit moved; the client is asked to confirm the new date."), "success")
        moved_to = queries.get_institute_visit(db(), actor(), visit_id).planned_on
        if not is_working_day(moved_to):
            flash(
                gettext(
                    "%(day)s is not a working day (a weekend or a public holiday).", day=moved_to.isoformat()
                ),
                "warning",
            )
    return redirect(url_for("visits.show_visit", visit_id=visit_id), code=303)


@bp.post("/visits/<int:visit_id>/cancel")
@login_required
def cancel(visit_id: int):
    """Cancel a visit; its instruments can be planned again."""
    try:
        operations.cancel(db(), actor(), visit_id, today(), base_url(), now_utc())
    except DomainError as exc:
        flash_failure(exc)
        return redirect(url_for("visits.show_visit", visit_id=visit_id), code=303)
    flash(gettext("Visit cancelled; the client is told."), "success")
    return redirect(url_for("visits.list_visits"), code=303)


@bp.get("/visits/<int:visit_id>/worksheet")
@login_required
def worksheet(visit_id: int):
    """The technician's worksheet on the day: each instrument with a quick result form."""
    visit = queries.get_institute_visit(db(), actor(), visit_id)
    return render_template(
        "visits/worksheet.html",
        visit=visit,
        # A technician gets forms for the instruments given to them; the others are listed only.
        workable={item.id for item in visit.items if operations.may_work(db(), actor(), item)},
        client=_client_names().get(visit.firm_id),
        names={t.id: t.name for t in list_technicians(db(), actor())},
        conclusions=CONCLUSIONS,
        confirmations=CONFIRMATIONS,
        today=today(),
    )


@bp.post("/visits/<int:visit_id>/items/<int:item_id>/result")
@login_required
def record_result(visit_id: int, item_id: int):
    """Write an instrument's result into the client's ledger."""
    values, uploads = result_form()
    try:
        record = operations.record_item(
            db(), actor(), visit_id, item_id, values, today(), uploads, attachments_dir()
        )
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("Result saved: certificate %(no)s.", no=record.certificate_no), "success")
    return redirect(url_for("visits.worksheet", visit_id=visit_id, _anchor=f"item-{item_id}"), code=303)


@bp.post("/visits/<int:visit_id>/items/<int:item_id>/skip")
@login_required
def skip(visit_id: int, item_id: int):
    """Record why an instrument got no result."""
    try:
        operations.skip_item(db(), actor(), visit_id, item_id, form_data())
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("Reason recorded."), "success")
    return redirect(url_for("visits.worksheet", visit_id=visit_id), code=303)


@bp.get("/visits/mine")
@login_required
def mine():
    """The client's portal: visits institutes propose, to confirm or to ask for another date."""
    visits = queries.firm_visits(db(), actor())
    return render_template(
        "visits/mine.html", visits=visits, institutes=_institute_names(visits), today=today()
    )


def _institute_names(visits) -> dict[int, str]:
    ids = {v.institute_id for v in visits}
    return dict(
        db().execute(select(Organization.id, Organization.name).where(Organization.id.in_(ids))).all()
    )


@bp.post("/visits/mine/<int:visit_id>/answer")
@login_required
def answer(visit_id: int):
    """Confirm a proposed visit or ask for another date."""
    try:
        visit = operations.answer(db(), actor(), visit_id, form_data(), today(), base_url(), now_utc())
    except DomainError as exc:
        flash_failure(exc)
    else:
        confirmed = visit.state == "confirmed"
        flash(
            gettext("Visit confirmed.") if confirmed else gettext("Your request for another date was sent."),
            "success",
        )
    return redirect(url_for("visits.mine"), code=303)
