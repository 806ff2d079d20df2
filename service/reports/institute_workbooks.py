"""The institute's reports as xlsx: the region dashboard (regions, then clients) and the service statistics.

The house style of :mod:`service.reports.workbooks` (a merged title, a frozen header, typed cells;
client names neutralised so that no cell runs as a formula); headings in the reader's language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from service.figures import HOUSEHOLD_METER_TARGET, INSPECTION_TARGET
from service.ledger_io.exporter import open_workbook
from service.reports.regions import Dashboard, Figures
from service.reports.service_stats import MONTHS, NOT_ATTRIBUTED, ServiceStats
from service.reports.workbooks import _Sheet
from service.visits.disciplines import DISCIPLINE_NAMES

Gettext = Callable[..., str]


def _figure_headers(_: Gettext) -> list[str]:
    return [
        _("Instruments in use"),
        _("Mandatory"),
        _("Household meters (target %(target)s)", target=f"{HOUSEHOLD_METER_TARGET:.0%}"),
        _("Met"),
        _("Counted"),
        _("Other mandatory (target %(target)s)", target=f"{INSPECTION_TARGET:.0%}"),
        _("Met"),
        _("Counted"),
        _("Inspection rate, all"),
        _("Overdue"),
        _("Visits completed"),
        _("Orders completed"),
    ]


def _figures(f: Figures) -> list:
    return [
        f.instruments,
        f.mandatory,
        f.household,
        f.household.numerator,
        f.household.denominator,
        f.other,
        f.other.numerator,
        f.other.denominator,
        f.inspection,
        f.overdue,
        f.visits,
        f.orders,
    ]


def write_regions(dashboard: Dashboard, institute_name: str, out: BinaryIO, _: Gettext) -> None:
    """Write the dashboard: a sheet of regions (with the total), then a sheet of every linked client."""
    title = f"{institute_name} {_('Region dashboard')} {dashboard.year}"
    note = _(
        "Instruments and inspection rates are as of %(day)s; visits and service orders are those "
        "completed in %(year)s.",
        day=dashboard.today.isoformat(),
        year=dashboard.year,
    )
    with open_workbook(out) as workbook:
        regions = _Sheet(workbook, _("Regions"), title, [_("Region"), _("Clients"), *_figure_headers(_)])
        regions.note(note)
        regions.sheet.set_column(0, 0, 16)
        for row in dashboard.regions:
            regions.write([row.name or _("Region unknown"), len(row.clients), *_figures(row.figures)])
        regions.write(
            [_("All regions"), sum(len(r.clients) for r in dashboard.regions), *_figures(dashboard.total)],
            True,
        )
        clients = _Sheet(workbook, _("Clients"), title, [_("Region"), _("Client"), *_figure_headers(_)])
        clients.note(note)
        clients.sheet.set_column(1, 1, 30)
        for row in dashboard.regions:
            for client in row.clients:
                clients.write([row.name or _("Region unknown"), client.name, *_figures(client.figures)])


def write_service(stats: ServiceStats, institute_name: str, out: BinaryIO, _: Gettext) -> None:
    """Write the service statistics: calibrations by discipline and by technician, turnaround, visits."""
    title = f"{institute_name} {_('Service statistics')} {stats.year}"
    months = [str(m) for m in MONTHS]
    with open_workbook(out) as workbook:
        by_discipline = _Sheet(workbook, _("By discipline"), title, [_("Discipline"), *months, _("Total")])
        for counts in stats.by_discipline:
            by_discipline.write(
                [_(DISCIPLINE_NAMES.get(counts.key, counts.key)), *counts.per_month, counts.total]
            )
        by_discipline.write([_("Total"), *stats.per_month, stats.total], True)
        by_technician = _Sheet(workbook, _("By technician"), title, [_("Technician"), *months, _("Total")])
        for counts in stats.by_technician:
            name = _(NOT_ATTRIBUTED) if counts.key is None else stats.technicians.get(counts.key, "")
            by_technician.write([name, *counts.per_month, counts.total])
        turnaround = _Sheet(
            workbook,
            _("Turnaround"),
            title,
            [_("Month"), _("Orders returned"), _("Median days"), _("Mean days")],
        )
        for line in (*stats.turnaround, stats.turnaround_year):
            turnaround.write([str(line.month or stats.year), line.count, line.median, line.mean])
        visits = _Sheet(
            workbook,
            _("Visits on time"),
            title,
            [_("Month"), _("Visits completed"), _("On time"), _("Share")],
        )
        for month, rate in (*zip(months, stats.on_time, strict=True), (str(stats.year), stats.on_time_year)):
            visits.write([month, rate.denominator, rate.numerator, rate])
