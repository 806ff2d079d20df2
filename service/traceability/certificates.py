"""The institute's certificates: running numbers, and results written into a client's ledger.

Certificate numbers run in one sequence per prefix and year, never reused. A result of the
institute's work (on a visit or for a service order) is written into the client's ledger through
the traceability operations, with the institute as the laboratory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import CalibrationRecord, CertificateSequence, Organization
from service.actors import Actor
from service.bulk import insert_ignoring_conflicts
from service.db import scoped_to
from service.errors import invalid_field
from service.i18n import N_
from service.traceability import files
from service.traceability import operations as records

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


#: What a result entered for a client may carry; the rest (number, laboratory, date) is the institute's.
RESULT_FIELDS = (
    "kind",
    "conclusion",
    "confirmation",
    "confirmation_note",
    "valid_until",
    "performed_by",
    "temperature",
    "humidity",
    "uncertainty",
    "notes",
    "readings",
    "standards",
    "certificate_type",
)


def record_for_client(
    session: Session,
    actor: Actor,
    firm_id: int,
    instrument_id: int,
    payload: Mapping,
    today: date,
    uploads: Iterable[files.Upload] = (),
    storage: Path | None = None,
    *,
    away: bool = False,
) -> CalibrationRecord:
    """Write the institute's result into a client's ledger, with a certificate number of its own.

    The caller has checked that the actor may work on this client's instrument (a visit, an order).
    The firm's history names the person and the institute. ``away``: the instrument stays at the
    institute after the result (a service order), so its status does not change.
    """
    institute = session.get(Organization, actor.home_org_id)
    if not isinstance(payload, Mapping):
        raise invalid_field("_schema", N_("Send a JSON object."))
    # The institute's own number, laboratory and day: what a caller sends for them is not taken.
    data = {k: v for k, v in payload.items() if k in RESULT_FIELDS}
    kind = data.get("kind") or "verification"
    if not isinstance(kind, str) or kind not in PREFIXES:
        raise invalid_field("kind", N_("Choose verification or calibration."))
    data["kind"] = kind
    data["performed_on"] = today.isoformat()
    data["lab_org_id"] = institute.id
    data["lab_name"] = institute.name
    data["certificate_no"] = next_certificate_no(session, institute.id, kind, today.year)
    data.setdefault(
        "certificate_type",
        "verification_certificate" if kind == "verification" else "calibration_certificate",
    )
    if data.get("conclusion") == "fail" and kind == "verification":
        data["certificate_type"] = "verification_notice"  # 检定结果通知书 for a failed verification
    on_site = actor.on_site(firm_id, institute.name)
    with scoped_to(session, firm_id):
        return records.record_result(
            session, on_site, instrument_id, data, today, uploads, storage, away=away
        )
