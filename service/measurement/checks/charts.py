"""A check point's control chart as a :class:`~service.reports.charts.Chart` for the pages."""

from __future__ import annotations

from collections.abc import Callable

from service.measurement.checks.queries import PointChart
from service.reports.charts import Chart, MarkLine, Series


def control_chart(chart: PointChart, gettext: Callable[..., str]) -> Chart:
    """The deviations over time with the centre, ±2σ, ±3σ lines and the MPE band; signals marked."""
    marks = []
    if chart.limits is not None:
        lim = chart.limits
        marks += [
            MarkLine(lim.centre, gettext("Centre"), "solid"),
            MarkLine(lim.line(2), "+2σ", "warning"),
            MarkLine(lim.line(-2), "−2σ", "warning"),
            MarkLine(lim.line(3), "+3σ", "action"),
            MarkLine(lim.line(-3), "−3σ", "action"),
        ]
    if chart.point.mpe is not None:
        marks += [
            MarkLine(chart.point.mpe, "+MPE", "band"),
            MarkLine(-chart.point.mpe, "−MPE", "band"),
        ]
    flagged = {i for s in chart.signals for i in s.points} | set(chart.out_of_tolerance)
    unit = f" ({chart.point.unit})" if chart.point.unit else ""
    return Chart(
        key=f"check-point-{chart.point.id}",
        title=f"{chart.point.label}{unit}",
        kind="line",
        categories=[f"{i + 1} · {d.isoformat()}" for i, d in enumerate(chart.dates)],
        series=[Series(gettext("Deviation"), list(chart.deviations), highlights=sorted(flagged))],
        category_title=gettext("Check"),
        mark_lines=marks,
        fractional=True,
    )
