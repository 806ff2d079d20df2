"""The institute's report pages: the region dashboard, one region's clients, the service statistics.

Institute staff and administrators only: a firm's user gets 404 on every page here.
"""

from __future__ import annotations

from flask import render_template, request
from flask_login import login_required

from models import Organization
from service.errors import Invalid
from service.reports import queries
from service.reports.blueprint import bp
from service.web.context import actor, db, today
from service.web.i18n import translate_errors


def _year_and_zone() -> tuple[int, dict, str]:
    """Return the year asked for (this year on a bad one, with its error), and the institute's time zone."""
    who, day = actor(), today()
    queries.require_reports(who)
    zone = db().get(Organization, who.home_org_id).timezone
    try:
        return queries.parse_year(request.args.get("year"), day), {}, zone
    except Invalid as exc:
        return day.year, translate_errors(exc.field_errors), zone


@bp.get("/regions")
@login_required
def regions():
    """The linked clients by Henan region: instruments, inspection rate against target, work done."""
    year, errors, zone = _year_and_zone()
    dashboard = queries.region_dashboard(db(), actor(), today(), year, zone)
    return render_template("reports/regions.html", dashboard=dashboard, year=year, errors=errors), (
        400 if errors else 200
    )


@bp.get("/regions/<code>")
@login_required
def region(code: str):
    """One region's linked clients with the dashboard's figures, each linking to its ledger."""
    year, errors, zone = _year_and_zone()
    row = queries.region_detail(db(), actor(), code, today(), year, zone)
    return render_template(
        "reports/region.html", row=row, year=year, today=today(), errors=errors, unknown=queries.UNKNOWN
    ), (400 if errors else 200)


@bp.get("/service")
@login_required
def service():
    """Instruments calibrated per month by discipline and technician, turnaround, visits on time."""
    year, errors, zone = _year_and_zone()
    stats = queries.service_stats(db(), actor(), year, zone)
    return render_template("reports/service.html", stats=stats, year=year, errors=errors), (
        400 if errors else 200
    )
