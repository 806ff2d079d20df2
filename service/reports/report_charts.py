"""The charts of the report pages (KPIs, overdue, nonconformity), in the reader's language."""

from __future__ import annotations

from collections import Counter

from flask import url_for
from flask_babel import gettext

from service.reports.charts import Chart, Series, share
from service.reports.firm_charts import LABEL_COLOURS
from service.reports.kpis import KpiReport
from service.reports.lists import NonconformityReport, OverdueLine
from service.reports.workbooks import outcome_name

#: The colour of each nonconformity outcome (open cases in red: they still await a decision).
OUTCOME_COLOURS = {
    "adjust": "#0d6efd",
    "repair": "#6f42c1",
    "downgrade": "#ffc107",
    "scrap": "#6c757d",
    "open": "#dc3545",
}


def kpi_department_chart(report: KpiReport) -> Chart:
    """Coverage and inspection rate per department, against the 95% target."""
    lines = report.by_department
    names = [line.name if line.key is not None else gettext("No department") for line in lines]
    return Chart(
        key="kpi-by-department",
        title=gettext("Coverage and inspection rate by department"),
        kind="hbar",
        categories=names,
        series=[
            Series(
                gettext("Coverage"),
                [
                    share(line.rates["coverage"].numerator, line.rates["coverage"].denominator)
                    for line in lines
                ],
                links=[
                    url_for("ledger.list_instruments", department=line.key, in_use="true")
                    if line.key
                    else None
                    for line in lines
                ],
            ),
            Series(
                gettext("Inspection rate"),
                [
                    share(line.rates["inspection"].numerator, line.rates["inspection"].denominator)
                    for line in lines
                ],
                links=[
                    url_for(
                        "ledger.list_instruments", department=line.key, is_mandatory="true", in_use="true"
                    )
                    if line.key
                    else None
                    for line in lines
                ],
            ),
        ],
        unit="%",
        target=95,
        target_label=gettext("Target"),
        category_title=gettext("Department"),
    )


def overdue_report_chart(lines: list[OverdueLine]) -> Chart:
    """Overdue instruments per department, the most first."""
    counts = Counter(line.department for line in lines)
    ranked = sorted(counts, key=lambda name: (-counts[name], name or ""))
    return Chart(
        key="overdue-report",
        title=gettext("Overdue instruments by department"),
        kind="hbar",
        categories=[name or gettext("No department") for name in ranked],
        series=[
            Series(
                gettext("Overdue"),
                [counts[name] for name in ranked],
                links=[
                    url_for("ledger.list_instruments", overdue="true", department=name) if name else None
                    for name in ranked
                ],
                color=LABEL_COLOURS["red"],
            )
        ],
        category_title=gettext("Department"),
    )


def nonconformity_chart(report: NonconformityReport) -> Chart:
    """Cases opened per month, stacked by outcome."""
    counts = report.by_month()
    return Chart(
        key="nonconformity-by-month",
        title=gettext("Nonconformity cases opened per month, by disposition"),
        kind="bar",
        categories=[month.key for month in report.months],
        series=[
            Series(
                outcome_name(outcome, gettext),
                counts[outcome],
                stack="cases",
                color=OUTCOME_COLOURS.get(outcome),
                links=[
                    url_for("nonconformity.list_cases") if outcome == "open" and count else None
                    for count in counts[outcome]
                ],
            )
            for outcome in report.outcomes
        ],
        category_title=gettext("Month"),
    )
