"""Comparison and proficiency-test pages: an instrument's results with a form, one result, its xlsx."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import login_required

from service.clock import now_utc
from service.errors import Invalid
from service.ledger_io.exporter import XLSX_MIMETYPE
from service.measurement.blueprint import bp
from service.measurement.comparisons import operations, queries
from service.measurement.comparisons.charts import score_chart
from service.measurement.comparisons.rules import shown
from service.measurement.comparisons.workbook import write_comparison
from service.web.context import actor, base_url, db, today
from service.web.downloads import send_download, spooled
from service.web.i18n import translate_errors
from service.web.templating import name_of

#: Empty point rows the form offers; blank rows are ignored.
FORM_ROWS = 6
POINT_FIELDS = (
    "nominal",
    "reference_value",
    "reference_uncertainty",
    "lab_value",
    "lab_uncertainty",
    "assigned_value",
    "sd_pt",
)
FIELDS = ("kind", "scheme", "organiser_kind", "organiser_name", "quantity", "performed_on", "note")


def points_payload(form, fields, point_fields, rows: int) -> dict:
    """Return a posted form with point rows (``p<i>-<name>``) as the API's payload: filled rows only."""
    payload = {k: form.get(k, "").strip() for k in fields if form.get(k, "").strip()}
    points = []
    for index in range(rows):
        row = {name: form.get(f"p{index}-{name}", "").strip() for name in point_fields}
        row = {k: v for k, v in row.items() if v}
        if row:
            points.append(row)
    payload["points"] = points
    return payload


def comparison_payload(form) -> dict:
    """Return the posted form as the API's payload: the filled point rows only."""
    return points_payload(form, FIELDS, POINT_FIELDS, FORM_ROWS)


def _page(instrument_id: int, values: dict, errors: dict, status: int = 200):
    who = actor()
    instrument, results = queries.results_of(db(), who, instrument_id)
    return render_template(
        "measurement/comparisons/list.html",
        instrument=instrument,
        results=results,
        values=values,
        errors=translate_errors(errors),
        rows=FORM_ROWS,
        writable=who.can("ledger.write"),
        today=today(),
    ), status


@bp.get("/instruments/<int:instrument_id>/comparisons")
@login_required
def list_comparisons(instrument_id: int):
    """An instrument's comparison and proficiency-test results, and the form to record one."""
    return _page(
        instrument_id,
        {"kind": "comparison", "organiser_kind": "other", "performed_on": today().isoformat()},
        {},
    )


@bp.post("/instruments/<int:instrument_id>/comparisons")
@login_required
def record_comparison(instrument_id: int):
    """Record a result from the form; an unsatisfactory point opens a nonconformity case."""
    payload = comparison_payload(request.form)
    try:
        comparison = operations.record_comparison(
            db(), actor(), instrument_id, payload, today(), now_utc(), base_url()
        )
    except Invalid as exc:
        db().rollback()
        values = {k: v for k, v in request.form.items() if k != "csrf_token"}
        return _page(instrument_id, values, exc.field_errors, 422)
    if comparison.case_id is not None:
        flash(gettext("Recorded. A point is unsatisfactory: see the nonconformity case."), "warning")
    else:
        flash(gettext("Recorded."), "success")
    return redirect(url_for("measurement.show_comparison", comparison_id=comparison.id), code=303)


@bp.get("/comparisons/<int:comparison_id>")
@login_required
def show_comparison(comparison_id: int):
    """One result: its points with En or z and verdict in words, and the chart."""
    who = actor()
    comparison = queries.get_comparison(db(), who, comparison_id)
    return render_template(
        "measurement/comparisons/show.html",
        comparison=comparison,
        chart=score_chart(comparison, gettext),
        institute=who.home_org_kind == "institute" and not who.via_client_link,
        writable=who.can("ledger.write"),
        shown=shown,
    )


@bp.get("/comparisons/<int:comparison_id>.xlsx")
@login_required
def comparison_xlsx(comparison_id: int):
    """Download one result's record sheet (xlsx)."""
    comparison = queries.get_comparison(db(), actor(), comparison_id)
    spool = spooled(lambda out: write_comparison(comparison, out, gettext, name_of))
    stem = f"{comparison.instrument.management_no}-{comparison.performed_on:%Y%m%d}-{comparison.id}.xlsx"
    return send_download(spool, f"比对记录-{stem}", f"comparison-{comparison.id}.xlsx", XLSX_MIMETYPE)
