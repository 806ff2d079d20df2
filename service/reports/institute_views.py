"""The institute's report pages: the region dashboard, one region's clients, the service statistics.

Institute staff and administrators only: a firm's user gets 404 on every page here.
"""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext
from flask_login import login_required

from models import Organization
from service.errors import Invalid
from service.figures import INSPECTION_TARGET
from service.reports import institute_workbooks, queries
from service.reports.blueprint import bp
from service.reports.charts import Chart, Series, share
from service.web.context import actor, db, today
from service.web.downloads import XLSX_MIMETYPE, send_download, spooled
from service.web.i18n import translate_errors
from service.web.templating import name_of


def _institute_name() -> str:
    return db().get(Organization, actor().home_org_id).name


def _xlsx(write, stem: str):
    """Send what ``write(file)`` wrote as an xlsx named ``stem``.xlsx."""
    return send_download(spooled(write), f"{stem}.xlsx", "report.xlsx", XLSX_MIMETYPE)


def _year_or_400() -> tuple[int, str]:
    """Return the year asked for and the institute's time zone; a bad year is a 400 (Invalid)."""
    who = actor()
    queries.require_reports(who)
    return queries.parse_year(request.args.get("year"), today()), db().get(
        Organization, who.home_org_id
    ).timezone


def _year_and_zone() -> tuple[int, dict, str]:
    """Return the year asked for (this year on a bad one, with its error), and the institute's time zone."""
    who, day = actor(), today()
    queries.require_reports(who)
    zone = db().get(Organization, who.home_org_id).timezone
    try:
        return queries.parse_year(request.args.get("year"), day), {}, zone
    except Invalid as exc:
        return day.year, translate_errors(exc.field_errors), zone


def region_chart(dashboard: queries.Dashboard, year: int) -> Chart:
    """Return the regions ranked by the inspection rate of all their mandatory instruments, each a link."""
    ranking = dashboard.ranking
    return Chart(
        key="region-inspection",
        title=gettext("Inspection rate of mandatory instruments by region"),
        kind="hbar",
        categories=[row.name or gettext("Region unknown") for row in ranking],
        series=[
            Series(
                name=gettext("Inspection rate"),
                values=[
                    share(row.figures.inspection.numerator, row.figures.inspection.denominator)
                    for row in ranking
                ],
                links=[url_for("reports.region", code=row.code, year=year) for row in ranking],
            )
        ],
        unit="%",
        target=INSPECTION_TARGET * 100,
        target_label=gettext("Target"),
        category_title=gettext("Region"),
    )


def discipline_chart(stats: queries.ServiceStats) -> Chart:
    """Return the instruments calibrated per month, stacked by discipline."""
    return Chart(
        key="calibrated-by-discipline",
        title=gettext("Instruments calibrated per month, by discipline"),
        kind="bar",
        categories=[str(month) for month in range(1, 13)],
        series=[
            Series(name=name_of("discipline", c.key), values=list(c.per_month), stack="disciplines")
            for c in stats.by_discipline
        ],
        category_title=gettext("Month"),
    )


def turnaround_chart(stats: queries.ServiceStats) -> Chart:
    """Return the median and mean turnaround of the orders returned each month, in days."""
    return Chart(
        key="order-turnaround",
        title=gettext("Turnaround of service orders (received → returned)"),
        kind="line",
        categories=[str(t.month) for t in stats.turnaround],
        series=[
            Series(name=gettext("Median days"), values=[t.median for t in stats.turnaround]),
            Series(name=gettext("Mean days"), values=[t.mean for t in stats.turnaround]),
        ],
        category_title=gettext("Month"),
    )


@bp.get("/regions")
@login_required
def regions():
    """The linked clients by Henan region: instruments, inspection rate against target, work done."""
    year, errors, zone = _year_and_zone()
    dashboard = queries.region_dashboard(db(), actor(), today(), year, zone)
    chart = region_chart(dashboard, year)
    return render_template(
        "reports/regions.html", dashboard=dashboard, year=year, errors=errors, chart=chart
    ), (400 if errors else 200)


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
    return render_template(
        "reports/service.html",
        stats=stats,
        year=year,
        errors=errors,
        discipline_chart=discipline_chart(stats),
        turnaround_chart=turnaround_chart(stats),
    ), (400 if errors else 200)


@bp.get("/regions.xlsx")
@login_required
def regions_xlsx():
    """The region dashboard as xlsx: the regions, then every linked client."""
    year, zone = _year_or_400()
    dashboard = queries.region_dashboard(db(), actor(), today(), year, zone)
    name = _institute_name()
    return _xlsx(
        lambda out: institute_workbooks.write_regions(dashboard, name, out, gettext),
        f"{name}-{gettext('Region dashboard')}-{year}",
    )


@bp.get("/service.xlsx")
@login_required
def service_xlsx():
    """The service statistics as xlsx."""
    year, zone = _year_or_400()
    stats = queries.service_stats(db(), actor(), year, zone)
    name = _institute_name()
    return _xlsx(
        lambda out: institute_workbooks.write_service(stats, name, out, gettext),
        f"{name}-{gettext('Service statistics')}-{year}",
    )
