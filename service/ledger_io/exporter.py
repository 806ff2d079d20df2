"""Export a ledger to xlsx or CSV in the import template's layout, streamed row by row.

The file is written in the import's language (Chinese code names, real dates, whole months), so
an exported ledger can be edited and imported back without loss. Text that a spreadsheet would
run as a formula is neutralised, and rows are read ``YIELD_PER`` at a time and written straight
out (xlsxwriter's constant-memory mode keeps one row in memory), so 100k instruments never sit
in memory at once.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import BinaryIO, Literal

import xlsxwriter
from sqlalchemy.orm import Session

from models import Instrument
from service.actors import Actor
from service.ledger import queries
from service.ledger_io.columns import (
    CODE_NAMES,
    COLUMNS,
    COMPUTED_HEADERS,
    FLAG_NAMES,
    Column,
    neutralise,
)

log = logging.getLogger(__name__)

#: The header row of the export and of the import template, in order.
HEADERS: tuple[str, ...] = (*(column.header for column in COLUMNS), *COMPUTED_HEADERS.values())
#: A cell starting with one of these is read as a formula (or DDE command) by some spreadsheet.
SHEET_NAME = "台账"
DATE_FORMAT = "yyyy-mm-dd"
#: Rows fetched from the database per round trip while exporting.
YIELD_PER = 1000
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv"
#: Characters of CSV gathered before they are encoded and written out.
_CSV_CHUNK = 64 * 1024
#: Column widths (in characters) wider than the header needs, for columns that hold long text.
_WIDTHS = {
    "management_no": 16,
    "name": 18,
    "model": 14,
    "manufacturer": 22,
    "measuring_range": 14,
    "location": 16,
    "custodian_mobile": 13,
    "last_done_on": 13,
    "valid_until": 12,
    "lab": 24,
    "certificate_no": 16,
    "in_service_on": 12,
    "notes": 30,
    "next_due_on": 20,
}
#: Export values of the fields that are not plain instrument attributes.
_DERIVED = {
    "department": lambda i: i.department.name if i.department else None,
    "custodian": lambda i: i.custodian_display,
    "custodian_mobile": lambda i: i.custodian_contact,
}

#: How each column's cells are read (``Column.kind``), the computed columns included.
_KINDS = {column.field: column.kind for column in COLUMNS} | {"next_due_on": "date", "label": "text"}

Value = str | int | date | None
Format = Literal["xlsx", "csv"]


def _cell(column: Column, value) -> Value:
    """Return a field's value as the import reads it: Chinese names, 是/否, dates, whole months."""
    if value is None or value == "":
        return None
    if column.kind == "flag":
        return FLAG_NAMES[bool(value)]
    if column.kind in CODE_NAMES:
        return CODE_NAMES[column.kind].get(value, value)
    return value


def _raw(instrument: Instrument, field: str):
    return _DERIVED[field](instrument) if field in _DERIVED else getattr(instrument, field)


def ledger_row(instrument: Instrument, today: date) -> list[Value]:
    """Return one instrument as a row of the export: the template's columns, then the computed ones."""
    row = [_cell(column, _raw(instrument, column.field)) for column in COLUMNS]
    for field in COMPUTED_HEADERS:
        label = field == "label"
        value = CODE_NAMES["label"][instrument.label_state(today)] if label else getattr(instrument, field)
        row.append(value)
    return row


def iter_ledger(session: Session, actor: Actor, filters: Mapping, today: date) -> Iterator[Instrument]:
    """Return the actor's instruments matching ``filters`` in the ledger list's order, read lazily.

    The permission and the filters are checked at once (a bad filter raises before anything is
    written); the rows are fetched ``YIELD_PER`` at a time as the iterator is consumed.
    """
    actor.require("ledger.read")
    stmt = queries.filtered(session, actor, filters, today)
    # The list's own ordered segments, from the start (an export ignores the page cursor).
    segments = queries.ordered_segments(stmt, filters.get("sort") or "next_due_on", None)

    def rows() -> Iterator[Instrument]:
        for segment in segments:
            result = session.scalars(segment.execution_options(yield_per=YIELD_PER))
            try:
                yield from result
            finally:
                result.close()  # a server-side cursor on PostgreSQL: release it even when abandoned

    return rows()


def export_ledger(
    session: Session, actor: Actor, filters: Mapping, today: date, out: BinaryIO, fmt: Format
) -> int:
    """Write the actor's instruments matching ``filters`` to ``out`` as xlsx or CSV; return the row count."""
    if fmt not in ("xlsx", "csv"):
        raise ValueError(f"unknown export format {fmt!r}")
    rows = (ledger_row(instrument, today) for instrument in iter_ledger(session, actor, filters, today))
    count = write_xlsx(out, rows) if fmt == "xlsx" else write_csv(out, rows)
    log.info("exported %d instruments of org %s as %s", count, actor.org_id, fmt)
    return count


# -- xlsx ---------------------------------------------------------------------------------------


def display_width(text: str) -> int:
    """Return how many character cells ``text`` takes (a CJK character takes two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def open_workbook(out: BinaryIO) -> xlsxwriter.Workbook:
    """Return a constant-memory workbook writing to ``out`` that never turns text into formulas."""
    return xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,  # rows go to a temporary file as written; one row in memory
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )


class LedgerSheet:
    """The ledger worksheet: header row, typed cells written row by row, frozen header, autofilter."""

    def __init__(self, workbook: xlsxwriter.Workbook, name: str = SHEET_NAME):
        self.sheet = workbook.add_worksheet(name)
        base = {"font_size": 10, "valign": "vcenter"}
        header = base | {"bold": True, "border": 1, "align": "center", "text_wrap": True}
        self._header = workbook.add_format(header | {"bg_color": "#DDEBF7"})
        self._required = workbook.add_format(header | {"bg_color": "#DDEBF7", "font_color": "#C00000"})
        self._computed = workbook.add_format(header | {"bg_color": "#EDEDED", "italic": True})
        # Text columns are formatted as text so that what people type there later stays text too.
        self._text = workbook.add_format(base | {"num_format": "@"})
        self._date = workbook.add_format(base | {"num_format": DATE_FORMAT, "align": "left"})
        self._number = workbook.add_format(base)
        self.rows = 0
        fields = [column.field for column in COLUMNS] + list(COMPUTED_HEADERS)
        for index, (field, title) in enumerate(zip(fields, HEADERS, strict=True)):
            column_format = {"date": self._date, "interval": self._number}.get(_KINDS[field], self._text)
            width = max(_WIDTHS.get(field, 0), display_width(title) + 2, 8)
            self.sheet.set_column(index, index, width, column_format)
        self.sheet.set_row(0, 30)
        for index, title in enumerate(HEADERS):
            fmt = self._header
            if index >= len(COLUMNS):
                fmt = self._computed
            elif COLUMNS[index].required:
                fmt = self._required
            self.sheet.write_string(0, index, title, fmt)
        self.sheet.freeze_panes(1, 0)

    def write_row(self, values: Sequence[Value]) -> None:
        """Append one row; text always as a string cell, neutralised; empty values left blank."""
        self.rows += 1
        for col, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, str):
                self.sheet.write_string(self.rows, col, neutralise(value), self._text)
            elif isinstance(value, date):
                self.sheet.write_datetime(self.rows, col, value, self._date)
            elif isinstance(value, int):
                self.sheet.write_number(self.rows, col, value, self._number)
            else:  # nothing else is exported; never let write() guess
                self.sheet.write_string(self.rows, col, neutralise(str(value)), self._text)

    def finish(self) -> None:
        """Put the autofilter over the header and every written row."""
        self.sheet.autofilter(0, 0, self.rows, len(HEADERS) - 1)


def write_xlsx(out: BinaryIO, rows: Iterable[Sequence[Value]]) -> int:
    """Write the header and ``rows`` as an xlsx workbook to ``out``; return the number of rows."""
    with open_workbook(out) as workbook:
        workbook.set_properties({"title": "计量器具台账"})
        sheet = LedgerSheet(workbook)
        for row in rows:
            sheet.write_row(row)
        sheet.finish()
    return sheet.rows


# -- CSV ----------------------------------------------------------------------------------------


def _csv_cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def csv_chunks(rows: Iterable[Sequence[Value]]) -> Iterator[bytes]:
    """Yield the CSV as UTF-8 with a BOM (so Excel shows Chinese): the header at once, then ~64 KB at a time.

    The header comes as its own first chunk, so a streamed download starts before any row is read.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    yield codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
        if buffer.tell() >= _CSV_CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def write_csv(out: BinaryIO, rows: Iterable[Sequence[Value]]) -> int:
    """Write the header and ``rows`` as UTF-8 CSV with a BOM (so Excel shows Chinese); return the count."""
    count = 0

    def counted():
        nonlocal count
        for row in rows:
            count += 1
            yield row

    for chunk in csv_chunks(counted()):
        out.write(chunk)
    return count
