"""Pages of the periodic verification and calibration plan: on screen, printable, and as xlsx."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext
from flask_login import login_required

from service.ledger_io.exporter import XLSX_MIMETYPE
from service.reports import plan_xlsx, queries
from service.reports.blueprint import bp
from service.reports.charts import Chart, Series
from service.reports.schemas import PeriodicPlanQuery
from service.schemas import load_or_invalid
from service.tenancy import queries as tenancy_queries
from service.web.context import actor, db, today
from service.web.downloads import send_download, spooled


def _plan():
    """Return the plan the query string asks for (a 400 page with the reason when it is not valid)."""
    query = load_or_invalid(PeriodicPlanQuery(), request.args)
    found = queries.periodic_plan(
        db(), actor(), query.get("year") or today().year, query.get("month"), today(), query.get("department")
    )
    return query, found


def _args(found, group: str) -> dict:
    """Return the query string that asks for ``found`` again (for the print and xlsx links)."""
    args = {"year": found.period.year, "group": group}
    if found.period.month:
        args["month"] = found.period.month
    if found.department is not None:
        args["department"] = found.department.id
    return args


@bp.get("/plan")
@login_required
def plan_page():
    """The plan of a year or a month: per-month completion, then the lines by department or by laboratory."""
    query, found = _plan()
    group = query["group"]
    return render_template(
        "reports/plan.html",
        plan=found,
        group=group,
        groups=found.groups(group),
        args=_args(found, group),
        departments=tenancy_queries.list_departments(db(), actor()),
        chart=_chart(found, _args(found, group)),
        years=range(today().year - 3, today().year + 2),
    )


@bp.get("/plan/print")
@login_required
def plan_print():
    """The plan as a printable A4 landscape page, with its signature lines."""
    query, found = _plan()
    group = query["group"]
    return render_template(
        "reports/plan_print.html",
        plan=found,
        group=group,
        groups=found.groups(group),
        title=plan_xlsx.title_of(found.period),
        back=_args(found, group),
    )


@bp.get("/plan.xlsx")
@login_required
def plan_download():
    """The plan as the xlsx firms file."""
    _query, found = _plan()
    slug = tenancy_queries.get_org(db(), actor()).slug
    name, fallback = plan_xlsx.file_name(found, slug)
    return send_download(spooled(lambda out: plan_xlsx.write_xlsx(found, out)), name, fallback, XLSX_MIMETYPE)


def _chart(found, args: dict) -> Chart:
    """Return the chart of the completion rates per month, each bar leading to that month's plan."""
    months = list(found.months.items())
    links = [
        url_for("reports.plan_page", **(args | {"month": month})) if tally.planned else None
        for month, tally in months
    ]
    return Chart(
        key="plan-completion-chart",
        title=gettext("Completion rate per month"),
        kind="bar",
        categories=[gettext("Month %(month)s", month=month) for month, _tally in months],
        series=[
            Series(gettext("Completion rate"), [_percent(t.completion.rate) for _m, t in months], links),
            Series(
                gettext("On-time completion"),
                [_percent(t.on_time_completion.rate) for _m, t in months],
                links,
            ),
        ],
        unit="%",
        category_title=gettext("Month"),
    )


def _percent(rate: float | None) -> float | None:
    """Return a fraction as a percentage with one decimal, as charts take it (0.6667 → 66.7)."""
    return None if rate is None else round(rate * 100, 1)
