"""Traceability: calibration and verification records, their readings, standards and attachments.

A record is written once and never edited: a correction is a new record that names the one it
supersedes, and both stay. The only later change to a record is its metrological confirmation
(计量确认), set once, and the ``superseded_by_id`` pointer a correction sets on the old record.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    and_,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantScoped, children_in_org, in_org, org_fk, sql_in, utcnow
from models.ledger import CERTIFICATE_TYPES, CONCLUSIONS, Instrument

#: 检定 verification, 校准 calibration, 自校 self-check, 期间核查 intermediate check.
RECORD_KINDS = ("verification", "calibration", "self_check", "intermediate_check")
#: Certificates a record may carry: the ledger's, plus a firm's own internal record.
RECORD_CERTIFICATE_TYPES = (*CERTIFICATE_TYPES, "internal_record")
#: The outcome of a metrological confirmation: fit for use, limited use, unfit.
CONFIRMATIONS = ("fit", "limited", "unfit")
#: What a confirmation means for the instrument's conclusion (and so its label).
CONFIRMATION_CONCLUSION = {"fit": "pass", "limited": "limited", "unfit": "fail"}
#: Readings before adjustment (as found) and after it (as left).
PHASES = ("as_found", "as_left")
#: Decimal columns of readings: enough for 0.000001 resolution over ±10^11.
READING = Numeric(18, 6)


def new_check_token() -> str:
    """Return the unguessable part of a record's public certificate-check URL (128 random bits)."""
    return secrets.token_urlsafe(16)


class CalibrationRecord(TenantScoped, Base):
    """One verification, calibration, self-check or intermediate check of an instrument."""

    __tablename__ = "calibration_records"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        org_fk("instrument_id", "instruments"),
        org_fk("supersedes_id", "calibration_records"),
        org_fk("superseded_by_id", "calibration_records"),
        CheckConstraint(sql_in("kind", RECORD_KINDS), name="kind"),
        CheckConstraint(sql_in("certificate_type", RECORD_CERTIFICATE_TYPES), name="certificate_type"),
        CheckConstraint(sql_in("conclusion", CONCLUSIONS), name="conclusion"),
        CheckConstraint(sql_in("confirmation", CONFIRMATIONS), name="confirmation"),
        Index("ix_calibration_records_org_id_instrument_id", "org_id", "instrument_id", "performed_on"),
        # A correction supersedes one record once.
        UniqueConstraint("org_id", "supersedes_id"),
        Index("uq_calibration_records_check_token", "check_token", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))
    performed_on: Mapped[date] = mapped_column(Date)
    #: The institute as an organisation of the system, when it did the work.
    lab_org_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("organizations.id"))
    #: The laboratory's name as printed (an outside lab, or the institute's name at the time).
    lab_name: Mapped[str | None] = mapped_column(String(200))
    #: CNAS accreditation number of an outside lab, e.g. ``CNAS L0001``.
    lab_cnas_no: Mapped[str | None] = mapped_column(String(32))
    certificate_no: Mapped[str | None] = mapped_column(String(100))
    certificate_type: Mapped[str | None] = mapped_column(String(32))
    #: 合格/准用/不合格 for verifications; for calibrations it follows the confirmation.
    conclusion: Mapped[str | None] = mapped_column(String(16))
    valid_until: Mapped[date | None] = mapped_column(Date)
    #: The due date this record gives the instrument (valid-until, or date + interval).
    next_due_on: Mapped[date | None] = mapped_column(Date)
    #: The person who did the work (检定员 / 校准员), as written.
    performed_by: Mapped[str | None] = mapped_column(String(100))
    temperature: Mapped[str | None] = mapped_column(String(40))
    humidity: Mapped[str | None] = mapped_column(String(40))
    #: Expanded uncertainty as stated, e.g. ``U = 0.02 MPa, k = 2``.
    uncertainty: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    #: 计量确认 of a calibration: fit / limited / unfit, by whom and when; set once.
    confirmation: Mapped[str | None] = mapped_column(String(16))
    confirmation_note: Mapped[str | None] = mapped_column(Text)
    confirmed_by_name: Mapped[str | None] = mapped_column(String(100))
    confirmed_at: Mapped[datetime | None]
    supersedes_id: Mapped[int | None] = mapped_column(Integer)
    superseded_by_id: Mapped[int | None] = mapped_column(Integer)
    #: Who entered it: a user of the firm, or of the institute through a client link.
    recorded_by_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"))
    recorded_by_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The token of the public certificate-check URL its QR label opens (no login, no ids).
    check_token: Mapped[str | None] = mapped_column(String(32), default=new_check_token)

    instrument: Mapped[Instrument] = in_org("Instrument", "CalibrationRecord", "instrument_id")
    readings: Mapped[list[RecordReading]] = children_in_org("RecordReading", "CalibrationRecord", "record_id")
    standards: Mapped[list[RecordStandard]] = children_in_org(
        "RecordStandard", "CalibrationRecord", "record_id"
    )
    attachments: Mapped[list[Attachment]] = children_in_org("Attachment", "CalibrationRecord", "record_id")

    @property
    def is_current(self) -> bool:
        """Whether no correction has superseded this record."""
        return self.superseded_by_id is None

    @classmethod
    def current_of(cls, org_id, instrument_id) -> ColumnElement[bool]:
        """Return the SQL predicate "a current record of this instrument" (see :attr:`is_current`)."""
        return and_(cls.org_id == org_id, cls.instrument_id == instrument_id, cls.superseded_by_id.is_(None))

    @property
    def needs_confirmation(self) -> bool:
        """Whether a calibration still awaits its metrological confirmation."""
        return self.kind == "calibration" and self.confirmation is None and self.is_current


class RecordReading(TenantScoped, Base):
    """One point of a record's results: nominal value, reading, error and the permissible error."""

    __tablename__ = "record_readings"
    __table_args__ = (
        org_fk("record_id", "calibration_records"),
        CheckConstraint(sql_in("phase", PHASES), name="phase"),
        Index("ix_record_readings_record_id", "record_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(Integer)
    phase: Mapped[str] = mapped_column(String(16))
    #: The point as written on the certificate, e.g. ``1.0 MPa`` or ``满量程``.
    point: Mapped[str | None] = mapped_column(String(100))
    unit: Mapped[str | None] = mapped_column(String(20))
    nominal: Mapped[Decimal | None] = mapped_column(READING)
    reading: Mapped[Decimal | None] = mapped_column(READING)
    #: Reading − nominal unless the certificate states it otherwise.
    error: Mapped[Decimal | None] = mapped_column(READING)
    #: Maximum permissible error (the firm's requirement), as a positive number.
    mpe: Mapped[Decimal | None] = mapped_column(READING)
    within_tolerance: Mapped[bool | None]


class RecordStandard(TenantScoped, Base):
    """A standard used for a record: an instrument of some ledger, or an outside one by name.

    The standard may be in another organisation's ledger (the institute's), so it is named by
    ``(standard_org_id, standard_instrument_id)``; its certificate and validity on the day are
    copied, so the record stays readable whatever happens to the standard later.
    """

    __tablename__ = "record_standards"
    __table_args__ = (
        org_fk("record_id", "calibration_records"),
        org_fk("standard_instrument_id", "instruments", org="standard_org_id"),
        Index("ix_record_standards_record_id", "record_id"),
        # Reverse traceability: every use of a standard.
        Index("ix_record_standards_standard", "standard_org_id", "standard_instrument_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(Integer)
    standard_org_id: Mapped[int | None] = mapped_column(Integer)
    standard_instrument_id: Mapped[int | None] = mapped_column(Integer)
    #: The standard's management no. and name as they were (or an outside standard's description).
    management_no: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    certificate_no: Mapped[str | None] = mapped_column(String(100))
    #: The standard's validity as it stood on the record's date.
    valid_until: Mapped[date | None] = mapped_column(Date)
    #: The standard's laboratory (for an outside standard: who calibrated it).
    lab_name: Mapped[str | None] = mapped_column(String(200))

    record: Mapped[CalibrationRecord] = in_org("CalibrationRecord", "RecordStandard", "record_id")

    @property
    def expired_when_used(self) -> bool:
        """Whether the standard's certificate had run out on the day of the work."""
        return self.valid_until is not None and self.valid_until < self.record.performed_on


class Attachment(TenantScoped, Base):
    """A file of a record (the certificate PDF, photos), stored outside the web root by content hash."""

    __tablename__ = "attachments"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        org_fk("record_id", "calibration_records"),
        Index("ix_attachments_record_id", "record_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(200))
    uploaded_by_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
