"""A plan's control-chart data as xlsx: one row per point and check, with the limits and signals."""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from service.ledger_io.columns import neutralise
from service.ledger_io.exporter import open_workbook
from service.measurement.checks.queries import PointChart

Gettext = Callable[..., str]


def write_chart_workbook(out: BinaryIO, title: str, charts: list[PointChart], gettext: Gettext) -> None:
    """Write the charts' figures to ``out``."""
    workbook = open_workbook(out)
    sheet = workbook.add_worksheet(gettext("Control chart")[:31])
    bold = workbook.add_format({"bold": True})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    headers = [
        gettext("Check point"),
        gettext("Check no."),
        gettext("Date"),
        gettext("Deviation"),
        gettext("Centre"),
        "σ",
        "−3σ",
        "−2σ",
        "+2σ",
        "+3σ",
        gettext("MPE"),
        gettext("Out of tolerance"),
        gettext("Signals"),
    ]
    sheet.write_string(0, 0, neutralise(title), bold)
    for col, name in enumerate(headers):
        sheet.write_string(1, col, name, bold)
    sheet.freeze_panes(2, 0)
    sheet.set_column(0, 0, 16)
    sheet.set_column(2, 2, 12)
    sheet.set_column(12, 12, 40)
    row = 2
    for chart in charts:
        words = {}
        for signal in chart.signals:
            msgid, args = chart.words(signal)
            words.setdefault(signal.index, []).append(gettext(msgid, **args))
        for index, (when, dev) in enumerate(zip(chart.dates, chart.deviations, strict=True)):
            sheet.write_string(row, 0, neutralise(chart.point.label))
            sheet.write_number(row, 1, index + 1)
            sheet.write_datetime(row, 2, _as_datetime(when), day)
            sheet.write_number(row, 3, dev)
            if chart.limits is not None:
                lim = chart.limits
                for col, value in enumerate(
                    (lim.centre, lim.sigma, lim.line(-3), lim.line(-2), lim.line(2), lim.line(3)), start=4
                ):
                    sheet.write_number(row, col, value)
            if chart.point.mpe is not None:
                sheet.write_number(row, 10, chart.point.mpe)
            if index in chart.out_of_tolerance:
                sheet.write_string(row, 11, gettext("Yes"))
            if index in words:
                sheet.write_string(row, 12, "; ".join(words[index]))
            row += 1
    workbook.close()


def _as_datetime(day):
    from datetime import datetime, time

    return datetime.combine(day, time())
