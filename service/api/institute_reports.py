"""API: the institute's reports: the region dashboard, one region's clients, the service statistics.

Institute staff and administrators only; a firm's token gets 404 on every endpoint here.
"""

from __future__ import annotations

from flask import jsonify, request

from models import Organization
from service.api import bp
from service.api.docs import doc
from service.figures import HOUSEHOLD_METER_TARGET, INSPECTION_TARGET
from service.reports import queries
from service.reports.schemas import InstituteReportYear, RegionDashboardOut, RegionDetailOut, ServiceStatsOut
from service.visits.disciplines import DISCIPLINE_NAMES
from service.web.context import actor, db, today
from service.web.i18n import translate


def _year_and_zone() -> tuple[int, str]:
    who = actor()
    queries.require_reports(who)
    return queries.parse_year(request.args.get("year"), today()), db().get(
        Organization, who.home_org_id
    ).timezone


def _region(row: queries.RegionRow) -> dict:
    return {"code": row.code, "name": row.name, "clients": len(row.clients), "figures": row.figures.as_dict()}


@bp.get("/reports/regions")
@doc(
    tags=["reports"],
    description=(
        "Your institute's actively linked clients by Henan city or directly administered county "
        "(`unknown`: clients without a known region): instruments in use, mandatory ones, the "
        "inspection rate of household meters (target 98%) and of the other mandatory instruments "
        "(target 95%) as of today, overdue instruments, and the visits and service orders completed "
        "in the year. Staff and administrators of an institute."
    ),
    query=InstituteReportYear,
    responses={200: RegionDashboardOut},
    errors=(400, 403, 404),
)
def region_dashboard():
    """Return the region dashboard of a year."""
    year, zone = _year_and_zone()
    dashboard = queries.region_dashboard(db(), actor(), today(), year, zone)
    body = {
        "year": year,
        "today": dashboard.today,
        "targets": {"household": HOUSEHOLD_METER_TARGET, "other": INSPECTION_TARGET},
        "regions": [_region(row) for row in dashboard.regions],
        "ranking": [row.code for row in dashboard.ranking],
        "total": dashboard.total.as_dict(),
    }
    return jsonify(RegionDashboardOut().dump(body))


@bp.get("/reports/regions/<code>")
@doc(
    tags=["reports"],
    description="One region of the dashboard (GB/T 2260 code, or `unknown`) with its clients' figures.",
    query=InstituteReportYear,
    responses={200: RegionDetailOut},
    errors=(400, 403, 404),
)
def region_detail(code: str):
    """Return one region's linked clients with their figures."""
    year, zone = _year_and_zone()
    row = queries.region_detail(db(), actor(), code, today(), year, zone)
    body = {
        "year": year,
        "today": today(),
        "code": row.code,
        "name": row.name,
        "figures": row.figures.as_dict(),
        "clients": [
            {
                "id": c.id,
                "slug": c.slug,
                "name": c.name,
                "region_code": c.region_code,
                "figures": c.figures.as_dict(),
            }
            for c in row.clients
        ],
    }
    return jsonify(RegionDetailOut().dump(body))


@bp.get("/reports/service")
@doc(
    tags=["reports"],
    description=(
        "Instruments your institute calibrated for its linked clients per month, by discipline and by "
        "technician; the turnaround of service orders (received → returned, days); the share of "
        "visits completed on or before their earliest due date."
    ),
    query=InstituteReportYear,
    responses={200: ServiceStatsOut},
    errors=(400, 403, 404),
)
def service_stats():
    """Return the institute's service statistics of a year."""
    year, zone = _year_and_zone()
    stats = queries.service_stats(db(), actor(), year, zone)
    body = {
        "year": year,
        "total": stats.total,
        "per_month": list(stats.per_month),
        "by_discipline": [
            {
                "key": c.key,
                "name": translate(DISCIPLINE_NAMES.get(c.key, c.key)),
                "per_month": list(c.per_month),
                "total": c.total,
            }
            for c in stats.by_discipline
        ],
        "by_technician": [
            {
                "key": None if c.key is None else str(c.key),
                "name": stats.technicians.get(c.key, "")
                if c.key is not None
                else translate(queries.NOT_ATTRIBUTED),
                "per_month": list(c.per_month),
                "total": c.total,
            }
            for c in stats.by_technician
        ],
        "turnaround": [t.as_dict() for t in stats.turnaround],
        "turnaround_year": stats.turnaround_year.as_dict(),
        "visits_on_time": [{"month": m} | r.as_dict() for m, r in enumerate(stats.on_time, start=1)],
        "visits_on_time_year": {"month": None} | stats.on_time_year.as_dict(),
    }
    return jsonify(ServiceStatsOut().dump(body))
