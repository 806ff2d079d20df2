"""Importing a ledger spreadsheet: read and check it without writing, then create or update instruments.

Two steps, so that a preview can run the first alone and the page can let the user correct the
column mapping in between:

1. :func:`read_ledger` opens the file (refusing unusable and hostile files) in a child process
   under resource limits, finds the header, maps the columns and reads every row into field
   values or problems. No database. A file that would abort the reader kills only the child
   (:mod:`service.ledger_io.sandbox`).
2. :func:`write_ledger` writes the rows through :func:`~service.ledger.operations.create_instrument`
   and :func:`~service.ledger.operations.update_instrument`, so the ledger's rules apply and each
   change goes into the history like any edit. Instruments are matched by management number:
   re-importing creates nothing twice, and a row that changes nothing counts as unchanged and
   writes no event.

The whole import runs inside one SAVEPOINT and each row inside its own: a rejected row's partial
writes are undone while the other rows proceed; any other error undoes everything; a dry run
undoes everything at the end, after doing exactly what the real import does (so its counts are
the real ones). The caller's boundary (request, job, CLI) commits.

Departments named in the file that do not exist are created when the actor may manage
departments (and listed in the report); otherwise those rows are rejected. The custodian is kept
as the name and mobile written in the file; no user is matched.
"""

from __future__ import annotations

import gc
import io
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

import xlsxwriter
from sqlalchemy.orm import Session

from service.actors import Actor
from service.errors import DomainError, Invalid
from service.i18n import N_, Gettext, Msg, render
from service.ledger_io.changes import ChangeList
from service.ledger_io.columns import BY_FIELD, CODE_NAMES, FLAG_NAMES, neutralise, normalise_header
from service.ledger_io.parsing import (
    HEADER_SCAN_ROWS,
    IGNORED,
    PROBLEM_HEADER,
    ROW_NUMBER_HEADER,
    UNKNOWN,
    Layout,
    ParsedRow,
    Problem,
    best_header,
    cell_text,
    column_letter,
    detect_layout,
    read_sheet,
)
from service.ledger_io.reader import DEFAULT_LIMITS, Limits, open_spreadsheet, refuse
from service.ledger_io.sandbox import read_in_child
from service.ledger_io.writing import LedgerWriter
from service.tenancy import queries as tenancy_queries

log = logging.getLogger(__name__)

#: Fields the operations report errors under, to the column that holds them.
ERROR_FIELDS = {
    "department_id": "department",
    "custodian_name": "custodian",
    "custodian_user_id": "custodian",
}
PROGRESS_EVERY = 500

Source = bytes | str | Path | IO[bytes]
#: ``progress(stage, done, total)``: rows "read" from the sheet, "validated", "written".
Progress = Callable[[str, int, int], None]


def _identity(text: str) -> str:
    return text


# Reading ----------------------------------------------------------------------------------------


@dataclass
class LedgerFile:
    """A ledger file read and checked, not yet written: what the preview shows."""

    filename: str
    sheet: str
    layout: Layout
    rows: list[ParsedRow]
    #: Rows below the header that were not instruments, by kind (blank, footer, section, header).
    skipped: dict[str, int]
    #: What the reader decided about the file as a whole (which sheet, where the numbers come from).
    notes: list[Msg] = field(default_factory=list)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while an import reads or writes, if it is running.

    An import holds millions of small objects (a 100,000-row sheet has 2.3 million cells) and
    makes millions more; every automatic full collection walks all of them, for nothing: they
    hold no cycles. Pausing saves about an eighth of an import (``bench/import_ledger.py``). The
    collector is process-wide: another thread's cyclic garbage waits for the end of the import,
    when the collector runs again as usual. A pause inside another pause leaves it to the outer.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@dataclass
class OpenedSheet:
    """The rows of the sheet a file's ledger is on, as the reading process materialised them."""

    name: str
    rows: list[list[Any]]
    #: The workbook's first sheet, and whether ``name`` was asked for (rather than found).
    first_sheet: str
    asked: bool
    #: Whether there is nothing to read: no sheet has anything in its first rows (the sheet asked
    #: for, if one was, has no rows).
    book_empty: bool


def open_ledger_sheet(
    source: Source,
    filename: str,
    *,
    sheet: str | None = None,
    header_map: Mapping[str, str | None] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    progress: Progress | None = None,
) -> OpenedSheet:
    """Open a file and return the rows of its ledger sheet: ``sheet``, or the one with the best header.

    This is the part of reading that runs native code on the file (python-calamine), so
    :func:`read_ledger` runs it in a child process; everything after it is Python, in the caller.
    """
    book = open_spreadsheet(source, filename, limits)
    if sheet is not None and sheet not in book.sheet_names:
        raise refuse(N_("The file has no sheet named %(name)s.", name=sheet))
    if sheet is not None:  # asked for: the other sheets need not be built at all
        rows = book.sheet(sheet).rows
        return OpenedSheet(sheet, rows, book.sheet_names[0], asked=True, book_empty=not rows)
    heads = {name: book.head(name, HEADER_SCAN_ROWS) for name in book.sheet_names}
    name = _ledger_sheet(heads, _folded_names(header_map)) or book.sheet_names[0]
    return OpenedSheet(
        name=name,
        rows=book.sheet(name).rows,
        first_sheet=book.sheet_names[0],
        asked=False,
        book_empty=not any(any(map(any, rows)) for rows in heads.values()),
    )


@collector_paused()
def read_ledger(
    source: Source,
    filename: str,
    *,
    mapping: Mapping[int, str | None] | None = None,
    header_row: int | None = None,
    sheet: str | None = None,
    header_map: Mapping[str, str | None] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    progress: Progress | None = None,
) -> LedgerFile:
    """Open, check and read a ledger file; raise :class:`Invalid` when it cannot be imported at all.

    ``mapping`` corrects the detected columns (``{column index: field or None}``), ``header_map``
    does the same by header text (``{"Functional Location": "management_no"}``, "?" for the notes,
    None to leave a column out), ``header_row`` (1-based) forces the header row, ``sheet`` picks a
    worksheet (default: the one with the best ledger header, the first of equals). ``progress``
    hears of the rows read and validated.

    The workbook is opened and its sheet materialised in a child process under the memory, CPU
    and output limits of ``limits`` (:mod:`service.ledger_io.sandbox`): a file that kills its
    reader is refused as too large or damaged, and the caller lives on. The rows are interpreted
    here (:func:`read_rows`).
    """
    opened = read_in_child(
        open_ledger_sheet, source, filename, sheet=sheet, header_map=header_map, limits=limits
    )
    return read_rows(
        opened, filename, mapping=mapping, header_row=header_row, header_map=header_map, limits=limits,
        progress=progress,
    )  # fmt: skip


def read_rows(
    opened: OpenedSheet,
    filename: str,
    *,
    mapping: Mapping[int, str | None] | None = None,
    header_row: int | None = None,
    header_map: Mapping[str, str | None] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    progress: Progress | None = None,
) -> LedgerFile:
    """Find the header in a sheet's rows, map the columns and read every row (see :func:`read_ledger`)."""
    names = _folded_names(header_map)
    rows = opened.rows
    notes = []
    if opened.name != opened.first_sheet:
        notes.append(
            N_("The ledger was read from the sheet “%(sheet)s”, as asked.", sheet=opened.name)
            if opened.asked
            else N_(
                "The ledger was read from the sheet “%(sheet)s”: the first sheet, “%(first)s”, holds no "
                "ledger header.",
                sheet=opened.name,
                first=opened.first_sheet,
            )
        )
    layout = _layout(rows, header_row, mapping, names)
    if layout is None:
        empty = opened.book_empty
        if names and not empty:
            _check_names(rows[:HEADER_SCAN_ROWS], header_map)
        raise refuse(N_("The file is empty.") if empty else _NO_HEADER)
    _check_names([layout.headers], header_map or {})
    if "management_no" not in layout.fields:
        raise UnmappedColumns(_NO_MANAGEMENT_NO, _column_fields(layout))
    if layout.numbered_by:
        notes.append(
            N_(
                "The management numbers were taken from the column “%(column)s”, which numbers the rows, "
                "because no other column gives them.",
                column=layout.numbered_by,
            )
        )
    total = len(rows) - layout.data_start
    if progress:
        progress("read", total, total)
    reading = read_sheet(
        rows,
        layout,
        limits.max_cell_chars,
        (lambda done: progress("validated", done, total)) if progress else None,
        PROGRESS_EVERY,
    )
    return LedgerFile(Path(filename or "").name, opened.name, layout, reading.rows, reading.skipped, notes)


def _folded_names(header_map: Mapping[str, str | None] | None) -> dict[str, str | None]:
    return {normalise_header(text): name for text, name in (header_map or {}).items()}


#: The words ``--map`` takes besides field names: keep the column in the notes, or leave it out.
MAP_WORDS = {"notes": UNKNOWN, "ignore": IGNORED}


def header_map_field(word: str) -> str | None:
    """Return what a ``--map`` word names: a field, :data:`UNKNOWN` (notes) or :data:`IGNORED`."""
    if word in MAP_WORDS:
        return MAP_WORDS[word]
    if word in BY_FIELD and word != "notes":
        return word
    choices = ", ".join([*(f for f in BY_FIELD if f != "notes"), *MAP_WORDS])
    raise ValueError(f"unknown field {word!r}; one of: {choices}")


def _ledger_sheet(heads: Mapping[str, list], names: Mapping[str, str | None]) -> str | None:
    """Return the sheet with the best ledger header (the first of equals), or None if none has one.

    A workbook often opens on a cover, an index or a summary; old copies of the ledger may follow it.
    ``heads`` holds each sheet's first rows.
    """
    best = None
    for name, rows in heads.items():
        found = best_header(rows, names=names)
        if found is not None and (best is None or found[1] > best[1]):
            best = (name, found[1])
    return best[0] if best else None


def _check_names(rows: list, names: Mapping[str, str | None]) -> None:
    """Refuse column names (``--map``) that no header of the sheet read (among ``rows``) has."""
    headers = {normalise_header(cell_text(c)) for row in rows for c in row}
    missing = [text for text in names if normalise_header(text) not in headers]
    if missing:
        message = N_("The sheet has no column named %(header)s.", header=", ".join(missing))
        raise Invalid(message, {"mapping": [message]})


_NO_HEADER = N_(
    "No header row found: the sheet needs a row of column names, with at least the management number "
    "(管理编号) and the instrument name (器具名称)."
)
_NO_MANAGEMENT_NO = N_(
    "No column holds the management number (管理编号, 计量编号, 设备编号…): name one before importing."
)


class UnmappedColumns(Invalid):
    """A header without a management number column; ``column_fields`` says how each column was read."""

    def __init__(self, message: Msg, column_fields: list[dict]):
        super().__init__(message, {"file": [message]})
        self.column_fields = column_fields


def _column_fields(layout: Layout) -> list[dict]:
    """Return every named (or mapped) column as ``{"index", "letter", "header", "field"}``."""
    return [
        {"index": i, "letter": column_letter(i), "header": header, "field": layout.columns.get(i)}
        for i, header in enumerate(layout.headers)
        if header or layout.columns.get(i) not in (UNKNOWN, IGNORED)
    ]


def _layout(rows, header_row, mapping, names=None) -> Layout | None:
    try:
        return detect_layout(rows, header_row, mapping, names)
    except ValueError:
        message = N_("The column mapping names a field or a column that this sheet does not have.")
        raise Invalid(message, {"mapping": [message]}) from None


# The report -------------------------------------------------------------------------------------


@dataclass
class RowProblem:
    """A problem (or a liberty taken) with one row: its sheet row number, management number, column."""

    row: int
    management_no: str | None
    column: str | None
    reason: Any

    def as_dict(self, gettext: Gettext = _identity) -> dict:
        """Return the problem as JSON data, its reason translated by ``gettext``."""
        return {
            "row": self.row,
            "management_no": self.management_no,
            "column": self.column,
            "reason": render(self.reason, gettext),
        }


@dataclass
class ImportReport:
    """What an import did (or, for a dry run, would do)."""

    filename: str
    sheet: str
    header_row: int
    dry_run: bool
    header: list[str]
    columns: dict[str, str | None]
    unknown_columns: list[str]
    ignored_columns: list[str]
    skipped_rows: dict[str, int]
    #: Every named column as ``{"index", "letter", "header", "field"}``; the field is "?" for a
    #: column kept in the notes and None for one left out.
    column_fields: list[dict] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    #: One entry per problem; a row with three problems has three entries.
    rejected_rows: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    departments_created: list[str] = field(default_factory=list)
    #: The original cells of each rejected row, by sheet row number (for the rejected-rows file).
    rejected_cells: dict[int, list[Any]] = field(default_factory=dict)
    #: What the reader decided about the file as a whole (see :class:`LedgerFile`).
    file_notes: list[Msg] = field(default_factory=list)
    #: Defaults new instruments took for fields the file does not give: ``[[field, value, count]]``.
    defaults: list[list] = field(default_factory=list)
    #: Values the import worked out, by "field:source" (``interval_months:dates``), and how many.
    inferred: dict[str, int] = field(default_factory=dict)
    #: New instruments with no interval: the file gives none and their dates imply none.
    without_interval: int = 0
    #: Each instrument created and updated, row by row (stored apart: it may be long).
    changes: ChangeList = field(default_factory=ChangeList)

    @property
    def rejected(self) -> int:
        """Return how many rows were rejected."""
        return len(self.rejected_cells)

    def notices(self) -> list[Msg]:
        """Return what the user should know about the file as a whole, every default applied included."""
        notes = list(self.file_notes)
        for field_name, value, count in self.defaults:
            notes.append(
                N_(
                    "%(count)s new instruments took %(value)s for “%(column)s”, which the file does "
                    "not give.",
                    count=count,
                    value=_shown_default(field_name, value),
                    column=BY_FIELD[field_name].header,
                )
            )
        if derived := self.inferred.get("interval_months:dates"):
            notes.append(
                N_(
                    "The interval of %(count)s instruments was worked out from their last and next dates.",
                    count=derived,
                )
            )
        if self.without_interval:
            notes.append(
                N_(
                    "%(count)s new instruments have no interval: the file gives none and their dates imply "
                    "none. They are listed under “needs attention” in the ledger.",
                    count=self.without_interval,
                )
            )
        uses = sum(self.inferred.get(f"mandatory_use:{source}", 0) for source in ("row", "catalogue"))
        if uses:
            notes.append(
                N_(
                    "The mandatory use of %(count)s instruments marked 强检 was not given and was taken from "
                    "the row's words or the catalogue: see the warnings.",
                    count=uses,
                )
            )
        if self.unknown_columns:
            notes.append(
                N_(
                    "Columns that are not ledger columns were kept in the notes (备注) as "
                    "“column: value”: %(columns)s.",
                    columns=", ".join(self.unknown_columns),
                )
            )
        if self.departments_created:
            names = ", ".join(self.departments_created)
            notes.append(
                N_("Departments the import will create: %(names)s.", names=names)
                if self.dry_run
                else N_("Departments created: %(names)s.", names=names)
            )
        return notes

    def as_dict(self, gettext: Gettext = _identity) -> dict:
        """Return the report as JSON data, every message translated by ``gettext``."""
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "rejected_rows": [p.as_dict(gettext) for p in self.rejected_rows],
            "dry_run": self.dry_run,
            "file": self.filename,
            "sheet": self.sheet,
            "header_row": self.header_row,
            "columns": self.columns,
            "unknown_columns": self.unknown_columns,
            "ignored_columns": self.ignored_columns,
            "departments_created": self.departments_created,
            "skipped_rows": self.skipped_rows,
            "column_fields": self.column_fields,
            "warnings": [p.as_dict(gettext) for p in self.warnings],
            "defaults": [{"field": f, "value": v, "count": n} for f, v, n in self.defaults],
            "inferred": self.inferred,
            "without_interval": self.without_interval,
            "notices": [render(m, gettext) for m in self.notices()],
        }


def _shown_default(field_name: str, value: Any) -> str:
    """Return a default as the ledger file would write it: 检定, 在用, 否."""
    if isinstance(value, bool):
        return FLAG_NAMES[value]
    return CODE_NAMES.get(BY_FIELD[field_name].kind, {}).get(value, str(value))


def _new_report(ledger: LedgerFile, dry_run: bool) -> ImportReport:
    layout = ledger.layout
    return ImportReport(
        filename=ledger.filename,
        sheet=ledger.sheet,
        header_row=layout.header_row_number,
        dry_run=dry_run,
        header=list(layout.headers),
        columns=layout.mapping(),
        unknown_columns=[layout.headers[i] for i in layout.unknown_columns if layout.headers[i]],
        ignored_columns=[layout.headers[i] for i in layout.ignored_columns()],
        skipped_rows=dict(ledger.skipped),
        column_fields=_column_fields(layout),
        file_notes=list(ledger.notes),
    )


# Writing ----------------------------------------------------------------------------------------


def import_ledger(
    session: Session,
    actor: Actor,
    source: Source,
    filename: str,
    today: date,
    *,
    dry_run: bool = False,
    mapping: Mapping[int, str | None] | None = None,
    header_row: int | None = None,
    sheet: str | None = None,
    header_map: Mapping[str, str | None] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    progress: Progress | None = None,
) -> ImportReport:
    """Read a ledger file and import it into the actor's ledger (see :func:`write_ledger`)."""
    ledger = read_ledger(
        source,
        filename,
        mapping=mapping,
        header_row=header_row,
        sheet=sheet,
        header_map=header_map,
        limits=limits,
        progress=progress,
    )
    return write_ledger(session, actor, ledger, today, dry_run=dry_run, progress=progress)


@collector_paused()
def write_ledger(
    session: Session,
    actor: Actor,
    ledger: LedgerFile,
    today: date,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Create or update an instrument for every valid row; all rows land or, on an error, none.

    Rows are decided in file order and written in bulk as they are (see
    :mod:`service.ledger_io.writing`). ``progress("written", done, total)`` counts the rows of the
    file through this step (written, unchanged or rejected). A dry run does the same work and
    then undoes it.
    """
    actor.require("ledger.write")
    report = _new_report(ledger, dry_run)
    outer = session.begin_nested()
    try:
        numbers = [row.management_no for row in ledger.rows]
        writer = LedgerWriter(session, actor, today, numbers, ledger.filename)
        departments = {d.id: d.name for d in tenancy_queries.list_departments(session, actor)}
        report.changes = ChangeList(departments, writer.users)
        with writer.writing():
            _decide_rows(writer, ledger, report, progress)
    except BaseException:
        outer.rollback()
        raise
    if dry_run:
        outer.rollback()
    else:
        outer.commit()
    log.info(
        "ledger import into org %s (%s): %s created, %s updated, %s unchanged, %s rejected",
        actor.org_id,
        "dry run" if dry_run else "written",
        report.created,
        report.updated,
        report.unchanged,
        report.rejected,
    )
    return report


def _decide_rows(
    writer: LedgerWriter, ledger: LedgerFile, report: ImportReport, progress: Progress | None = None
) -> None:
    """Decide every row in file order and keep the report: counts, rejections, warnings, departments."""
    layout = ledger.layout
    number_header = layout.header_of("management_no")
    first_row: dict[str, int] = {}
    defaults: Counter = Counter()
    total = len(ledger.rows)
    for done, row in enumerate(ledger.rows):
        if progress and done % PROGRESS_EVERY == 0:
            progress("written", done, total)
        problems = list(row.errors)
        number = row.management_no
        if number and first_row.setdefault(number, row.number) != row.number:
            message = N_(
                "Duplicate management number %(no)s: row %(row)s already has it.",
                no=number,
                row=first_row[number],
            )
            problems.append(Problem(number_header, message))
        if not problems:
            try:
                decision = writer.decide(row.values, layout.holds_notes, row.inferred)
            except Invalid as exc:
                problems = _problems(exc, layout)
        if problems:
            report.rejected_cells[row.number] = row.cells
            report.rejected_rows += [RowProblem(row.number, number, p.column, p.reason) for p in problems]
            continue
        setattr(report, decision.outcome, getattr(report, decision.outcome) + 1)
        report.changes.note(row.number, decision)
        if decision.new_department is not None:
            report.departments_created.append(decision.new_department)
        report.warnings += [RowProblem(row.number, number, p.column, p.reason) for p in row.warnings]
        if decision.warnings:
            report.warnings += [
                RowProblem(row.number, number, layout.header_of(name), message)
                for name, message in decision.warnings.items()
            ]
        _count_liberties(report, decision, row.inferred, defaults)
    report.defaults = [[name, value, count] for (name, value), count in defaults.items()]
    if progress:
        progress("written", total, total)


def _count_liberties(report: ImportReport, decision, inferred: Mapping[str, str], defaults: Counter) -> None:
    """Count what a row took that the file does not say: defaults, worked-out values, no interval."""
    if decision.outcome == "created":
        defaults.update(decision.defaults.items())
        if decision.values["interval_months"] is None and decision.values["control_method"] != "one_off":
            report.without_interval += 1
    for name, source in inferred.items():
        key = f"{name}:{source}"
        report.inferred[key] = report.inferred.get(key, 0) + 1


def _problems(exc: DomainError, layout: Layout) -> list[Problem]:
    """Return a rejected row's problems, each under the column of the sheet that holds its field."""
    problems = [
        Problem(_column(name, layout), message)
        for name, messages in exc.field_errors.items()
        for message in messages
    ]
    return problems or [Problem(None, exc.message)]


def _column(name: str, layout: Layout) -> str | None:
    name = ERROR_FIELDS.get(name, name)
    return layout.header_of(name) if name in BY_FIELD else None


# The rejected rows as a file --------------------------------------------------------------------

_XLSX_MAX_STRING = 32767


def rejected_rows_xlsx(report: ImportReport, gettext: Gettext = _identity) -> bytes:
    """Return an .xlsx of the rejected rows with their original cells, the row number and the reasons.

    The header is the file's own, so the fixed file imports again; the two added columns
    (原行号, 导入问题) are ignored on import.
    """
    buffer = io.BytesIO()
    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    workbook = xlsxwriter.Workbook(buffer, options)
    sheet = workbook.add_worksheet("未导入的行")
    formats = {
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
        "datetime": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "bold": workbook.add_format({"bold": True}),
    }
    width = max([len(report.header), *(len(c) for c in report.rejected_cells.values())])
    header = [*report.header, *[""] * (width - len(report.header)), ROW_NUMBER_HEADER, PROBLEM_HEADER]
    for column, text in enumerate(header):
        sheet.write_string(0, column, neutralise(text), formats["bold"])
    reasons = _reasons_by_row(report, gettext)
    for line, (number, cells) in enumerate(sorted(report.rejected_cells.items()), 1):
        for column, value in enumerate(cells):
            _write_cell(sheet, line, column, value, formats)
        sheet.write_number(line, width, number)
        sheet.write_string(line, width + 1, neutralise(reasons.get(number, "")))
    sheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()


def _reasons_by_row(report: ImportReport, gettext: Gettext) -> dict[int, str]:
    reasons: dict[int, list[str]] = {}
    for problem in report.rejected_rows:
        text = render(problem.reason, gettext)
        reasons.setdefault(problem.row, []).append(f"{problem.column}: {text}" if problem.column else text)
    return {row: "；".join(texts) for row, texts in reasons.items()}


def _write_cell(sheet, line: int, column: int, value: Any, formats: dict) -> None:
    if value is None or value == "":
        return
    if isinstance(value, bool):
        sheet.write_boolean(line, column, value)
    elif isinstance(value, int | float):
        sheet.write_number(line, column, value)
    elif isinstance(value, datetime):
        sheet.write_datetime(line, column, value, formats["datetime"])
    elif isinstance(value, date):
        sheet.write_datetime(line, column, datetime.combine(value, time()), formats["date"])
    else:
        sheet.write_string(line, column, neutralise(str(value))[:_XLSX_MAX_STRING])
