"""API: the firm's reports — the dashboard's figures, the KPI report, overdue and nonconformity."""

from __future__ import annotations

from flask import jsonify, request

from models import Organization
from service.api import bp
from service.api.docs import doc
from service.reports import queries
from service.reports.schemas import (
    AsOfQuery,
    DashboardOut,
    DashboardQuery,
    DepartmentQuery,
    KpiReportOut,
    NonconformityReportOut,
    OverdueReportOut,
    YearQuery,
)
from service.schemas import load_or_invalid
from service.web.context import actor, db, today


@bp.get("/reports/dashboard")
@doc(tags=["reports"], query=DashboardQuery, responses={200: DashboardOut}, errors=(400, 403))
def get_dashboard_report():
    """Return what the dashboard's charts draw: due per month, overdue by department, rates, breakdowns."""
    query = load_or_invalid(DashboardQuery(), request.args)
    board = queries.firm_dashboard(db(), actor(), today(), query["due_by"])
    return jsonify(DashboardOut().dump(board.as_dict()))


@bp.get("/reports/kpis")
@doc(tags=["reports"], query=AsOfQuery, responses={200: KpiReportOut}, errors=(400, 403))
def get_kpi_report():
    """Return the KPI report as of a day: the dossier's figures overall, by department and by ABC class.

    Rates are fractions with 4 decimals, each with its numerator and denominator and, for the
    inspection rates, the provincial target (98% household meters, 95% the others).
    """
    query = load_or_invalid(AsOfQuery(), request.args)
    report = queries.kpi_report(db(), actor(), query.get("as_of") or today(), today())
    org = db().get(Organization, actor().org_id)
    return jsonify(KpiReportOut().dump({"org": org.slug} | report.as_dict()))


@bp.get("/reports/overdue")
@doc(tags=["reports"], query=DepartmentQuery, responses={200: OverdueReportOut}, errors=(400, 403, 404))
def get_overdue_report():
    """Return the instruments in use past their due date, by department, with the days overdue."""
    query = load_or_invalid(DepartmentQuery(), request.args)
    lines = queries.overdue_report(db(), actor(), today(), query.get("department"))
    by_department: dict[str, int] = {}
    for line in lines:
        by_department[line.department or ""] = by_department.get(line.department or "", 0) + 1
    return jsonify(
        OverdueReportOut().dump(
            {
                "as_of": today(),
                "total": len(lines),
                "by_department": by_department,
                "items": [vars(line) for line in lines],
            }
        )
    )


@bp.get("/reports/nonconformity")
@doc(tags=["reports"], query=YearQuery, responses={200: NonconformityReportOut}, errors=(400, 403))
def get_nonconformity_report():
    """Return the nonconformity cases opened in a year, per month by outcome, and each case."""
    query = load_or_invalid(YearQuery(), request.args)
    report = queries.nonconformity_report(db(), actor(), query.get("year") or today().year)
    return jsonify(
        NonconformityReportOut().dump(
            {
                "year": report.year,
                "months": [month.key for month in report.months],
                "by_month": report.by_month(),
                "cases": [vars(case) | {"outcome": case.outcome} for case in report.cases],
            }
        )
    )
