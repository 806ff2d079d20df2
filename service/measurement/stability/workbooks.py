"""The record sheets auditors ask for: 重复性试验记录 and 稳定性考核记录, one xlsx sheet each.

Layout: the title, the instrument, the conditions, the readings (one row each, or one row per
group), the results and the verdict, then the signature lines (performed by, checked by, date).
"""

from __future__ import annotations

from decimal import Decimal
from typing import BinaryIO

from flask_babel import gettext

from models import RepeatabilityTest, StabilityAssessment
from service.ledger_io.exporter import neutralise, open_workbook
from service.measurement.stability import rules
from service.measurement.stability.operations import figures


def _sheet(out: BinaryIO, title: str):
    book = open_workbook(out)
    sheet = book.add_worksheet(title[:31])
    bold = book.add_format({"bold": True})
    heading = book.add_format({"bold": True, "font_size": 14})
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 4, 18)
    sheet.write(0, 0, title, heading)
    return book, sheet, bold


def _pairs(sheet, row: int, pairs: list[tuple[str, str]], bold) -> int:
    for label, value in pairs:
        sheet.write(row, 0, label, bold)
        sheet.write_string(row, 1, neutralise(str(value or "")))
        row += 1
    return row + 1


def _signatures(sheet, row: int, bold) -> None:
    for label in (gettext("Tested by"), gettext("Checked by"), gettext("Date")):
        sheet.write(row, 0, label, bold)
        sheet.write(row, 1, "")
        row += 2


def write_repeatability(out: BinaryIO, test: RepeatabilityTest) -> None:
    """Write the repeatability test record (重复性试验记录)."""
    result = rules.repeatability([Decimal(r) for r in test.readings], Decimal(test.claimed))
    book, sheet, bold = _sheet(out, gettext("Repeatability test record"))
    instrument = test.instrument
    row = _pairs(
        sheet,
        2,
        [
            (gettext("Instrument"), f"{instrument.management_no} {instrument.name}"),
            (gettext("Model"), instrument.model or ""),
            (gettext("Serial no."), instrument.serial_no or ""),
            (gettext("Tested on"), test.performed_on.isoformat()),
            (gettext("Quantity or point"), test.quantity),
            (gettext("Unit"), test.unit),
            (gettext("Conditions"), test.conditions or ""),
        ],
        bold,
    )
    for col, label in enumerate((gettext("No."), gettext("Reading xᵢ"), "xᵢ − x̄", "(xᵢ − x̄)²")):
        sheet.write(row, col, label, bold)
    row += 1
    for index, (reading, deviation, square) in enumerate(
        zip(result.readings, result.deviations, result.squares, strict=True), start=1
    ):
        sheet.write_number(row, 0, index)
        sheet.write_string(row, 1, str(reading))
        sheet.write_string(row, 2, rules.shown(deviation, 8))
        sheet.write_string(row, 3, rules.shown(square, 10))
        row += 1
    row = _pairs(
        sheet,
        row + 1,
        [
            ("n", str(result.n)),
            (gettext("Mean x̄"), rules.shown(result.mean, 8)),
            ("Σ(xᵢ − x̄)²", rules.shown(result.sum_of_squares, 10)),
            (gettext("Experimental standard deviation s"), rules.shown(result.s)),
            (gettext("Claimed repeatability"), test.claimed),
            (gettext("Verdict"), gettext("Pass") if test.passed else gettext("Fail")),
        ],
        bold,
    )
    _signatures(sheet, row, bold)
    book.close()


def write_stability(out: BinaryIO, assessment: StabilityAssessment) -> None:
    """Write the stability assessment record (稳定性考核记录)."""
    result = figures(assessment)
    book, sheet, bold = _sheet(out, gettext("Stability assessment record"))
    instrument = assessment.instrument
    row = _pairs(
        sheet,
        2,
        [
            (gettext("Instrument"), f"{instrument.management_no} {instrument.name}"),
            (gettext("Model"), instrument.model or ""),
            (gettext("Serial no."), instrument.serial_no or ""),
            (gettext("Check object"), assessment.check_object),
            (gettext("Unit"), assessment.unit),
            (gettext("Started on"), assessment.started_on.isoformat()),
        ],
        bold,
    )
    for col, label in enumerate(
        (gettext("Group"), gettext("Measured on"), gettext("Readings"), gettext("Mean"))
    ):
        sheet.write(row, col, label, bold)
    row += 1
    groups = sorted(assessment.groups, key=lambda g: g.measured_on)
    for index, group in enumerate(groups, start=1):
        sheet.write_number(row, 0, index)
        sheet.write_string(row, 1, group.measured_on.isoformat())
        sheet.write_string(row, 2, " ".join(group.readings))
        sheet.write_string(row, 3, rules.shown(Decimal(group.mean), 8))
        row += 1
    verdict = "" if result.passed is None else gettext("Pass") if result.passed else gettext("Fail")
    if result.provisional and verdict:
        verdict = gettext("%(verdict)s (provisional)", verdict=verdict)
    row = _pairs(
        sheet,
        row + 1,
        [
            (gettext("Stability (largest − smallest mean)"), rules.shown(result.stability, 8)),
            (gettext("Allowed value"), assessment.allowed),
            (gettext("Basis of the allowed value"), basis_name(assessment.allowed_basis)),
            (gettext("Verdict"), verdict),
        ],
        bold,
    )
    _signatures(sheet, row, bold)
    book.close()


def basis_name(basis: str) -> str:
    """Return the name of an allowed value's basis."""
    return gettext("Maximum permissible error") if basis == "mpe" else gettext("Expanded uncertainty")
