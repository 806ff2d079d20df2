"""The public certificate check: what an inspector sees when scanning a record's QR label.

The label's URL carries the record's ``check_token`` and nothing else; whoever holds the label may
read the instrument's current status and certificate validity, and no more (no custodian,
department, notes, readings or ids). An unknown or malformed token is the same :class:`NotFound`,
so that answers reveal nothing about which tokens exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import CalibrationRecord, Instrument, Organization
from service.clock import today_in
from service.db import scope_to_org
from service.errors import NotFound
from service.i18n import N_
from service.ledger.renewal import RENEWING_KINDS, is_applied
from service.nonconformity.queries import current_use_limits

#: What ``new_check_token`` makes (22 URL-safe characters), with room for longer ones; at most the column.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,32}")
#: Why the certificate on a label is no longer the instrument's current one.
OUTDATED_REASONS = ("corrected", "replaced")


@dataclass(frozen=True)
class CheckSummary:
    """The public status of the instrument a label belongs to, dated in the owning firm's zone."""

    management_no: str
    name: str
    model: str | None
    firm_name: str
    #: The instrument's three-colour label today: green, yellow, red, or ``pending`` (a yellow one
    #: while its calibration awaits the metrological confirmation).
    label: str
    status: str
    is_overdue: bool
    #: The instrument's current certificate, laboratory and due date (the ledger's).
    certificate_no: str | None
    valid_until: date | None
    lab: str | None
    #: The certificate and due date of the record the scanned label was printed from.
    label_certificate_no: str | None
    label_valid_until: date | None
    #: ``None`` while the label's certificate is the current one, else one of :data:`OUTDATED_REASONS`.
    outdated: str | None
    #: The limits of use of a downgraded (yellow) instrument, while they hold.
    limits: str | None
    #: The firm's local date of the check.
    checked_on: date

    @property
    def is_current(self) -> bool:
        """Whether the certificate on the label is still the instrument's current one."""
        return self.outdated is None


def outdated_reason(record: CalibrationRecord, instrument: Instrument) -> str | None:
    """Return why ``record`` no longer stands for ``instrument`` (corrected, replaced), or ``None``."""
    if not record.is_current:
        return "corrected"
    if not is_applied(instrument, record):
        return "replaced"
    return None


def find_by_token(session: Session, token: str | None) -> CalibrationRecord:
    """Return the labelled record whose check token is ``token``, in any firm, or raise :class:`NotFound`.

    Only records that renew validity carry a label; a malformed token is refused before the query.
    """
    if not isinstance(token, str) or not TOKEN_SHAPE.fullmatch(token):
        raise NotFound(N_("Not found."))
    record = session.scalar(
        select(CalibrationRecord)
        .where(CalibrationRecord.check_token == token, CalibrationRecord.kind.in_(RENEWING_KINDS))
        .execution_options(all_tenants=True)
    )
    if record is None:
        raise NotFound(N_("Not found."))
    return record


def check_summary(session: Session, token: str | None) -> CheckSummary:
    """Return the public status behind a label's token; the session is confined to the owning firm."""
    record = find_by_token(session, token)
    # From here on everything read belongs to the record's firm, and the safety net holds it there.
    scope_to_org(session, record.org_id)
    instrument = session.scalar(
        select(Instrument).where(Instrument.org_id == record.org_id, Instrument.id == record.instrument_id)
    )
    firm = session.get(Organization, record.org_id)
    if instrument is None or firm is None:  # cannot happen with the foreign keys; never a 500
        raise NotFound(N_("Not found."))
    day = today_in(firm.timezone or "Asia/Shanghai")
    return CheckSummary(
        management_no=instrument.management_no,
        name=instrument.name,
        model=instrument.model,
        firm_name=firm.name,
        label=instrument.label_state(day),
        status=instrument.status,
        is_overdue=instrument.is_overdue(day),
        certificate_no=instrument.certificate_no,
        valid_until=instrument.next_due_on,
        lab=instrument.lab,
        label_certificate_no=record.certificate_no,
        label_valid_until=record.next_due_on,
        outdated=outdated_reason(record, instrument),
        limits=current_use_limits(session, instrument),
        checked_on=day,
    )
