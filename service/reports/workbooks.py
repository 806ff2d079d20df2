"""The reports as xlsx: one sheet each, a title row, a header row frozen, typed cells.

Text a firm typed (names, departments) is neutralised so that no cell runs as a formula; the
headings are in the reader's language (``gettext`` is passed in: the web request's, or the CLI's).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time
from typing import BinaryIO

from service.figures import Rate
from service.ledger_io.columns import neutralise
from service.ledger_io.exporter import display_width, open_workbook
from service.names import CASE_SOURCE_NAMES, DISPOSITION_NAMES
from service.reports.kpis import FIGURES, TARGETS, KpiLine, KpiReport
from service.reports.lists import OPEN, NonconformityReport, OverdueLine

Gettext = Callable[..., str]


class _Sheet:
    """A worksheet written top to bottom: a merged title, a header, then rows of typed cells."""

    def __init__(self, workbook, name: str, title: str, headers: Sequence[str]):
        self.sheet = workbook.add_worksheet(name)
        self.formats = {
            "title": workbook.add_format(
                {"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"}
            ),
            "header": workbook.add_format(
                {
                    "bold": True,
                    "border": 1,
                    "align": "center",
                    "valign": "vcenter",
                    "text_wrap": True,
                    "bg_color": "#DDEBF7",
                }
            ),
            "text": workbook.add_format({"border": 1, "num_format": "@", "valign": "vcenter"}),
            "number": workbook.add_format({"border": 1, "valign": "vcenter"}),
            "percent": workbook.add_format({"border": 1, "num_format": "0.0%", "valign": "vcenter"}),
            "date": workbook.add_format({"border": 1, "num_format": "yyyy-mm-dd", "valign": "vcenter"}),
            "bold": workbook.add_format({"bold": True, "border": 1, "num_format": "@"}),
        }
        self.sheet.merge_range(0, 0, 0, len(headers) - 1, title, self.formats["title"])
        self.sheet.set_row(0, 28)
        for col, name in enumerate(headers):
            self.sheet.write_string(2, col, name, self.formats["header"])
            self.sheet.set_column(col, col, max(display_width(name) + 2, 10))
        self.sheet.freeze_panes(3, 0)
        self.row = 2

    def note(self, text: str) -> None:
        """Write a line under the title (row 2)."""
        self.sheet.write_string(1, 0, text)

    def write(self, values: Sequence, bold: bool = False) -> None:
        """Write one row: text, numbers, dates, and rates (as a percentage cell, blank when none)."""
        self.row += 1
        for col, value in enumerate(values):
            if value is None:
                self.sheet.write_blank(self.row, col, None, self.formats["number"])
            elif isinstance(value, Rate):
                if value.rate is None:
                    self.sheet.write_blank(self.row, col, None, self.formats["percent"])
                else:
                    self.sheet.write_number(
                        self.row, col, value.numerator / value.denominator, self.formats["percent"]
                    )
            elif isinstance(value, bool):
                self.sheet.write_string(self.row, col, "✓" if value else "", self.formats["text"])
            elif isinstance(value, int | float):
                self.sheet.write_number(self.row, col, value, self.formats["number"])
            elif hasattr(value, "isoformat"):
                self.sheet.write_datetime(self.row, col, _midnight(value), self.formats["date"])
            else:
                self.sheet.write_string(
                    self.row, col, neutralise(str(value)), self.formats["bold" if bold else "text"]
                )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def figure_names(_: Gettext) -> dict[str, str]:
    """Return the name of each KPI figure in the reader's language."""
    return {
        "coverage": _("Coverage"),
        "on_time": _("On-time rate"),
        "inspection": _("Inspection rate"),
        "household": _("Household meters"),
        "other_mandatory": _("Other mandatory instruments"),
    }


def write_kpis(report: KpiReport, org_name: str, out: BinaryIO, _: Gettext) -> None:
    """Write the KPI report: the firm, then each department, then each ABC class, with rates and parts."""
    names = figure_names(_)
    headers = [_("Group"), _("In use"), _("Periodic"), _("Mandatory")]
    for figure in FIGURES:
        target = TARGETS.get(figure)
        suffix = f" ({_('target')} {target:.0%})" if target else ""
        headers += [names[figure] + suffix, _("Met"), _("Counted")]
    with open_workbook(out) as workbook:
        sheet = _Sheet(workbook, _("KPIs"), f"{org_name} {_('KPI report')}", headers)
        sheet.note(
            _(
                "As of %(day)s; on-time rate over %(first)s to %(last)s.",
                day=report.as_of.isoformat(),
                first=report.window[0].isoformat(),
                last=report.window[1].isoformat(),
            )
        )
        sheet.sheet.set_column(0, 0, 24)

        def line(name: str, kpi: KpiLine, bold: bool = False) -> None:
            values: list = [name, kpi.in_use, kpi.periodic, kpi.mandatory]
            for figure in FIGURES:
                rate = kpi.rates[figure]
                values += [rate, rate.numerator, rate.denominator]
            sheet.write(values, bold)

        line(_("Whole organisation"), report.overall, bold=True)
        for kpi in report.by_department:
            line(_("Department: %(name)s", name=kpi.name) if kpi.key is not None else _("No department"), kpi)
        for kpi in report.by_abc:
            line(_("Class %(cls)s", cls=kpi.key) if kpi.key is not None else _("Unclassified"), kpi)


def write_overdue(lines: list[OverdueLine], org_name: str, as_of, out: BinaryIO, _: Gettext) -> None:
    """Write the overdue instruments by department, the longest overdue first in each."""
    headers = [
        _("Department"),
        _("Management no."),
        _("Name"),
        _("Model"),
        _("Custodian"),
        _("Lab"),
        _("Mandatory"),
        _("Due date"),
        _("Days overdue"),
    ]
    with open_workbook(out) as workbook:
        sheet = _Sheet(workbook, _("Overdue"), f"{org_name} {_('Overdue report')}", headers)
        sheet.note(
            _("As of %(day)s: %(count)s instruments overdue.", day=as_of.isoformat(), count=len(lines))
        )
        for line in lines:
            sheet.write(
                [
                    line.department or _("No department"),
                    line.management_no,
                    line.name,
                    line.model or "",
                    line.custodian or "",
                    line.lab or "",
                    line.is_mandatory,
                    line.next_due_on,
                    line.days_overdue,
                ]
            )


def outcome_name(outcome: str, _: Gettext) -> str:
    """Return a case's outcome (a disposition, or open) in the reader's language."""
    return _("Open") if outcome == OPEN else _(DISPOSITION_NAMES[outcome])


def write_nonconformity(report: NonconformityReport, org_name: str, out: BinaryIO, _: Gettext) -> None:
    """Write the cases per month by outcome, then every case of the year."""
    outcomes = report.outcomes
    headers = [_("Month"), *(outcome_name(outcome, _) for outcome in outcomes), _("Total")]
    cases_headers = [
        _("Opened on"),
        _("Management no."),
        _("Name"),
        _("Source"),
        _("Outcome"),
        _("Closed on"),
    ]
    width = max(len(headers), len(cases_headers))
    headers += [""] * (width - len(headers))
    with open_workbook(out) as workbook:
        sheet = _Sheet(
            workbook, _("Nonconformity"), f"{org_name} {_('Nonconformity report')} {report.year}", headers
        )
        counts = report.by_month()
        for index, month in enumerate(report.months):
            per_outcome = [counts[outcome][index] for outcome in outcomes]
            sheet.write([month.key, *per_outcome, sum(per_outcome)])
        sheet.row += 1
        for col, name in enumerate(cases_headers):
            sheet.sheet.write_string(sheet.row + 1, col, name, sheet.formats["header"])
        sheet.row += 1
        for case in report.cases:
            sheet.write(
                [
                    case.opened_on,
                    case.management_no,
                    case.name,
                    _(CASE_SOURCE_NAMES.get(case.source, case.source)),
                    outcome_name(case.outcome, _),
                    case.closed_on,
                ]
            )
