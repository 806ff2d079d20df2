"""The En or z chart of one result: a bar per point, with the limits drawn as lines."""

from __future__ import annotations

from service.measurement.comparisons.rules import shown
from service.reports.charts import Chart, Series


def score_chart(comparison, gettext) -> Chart:
    """Return the bar chart of En (limits ±1) or z (±2 questionable, ±3 unsatisfactory) per point."""
    en = comparison.kind == "comparison"
    label = "En" if en else "z"
    limits = (1,) if en else (2, 3)
    categories = [
        f"{gettext('Point')} {p.position}"
        + (f" ({p.nominal.normalize():f})" if p.nominal is not None else "")
        for p in comparison.points
    ]
    marks = [(sign * limit, f"{label} = {sign * limit:+d}") for limit in limits for sign in (1, -1)]
    return Chart(
        key="comparison-scores",
        title=gettext("%(score)s per point", score=label),
        kind="bar",
        categories=categories,
        series=[Series(label, [float(shown(p.score)) for p in comparison.points])],
        category_title=gettext("Point"),
        marks=marks,
    )
