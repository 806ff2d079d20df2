"""Interval review of one instrument: its as-found history in, a suggestion out, a person decides.

The rule itself is in :mod:`service.traceability.interval_suggestion`; this module reads the history from
the instrument's records and writes the decision into its history. Accepting changes the
interval (and so the next due date); rejecting changes nothing but is recorded with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from marshmallow import ValidationError, fields, validates_schema
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import CalibrationRecord, Event, Instrument
from service.actors import Actor
from service.errors import Conflict
from service.history.chain import records_history
from service.i18n import N_
from service.ledger import operations as ledger_ops
from service.ledger.renewal import RENEWING_KINDS
from service.measurement.checks import queries as check_queries
from service.schemas import Choice, StrictSchema, Text, load_or_invalid
from service.scoping import get_in_org
from service.traceability.interval_suggestion import (
    AsFound,
    CheckFinding,
    Reason,
    Suggestion,
    suggest_interval,
    with_check_findings,
)


class IntervalDecisionIn(StrictSchema):
    """Accept or reject the suggestion shown (``suggested_months`` guards against a stale page)."""

    decision = Choice(("accept", "reject"), required=True)
    suggested_months = fields.Integer(required=True)
    reason = Text(1000)

    @validates_schema
    def _rejection_says_why(self, data, **_kwargs):
        if data.get("decision") == "reject" and not data.get("reason"):
            raise ValidationError(N_("Say why the suggestion is rejected."), "reason")


def as_found_history(records) -> list[AsFound]:
    """Return each record's as-found verdict and how close its worst point came to the MPE."""
    history = []
    for record in records:
        points = [r for r in record.readings if r.phase == "as_found"]
        verdicts = [r.within_tolerance for r in points if r.within_tolerance is not None]
        ratios = [abs(r.error) / r.mpe for r in points if r.error is not None and r.mpe]
        history.append(
            AsFound(
                record.performed_on,
                all(verdicts) if verdicts else None,
                float(max(ratios)) if ratios else None,
            )
        )
    return history


def review(session: Session, actor: Actor, instrument_id: int, records=None) -> Suggestion:
    """Suggest an interval for the instrument from its current verification and calibration records.

    Once a person has decided on a suggestion, the same results are not reviewed again (accepting
    a halving twice would quarter the interval on one result): the review waits for a new
    as-found result. ``records``: the instrument's records with their readings, when the caller
    has them already (the instrument page), so they are not read twice.
    """
    suggestion, _basis = _review(session, actor, instrument_id, records)
    return suggestion


_UNKNOWN_INTERVAL = N_("The interval is not known yet: enter it in the ledger first.")


def _review(
    session: Session, actor: Actor, instrument_id: int, records=None
) -> tuple[Suggestion, int | None]:
    """Return the suggestion and the newest record with as-found data it rests on.

    The staircase over the as-found results first, then the intermediate checks done since the last
    calibration (:func:`with_check_findings`).
    """
    instrument = get_in_org(session, Instrument, instrument_id, actor)
    if records is None:
        records = session.scalars(
            select(CalibrationRecord)
            .where(CalibrationRecord.org_id == actor.org_id, CalibrationRecord.instrument_id == instrument.id)
            .options(selectinload(CalibrationRecord.readings))
        )
    records = sorted(
        (r for r in records if r.superseded_by_id is None and r.kind in RENEWING_KINDS),
        key=lambda r: (r.performed_on, r.id),
    )
    suggestion, basis = _staircase(session, actor, instrument, records)
    last = records[-1].performed_on if records else None
    findings = [
        CheckFinding(f.checked_on, f.kind, f.words)
        for f in check_queries.findings_since(session, actor, instrument.id, last)
    ]
    return with_check_findings(suggestion, findings), basis


def _staircase(
    session: Session, actor: Actor, instrument: Instrument, records: list
) -> tuple[Suggestion, int | None]:
    """Return the as-found history's suggestion and the record it rests on."""
    if instrument.interval_months is None:
        return Suggestion(0, 0, (Reason(_UNKNOWN_INTERVAL),)), None
    history = as_found_history(records)
    basis = next(
        (
            r.id
            for r, entry in zip(reversed(records), reversed(history), strict=True)
            if entry.within_tolerance is not None
        ),
        None,
    )
    decided = _last_decision(session, actor, instrument.id)
    if basis is not None and decided is not None and decided.data.get("basis_record_id") == basis:
        reason = Reason(
            N_(
                "Decided on %(date)s from these results; the next as-found result will be reviewed.",
                date=decided.occurred_at.date().isoformat(),
            )
        )
        return Suggestion(instrument.interval_months, instrument.interval_months, (reason,)), basis
    suggestion = suggest_interval(history, instrument.interval_months, is_mandatory=instrument.is_mandatory)
    return suggestion, basis


def _last_decision(session: Session, actor: Actor, instrument_id: int) -> Event | None:
    return session.scalar(
        select(Event)
        .where(
            Event.org_id == actor.org_id,
            Event.subject_type == "instrument",
            Event.subject_id == instrument_id,
            Event.kind.in_(("interval.accepted", "interval.rejected")),
        )
        .order_by(Event.seq.desc())
        .limit(1)
    )


@records_history
def decide(session: Session, actor: Actor, instrument_id: int, payload: Mapping, today: date) -> Suggestion:
    """Accept or reject the current suggestion; either way the history says so, with the reasons."""
    actor.require("ledger.write")
    instrument = get_in_org(session, Instrument, instrument_id, actor)
    data = load_or_invalid(IntervalDecisionIn(), payload)
    suggestion, basis = _review(session, actor, instrument_id)
    if suggestion.direction == "keep":
        raise Conflict(N_("There is no interval change to decide: the review suggests keeping it."))
    if data["suggested_months"] != suggestion.suggested_months:
        raise Conflict(N_("The suggestion has changed since the page was shown; review it again."))
    details = {
        "current_months": suggestion.current_months,
        "suggested_months": suggestion.suggested_months,
        "reasons": [reason.message.render() for reason in suggestion.reasons],
        "basis_record_id": basis,
    }
    if data.get("reason"):
        details["reason"] = data["reason"]
    if data["decision"] == "accept":
        update = {"interval_months": suggestion.suggested_months}
        ledger_ops.apply_change(session, actor, instrument, update, today, "interval.accepted", details)
    else:
        ledger_ops.apply_change(session, actor, instrument, {}, today, "interval.rejected", details)
    return suggestion
