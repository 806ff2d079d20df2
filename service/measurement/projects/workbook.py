"""A comparison project's report as an xlsx workbook: the reference and the degrees of equivalence."""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from service.ledger_io.columns import neutralise
from service.ledger_io.exporter import open_workbook
from service.measurement.comparisons.rules import shown

Gettext = Callable[..., str]


def write_report(view, out: BinaryIO, gettext: Gettext, name_of) -> None:
    """Write the protocol, then per point the reference and a row per participant with d, U(d), En."""
    project = view.project
    workbook = open_workbook(out)
    bold = workbook.add_format({"bold": True})
    header = workbook.add_format({"bold": True, "border": 1, "bg_color": "#DDEBF7", "text_wrap": True})
    cell = workbook.add_format({"border": 1})
    sheet = workbook.add_worksheet(gettext("Report")[:31])
    sheet.write_string(0, 0, neutralise(gettext("Comparison report") + " · " + project.title), bold)
    facts = [
        (gettext("Protocol number"), project.code or ""),
        (gettext("Quantity"), project.quantity + (f" ({project.unit})" if project.unit else "")),
        (gettext("Transfer standard"), project.transfer_standard),
        (gettext("Schedule"), f"{project.starts_on.isoformat()} – {project.results_due_on.isoformat()}"),
        (gettext("Reference value"), name_of("reference_kind", project.reference_kind)),
        (gettext("Published on"), project.published_on.isoformat() if project.published_on else ""),
    ]
    for row, (label, value) in enumerate(facts, start=2):
        sheet.write_string(row, 0, label, bold)
        sheet.write_string(row, 1, neutralise(value))
    top = len(facts) + 3
    titles = [
        gettext("Participant"),
        gettext("CNAS number"),
        gettext("Measured value"),
        gettext("U (k=2)"),
        "d",
        gettext("U(d) (k=2)"),
        "En",
        gettext("Verdict"),
    ]
    for index, (point, figure) in enumerate(zip(view.points, view.figures, strict=True)):
        sheet.write_string(
            top, 0, f"{gettext('Point')} {point.position}: {point.nominal.normalize():f}", bold
        )
        reference = figure.reference
        if reference is not None:
            line = f"x_ref = {reference.value.normalize():f}, U_ref = {reference.uncertainty.normalize():f}"
            if reference.chi2 is not None:
                line += f", χ² = {reference.chi2:.3f} (χ²₀.₀₅ = {reference.chi2_critical:.3f})"
            sheet.write_string(top + 1, 0, line)
        if figure.problem:
            sheet.write_string(top + 2, 0, gettext(figure.problem))
        top += 3
        for col, title in enumerate(titles):
            sheet.write_string(top, col, title, header)
        for row in view.rows:
            result, degree = row.results[index], row.degrees[index] if row.degrees else None
            if result is None:
                continue
            top += 1
            sheet.write_string(top, 0, neutralise(row.participant.lab_name), cell)
            sheet.write_string(top, 1, neutralise(row.participant.cnas_no or ""), cell)
            sheet.write_number(top, 2, float(result.value), cell)
            sheet.write_number(top, 3, float(result.uncertainty), cell)
            if degree is None:
                for col in range(4, 8):
                    sheet.write_blank(top, col, None, cell)
                continue
            sheet.write_number(top, 4, float(degree.d), cell)
            sheet.write_number(top, 5, float(degree.u_d_shown), cell)
            sheet.write_number(top, 6, float(shown(degree.en)), cell)
            sheet.write_string(top, 7, name_of("verdict", degree.verdict), cell)
        top += 2
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 7, 14)
    workbook.close()
