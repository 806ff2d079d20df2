"""Reverse traceability: what an institute's standard calibrated, once it is found out of tolerance.

Everything the standard verified or calibrated since its last good result is suspect (追溯). The
institute lists those instruments by client firm and tells each firm through the reminders outbox.
Only firms with an active client link are read or told; the institute's own ledger is listed too
(its other standards calibrated with this one belong to the chain as well), but not told.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from marshmallow import fields
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from models import (
    CalibrationRecord,
    Event,
    Instrument,
    Organization,
    RecordReading,
    RecordStandard,
)
from service.actors import Actor
from service.errors import NotFound
from service.history.chain import append_event, lock_chain
from service.i18n import N_
from service.ledger.renewal import RENEWING_KINDS
from service.reminders.messages import Rendered
from service.reminders.notices import insert_notices, notice_rows, people_with_roles
from service.reminders.outbox import idempotency_key
from service.schemas import StrictSchema, Text, load_or_invalid
from service.scoping import get_in_org
from service.tenancy.queries import active_client_ids

logger = logging.getLogger(__name__)

#: The outbox kind of the notice, and its templates under ``templates/reminders/messages``.
NOTICE_KIND = "standard_notice"
#: The history event on the standard, in the institute's chain.
EVENT_KIND = "standard.out_of_tolerance"
#: Who in an affected firm is told, and how (the dispatcher honours each user's channel choices).
RECIPIENT_ROLES = ("admin", "metrology")
NOTICE_CHANNELS = ("in_app", "email")
#: The outbox's subject column.
SUBJECT_MAX = 200
#: The idempotency key's day when every use of the standard is affected (no ``since``).
_ALL_TIME = date.min


class StandardNoticeIn(StrictSchema):
    """Notices about an out-of-tolerance standard: since when its uses are suspect, and why."""

    since = fields.Date(allow_none=True)
    reason = Text(500, multiline=True, required=True)


@dataclass(frozen=True)
class AffectedRecord:
    """A current record that used the standard."""

    record_id: int
    kind: str
    performed_on: date
    certificate_no: str | None


@dataclass(frozen=True)
class AffectedInstrument:
    """An instrument verified or calibrated with the standard, with the records that used it."""

    id: int
    management_no: str
    name: str
    records: tuple[AffectedRecord, ...]

    @property
    def last_used_on(self) -> date:
        """Return the date of the latest work done with the standard."""
        return max(r.performed_on for r in self.records)


@dataclass(frozen=True)
class AffectedFirm:
    """A linked firm (or the institute's own ledger) and its affected instruments."""

    org_id: int
    name: str
    #: The institute's own ledger: listed, never sent a notice.
    is_own: bool
    instruments: tuple[AffectedInstrument, ...]


@dataclass(frozen=True)
class Affected:
    """What a standard calibrated since a day, by firm."""

    standard: Instrument
    #: Uses on or after this day are listed (``None``: all of them).
    since: date | None
    #: The default: the date of the standard's last good result before its failure.
    last_good_on: date | None
    #: The failing record that found it out of tolerance, if one is recorded.
    failed_on: date | None
    firms: tuple[AffectedFirm, ...]
    #: Uses after this day are not listed: the standard was shown good again (``None``: not yet).
    until: date | None = None

    @property
    def clients(self) -> tuple[AffectedFirm, ...]:
        """Return the client firms (those who are told)."""
        return tuple(f for f in self.firms if not f.is_own)

    @property
    def instrument_count(self) -> int:
        """Return the number of affected instruments, all ledgers together."""
        return sum(len(f.instruments) for f in self.firms)


@dataclass(frozen=True)
class FirmNotice:
    """What one firm was told."""

    org_id: int
    name: str
    instruments: int
    recipients: int
    #: Messages added to the outbox now (0 when the same notice was sent before).
    created: int


@dataclass(frozen=True)
class NoticeSummary:
    """The outcome of :func:`notify_affected`."""

    standard_id: int
    since: date | None
    firms: tuple[FirmNotice, ...]
    #: The history event was written now (``False``: the same notice had been recorded before).
    recorded: bool

    @property
    def created(self) -> int:
        """Return the messages added to the outbox, every firm together."""
        return sum(f.created for f in self.firms)


def get_standard(session: Session, actor: Actor, standard_id) -> Instrument:
    """Return a standard of the institute's own ledger (404 for anyone else's, and for firms)."""
    actor.require_institute()
    standard = get_in_org(session, Instrument, standard_id, actor)
    actor.require("ledger.write")
    return standard


def _latest(session: Session, standard: Instrument, *conditions):
    return session.scalar(
        select(CalibrationRecord)
        .where(
            CalibrationRecord.current_of(standard.org_id, standard.id),
            *conditions,
        )
        .order_by(CalibrationRecord.performed_on.desc(), CalibrationRecord.id.desc())
        .limit(1)
    )


def last_good_result(session: Session, standard: Instrument) -> tuple[date | None, date | None]:
    """Return the standard's last good result before its failure, and the failure's date.

    The failure is its latest current record concluding 不合格 / unfit, or with a point out of
    tolerance as found (even if it passed after adjustment: what it did before was off); an
    intermediate check counts. The good result is its latest current renewing record concluding
    合格 / fit before that (the latest of all when no failure is recorded yet). ``None`` where
    there is none.
    """
    found_out = exists().where(
        RecordReading.org_id == CalibrationRecord.org_id,
        RecordReading.record_id == CalibrationRecord.id,
        RecordReading.phase == "as_found",
        RecordReading.within_tolerance.is_(False),
    )
    failure = _latest(session, standard, or_(CalibrationRecord.conclusion == "fail", found_out))
    before = []
    if failure is not None:
        before.append(
            or_(
                CalibrationRecord.performed_on < failure.performed_on,
                and_(
                    CalibrationRecord.performed_on == failure.performed_on,
                    CalibrationRecord.id < failure.id,
                ),
            )
        )
    good = _latest(
        session,
        standard,
        CalibrationRecord.kind.in_(RENEWING_KINDS),
        CalibrationRecord.conclusion == "pass",
        *before,
    )
    return (good.performed_on if good else None), (failure.performed_on if failure else None)


def back_in_order(session: Session, standard: Instrument, failed_on: date | None) -> date | None:
    """Return the day the standard was shown good again after its failure, or None.

    The failing work itself when it ended good (adjusted on the spot, as left), else the first
    current renewing record concluding 合格 after it. Uses on that day are still listed: which came
    first cannot be told, and a notice too many is cheaper than a suspect result missed.
    """
    if failed_on is None:
        return None
    failure = _latest(session, standard, CalibrationRecord.performed_on == failed_on)
    if failure is not None and failure.conclusion == "pass":
        return failed_on
    return session.scalar(
        select(CalibrationRecord.performed_on)
        .where(
            CalibrationRecord.current_of(standard.org_id, standard.id),
            CalibrationRecord.kind.in_(RENEWING_KINDS),
            CalibrationRecord.conclusion == "pass",
            CalibrationRecord.performed_on > failed_on,
        )
        .order_by(CalibrationRecord.performed_on)
        .limit(1)
    )


def _affected_rows(
    session: Session, standard: Instrument, since: date | None, until: date | None = None
) -> list:
    """Return the current records that used the standard, in the institute's and its linked firms' ledgers.

    Read across tenants on purpose: the institute sees these records only because its own standard
    is named on them, and only for firms with an active link to it.
    """
    linked = active_client_ids(standard.org_id)
    stmt = (
        select(
            CalibrationRecord.org_id,
            CalibrationRecord.id,
            CalibrationRecord.kind,
            CalibrationRecord.performed_on,
            CalibrationRecord.certificate_no,
            Instrument.id.label("instrument_id"),
            Instrument.management_no,
            Instrument.name,
        )
        .join(
            RecordStandard,
            and_(
                RecordStandard.org_id == CalibrationRecord.org_id,
                RecordStandard.record_id == CalibrationRecord.id,
            ),
        )
        .join(
            Instrument,
            and_(
                Instrument.org_id == CalibrationRecord.org_id,
                Instrument.id == CalibrationRecord.instrument_id,
            ),
        )
        .where(
            RecordStandard.standard_org_id == standard.org_id,
            RecordStandard.standard_instrument_id == standard.id,
            CalibrationRecord.superseded_by_id.is_(None),
            or_(CalibrationRecord.org_id == standard.org_id, CalibrationRecord.org_id.in_(linked)),
            # The standard checked against itself is not one of its victims.
            ~and_(
                CalibrationRecord.org_id == standard.org_id, CalibrationRecord.instrument_id == standard.id
            ),
        )
        .order_by(
            Instrument.management_no, Instrument.id, CalibrationRecord.performed_on, CalibrationRecord.id
        )
        .execution_options(all_tenants=True)
    )
    if since is not None:
        stmt = stmt.where(CalibrationRecord.performed_on >= since)
    if until is not None:
        stmt = stmt.where(CalibrationRecord.performed_on <= until)
    return list(session.execute(stmt))


def affected_by_standard(
    session: Session, actor: Actor, standard_id: int, since: date | None = None, *, default_since: bool = True
) -> Affected:
    """List every client instrument verified or calibrated with one of the institute's standards since a day.

    ``since`` defaults to the standard's last good result before its failure (every use when it has
    none); pass ``default_since=False`` to list every use. Only firms with an active client link to
    the institute are read; the institute's own ledger comes last.
    """
    standard = get_standard(session, actor, standard_id)
    last_good_on, failed_on = last_good_result(session, standard)
    if since is None and default_since:
        since = last_good_on
    until = back_in_order(session, standard, failed_on)
    if until is not None and since is not None and since > until:
        until = None  # a window asked for after the repair: what was used then is the question
    by_org: dict[int, dict[int, list]] = {}
    for row in _affected_rows(session, standard, since, until):
        instruments = by_org.setdefault(row.org_id, {})
        instruments.setdefault(row.instrument_id, []).append(row)
    names = dict(
        session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(by_org))).all()
    )
    firms = []
    for org_id, instruments in by_org.items():
        items = []
        for rows in instruments.values():
            records: dict[int, AffectedRecord] = {}
            for r in rows:  # a record naming the standard twice is one use
                records.setdefault(r.id, AffectedRecord(r.id, r.kind, r.performed_on, r.certificate_no))
            first = rows[0]
            items.append(
                AffectedInstrument(
                    first.instrument_id, first.management_no, first.name, tuple(records.values())
                )
            )
        firms.append(AffectedFirm(org_id, names[org_id], org_id == standard.org_id, tuple(items)))
    firms.sort(key=lambda f: (f.is_own, f.name, f.org_id))
    return Affected(standard, since, last_good_on, failed_on, tuple(firms), until)


def _already_recorded(session: Session, standard: Instrument, since: date | None) -> bool:
    events = session.scalars(
        select(Event).where(
            Event.org_id == standard.org_id,
            Event.kind == EVENT_KIND,
            Event.subject_type == "instrument",
            Event.subject_id == standard.id,
        )
    )
    wanted = since.isoformat() if since else None
    return any((e.data or {}).get("since") == wanted for e in events)


def instrument_link(base_url: str, instrument_id: int) -> str:
    """Return the address of an instrument's page, as a firm's user opens it."""
    return f"{base_url.rstrip('/')}/instruments/{instrument_id}"


def _fit_subject(rendered: Rendered) -> Rendered:
    """Shorten a subject beyond the outbox's column (a long standard name), with an ellipsis."""
    if len(rendered.subject) <= SUBJECT_MAX:
        return rendered
    return replace(rendered, subject=rendered.subject[: SUBJECT_MAX - 1] + "…")


def notify_affected(
    session: Session,
    actor: Actor,
    standard_id: int,
    since: date | str | None,
    reason: str,
    now: datetime,
    *,
    base_url: str = "",
) -> NoticeSummary:
    """Tell each linked firm which of its instruments the failed standard calibrated since ``since``.

    One notice per firm goes to its active admins and metrology users, in the app and by email,
    through the outbox; the same standard and ``since`` again adds nothing. The standard's history
    (in the institute's chain) records the finding once.
    """
    if actor.home_org_kind != "institute" or actor.via_client_link:
        raise NotFound(N_("Not found."))
    lock_chain(session, actor.org_id)  # the chain head first, as every operation that appends
    data = load_or_invalid(
        StandardNoticeIn(),
        {"since": since.isoformat() if isinstance(since, date) else since, "reason": reason},
    )
    affected = affected_by_standard(session, actor, standard_id, data["since"])
    standard, since, reason = affected.standard, affected.since, data["reason"]
    institute = session.get(Organization, standard.org_id)
    firms = []
    about = f"standard:{standard.org_id}:{standard.id}"  # what the notices tell of, in their keys
    for firm in affected.clients:
        org = session.get(Organization, firm.org_id)
        day = now.astimezone(ZoneInfo(org.timezone)).date()
        items = [
            {
                "management_no": i.management_no,
                "name": i.name,
                "dates": ", ".join(sorted({r.performed_on.isoformat() for r in i.records})),
                "link": instrument_link(base_url, i.id),
            }
            for i in firm.instruments
        ]
        context = {
            "institute": institute.name,
            "org_name": org.name,
            "standard_no": standard.management_no,
            "standard_name": standard.name,
            "since": since,
            "reason": reason,
            "items": items,
        }
        recipients = people_with_roles(session, firm.org_id, RECIPIENT_ROLES)
        rows = notice_rows(
            firm.org_id,
            recipients,
            NOTICE_CHANNELS,
            NOTICE_KIND,
            NOTICE_KIND,
            day,
            now,
            lambda user, channel, org_id=firm.org_id: idempotency_key(
                org_id, f"user:{user.id}", channel, since or _ALL_TIME, NOTICE_KIND, about
            ),
            fit=_fit_subject,
            **context,
        )
        inserted = insert_notices(session, rows, returning=("id",))
        firms.append(
            FirmNotice(firm.org_id, firm.name, len(firm.instruments), len(recipients), len(inserted))
        )
        if not recipients:
            logger.warning(
                "firm %s has no active admin or metrology user to tell about standard %s", org.id, standard.id
            )
    recorded = not _already_recorded(session, standard, since)
    if recorded:
        own = next((f for f in affected.firms if f.is_own), None)
        append_event(
            session,
            standard.org_id,
            EVENT_KIND,
            ("instrument", standard.id),
            {
                "since": since,
                "reason": reason,
                "firms": [
                    {"org_id": f.org_id, "name": f.name, "instruments": f.instruments, "notices": f.created}
                    for f in firms
                ],
                "own_instruments": len(own.instruments) if own else 0,
            },
            actor.user_id,
            actor.name,
        )
        session.flush()
    return NoticeSummary(standard.id, since, tuple(firms), recorded)


def load_notice(payload: Mapping) -> dict:
    """Validate a notice request (``since``, ``reason``) from a form or a JSON body."""
    return load_or_invalid(StandardNoticeIn(), payload)
