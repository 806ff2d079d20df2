"""Intermediate-check pages: a plan with its control charts, its checks and the forms."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import login_required

from service.clock import now_utc
from service.errors import DomainError
from service.measurement.blueprint import bp
from service.measurement.checks import operations, queries
from service.measurement.checks.charts import control_chart
from service.measurement.checks.workbook import write_chart_workbook
from service.web.context import actor, base_url, db, today
from service.web.downloads import XLSX_MIMETYPE, send_download, spooled
from service.web.forms import flash_failure

PLAN_FORM_FIELDS = (
    "check_object",
    "check_instrument_id",
    "interval_months",
    "interval_days",
    "performer_user_id",
    "baseline_mode",
    "baseline_n",
    "next_due_on",
    "note",
)
POINT_FIELDS = ("id", "label", "nominal", "unit", "mpe", "centre", "sigma")
#: Rows of check points a form offers (blank rows are left out).
FORM_POINTS = 3


def _plan_payload(editing: bool) -> dict:
    form = request.form
    data = {k: form[k] for k in PLAN_FORM_FIELDS if k in form and form[k].strip()}
    if editing:
        for name in ("check_instrument_id", "performer_user_id", "note", "next_due_on"):
            data.setdefault(name, None)
        months, days = form.get("interval_months", "").strip(), form.get("interval_days", "").strip()
        data["interval_months"], data["interval_days"] = months or None, days or None
        data["active"] = "active" in form
    points = []
    index = 0
    while f"points-{index}-label" in form:
        point = {k: form.get(f"points-{index}-{k}", "").strip() for k in POINT_FIELDS}
        if point["label"] or point["nominal"]:
            points.append({k: (v or None) for k, v in point.items()})
        index += 1
    if points or not editing:
        data["points"] = points
    return data


def _people_and_instruments(instrument_id: int):
    from sqlalchemy import select

    from models import Instrument, User

    who = actor()
    people = (
        db()
        .scalars(select(User).where(User.org_id == who.org_id, User.is_active.is_(True)).order_by(User.name))
        .all()
    )
    instruments = (
        db()
        .scalars(
            select(Instrument)
            .where(Instrument.org_id == who.org_id, Instrument.id != instrument_id)
            .order_by(Instrument.management_no)
            .limit(500)
        )
        .all()
    )
    return people, instruments


@bp.get("/instruments/<int:instrument_id>/check-plans/new")
@login_required
def new_check_plan(instrument_id: int):
    """The form of a new intermediate-check plan."""
    instrument, _plans = queries.plans_of(db(), actor(), instrument_id)
    people, instruments = _people_and_instruments(instrument.id)
    return render_template(
        "measurement/checks/plan_form.html",
        instrument=instrument,
        plan=None,
        people=people,
        instruments=instruments,
        rows=FORM_POINTS,
    )


@bp.post("/instruments/<int:instrument_id>/check-plans")
@login_required
def create_check_plan(instrument_id: int):
    """Create the plan and show it."""
    try:
        plan = operations.create_plan(db(), actor(), instrument_id, _plan_payload(False), today())
    except DomainError as exc:
        flash_failure(exc)
        return redirect(url_for("measurement.new_check_plan", instrument_id=instrument_id), code=303)
    flash(gettext("Intermediate check plan created."), "success")
    return redirect(url_for("measurement.show_check_plan", plan_id=plan.id), code=303)


@bp.get("/check-plans/<int:plan_id>")
@login_required
def show_check_plan(plan_id: int):
    """A plan: per point its control chart and signals in words; the checks; the form to record one."""
    who = actor()
    plan = queries.get_plan(db(), who, plan_id)
    charts = queries.charts(db(), plan)
    return render_template(
        "measurement/checks/plan.html",
        plan=plan,
        charts=charts,
        drawn=[control_chart(c, gettext) for c in charts],
        records=list(reversed(queries.records_of(db(), plan))),
        readings={(r.record_id, r.point_id): r for rec in plan.records for r in rec.readings},
        writable=who.can("ledger.write"),
        today=today(),
    )


@bp.get("/check-plans/<int:plan_id>/edit")
@login_required
def edit_check_plan(plan_id: int):
    """The form changing a plan."""
    plan = queries.get_plan(db(), actor(), plan_id)
    people, instruments = _people_and_instruments(plan.instrument_id)
    return render_template(
        "measurement/checks/plan_form.html",
        instrument=plan.instrument,
        plan=plan,
        people=people,
        instruments=instruments,
        rows=len(plan.points) + 1,
    )


@bp.post("/check-plans/<int:plan_id>")
@login_required
def update_check_plan(plan_id: int):
    """Save a plan's changes."""
    try:
        operations.update_plan(db(), actor(), plan_id, _plan_payload(True), today())
    except DomainError as exc:
        flash_failure(exc)
        return redirect(url_for("measurement.edit_check_plan", plan_id=plan_id), code=303)
    flash(gettext("Plan saved."), "success")
    return redirect(url_for("measurement.show_check_plan", plan_id=plan_id), code=303)


@bp.post("/check-plans/<int:plan_id>/checks")
@login_required
def record_check(plan_id: int):
    """Record a check from the plan page's form."""
    form = request.form
    plan = queries.get_plan(db(), actor(), plan_id)
    payload = {
        "performed_on": form.get("performed_on", ""),
        "note": form.get("note", ""),
        "readings": [
            {
                "point_id": point.id,
                "value": form.get(f"value-{point.id}", "").strip() or None,
                "reference": form.get(f"reference-{point.id}", "").strip() or None,
            }
            for point in plan.points
        ],
    }
    try:
        operations.record_check(db(), actor(), plan_id, payload, today(), now_utc(), base_url())
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("Check recorded."), "success")
    return redirect(url_for("measurement.show_check_plan", plan_id=plan_id), code=303)


@bp.post("/check-plans/<int:plan_id>/baseline")
@login_required
def fix_check_baseline(plan_id: int):
    """Fix the baseline from the first N checks."""
    try:
        operations.fix_baseline(db(), actor(), plan_id, today())
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("Baseline fixed."), "success")
    return redirect(url_for("measurement.show_check_plan", plan_id=plan_id), code=303)


@bp.get("/check-plans/<int:plan_id>/chart.xlsx")
@login_required
def check_chart_xlsx(plan_id: int):
    """The plan's chart data as xlsx."""
    plan = queries.get_plan(db(), actor(), plan_id)
    charts = queries.charts(db(), plan)
    title = f"{plan.instrument.management_no} {plan.instrument.name} · {plan.check_object}"

    def write(out):
        write_chart_workbook(out, title, charts, gettext)

    stem = f"{gettext('Intermediate checks')}-{plan.instrument.management_no}"
    return send_download(spooled(write), f"{stem}.xlsx", "checks.xlsx", XLSX_MIMETYPE)
