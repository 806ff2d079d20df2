"""The firm's report pages: KPIs, overdue instruments, nonconformity cases; each with its xlsx."""

from __future__ import annotations

from itertools import groupby

from flask import render_template
from flask_babel import gettext
from flask_login import login_required

from models import Organization
from service.errors import DomainError
from service.reports import kpis as kpi_rules
from service.reports import queries, report_charts, workbooks
from service.reports.blueprint import bp
from service.reports.schemas import AsOfQuery, DepartmentQuery, YearQuery
from service.web.context import actor, db, today
from service.web.downloads import XLSX_MIMETYPE, send_download, spooled
from service.web.forms import flash_failure, query_or_defaults


def _org_name() -> str:
    return db().get(Organization, actor().org_id).name


def _xlsx(write, stem: str):
    """Send what ``write(file)`` wrote as an xlsx named ``stem``.xlsx."""
    return send_download(spooled(write), f"{stem}.xlsx", "report.xlsx", XLSX_MIMETYPE)


def _kpi_report():
    wanted = query_or_defaults(AsOfQuery()).get("as_of") or today()
    try:
        return queries.kpi_report(db(), actor(), wanted, today())
    except DomainError as exc:
        flash_failure(exc)
        return queries.kpi_report(db(), actor(), today(), today())


@bp.get("/")
@login_required
def index():
    """The reports a firm has, with what each tells."""
    actor().require("ledger.read")
    return render_template("reports/index.html")


@bp.get("/kpis")
@login_required
def kpis():
    """The dossier's figures for the firm, by department and by ABC class, against the targets."""
    report = _kpi_report()
    return render_template(
        "reports/kpis.html",
        report=report,
        names=workbooks.figure_names(gettext),
        figures=kpi_rules.FIGURES,
        targets=kpi_rules.TARGETS,
        chart=report_charts.kpi_department_chart(report),
        is_today=report.as_of == today(),
    )


@bp.get("/kpis.xlsx")
@login_required
def kpis_xlsx():
    """The KPI report as xlsx."""
    report = _kpi_report()
    return _xlsx(
        lambda out: workbooks.write_kpis(report, _org_name(), out, gettext),
        f"{_org_name()}-{gettext('KPI report')}-{report.as_of.isoformat()}",
    )


def _overdue():
    department = query_or_defaults(DepartmentQuery()).get("department")
    try:
        return department, queries.overdue_report(db(), actor(), today(), department)
    except DomainError as exc:
        flash_failure(exc)
        return None, queries.overdue_report(db(), actor(), today())


@bp.get("/overdue")
@login_required
def overdue():
    """Instruments in use past their due date, by department, with the days overdue."""
    department, lines = _overdue()
    return render_template(
        "reports/overdue.html",
        lines=lines,
        groups=[(name, list(group)) for name, group in groupby(lines, key=lambda line: line.department)],
        department=department,
        chart=report_charts.overdue_report_chart(lines),
        today=today(),
    )


@bp.get("/overdue.xlsx")
@login_required
def overdue_xlsx():
    """The overdue report as xlsx."""
    _department, lines = _overdue()
    return _xlsx(
        lambda out: workbooks.write_overdue(lines, _org_name(), today(), out, gettext),
        f"{_org_name()}-{gettext('Overdue report')}-{today().isoformat()}",
    )


def _nonconformity():
    year = query_or_defaults(YearQuery()).get("year") or today().year
    return queries.nonconformity_report(db(), actor(), year)


@bp.get("/nonconformity")
@login_required
def nonconformity():
    """Nonconformity cases opened per month of a year, by disposition, and the cases themselves."""
    report = _nonconformity()
    return render_template(
        "reports/nonconformity.html",
        report=report,
        chart=report_charts.nonconformity_chart(report),
        outcome_name=lambda outcome: workbooks.outcome_name(outcome, gettext),
        this_year=today().year,
    )


@bp.get("/nonconformity.xlsx")
@login_required
def nonconformity_xlsx():
    """The nonconformity report as xlsx."""
    report = _nonconformity()
    return _xlsx(
        lambda out: workbooks.write_nonconformity(report, _org_name(), out, gettext),
        f"{_org_name()}-{gettext('Nonconformity report')}-{report.year}",
    )
