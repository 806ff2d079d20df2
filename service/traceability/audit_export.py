"""An instrument's complete history as an xlsx workbook, for auditors.

One sheet each: the instrument's card (every ledger column, its label and status on the day, under
a header block saying who exported it when and whether the firm's hash chain verifies), its
records (corrected ones too, with who corrected them and why), their readings, the standards
used, the attached files with their SHA-256, the nonconformity cases, and the history events with
their hashes. Headers and code names are in the user's language; numbers are numbers, dates are
Excel dates, times are in the firm's time zone, and every text cell is neutralised so that nothing
in the file runs as a formula. The ledger export's workbook settings and helpers are reused.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import BinaryIO
from zoneinfo import ZoneInfo

import xlsxwriter
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Event, Instrument, NonconformityCase, Organization
from service.actors import Actor
from service.clock import now_utc
from service.history.chain import ChainReport, verify_chain
from service.history.queries import timeline
from service.i18n import N_, Gettext, Msg, render
from service.ledger.queries import get_instrument
from service.ledger_io.columns import COLUMNS, neutralise
from service.ledger_io.exporter import DATE_FORMAT, display_width, open_workbook
from service.names import (
    ACTION_NAMES,
    CASE_SOURCE_NAMES,
    CASE_STATE_NAMES,
    CERTIFICATE_TYPE_NAMES,
    CONFIRMATION_NAMES,
    DISPOSITION_NAMES,
    EVENT_NAMES,
    FIELD_NAMES,
    NAMES,
    PHASE_NAMES,
    RECORD_KIND_NAMES,
    STATUS_NAMES,
    in_field_order,
)
from service.nonconformity.queries import current_use_limits
from service.tenancy import queries as tenancy_queries
from service.traceability.queries import records_of

log = logging.getLogger(__name__)

DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
#: The most events listed; an instrument with more has only its latest ones in the file (and says so).
MAX_EVENTS = 100_000
#: Characters a file name may not contain on Windows, macOS or Linux (and control characters).
_UNSAFE_IN_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
#: Characters a worksheet name may not contain.
_UNSAFE_IN_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")

#: What the event numbers are: they count the firm's whole history, not the instrument's.
EVENTS_NOTE = N_(
    "Events are numbered across the firm's whole history; the numbers this instrument skips belong to "
    "other events of the firm. Each event's hash covers its content and the previous event's hash."
)

SHEET_NAMES = {
    "card": N_("Instrument"),
    "records": N_("Records"),
    "readings": N_("Readings"),
    "standards": N_("Standards used"),
    "attachments": N_("Attachments"),
    "cases": N_("Nonconformity cases"),
    "events": N_("History"),
}
# Column headers: (title, width in characters). Ledger fields keep the ledger's own names.
RECORD_ID = (N_("Record ID"), 10)
PERFORMED_ON = (N_("Performed on"), 12)
CERTIFICATE_NO = (FIELD_NAMES["certificate_no"], 18)
RECORD_COLUMNS = (
    RECORD_ID,
    (N_("Kind of work"), 12),
    PERFORMED_ON,
    (N_("Record state"), 12),
    (N_("Corrected by record"), 12),
    (N_("Corrects record"), 12),
    (N_("Corrected by"), 14),
    (N_("Correction reason"), 30),
    (N_("Corrected at"), 19),
    (FIELD_NAMES["lab"], 28),
    (N_("CNAS no."), 14),
    CERTIFICATE_NO,
    (FIELD_NAMES["certificate_type"], 16),
    (FIELD_NAMES["conclusion"], 10),
    (FIELD_NAMES["valid_until"], 12),
    (FIELD_NAMES["next_due_on"], 12),
    (N_("Temperature"), 12),
    (N_("Humidity"), 12),
    (N_("Uncertainty"), 24),
    (N_("Confirmation"), 12),
    (N_("Confirmation note"), 24),
    (N_("Confirmed by"), 14),
    (N_("Confirmed at"), 19),
    (N_("Performed by"), 14),
    (N_("Recorded by"), 14),
    (N_("Recorded at"), 19),
    (FIELD_NAMES["notes"], 30),
)
READING_COLUMNS = (
    RECORD_ID,
    CERTIFICATE_NO,
    (N_("Phase"), 12),
    (N_("Point"), 14),
    (N_("Unit"), 8),
    (N_("Nominal value"), 12),
    (N_("Reading"), 12),
    (N_("Error"), 12),
    (N_("MPE"), 12),
    (N_("Within tolerance"), 10),
)
STANDARD_COLUMNS = (
    RECORD_ID,
    PERFORMED_ON,
    (FIELD_NAMES["management_no"], 16),
    (FIELD_NAMES["name"], 24),
    CERTIFICATE_NO,
    (FIELD_NAMES["valid_until"], 12),
    (FIELD_NAMES["lab"], 28),
    (N_("Expired when used"), 12),
)
ATTACHMENT_COLUMNS = (
    RECORD_ID,
    CERTIFICATE_NO,
    (N_("File name"), 30),
    (N_("File type"), 16),
    (N_("Size (bytes)"), 12),
    ("SHA-256", 66),
    (N_("Uploaded at"), 19),
)
CASE_COLUMNS = (
    (N_("Case ID"), 8),
    (N_("Case state"), 10),
    (N_("Opened on"), 12),
    (N_("Opened by"), 14),
    (N_("Source"), 20),
    RECORD_ID,
    (N_("Description"), 36),
    (N_("Suspect from"), 12),
    (N_("Suspect to"), 12),
    (N_("Impact assessment"), 36),
    (N_("Assessed by"), 14),
    (N_("Assessed at"), 19),
    (N_("Disposition"), 20),
    (N_("Disposition note"), 30),
    (N_("Limits of use"), 24),
    (N_("Approved by"), 14),
    (N_("Closed on"), 12),
)
EVENT_COLUMNS = (
    (N_("No."), 8),
    (N_("Time"), 19),
    (N_("Done by"), 14),
    (N_("Event"), 22),
    (N_("Details"), 60),
    (N_("Hash"), 66),
    (N_("Previous hash"), 66),
)
#: Keys of an event's details, in the order they are told, with their names.
DETAIL_NAMES = {
    "action": N_("Action"),
    "reason": N_("Reason"),
    "record_id": RECORD_ID[0],
    "supersedes": N_("Corrects record"),
    "kind": N_("Kind of work"),
    "performed_on": N_("Performed on"),
    "certificate_no": FIELD_NAMES["certificate_no"],
    "conclusion": FIELD_NAMES["conclusion"],
    "confirmation": N_("Confirmation"),
    "files": N_("Files"),
    "request_id": N_("Request no."),
    "replacement_id": N_("Replacement instrument ID"),
    "replaced_id": N_("Replaced instrument ID"),
}
#: How the value of a detail (or of a changed ledger field) is named.
VALUE_NAMES = {
    "action": ACTION_NAMES,
    "kind": RECORD_KIND_NAMES,
    "confirmation": CONFIRMATION_NAMES,
    "certificate_type": CERTIFICATE_TYPE_NAMES,
    **{
        k: NAMES[k] for k in ("status", "label", "control_method", "mandatory_use", "conclusion", "abc_class")
    },
}
#: Keys whose meaning another line already gives, or that concern only the import machinery.
_SILENT_DETAILS = {"import_id", "sole_admin", "file", "fields", "changes", "status"}


# -- the workbook --------------------------------------------------------------------------------


class _Formats:
    """The cell formats of the workbook, in the ledger export's style."""

    def __init__(self, workbook: xlsxwriter.Workbook):
        base = {"font_size": 10, "valign": "vcenter"}
        self.header = workbook.add_format(
            base | {"bold": True, "border": 1, "align": "center", "text_wrap": True, "bg_color": "#DDEBF7"}
        )
        # Text columns are formatted as text so that what people type there later stays text too.
        self.text = workbook.add_format(base | {"num_format": "@", "text_wrap": True})
        self.date = workbook.add_format(base | {"num_format": DATE_FORMAT, "align": "left"})
        self.datetime = workbook.add_format(base | {"num_format": DATETIME_FORMAT, "align": "left"})
        self.number = workbook.add_format(base)
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.label = workbook.add_format(base | {"bold": True})
        self.alert = workbook.add_format(base | {"bold": True, "font_color": "#C00000", "text_wrap": True})


def _write(sheet, row: int, col: int, value, formats: _Formats, context: _Context, text_format=None) -> None:
    """Write one typed cell: text neutralised, dates and times as Excel dates, numbers as numbers."""
    if value is None or value == "":
        return
    if isinstance(value, bool):
        sheet.write_string(row, col, context.yes_no(value), text_format or formats.text)
    elif isinstance(value, datetime):  # before ``date``: a datetime is a date too
        sheet.write_datetime(row, col, value, formats.datetime)
    elif isinstance(value, date):
        sheet.write_datetime(row, col, value, formats.date)
    elif isinstance(value, int | float | Decimal):
        sheet.write_number(row, col, float(value) if isinstance(value, Decimal) else value, formats.number)
    else:  # text, and names still to translate; never let write() guess
        sheet.write_string(row, col, neutralise(context.t(value)), text_format or formats.text)


def _sheet_name(title) -> str:
    """Return a translated title that Excel accepts as a worksheet name (31 characters, no brackets etc.)."""
    return _UNSAFE_IN_SHEET_NAME.sub(" ", str(title))[:31]


class _Table:
    """A worksheet holding one table: header row, rows written in order, frozen header, autofilter."""

    def __init__(self, workbook, formats: _Formats, context: _Context, title, columns: Sequence[tuple]):
        self.sheet = workbook.add_worksheet(_sheet_name(context.t(title)))
        self.formats = formats
        self.context = context
        self.width = len(columns)
        self.row = 0
        for index, (header, width) in enumerate(columns):
            text = context.t(header)
            self.sheet.set_column(index, index, max(width, display_width(text) + 2, 8))
            self.sheet.write_string(0, index, neutralise(text), formats.header)
        self.sheet.freeze_panes(1, 0)

    def write_row(self, values: Sequence) -> None:
        """Append one row of typed values; empty values stay blank."""
        self.row += 1
        for col, value in enumerate(values):
            _write(self.sheet, self.row, col, value, self.formats, self.context)

    def finish(self) -> None:
        """Put the autofilter over the header and every written row."""
        self.sheet.autofilter(0, 0, self.row, self.width - 1)


@dataclass(frozen=True)
class _Context:
    """What every sheet needs: the reader's gettext, the firm's zone, its departments' and users' names."""

    gettext: Gettext
    zone: ZoneInfo
    departments: dict[int, str]
    users: dict[int, str]

    def t(self, message) -> str:
        """Return a message (or a name of a code list) in the reader's language; other text as it is."""
        return render(message, self.gettext) if isinstance(message, Msg) else str(message)

    def name(self, names: Mapping, code) -> str | None:
        """Return the display name of ``code`` (the code itself when unknown); ``None`` for no code."""
        if code is None or code == "":
            return None
        return self.t(names.get(code, code))

    def yes_no(self, flag: bool | None) -> str | None:
        """Return yes or no in the reader's language; ``None`` for no answer."""
        return None if flag is None else self.t(N_("Yes") if flag else N_("No"))

    def local(self, moment: datetime | None) -> datetime | None:
        """Return an aware UTC time as the firm's wall-clock time (Excel has no time zones)."""
        return moment.astimezone(self.zone).replace(tzinfo=None) if moment is not None else None


def write_instrument_history(
    session: Session,
    actor: Actor,
    instrument_id: int,
    out: BinaryIO,
    today: date,
    gettext: Gettext,
) -> None:
    """Write one of the actor's instruments with its whole history to ``out`` as an xlsx workbook.

    ``gettext`` translates into the reader's language (the web passes Flask-Babel's; a job, its catalogue's).

    The actor's organisation's instrument only (another one is :class:`NotFound`); an institute
    reaches a client's instrument with the actor of its client link. ``today`` is the firm's date,
    for the label and status shown on the card.
    """
    instrument = get_instrument(session, actor, instrument_id)
    org = tenancy_queries.get_org(session, actor)
    records = list(reversed(records_of(session, actor, instrument.id)))  # in the order of the work
    cases = _cases(session, actor, instrument.id)
    events = list(reversed(timeline(session, actor, "instrument", instrument.id, limit=MAX_EVENTS)))
    chain = verify_chain(session, actor.org_id)
    context = _Context(
        gettext,
        ZoneInfo(org.timezone),
        {d.id: d.name for d in tenancy_queries.list_departments(session, actor)},
        {u.id: u.name for u in tenancy_queries.list_users(session, actor)},
    )
    with open_workbook(out) as workbook:
        workbook.set_properties(
            {"title": context.t(N_("History of %(no)s", no=instrument.management_no)), "company": org.name}
        )
        formats = _Formats(workbook)
        _card_sheet(workbook, formats, context, session, actor, org, instrument, today, chain, len(events))
        _records_sheet(workbook, formats, context, records, _corrections(events))
        _readings_sheet(workbook, formats, context, records)
        _standards_sheet(workbook, formats, context, records)
        _attachments_sheet(workbook, formats, context, records)
        _cases_sheet(workbook, formats, context, cases)
        _events_sheet(workbook, formats, context, events)
    log.info(
        "exported the history of instrument %s of org %s (%d records, %d events)",
        instrument.id,
        actor.org_id,
        len(records),
        len(events),
    )


def history_filenames(session: Session, actor: Actor, instrument_id: int, today: date) -> tuple[str, str]:
    """Return the download's file name (Chinese, with the management number) and its ASCII fallback.

    Raises :class:`NotFound` for an instrument not of the actor's organisation, so a route may call
    it before writing anything.
    """
    instrument = get_instrument(session, actor, instrument_id)
    slug = tenancy_queries.get_org(session, actor).slug
    number = _UNSAFE_IN_FILENAME.sub("_", instrument.management_no).strip(" .")[:64] or str(instrument.id)
    return (
        f"器具履历-{slug}-{number}-{today:%Y%m%d}.xlsx",
        f"instrument-history-{slug}-{instrument.id}-{today:%Y%m%d}.xlsx",
    )


def _cases(session: Session, actor: Actor, instrument_id: int) -> list[NonconformityCase]:
    return list(
        session.scalars(
            select(NonconformityCase)
            .where(NonconformityCase.org_id == actor.org_id, NonconformityCase.instrument_id == instrument_id)
            .order_by(NonconformityCase.opened_on, NonconformityCase.id)
        )
    )


def _corrections(events: list[Event]) -> dict[int, Event]:
    """Return the ``record.corrected`` event of each corrected record, by the corrected record's id."""
    return {
        event.data["supersedes"]: event
        for event in events
        if event.kind == "record.corrected" and isinstance(event.data.get("supersedes"), int)
    }


# -- the sheets ----------------------------------------------------------------------------------


def _card_sheet(workbook, formats, context, session, actor, org, instrument, today, chain, shown) -> None:
    """The header block (firm, instrument, export, chain check) and the instrument's card."""
    sheet = workbook.add_worksheet(_sheet_name(context.t(SHEET_NAMES["card"])))
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, 1, 60)
    sheet.write_string(0, 0, neutralise(context.t(N_("Instrument history for audit"))), formats.title)
    exporter = actor.name
    if actor.via_client_link:
        exporter = f"{actor.name} ({session.get(Organization, actor.home_org_id).name})"
    block = [
        (context.t(N_("Firm")), org.name, None),
        (context.t(N_("Instrument")), f"{instrument.management_no} {instrument.name}", None),
        (context.t(N_("Exported at")), context.local(now_utc()), None),
        (context.t(N_("Exported by")), exporter, None),
        (context.t(N_("Time zone")), org.timezone, None),
        (context.t(N_("Label and status as of")), today, None),
        (
            context.t(N_("History verification")),
            _chain_text(chain, context),
            None if chain.ok else formats.alert,
        ),
        (context.t(N_("Event numbers")), context.t(EVENTS_NOTE), None),
    ]
    if shown >= MAX_EVENTS:
        listed = context.t(N_("Only the latest %(count)s events are listed.", count=shown))
        block.append((context.t(N_("Events listed")), listed, formats.alert))
    row = 1
    for label, value, value_format in block:
        _write(sheet, row, 0, label, formats, context, formats.label)
        _write(sheet, row, 1, value, formats, context, value_format)
        row += 1
    row += 1
    sheet.write_string(row, 0, neutralise(context.t(N_("Field"))), formats.header)
    sheet.write_string(row, 1, neutralise(context.t(N_("Value"))), formats.header)
    for label, value in _card_rows(session, context, instrument, today):
        row += 1
        _write(sheet, row, 0, label, formats, context, formats.label)
        _write(sheet, row, 1, value, formats, context)


def _chain_text(chain: ChainReport, context: _Context) -> str:
    if chain.ok:
        return context.t(
            N_(
                "Passed: %(count)s events of the firm's history checked, none altered or missing.",
                count=chain.checked,
            )
        )
    return context.t(N_("FAILED at event %(seq)s: %(reason)s", seq=chain.broken_seq, reason=chain.reason))


def _card_rows(session, context, instrument: Instrument, today: date) -> list[tuple]:
    """Return every ledger column of the instrument as ``(name, value)``, then its due date and label."""
    derived = {
        "department": instrument.department.name if instrument.department else None,
        "custodian": instrument.custodian_display,
        "custodian_mobile": instrument.custodian_contact,
    }
    rows = []
    for column in COLUMNS:
        field = column.field
        value = derived[field] if field in derived else getattr(instrument, field)
        if field in VALUE_NAMES:
            value = context.name(VALUE_NAMES[field], value)
        rows.append((FIELD_NAMES[field], value))
    rows.append((FIELD_NAMES["next_due_on"], instrument.next_due_on))
    rows.append((FIELD_NAMES["label"], context.name(NAMES["label"], instrument.label_state(today))))
    rows.append((context.t(N_("Overdue")), instrument.is_overdue(today)))
    rows.append((context.t(N_("Limits of use")), current_use_limits(session, instrument)))
    return rows


def _records_sheet(workbook, formats, context, records, corrections: dict[int, Event]) -> None:
    table = _Table(workbook, formats, context, SHEET_NAMES["records"], RECORD_COLUMNS)
    by_id = {record.id: record for record in records}
    for r in records:
        correction = corrections.get(r.id)
        corrected_by = correction.actor_name if correction else None
        if r.superseded_by_id is not None and correction is None and r.superseded_by_id in by_id:
            corrected_by = by_id[r.superseded_by_id].recorded_by_name  # the event is beyond MAX_EVENTS
        table.write_row(
            [
                r.id,
                context.name(RECORD_KIND_NAMES, r.kind),
                r.performed_on,
                context.t(N_("Current")) if r.is_current else context.t(N_("Superseded")),
                r.superseded_by_id,
                r.supersedes_id,
                corrected_by,
                correction.data.get("reason") if correction else None,
                context.local(correction.occurred_at) if correction else None,
                r.lab_name,
                r.lab_cnas_no,
                r.certificate_no,
                context.name(CERTIFICATE_TYPE_NAMES, r.certificate_type),
                context.name(NAMES["conclusion"], r.conclusion),
                r.valid_until,
                r.next_due_on,
                r.temperature,
                r.humidity,
                r.uncertainty,
                context.name(CONFIRMATION_NAMES, r.confirmation),
                r.confirmation_note,
                r.confirmed_by_name,
                context.local(r.confirmed_at),
                r.performed_by,
                r.recorded_by_name,
                context.local(r.created_at),
                r.notes,
            ]
        )
    table.finish()


def _readings_sheet(workbook, formats, context, records) -> None:
    table = _Table(workbook, formats, context, SHEET_NAMES["readings"], READING_COLUMNS)
    for record in records:
        for reading in record.readings:
            table.write_row(
                [
                    record.id,
                    record.certificate_no,
                    context.name(PHASE_NAMES, reading.phase),
                    reading.point,
                    reading.unit,
                    reading.nominal,
                    reading.reading,
                    reading.error,
                    reading.mpe,
                    reading.within_tolerance,
                ]
            )
    table.finish()


def _standards_sheet(workbook, formats, context, records) -> None:
    table = _Table(workbook, formats, context, SHEET_NAMES["standards"], STANDARD_COLUMNS)
    for record in records:
        for standard in record.standards:
            table.write_row(
                [
                    record.id,
                    record.performed_on,
                    standard.management_no,
                    standard.name,
                    standard.certificate_no,
                    standard.valid_until,
                    standard.lab_name,
                    standard.expired_when_used,
                ]
            )
    table.finish()


def _attachments_sheet(workbook, formats, context, records) -> None:
    table = _Table(workbook, formats, context, SHEET_NAMES["attachments"], ATTACHMENT_COLUMNS)
    for record in records:
        for attachment in record.attachments:
            table.write_row(
                [
                    record.id,
                    record.certificate_no,
                    attachment.filename,
                    attachment.mime,
                    attachment.size,
                    attachment.sha256,
                    context.local(attachment.uploaded_at),
                ]
            )
    table.finish()


def _cases_sheet(workbook, formats, context, cases: list[NonconformityCase]) -> None:
    table = _Table(workbook, formats, context, SHEET_NAMES["cases"], CASE_COLUMNS)
    for case in cases:
        table.write_row(
            [
                case.id,
                context.name(CASE_STATE_NAMES, case.state),
                case.opened_on,
                case.opened_by_name,
                context.name(CASE_SOURCE_NAMES, case.source),
                case.record_id,
                case.description,
                case.suspect_from,
                case.suspect_to,
                case.impact_assessment,
                case.assessed_by_name,
                context.local(case.assessed_at),
                context.name(DISPOSITION_NAMES, case.disposition),
                case.disposition_note,
                case.use_limits,
                case.approved_by_name,
                case.closed_on,
            ]
        )
    table.finish()


def _events_sheet(workbook, formats, context, events: list[Event]) -> None:
    table = _Table(workbook, formats, context, SHEET_NAMES["events"], EVENT_COLUMNS)
    for event in events:
        table.write_row(
            [
                event.seq,
                context.local(event.occurred_at),
                event.actor_name or context.t(N_("system")),
                context.name(EVENT_NAMES, event.kind),
                _details(event.data or {}, context),
                event.hash,
                event.prev_hash,
            ]
        )
    table.finish()


# -- an event's details, as sentences ------------------------------------------------------------


def _shown(field: str, value, context: _Context) -> str:
    """Return a ledger field's value as people read it: names of codes, departments and users."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return context.yes_no(value)
    if field == "department_id" and value in context.departments:
        return context.departments[value]
    if field == "custodian_user_id" and value in context.users:
        return context.users[value]
    if field in VALUE_NAMES:
        return context.name(VALUE_NAMES[field], value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _field_name(field: str, context: _Context) -> str:
    return context.t(FIELD_NAMES.get(field, field))


def _details(data: dict, context: _Context) -> str:
    """Return an event's content as lines a person reads: what changed, why, which record."""
    lines = []
    if data.get("file"):
        lines.append(context.t(N_("Imported from %(file)s", file=data["file"])))
    if data.get("sole_admin"):
        lines.append(context.t(N_("decided by the sole administrator")))
    if isinstance(data.get("status"), list) and len(data["status"]) == 2:
        before, after = (context.name(STATUS_NAMES, s) or "—" for s in data["status"])
        lines.append(f"{context.t(FIELD_NAMES['status'])}: {before} → {after}")
    for key, label in DETAIL_NAMES.items():
        value = data.get(key)
        if value is None or value == "" or value == []:
            continue
        text = (
            ", ".join(map(str, value))
            if key == "files" and isinstance(value, list)
            else _shown(key, value, context)
        )
        lines.append(f"{context.t(label)}: {text}")
    for field, value in in_field_order(data.get("fields") or {}):
        lines.append(f"{_field_name(field, context)}: {_shown(field, value, context)}")
    for field, change in in_field_order(data.get("changes") or {}):
        if isinstance(change, list) and len(change) == 2:
            before, after = (_shown(field, v, context) for v in change)
            lines.append(f"{_field_name(field, context)}: {before} → {after}")
    for key, value in data.items():
        if key not in DETAIL_NAMES and key not in _SILENT_DETAILS and value not in (None, "", [], {}):
            lines.append(f"{key}: {_shown(key, value, context)}")
    return "\n".join(lines)
