"""Recording verification and calibration results, correcting them, confirming calibrations.

Recording moves the instrument's last date, valid-until, next due date, laboratory, certificate
and conclusion (so its label), and writes the history, in the caller's one transaction. A record
is never edited: a correction is a new record superseding the old one, and both stay.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Attachment,
    CalibrationRecord,
    ClientLink,
    Instrument,
    Organization,
    RecordReading,
    RecordStandard,
)
from models.base import utcnow
from models.ledger import CERTIFICATE_TYPES
from models.traceability import CONFIRMATION_CONCLUSION
from service.actors import Actor
from service.bookings import held_by_an_order
from service.errors import Conflict, invalid_field
from service.history.chain import record_event, records_history
from service.i18n import N_
from service.ledger import operations as ledger_ops
from service.ledger.dates import next_due_on
from service.ledger.renewal import RENEWING_KINDS, is_applied, is_newest, renews
from service.nonconformity import operations as nonconformity
from service.schemas import load_or_invalid
from service.scoping import get_in_org
from service.traceability import files
from service.traceability.schemas import ConfirmationIn, CorrectionIn, RecordIn

#: The record's columns copied from the validated payload.
RECORD_FIELDS = (
    "kind",
    "performed_on",
    "lab_org_id",
    "lab_name",
    "lab_cnas_no",
    "certificate_no",
    "certificate_type",
    "conclusion",
    "valid_until",
    "performed_by",
    "temperature",
    "humidity",
    "uncertainty",
    "notes",
)

#: An upload: its byte stream and the name the user gave it.


@records_history
def record_result(
    session: Session,
    actor: Actor,
    instrument_id: int,
    payload: Mapping,
    today: date,
    uploads: Iterable[files.Upload] = (),
    storage: Path | None = None,
    *,
    away: bool = False,
) -> CalibrationRecord:
    """Record a result against an instrument and move the instrument's dates, certificate and label.

    An instrument out for calibration is back in service with its result, unless it is still
    ``away`` (at the laboratory until a service order returns it).
    """
    actor.require("ledger.write")
    instrument = get_in_org(session, Instrument, instrument_id, actor)
    data = load_or_invalid(RecordIn(), payload)
    last_good = nonconformity.last_good_result(session, instrument, data["performed_on"])
    newest = is_newest(instrument, data["performed_on"])
    record = _new_record(session, actor, instrument, data, today, uploads, storage)
    _apply_to_instrument(session, actor, instrument, record, today, "record.created", None, away=away)
    _open_case_on_failure(session, actor, instrument, record, today, last_good, later=not newest)
    return record


@records_history
def correct_record(
    session: Session,
    actor: Actor,
    record_id: int,
    payload: Mapping,
    today: date,
    uploads: Iterable[files.Upload] = (),
    storage: Path | None = None,
) -> CalibrationRecord:
    """Supersede a record with a corrected one; the old record stays, marked as superseded."""
    actor.require("ledger.write")
    old = get_in_org(session, CalibrationRecord, record_id, actor)
    if old.superseded_by_id is not None:
        raise Conflict(N_("This record has already been corrected; correct the newer record instead."))
    data = load_or_invalid(CorrectionIn(), payload)
    reason = data.pop("correction_reason")
    instrument = get_in_org(session, Instrument, old.instrument_id, actor)
    was_applied = is_applied(instrument, old)
    last_good = nonconformity.last_good_result(session, instrument, data["performed_on"], exclude=old.id)
    newest = was_applied or is_newest(instrument, data["performed_on"])
    record = _new_record(session, actor, instrument, data, today, uploads, storage, supersedes=old)
    old.superseded_by_id = record.id
    session.flush()
    details = {"supersedes": old.id, "reason": reason}
    _apply_to_instrument(
        session, actor, instrument, record, today, "record.corrected", details, force=was_applied
    )
    _open_case_on_failure(session, actor, instrument, record, today, last_good, later=not newest)
    return record


@records_history
def confirm_record(
    session: Session, actor: Actor, record_id: int, payload: Mapping, today: date
) -> CalibrationRecord:
    """Record the metrological confirmation of a calibration (fit, limited use or unfit), once."""
    actor.require("ledger.write")
    record = get_in_org(session, CalibrationRecord, record_id, actor)
    data = load_or_invalid(ConfirmationIn(), payload)
    if record.kind != "calibration":
        raise Conflict(N_("Only a calibration is confirmed against the firm's requirement."))
    if record.superseded_by_id is not None:
        raise Conflict(N_("This record has been corrected; confirm the newer record."))
    if record.confirmation is not None:
        raise Conflict(N_("This calibration has already been confirmed."))
    _confirm(record, actor, data)
    instrument = get_in_org(session, Instrument, record.instrument_id, actor)
    details = {"record_id": record.id, "confirmation": record.confirmation}
    if record.confirmation_note:
        details["reason"] = record.confirmation_note
    applied = is_applied(instrument, record)
    update = {"conclusion": record.conclusion} if applied else {}
    ledger_ops.apply_change(session, actor, instrument, update, today, "record.confirmed", details)
    # As at recording: a failure opens a case, which stops nothing when a newer result stands.
    newest = is_newest(instrument, record.performed_on)
    last_good = nonconformity.last_good_result(session, instrument, record.performed_on, exclude=record.id)
    _open_case_on_failure(session, actor, instrument, record, today, last_good, later=not newest)
    return record


def _open_case_on_failure(
    session: Session,
    actor: Actor,
    instrument: Instrument,
    record: CalibrationRecord,
    today: date,
    last_good: date | None,
    *,
    later: bool = False,
) -> None:
    """Open the nonconformity case a failure calls for.

    An older result entered ``later`` (a newer one is in the ledger) opens it too: what the
    instrument measured before that result is suspect all the same; but the newer result stands
    for now, so the instrument stays in use and the window ends on the day of the older work.
    """
    if nonconformity.is_failure(record, record.readings):
        nonconformity.open_for_failure(session, actor, instrument, record, today, last_good, later=later)


def _confirm(record: CalibrationRecord, actor: Actor, data: Mapping) -> None:
    record.confirmation = data["confirmation"]
    record.confirmation_note = data.get("confirmation_note")
    record.confirmed_by_name = actor.name
    record.confirmed_at = utcnow()
    record.conclusion = CONFIRMATION_CONCLUSION[record.confirmation]


def _new_record(
    session: Session,
    actor: Actor,
    instrument: Instrument,
    data: dict,
    today: date,
    uploads: Iterable[files.Upload],
    storage: Path | None,
    supersedes: CalibrationRecord | None = None,
) -> CalibrationRecord:
    if data["performed_on"] > today:
        raise invalid_field("performed_on", N_("The date of the work cannot be in the future."))
    lab = _lab(session, actor, data.get("lab_org_id"))
    # A correction keeps the standards the corrected record used, wherever their ledger: the firm
    # correcting a result the institute wrote names the institute's standards as they were.
    kept = {s.standard_instrument_id: s.standard_org_id for s in (supersedes.standards if supersedes else ())}
    standards = [
        _standard(session, actor, s, data["performed_on"], i, kept) for i, s in enumerate(data["standards"])
    ]
    stored = files.store_uploads(storage, uploads)
    record = CalibrationRecord(
        org_id=actor.org_id,
        instrument_id=instrument.id,
        supersedes_id=supersedes.id if supersedes else None,
        recorded_by_id=actor.user_id,
        recorded_by_name=actor.name,
        **{name: data.get(name) for name in RECORD_FIELDS},
    )
    if lab is not None and not record.lab_name:
        record.lab_name = lab.name
    elif record.kind == "self_check" and not record.lab_name:
        record.lab_name = session.get(Organization, actor.org_id).name  # the firm checked it itself
    if data.get("confirmation"):
        _confirm(record, actor, data)
    session.add(record)
    session.flush()
    session.add_all(_reading(record, r) for r in data["readings"])
    session.add_all(RecordStandard(org_id=actor.org_id, record_id=record.id, **s) for s in standards)
    session.add_all(_attachment(actor, record, f) for f in stored)
    session.flush()
    return record


def _lab(session: Session, actor: Actor, lab_org_id: int | None) -> Organization | None:
    """Return the institute named as the laboratory: the actor's own, or one linked to the firm."""
    if lab_org_id is None:
        return None
    if lab_org_id in (actor.org_id, actor.home_org_id):
        lab = session.get(Organization, lab_org_id)
    else:
        lab = session.scalar(
            select(Organization)
            .join(ClientLink, ClientLink.institute_id == Organization.id)
            .where(
                Organization.id == lab_org_id,
                ClientLink.firm_id == actor.org_id,
                ClientLink.ended_at.is_(None),
            )
        )
    if lab is None or lab.kind != "institute":
        raise invalid_field(
            "lab_org_id", N_("Choose an institute linked to your firm, or give the laboratory's name.")
        )
    return lab


def _standard(
    session: Session, actor: Actor, data: dict, used_on: date, index: int, kept: Mapping[int, int]
) -> dict:
    """Resolve a standard used; copy its certificate and its validity on the day of use.

    ``kept`` maps the standards of a corrected record to their ledgers (see :func:`_new_record`).
    """
    if data.get("instrument_id") is None and data.get("name"):
        # An outside standard (a national standard, another lab's), described as its certificate says.
        return {
            k: data.get(k) for k in ("name", "management_no", "certificate_no", "valid_until", "lab_name")
        }
    # The standard belongs to whoever did the work: the firm itself, or the institute acting for it.
    owner = actor.home_org_id
    if data.get("instrument_id") is not None:
        which, field = Instrument.id == data["instrument_id"], "instrument_id"
        owner = kept.get(data["instrument_id"], owner)
    else:
        which, field = Instrument.management_no == data["management_no"], "management_no"
    standard = session.scalar(
        select(Instrument).where(which, Instrument.org_id == owner).execution_options(all_tenants=True)
    )
    if standard is None:
        raise invalid_field(f"standards.{index}.{field}", N_("No such standard in your ledger."))
    certificate_no, valid_until, lab_name = _validity_on(session, standard, used_on)
    return {
        "standard_org_id": standard.org_id,
        "standard_instrument_id": standard.id,
        "management_no": standard.management_no,
        "name": standard.name,
        "certificate_no": certificate_no,
        "valid_until": valid_until,
        "lab_name": lab_name,
    }


def _validity_on(
    session: Session, standard: Instrument, day: date
) -> tuple[str | None, date | None, str | None]:
    """Return the standard's certificate, valid-until and laboratory as they stood on ``day``.

    The latest current renewing record on or before ``day`` tells; without one, the ledger's own
    columns (a standard entered with its certificate but no records yet).
    """
    record = session.scalar(
        select(CalibrationRecord)
        .where(
            CalibrationRecord.current_of(standard.org_id, standard.id),
            CalibrationRecord.kind.in_(RENEWING_KINDS),
            CalibrationRecord.performed_on <= day,
        )
        .order_by(CalibrationRecord.performed_on.desc(), CalibrationRecord.id.desc())
        .limit(1)
        .execution_options(all_tenants=True)
    )
    if record is not None:
        return record.certificate_no, record.next_due_on, record.lab_name
    return standard.certificate_no, standard.next_due_on, standard.lab


def _reading(record: CalibrationRecord, data: dict) -> RecordReading:
    """Return a reading row; the error and the verdict are worked out when the numbers allow."""
    reading = RecordReading(org_id=record.org_id, record_id=record.id, **data)
    if reading.error is None and reading.reading is not None and reading.nominal is not None:
        reading.error = reading.reading - reading.nominal
    if reading.within_tolerance is None and reading.error is not None and reading.mpe is not None:
        reading.within_tolerance = abs(reading.error) <= reading.mpe
    return reading


def _apply_to_instrument(
    session: Session,
    actor: Actor,
    instrument: Instrument,
    record: CalibrationRecord,
    today: date,
    kind: str,
    details: dict | None,
    force: bool = False,
    away: bool = False,
) -> None:
    """Move the instrument to the record's results when it is its newest; write the history event.

    The record keeps the due date it gives either way.
    """
    details = {
        **(details or {}),
        "record_id": record.id,
        "kind": record.kind,
        "performed_on": record.performed_on,
        "certificate_no": record.certificate_no,
        "conclusion": record.conclusion,
    }
    update: dict = {}
    newest = is_newest(instrument, record.performed_on)
    if renews(instrument, record.kind) and (newest or force):
        update = {"last_done_on": record.performed_on, "valid_until": record.valid_until}
        # Nothing the record leaves empty wipes what the ledger knows (its laboratory, certificate).
        given = {
            "lab": record.lab_name,
            "certificate_no": record.certificate_no,
            "certificate_type": record.certificate_type
            if record.certificate_type in CERTIFICATE_TYPES
            else None,
            "conclusion": ledger_conclusion(record),
        }
        update |= {field: value for field, value in given.items() if value is not None}
        if instrument.status == "out_for_calibration" and not (away or held_by_an_order(session, instrument)):
            update["status"] = "in_service"  # back from the laboratory
    changes = ledger_ops.apply_change(session, actor, instrument, update, today, kind, details)
    _remember_due_date(record, instrument, changes)


def ledger_conclusion(record: CalibrationRecord) -> str | None:
    """Return the conclusion a record gives the ledger: ``pending`` for a calibration not yet confirmed."""
    if record.kind == "calibration" and record.confirmation is None:
        return "pending"
    return record.conclusion


def _remember_due_date(record: CalibrationRecord, instrument: Instrument, changes: dict) -> None:
    """Keep on the record the due date it gives (for the chain of standards and interval reviews)."""
    if "last_done_on" in changes or is_applied(instrument, record):
        record.next_due_on = instrument.next_due_on
    elif renews(instrument, record.kind):
        record.next_due_on = next_due_on(record.performed_on, instrument.interval_months, record.valid_until)


@records_history
def add_attachments(
    session: Session, actor: Actor, record_id: int, uploads: Iterable[files.Upload], storage: Path
) -> list[Attachment]:
    """Attach files to a record (the certificate often arrives after the results); the history says so."""
    actor.require("ledger.write")
    record = get_in_org(session, CalibrationRecord, record_id, actor)
    stored = files.store_uploads(storage, uploads)
    if not stored:
        raise invalid_field("attachments.0", N_("Choose a file."))
    added = [_attachment(actor, record, f) for f in stored]
    session.add_all(added)
    session.flush()
    record_event(
        session,
        actor,
        "record.attachment_added",
        ("instrument", record.instrument_id),
        {"record_id": record.id, "files": [a.filename for a in added]},
    )
    return added


def _attachment(actor: Actor, record: CalibrationRecord, stored: files.StoredFile) -> Attachment:
    return Attachment(
        org_id=actor.org_id,
        record_id=record.id,
        sha256=stored.sha256,
        size=stored.size,
        mime=stored.mime,
        filename=stored.filename,
        uploaded_by_id=actor.user_id,
    )
