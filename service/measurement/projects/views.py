"""Comparison project pages: the institute organises, participants enter results, all read the report."""

from __future__ import annotations

import logging

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import login_required
from sqlalchemy.exc import SQLAlchemyError

from service.clock import now_utc
from service.errors import Invalid, NotFound
from service.i18n import N_
from service.ledger_io.exporter import XLSX_MIMETYPE
from service.measurement.blueprint import bp
from service.measurement.comparisons.rules import shown
from service.measurement.comparisons.views import points_payload
from service.measurement.projects import operations, queries
from service.measurement.projects.charts import equivalence_charts
from service.measurement.projects.schemas import MAX_POINTS
from service.measurement.projects.workbook import write_report
from service.tenancy.queries import list_clients
from service.web.context import actor, base_url, db, today
from service.web.downloads import send_download, spooled
from service.web.i18n import translate_errors
from service.web.templating import name_of

log = logging.getLogger(__name__)

#: Point rows the protocol form offers (blank rows are ignored).
FORM_POINTS = 8
PROJECT_FIELDS = (
    "code",
    "title",
    "quantity",
    "unit",
    "transfer_standard",
    "protocol",
    "starts_on",
    "results_due_on",
    "reference_kind",
)
POINT_FIELDS = ("nominal", "lead_value", "lead_uncertainty")


def project_payload(form) -> dict:
    """Return the posted protocol form as the API's payload: the filled point rows only."""
    return points_payload(form, PROJECT_FIELDS, POINT_FIELDS, MAX_POINTS)


def results_payload(form, count: int) -> dict:
    """Return the posted results form as the API's payload: a value and U per point."""
    payload = {
        k: form.get(k, "").strip() for k in ("measured_on", "management_no") if form.get(k, "").strip()
    }
    payload["results"] = [
        {
            "value": form.get(f"r{i}-value", "").strip(),
            "uncertainty": form.get(f"r{i}-uncertainty", "").strip(),
        }
        for i in range(count)
    ]
    return payload


def _project_values(project) -> dict:
    values = {name: getattr(project, name) for name in PROJECT_FIELDS}
    for name in ("starts_on", "results_due_on"):
        values[name] = values[name].isoformat()
    for point in project.points:
        for name in POINT_FIELDS:
            value = getattr(point, name)
            values[f"p{point.position - 1}-{name}"] = "" if value is None else f"{value.normalize():f}"
    return values


@bp.app_context_processor
def _projects_nav():
    """Let the firm's navigation ask, only when it shows, whether the firm takes part in a comparison."""

    def in_comparison_projects() -> bool:
        who = g.get("actor")
        if who is None:
            return False
        try:
            return queries.takes_part(db(), who)
        except SQLAlchemyError:
            log.warning("could not read comparison participations for the navigation", exc_info=True)
            return False

    return {"in_comparison_projects": in_comparison_projects}


@bp.get("/comparison-projects")
@login_required
def list_projects():
    """The institute's comparison projects, or the ones the firm takes part in."""
    who = actor()
    rows = queries.list_projects(db(), who)
    institute = queries.side_of(who) == "institute"
    return render_template(
        "measurement/projects/list.html",
        rows=rows,
        institute=institute,
        writable=institute and who.can("ledger.write"),
    )


def _form(values: dict, errors: dict, project=None, status: int = 200):
    return render_template(
        "measurement/projects/form.html",
        values=values,
        errors=translate_errors(errors),
        project=project,
        rows=FORM_POINTS if project is None else max(FORM_POINTS, len(project.points) + 2),
    ), status


@bp.get("/comparison-projects/new")
@login_required
def new_project():
    """The protocol form of a new project."""
    actor().require_institute("ledger.write")
    start = today()
    return _form({"reference_kind": "weighted_mean", "starts_on": start.isoformat()}, {})


@bp.post("/comparison-projects/new")
@login_required
def create_project():
    """Create a project from the protocol form."""
    try:
        project = operations.create_project(db(), actor(), project_payload(request.form))
    except Invalid as exc:
        db().rollback()
        return _form(dict(request.form), exc.field_errors, status=422)
    flash(gettext("Project created. Add the participants."), "success")
    return redirect(url_for("measurement.show_project", project_id=project.id), code=303)


@bp.get("/comparison-projects/<int:project_id>/edit")
@login_required
def edit_project(project_id: int):
    """The protocol form of a project, filled in."""
    who = actor()
    who.require_institute("ledger.write")
    project = queries.get_project(db(), who, project_id)
    return _form(_project_values(project), {}, project)


@bp.post("/comparison-projects/<int:project_id>/edit")
@login_required
def update_project(project_id: int):
    """Save the protocol."""
    who = actor()
    try:
        operations.update_project(db(), who, project_id, project_payload(request.form))
    except Invalid as exc:
        db().rollback()
        project = queries.get_project(db(), who, project_id)
        return _form(dict(request.form), exc.field_errors, project, 422)
    flash(gettext("Saved."), "success")
    return redirect(url_for("measurement.show_project", project_id=project_id), code=303)


def _show(project_id: int, errors: dict | None = None, values: dict | None = None, status: int = 200):
    who = actor()
    view = queries.project_view(db(), who, project_id)
    institute = view.side == "institute"
    clients = list_clients(db(), who) if institute and who.can("clients.view") else []
    taken = {row.participant.firm_id for row in view.rows}
    own_values = values or {}
    if view.own is not None and not own_values:
        own_values = _results_values(view.own)
    return render_template(
        "measurement/projects/show.html",
        view=view,
        project=view.project,
        institute=institute,
        writable=who.can("ledger.write") and not view.project.is_published,
        clients=[(link, org) for link, org in clients if org.id not in taken],
        errors=translate_errors(errors or {}),
        values=own_values,
        shown=shown,
        today=today(),
    ), status


def _results_values(row) -> dict:
    values = {
        "measured_on": row.participant.measured_on.isoformat() if row.participant.measured_on else "",
        "management_no": row.management_no or "",
    }
    for index, result in enumerate(row.results):
        if result is not None:
            values[f"r{index}-value"] = f"{result.value.normalize():f}"
            values[f"r{index}-uncertainty"] = f"{result.uncertainty.normalize():f}"
    return values


@bp.get("/comparison-projects/<int:project_id>")
@login_required
def show_project(project_id: int):
    """A project: protocol, participants and results as the reader may see them, the reference."""
    return _show(project_id)


@bp.post("/comparison-projects/<int:project_id>/participants")
@login_required
def add_participant(project_id: int):
    """Add a client firm or an outside laboratory."""
    form = {k: request.form.get(k, "").strip() for k in ("firm_id", "lab_name", "cnas_no")}
    payload = {k: v for k, v in form.items() if v}
    try:
        operations.add_participant(db(), actor(), project_id, payload)
    except Invalid as exc:
        db().rollback()
        return _show(project_id, exc.field_errors, status=422)
    flash(gettext("Participant added."), "success")
    return redirect(url_for("measurement.show_project", project_id=project_id), code=303)


@bp.post("/comparison-projects/<int:project_id>/results")
@login_required
def enter_own_results(project_id: int):
    """The participating firm enters its own results."""
    who = actor()
    view = queries.project_view(db(), who, project_id)
    payload = results_payload(request.form, len(view.points))
    try:
        operations.enter_own_results(db(), who, project_id, payload, today(), now_utc())
    except Invalid as exc:
        db().rollback()
        return _show(project_id, exc.field_errors, dict(request.form), 422)
    flash(gettext("Results saved."), "success")
    return redirect(url_for("measurement.show_project", project_id=project_id), code=303)


def _entry_page(project_id: int, participant_id: int, values=None, errors=None, status: int = 200):
    who = actor()
    who.require_institute("ledger.write")
    view = queries.project_view(db(), who, project_id)
    row = next((r for r in view.rows if r.participant.id == participant_id), None)
    if row is None:
        raise NotFound(N_("Not found."))
    return render_template(
        "measurement/projects/results.html",
        view=view,
        project=view.project,
        row=row,
        values=values if values is not None else _results_values(row),
        errors=translate_errors(errors or {}),
    ), status


@bp.get("/comparison-projects/<int:project_id>/participants/<int:participant_id>/results")
@login_required
def participant_results(project_id: int, participant_id: int):
    """The form to enter a participant's results on its behalf."""
    return _entry_page(project_id, participant_id)


@bp.post("/comparison-projects/<int:project_id>/participants/<int:participant_id>/results")
@login_required
def enter_results(project_id: int, participant_id: int):
    """Save a participant's results entered by the institute."""
    who = actor()
    view = queries.project_view(db(), who, project_id)
    payload = results_payload(request.form, len(view.points))
    try:
        operations.enter_results(db(), who, project_id, participant_id, payload, today(), now_utc())
    except Invalid as exc:
        db().rollback()
        return _entry_page(project_id, participant_id, dict(request.form), exc.field_errors, 422)
    flash(gettext("Results saved."), "success")
    return redirect(url_for("measurement.show_project", project_id=project_id), code=303)


@bp.post("/comparison-projects/<int:project_id>/participants/<int:participant_id>/remove")
@login_required
def remove_participant(project_id: int, participant_id: int):
    """Take a participant out of the project, with its results."""
    operations.remove_participant(db(), actor(), project_id, participant_id)
    flash(gettext("Participant removed."), "success")
    return redirect(url_for("measurement.show_project", project_id=project_id), code=303)


@bp.post("/comparison-projects/<int:project_id>/reference")
@login_required
def set_reference(project_id: int):
    """Choose the results left out of the weighted mean (the unticked ones)."""
    who = actor()
    view = queries.project_view(db(), who, project_id)
    kept = set(request.form.getlist("in_reference"))
    excluded = [r.id for row in view.rows for r in row.results if r is not None and str(r.id) not in kept]
    operations.set_reference(db(), who, project_id, {"excluded": excluded})
    flash(gettext("Reference recomputed."), "success")
    return redirect(url_for("measurement.show_project", project_id=project_id) + "#reference", code=303)


@bp.post("/comparison-projects/<int:project_id>/publish")
@login_required
def publish_project(project_id: int):
    """Publish the report and record each client participant's result on its instrument."""
    try:
        operations.publish(db(), actor(), project_id, today(), now_utc(), base_url())
    except Invalid as exc:
        db().rollback()
        messages = [m for ms in translate_errors(exc.field_errors).values() for m in ms]
        flash(" ".join([gettext(exc.message), *messages]), "danger")
        return redirect(url_for("measurement.show_project", project_id=project_id), code=303)
    flash(
        gettext("Report published; the participants' results are recorded on their instruments."), "success"
    )
    return redirect(url_for("measurement.project_report", project_id=project_id), code=303)


@bp.get("/comparison-projects/<int:project_id>/report")
@login_required
def project_report(project_id: int):
    """The report: reference per point, each participant's degree of equivalence and En, the charts."""
    view = queries.report_view(db(), actor(), project_id)
    return render_template(
        "measurement/projects/report.html",
        view=view,
        project=view.project,
        charts=equivalence_charts(view, gettext),
        shown=shown,
    )


@bp.get("/comparison-projects/<int:project_id>/report.xlsx")
@login_required
def project_report_xlsx(project_id: int):
    """Download the report (xlsx)."""
    view = queries.report_view(db(), actor(), project_id)
    spool = spooled(lambda out: write_report(view, out, gettext, name_of))
    stem = view.project.code or str(view.project.id)
    return send_download(
        spool, f"比对报告-{stem}.xlsx", f"comparison-report-{view.project.id}.xlsx", XLSX_MIMETYPE
    )
