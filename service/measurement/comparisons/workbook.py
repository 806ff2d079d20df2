"""One comparison or proficiency-test result as an xlsx record sheet (比对/能力验证结果记录)."""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from models import Comparison
from service.ledger_io.columns import neutralise
from service.ledger_io.exporter import open_workbook
from service.measurement.comparisons.rules import shown

Gettext = Callable[..., str]


def write_comparison(comparison: Comparison, out: BinaryIO, gettext: Gettext, name_of) -> None:
    """Write the record sheet: what was compared, then a row per point with its En or z and verdict."""
    workbook = open_workbook(out)
    bold = workbook.add_format({"bold": True})
    header = workbook.add_format({"bold": True, "border": 1, "bg_color": "#DDEBF7", "text_wrap": True})
    cell = workbook.add_format({"border": 1})
    sheet = workbook.add_worksheet(gettext("Result")[:31])
    instrument = comparison.instrument
    sheet.write_string(0, 0, gettext("Comparison and proficiency-test record"), bold)
    facts = [
        (gettext("Instrument"), f"{instrument.management_no} {instrument.name}"),
        (gettext("Kind"), name_of("comparison_kind", comparison.kind)),
        (gettext("Scheme"), comparison.scheme),
        (
            gettext("Organiser"),
            " ".join(
                filter(
                    None, [name_of("organiser_kind", comparison.organiser_kind), comparison.organiser_name]
                )
            ),
        ),
        (gettext("Quantity"), comparison.quantity or ""),
        (gettext("Date of the round"), comparison.performed_on.isoformat()),
        (gettext("Verdict"), name_of("verdict", comparison.verdict)),
        (gettext("Note"), comparison.note or ""),
    ]
    for row, (label, value) in enumerate(facts, start=2):
        sheet.write_string(row, 0, label, bold)
        sheet.write_string(row, 1, neutralise(value))
    if comparison.kind == "comparison":
        columns = [
            ("nominal", gettext("Nominal")),
            ("reference_value", gettext("Reference value")),
            ("reference_uncertainty", gettext("Reference U (k=2)")),
            ("lab_value", gettext("Lab value")),
            ("lab_uncertainty", gettext("Lab U (k=2)")),
        ]
        score_title = "En"
    else:
        columns = [
            ("assigned_value", gettext("Assigned value")),
            ("sd_pt", gettext("SD for proficiency assessment")),
            ("lab_value", gettext("Lab value")),
        ]
        score_title = "z"
    top = len(facts) + 3
    titles = ["#", *(title for _, title in columns), score_title, gettext("Verdict")]
    for col, title in enumerate(titles):
        sheet.write_string(top, col, title, header)
        sheet.set_column(col, col, 14)
    for offset, point in enumerate(comparison.points, start=1):
        row = top + offset
        sheet.write_number(row, 0, point.position, cell)
        for col, (name, _title) in enumerate(columns, start=1):
            value = getattr(point, name)
            if value is None:
                sheet.write_blank(row, col, None, cell)
            else:
                sheet.write_number(row, col, float(value), cell)
        sheet.write_number(row, len(columns) + 1, float(shown(point.score)), cell)
        sheet.write_string(row, len(columns) + 2, name_of("verdict", point.verdict), cell)
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 30)
    workbook.close()
