"""Stability and repeatability pages: an instrument's checks, a test's arithmetic, an assessment's groups."""

from __future__ import annotations

from decimal import Decimal

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required

from models.stability import ALLOWED_BASES
from service.errors import DomainError
from service.ledger.queries import get_instrument
from service.measurement.blueprint import bp
from service.measurement.stability import operations, queries, rules
from service.measurement.stability.workbooks import basis_name, write_repeatability, write_stability
from service.reports.charts import Chart, Series
from service.web.context import actor, base_url, db, today
from service.web.downloads import XLSX_MIMETYPE, send_download, spooled
from service.web.forms import flash_failure, form_data


def _checks_page(instrument_id: int, form: dict | None = None, status: int = 200):
    who = actor()
    instrument = get_instrument(db(), who, instrument_id)
    return (
        render_template(
            "measurement/stability/index.html",
            instrument=instrument,
            tests=queries.tests_of(db(), who, instrument.id),
            assessments=queries.assessments_of(db(), who, instrument.id),
            writable=who.can("ledger.write"),
            form=form or {},
            today=today(),
            bases=[(b, basis_name(b)) for b in ALLOWED_BASES],
        ),
        status,
    )


@bp.get("/instruments/<int:instrument_id>/stability")
@login_required
def stability_index(instrument_id: int):
    """An instrument's repeatability tests and stability assessments, with the forms to add them."""
    return _checks_page(instrument_id)


@bp.post("/instruments/<int:instrument_id>/stability/repeatability")
@login_required
def stability_record_test(instrument_id: int):
    """Record a repeatability test from the form (readings in a textarea)."""
    data = form_data()
    try:
        test = operations.record_repeatability(db(), actor(), instrument_id, data, today(), base_url())
    except DomainError as exc:
        flash_failure(exc)
        return _checks_page(instrument_id, data, 400)
    flash(gettext("Repeatability test recorded."), "success" if test.passed else "warning")
    return redirect(url_for("measurement.stability_test", test_id=test.id), code=303)


@bp.post("/instruments/<int:instrument_id>/stability/assessments")
@login_required
def stability_open(instrument_id: int):
    """Open a stability assessment on a check object."""
    data = form_data()
    try:
        assessment = operations.open_assessment(db(), actor(), instrument_id, data, today())
    except DomainError as exc:
        flash_failure(exc)
        return _checks_page(instrument_id, data, 400)
    flash(gettext("Stability assessment opened: add a group of readings each month."), "success")
    return redirect(url_for("measurement.stability_assessment", assessment_id=assessment.id), code=303)


@bp.get("/repeatability-tests/<int:test_id>")
@login_required
def stability_test(test_id: int):
    """One repeatability test: its readings and the arithmetic of its mean and s."""
    test = queries.get_test(db(), actor(), test_id)
    result = rules.repeatability([Decimal(r) for r in test.readings], Decimal(test.claimed))
    return render_template("measurement/stability/test.html", test=test, result=result, shown=rules.shown)


@bp.get("/repeatability-tests/<int:test_id>/record.xlsx")
@login_required
def stability_test_xlsx(test_id: int):
    """The test's record sheet (重复性试验记录)."""
    test = queries.get_test(db(), actor(), test_id)
    name = f"{gettext('Repeatability test record')}-{test.instrument.management_no}-{test.performed_on}.xlsx"
    return send_download(
        spooled(lambda out: write_repeatability(out, test)), name, "repeatability.xlsx", XLSX_MIMETYPE
    )


def _assessment_page(assessment_id: int, form: dict | None = None, status: int = 200):
    who = actor()
    assessment = queries.get_assessment(db(), who, assessment_id)
    result = operations.figures(assessment)
    groups = sorted(assessment.groups, key=lambda g: g.measured_on)
    return (
        render_template(
            "measurement/stability/assessment.html",
            assessment=assessment,
            groups=groups,
            result=result,
            chart=means_chart(assessment, groups, result),
            writable=who.can("ledger.write") and assessment.is_open,
            form=form or {},
            today=today(),
            shown=rules.shown,
            basis=basis_name(assessment.allowed_basis),
        ),
        status,
    )


def means_chart(assessment, groups, result: rules.Stability) -> Chart:
    """The group means over time, with the allowed band from the lowest mean up by the allowed value."""
    marks: tuple = ()
    if result.lowest is not None:
        allowed = Decimal(assessment.allowed)
        marks = (
            (float(result.lowest), gettext("Lowest mean")),
            (float(result.lowest + allowed), gettext("Lowest mean + allowed")),
        )
    return Chart(
        key="stability-means",
        title=gettext("Group means over time"),
        kind="line",
        categories=[g.measured_on.isoformat() for g in groups],
        series=[Series(gettext("Mean"), [float(Decimal(g.mean)) for g in groups])],
        unit=assessment.unit or "",
        category_title=gettext("Measured on"),
        marks=marks,
        zero_based=False,
    )


@bp.get("/stability-assessments/<int:assessment_id>")
@login_required
def stability_assessment(assessment_id: int):
    """One stability assessment: its groups, the chart of their means, the verdict and warnings."""
    return _assessment_page(assessment_id)


@bp.post("/stability-assessments/<int:assessment_id>/groups")
@login_required
def stability_add_group(assessment_id: int):
    """Add a group of readings to an open assessment."""
    data = form_data()
    try:
        operations.add_group(db(), actor(), assessment_id, data, today())
    except DomainError as exc:
        flash_failure(exc)
        return _assessment_page(assessment_id, data, 400)
    flash(gettext("Group added."), "success")
    return redirect(url_for("measurement.stability_assessment", assessment_id=assessment_id), code=303)


@bp.post("/stability-assessments/<int:assessment_id>/close")
@login_required
def stability_close(assessment_id: int):
    """Close an assessment with its verdict."""
    try:
        operations.close_assessment(db(), actor(), assessment_id, form_data(), today(), base_url())
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("Stability assessment closed."), "success")
    return redirect(url_for("measurement.stability_assessment", assessment_id=assessment_id), code=303)


@bp.get("/stability-assessments/<int:assessment_id>/record.xlsx")
@login_required
def stability_assessment_xlsx(assessment_id: int):
    """The assessment's record sheet (稳定性考核记录)."""
    assessment = queries.get_assessment(db(), actor(), assessment_id)
    name = f"{gettext('Stability assessment record')}-{assessment.instrument.management_no}.xlsx"
    return send_download(
        spooled(lambda out: write_stability(out, assessment)), name, "stability.xlsx", XLSX_MIMETYPE
    )
