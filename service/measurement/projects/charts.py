"""The report's chart per point: each participant's degree of equivalence with its U(d) as an error bar."""

from __future__ import annotations

from service.reports.charts import Chart, MarkLine, Series


def equivalence_charts(view, gettext) -> list[Chart]:
    """Return a chart per point: d_i with U(d_i) (k = 2) as error bars, and the line d = 0."""
    unit = view.project.unit or ""
    charts = []
    for index, point in enumerate(view.points):
        rows = [row for row in view.rows if row.degrees and row.degrees[index] is not None]
        degrees = [row.degrees[index] for row in rows]
        nominal = f"{point.nominal.normalize():f} {unit}".strip()
        charts.append(
            Chart(
                key=f"equivalence-{point.position}",
                title=gettext("Degrees of equivalence at %(point)s", point=nominal),
                kind="dots",
                categories=[row.participant.lab_name for row in rows],
                series=[
                    Series(
                        gettext("d = x − x_ref (± U(d), k=2)"),
                        [float(d.d) for d in degrees],
                        errors=[float(d.u_d_shown) for d in degrees],
                        highlights=[i for i, d in enumerate(degrees) if d.verdict == "unsatisfactory"],
                    )
                ],
                category_title=gettext("Participant"),
                mark_lines=[MarkLine(0.0, "d = 0", "solid")],
                fractional=True,
            )
        )
    return charts
