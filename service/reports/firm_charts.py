"""The firm's charts, in the reader's language, each bar linked to the ledger list behind it."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext

from service import figures
from service.names import LABEL_NAMES, STATUS_NAMES
from service.reports.charts import Chart, Series, share
from service.reports.dashboard import NO_DEPARTMENT, OTHER_DEPARTMENTS
from service.reports.queries import FirmDashboard

#: The colours of the three labels, as Bootstrap draws them.
LABEL_COLOURS = {"green": "#198754", "yellow": "#ffc107", "red": "#dc3545"}


def department_name(departments: dict[int, str], key: int) -> str:
    """Return a department's name, or what a group of none or of the rest is called."""
    if key == NO_DEPARTMENT:
        return gettext("No department")
    if key == OTHER_DEPARTMENTS:
        return gettext("Other departments")
    return departments.get(key, "?")


def _ledger(**filters) -> str:
    return url_for(
        "ledger.list_instruments", **{key: value for key, value in filters.items() if value is not None}
    )


def due_chart(board: FirmDashboard, by: str) -> Chart:
    """Instruments in use due per month for the next 12 months, stacked by label or department."""
    due = board.due
    series = []
    for group in due.groups:
        if by == "label":
            name, colour, filters = gettext(LABEL_NAMES[group]), LABEL_COLOURS[group], {"label": group}
        else:
            name, colour = department_name(board.departments, group), None
            filters = {"department": group} if group not in (NO_DEPARTMENT, OTHER_DEPARTMENTS) else {}
        links = [
            _ledger(in_use="true", due_from=month.first.isoformat(), due_to=month.last.isoformat(), **filters)
            if count
            else None
            for month, count in zip(due.months, due.counts[group], strict=True)
        ]
        series.append(Series(name, due.counts[group], links=links, stack="due", color=colour))
    return Chart(
        key="due-by-month",
        title=gettext("Instruments due per month, next 12 months"),
        kind="bar",
        categories=[month.key for month in due.months],
        series=series,
        category_title=gettext("Month"),
    )


def overdue_chart(board: FirmDashboard) -> Chart:
    """Instruments overdue now, by department, the most first."""
    return Chart(
        key="overdue-by-department",
        title=gettext("Overdue now, by department"),
        kind="hbar",
        categories=[department_name(board.departments, dept) for dept, _count in board.overdue],
        series=[
            Series(
                gettext("Overdue"),
                [count for _dept, count in board.overdue],
                links=[
                    _ledger(overdue="true", department=dept if dept != NO_DEPARTMENT else None)
                    for dept, _count in board.overdue
                ],
                color=LABEL_COLOURS["red"],
            )
        ],
        category_title=gettext("Department"),
    )


def inspection_chart(rates: dict[str, figures.Rate]) -> Chart:
    """The inspection rate of mandatory instruments, household meters and the others, against targets."""
    groups = [
        ("household", gettext("Household meters"), rates["household"], figures.HOUSEHOLD_METER_TARGET),
        (
            "other_mandatory",
            gettext("Other mandatory instruments"),
            rates["other_mandatory"],
            figures.INSPECTION_TARGET,
        ),
        ("inspection", gettext("All mandatory instruments"), rates["inspection"], figures.INSPECTION_TARGET),
    ]
    return Chart(
        key="inspection-rate",
        title=gettext("Inspection rate of mandatory instruments (受检率)"),
        kind="bar",
        categories=[name for _key, name, _rate, _target in groups],
        series=[
            Series(
                gettext("Inspection rate"),
                [share(rate.numerator, rate.denominator) for _key, _name, rate, _target in groups],
                links=[
                    url_for("nominations.behind", figure=key, short="true") if rate.denominator else None
                    for key, _name, rate, _target in groups
                ],
            ),
            Series(
                gettext("Target"),
                [round(target * 100, 1) for *_rest, target in groups],
                color=LABEL_COLOURS["red"],
                as_line=True,
            ),
        ],
        unit="%",
        category_title=gettext("Instruments"),
    )


def on_time_chart(board: FirmDashboard) -> Chart:
    """The on-time rate of each of the last 12 months, by the month of each due date."""
    behind = url_for("nominations.behind", figure="on_time", short="true")
    return Chart(
        key="on-time-by-month",
        title=gettext("On-time rate per month, last 12 months"),
        kind="line",
        categories=[month.month.key for month in board.rates.on_time],
        series=[
            Series(
                gettext("On-time rate"),
                [share(month.rate.numerator, month.rate.denominator) for month in board.rates.on_time],
                links=[
                    behind if month.rate.numerator < month.rate.denominator else None
                    for month in board.rates.on_time
                ],
            ),
        ],
        unit="%",
        category_title=gettext("Month"),
    )


def status_chart(board: FirmDashboard) -> Chart:
    """The ledger's instruments by status."""
    statuses = [status for status in STATUS_NAMES if board.statuses.get(status)]
    return Chart(
        key="by-status",
        title=gettext("Instruments by status"),
        kind="pie",
        categories=[gettext(STATUS_NAMES[status]) for status in statuses],
        series=[
            Series(
                gettext("Instruments"),
                [board.statuses[status] for status in statuses],
                links=[_ledger(status=status) for status in statuses],
            )
        ],
        category_title=gettext("Status"),
    )


def abc_chart(board: FirmDashboard) -> Chart:
    """The instruments in use by ABC class, the unclassified last."""
    classes = [cls for cls in ("A", "B", "C") if board.abc.get(cls)]
    unclassified = board.abc.get(None, 0)
    return Chart(
        key="by-abc",
        title=gettext("Instruments in use by ABC class"),
        kind="pie",
        categories=[gettext("Class %(cls)s", cls=cls) for cls in classes]
        + ([gettext("Unclassified")] if unclassified else []),
        series=[
            Series(
                gettext("Instruments"),
                [board.abc[cls] for cls in classes] + ([unclassified] if unclassified else []),
                links=[_ledger(abc_class=cls, in_use="true") for cls in classes]
                + (
                    [url_for("nominations.behind", figure="unclassified", short="true")]
                    if unclassified
                    else []
                ),
            )
        ],
        category_title=gettext("ABC class"),
    )


def dashboard_charts(board: FirmDashboard, due_by: str) -> dict[str, Chart]:
    """Return the dashboard's charts by name."""
    return {
        "due": due_chart(board, due_by),
        "overdue": overdue_chart(board),
        "inspection": inspection_chart(board.rates.inspection),
        "on_time": on_time_chart(board),
        "status": status_chart(board),
        "abc": abc_chart(board),
    }
