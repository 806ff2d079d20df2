"""Reading records, their attachments and an instrument's record history."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import Attachment, CalibrationRecord, Instrument
from service.actors import Actor
from service.scoping import get_in_org


def records_of(session: Session, actor: Actor, instrument_id: int) -> list[CalibrationRecord]:
    """Return an instrument's records, newest work first; corrected ones stay, marked superseded."""
    get_in_org(session, Instrument, instrument_id, actor)
    return list(
        session.scalars(
            select(CalibrationRecord)
            .where(CalibrationRecord.org_id == actor.org_id, CalibrationRecord.instrument_id == instrument_id)
            .options(
                # The API shows each record whole: load the children in three queries, not three per record.
                selectinload(CalibrationRecord.readings),
                selectinload(CalibrationRecord.standards),
                selectinload(CalibrationRecord.attachments),
            )
            .order_by(CalibrationRecord.performed_on.desc(), CalibrationRecord.id.desc())
        )
    )


def get_record(session: Session, actor: Actor, record_id) -> CalibrationRecord:
    """Return one record of the actor's organisation with its readings, standards and files (or 404)."""
    return get_in_org(session, CalibrationRecord, record_id, actor)


def get_attachment(session: Session, actor: Actor, attachment_id) -> Attachment:
    """Return one attachment of the actor's organisation (or 404)."""
    return get_in_org(session, Attachment, attachment_id, actor)
