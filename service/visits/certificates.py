"""The institute's certificate numbers: one running sequence per prefix and year, never reused."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import CertificateSequence
from service.bulk import insert_ignoring_conflicts

#: Certificate prefixes by kind of work: 检定 JD, 校准 JZ.
PREFIXES = {"verification": "JD", "calibration": "JZ"}


def next_certificate_no(session: Session, institute_id: int, kind: str, year: int) -> str:
    """Return the next certificate number, e.g. ``JD2026-00042``; safe under concurrent visits.

    The sequence row is created once (a conflicting insert is ignored) and then locked for the
    rest of the transaction, so two technicians saving at once get two numbers.
    """
    prefix = PREFIXES[kind]
    insert_ignoring_conflicts(
        session.connection(),
        CertificateSequence.__table__,
        [{"org_id": institute_id, "prefix": prefix, "year": year, "last_no": 0}],
    )
    sequence = session.scalar(
        select(CertificateSequence)
        .where(
            CertificateSequence.org_id == institute_id,
            CertificateSequence.prefix == prefix,
            CertificateSequence.year == year,
        )
        .with_for_update()
        .execution_options(all_tenants=True, populate_existing=True)
    )
    sequence.last_no += 1
    session.flush()
    return f"{prefix}{year}-{sequence.last_no:05d}"
