"""Nonconformity cases: open on a failure, assess the impact, close with an approved disposition.

Opening takes the instrument out of service (red label) at once: nonconforming equipment is
stopped first and assessed afterwards, so no approval stands between the failure and the stop.
Closing needs a firm administrator's approval, the impact assessment and a disposition, and
carries the disposition out on the instrument.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import CalibrationRecord, Instrument, NonconformityCase
from models.base import utcnow
from service.actors import Actor
from service.bookings import held_by_an_order
from service.errors import Conflict, Forbidden, invalid_field
from service.history.chain import records_history
from service.i18n import N_
from service.ledger import operations as ledger_ops
from service.ledger.renewal import renews
from service.nonconformity.schemas import AssessmentIn, ClosingIn, OpeningIn
from service.schemas import load_or_invalid
from service.scoping import get_in_org

#: Statuses an instrument leaves for "suspended" when a case opens; the others already keep it out of use.
STOPPED_FROM = ("in_service", "out_for_calibration", "under_repair")
#: Results that count as good: a passed or limited verification, a calibration confirmed fit or limited.
GOOD_CONCLUSIONS = ("pass", "limited")
#: Dispositions after which the instrument must pass again before it is used.
REVERIFIED = ("adjust", "repair")


def is_failure(record: CalibrationRecord, readings) -> bool:
    """Whether a record shows the instrument nonconforming while in use.

    A failed verification or self-check, a calibration confirmed unfit, or any point found out of
    tolerance before adjustment (as found): even when the instrument passes after adjustment, what
    it measured before is suspect.
    """
    if record.conclusion == "fail":
        return True
    return any(r.phase == "as_found" and r.within_tolerance is False for r in readings)


def must_stop(record: CalibrationRecord, readings) -> bool:
    """Whether the failure leaves the instrument unusable now.

    A failed result does; a point out of tolerance as found does not when the work ended with a
    good conclusion, or with every point within tolerance as left (it was adjusted): then only
    the past measurements are suspect.
    """
    if record.conclusion == "fail":
        return True
    if record.conclusion in GOOD_CONCLUSIONS:
        return False
    as_left = [r.within_tolerance for r in readings if r.phase == "as_left"]
    return not as_left or not all(as_left)


@records_history
def open_case(
    session: Session, actor: Actor, instrument_id: int, payload: Mapping, today: date
) -> NonconformityCase:
    """Open a case by hand (a drop, an overload, a doubt about its readings)."""
    actor.require("ledger.write")
    instrument = get_in_org(session, Instrument, instrument_id, actor)
    data = load_or_invalid(OpeningIn(), payload)
    if open_case_of(session, actor, instrument.id) is not None:
        raise Conflict(N_("This instrument already has an open nonconformity case."))
    last_good = last_good_result(session, instrument, today)
    return _open(session, actor, instrument, "manual", data["description"], today, last_good)


def open_for_failure(
    session: Session,
    actor: Actor,
    instrument: Instrument,
    record: CalibrationRecord,
    today: date,
    last_good: date | None,
    *,
    later: bool = False,
) -> NonconformityCase | None:
    """Open the case a failed result calls for; None when the instrument has one open already.

    ``last_good`` is the last good result before this one, taken by the caller before the record
    moved the instrument's dates. A result ``later`` than a newer one in the ledger stops nothing:
    its suspect window ends on the day of its work.
    """
    stop = must_stop(record, record.readings) and not later
    case = open_case_of(session, actor, instrument.id)
    if case is not None:
        # News for the open case: a failure now stops an instrument the case had left in use.
        if stop and instrument.status in STOPPED_FROM:
            case.stopped_from = case.stopped_from or instrument.status
            details = {"case_id": case.id, "record_id_failed": record.id}
            update = {"status": "suspended"}
            ledger_ops.apply_change(
                session, actor, instrument, update, today, "nonconformity.stopped", details
            )
        return None
    # The record itself tells what failed (the page links it): the text is the engineer's notes.
    suspect_to = record.performed_on if later else today
    return _open(
        session, actor, instrument, "record", record.notes or "", today, last_good, record, stop, suspect_to
    )


def open_for_evidence(
    session: Session, actor: Actor, instrument: Instrument, description: str, today: date
) -> tuple[NonconformityCase, bool]:
    """Open the case an unsatisfactory comparison or check calls for; True when it opened one.

    With a case already open, that case is returned (False): the result is news for it. The
    instrument is stopped like on a failed record; the case's text says what failed.
    """
    case = open_case_of(session, actor, instrument.id)
    if case is not None:
        return case, False
    last_good = last_good_result(session, instrument, today)
    return _open(session, actor, instrument, "manual", description, today, last_good), True


def open_for_check(
    session: Session, actor: Actor, instrument: Instrument, description: str, today: date
) -> NonconformityCase | None:
    """Open the case an intermediate check outside the MPE calls for; None when one is open already."""
    if open_case_of(session, actor, instrument.id) is not None:
        return None
    last_good = last_good_result(session, instrument, today)
    return _open(session, actor, instrument, "check", description, today, last_good)


def _open(
    session: Session,
    actor: Actor,
    instrument: Instrument,
    source: str,
    description: str,
    today: date,
    last_good: date | None,
    record: CalibrationRecord | None = None,
    stop: bool = True,
    suspect_to: date | None = None,
) -> NonconformityCase:
    suspect_to = suspect_to or today
    case = NonconformityCase(
        org_id=actor.org_id,
        instrument_id=instrument.id,
        state="open",
        source=source,
        record_id=record.id if record else None,
        description=description,
        opened_on=today,
        opened_by_id=actor.user_id,
        opened_by_name=actor.name,
        suspect_from=last_good,
        suspect_to=suspect_to,
        stopped_from=instrument.status if stop and instrument.status in STOPPED_FROM else None,
    )
    session.add(case)
    session.flush()
    update = {"status": "suspended"} if case.stopped_from else {}
    details = {
        "case_id": case.id,
        "source": source,
        "reason": description,
        "suspect_from": last_good,
        "suspect_to": suspect_to,
    }
    if record is not None:
        details["record_id_failed"] = record.id
    ledger_ops.apply_change(session, actor, instrument, update, today, "nonconformity.opened", details)
    return case


def last_good_result(
    session: Session, instrument: Instrument, before: date, exclude: int | None = None
) -> date | None:
    """Return the date of the instrument's last good result on or before ``before``, or None.

    Its records tell first; without a good record, the ledger's last date counts when it is
    earlier and its conclusion was not a failure (a ledger imported with its certificates but no
    records), and then the date it came into service.
    """
    stmt = (
        select(CalibrationRecord.performed_on)
        .where(
            CalibrationRecord.current_of(instrument.org_id, instrument.id),
            CalibrationRecord.conclusion.in_(GOOD_CONCLUSIONS),
            CalibrationRecord.performed_on <= before,
        )
        .order_by(CalibrationRecord.performed_on.desc())
        .limit(1)
    )
    if exclude is not None:
        stmt = stmt.where(CalibrationRecord.id != exclude)
    found = session.scalar(stmt)
    if found is not None:
        return found
    last = instrument.last_done_on
    if last is not None and last < before and instrument.conclusion != "fail":
        return last
    return instrument.in_service_on


def last_renewing_pass(session: Session, instrument: Instrument) -> date | None:
    """Return the date of the newest current good result that renews the instrument, or None.

    An intermediate check or, for a mandatory instrument, a self-check is evidence of nothing
    here: only what could put it back into service counts.
    """
    rows = session.execute(
        select(CalibrationRecord.performed_on, CalibrationRecord.kind)
        .where(
            CalibrationRecord.current_of(instrument.org_id, instrument.id),
            CalibrationRecord.conclusion.in_(GOOD_CONCLUSIONS),
        )
        .order_by(CalibrationRecord.performed_on.desc())
    )
    return next((day for day, kind in rows if renews(instrument, kind)), None)


def open_case_of(session: Session, actor: Actor, instrument_id: int) -> NonconformityCase | None:
    """Return the instrument's open case, if any."""
    return session.scalar(
        select(NonconformityCase).where(
            NonconformityCase.org_id == actor.org_id,
            NonconformityCase.instrument_id == instrument_id,
            NonconformityCase.state == "open",
        )
    )


@records_history
def assess(session: Session, actor: Actor, case_id: int, payload: Mapping, today: date) -> NonconformityCase:
    """Record the impact assessment (追溯): what the suspect measurements affected and what was done."""
    actor.require("ledger.write")
    case = _open_case(session, actor, case_id)
    data = load_or_invalid(AssessmentIn(), payload)
    case.impact_assessment = data["impact_assessment"]
    case.assessed_by_name = actor.name
    case.assessed_at = utcnow()
    instrument = get_in_org(session, Instrument, case.instrument_id, actor)
    details = {"case_id": case.id, "reason": case.impact_assessment}
    ledger_ops.apply_change(session, actor, instrument, {}, today, "nonconformity.assessed", details)
    return case


@records_history
def close(session: Session, actor: Actor, case_id: int, payload: Mapping, today: date) -> NonconformityCase:
    """Approve a disposition and close the case; the instrument follows the disposition.

    - adjust / repair: a passing result recorded since the case opened must show it good again;
      the instrument goes back into service.
    - downgrade: the limits of use go on its yellow label; back into service, limited.
    - scrap: the instrument is scrapped.
    """
    actor.require("status.decide")
    case = _open_case(session, actor, case_id)
    data = load_or_invalid(ClosingIn(), payload)
    if case.opened_by_id == actor.user_id and ledger_ops.other_deciders(session, actor) > 0:
        # Maker-checker, as for status requests: another administrator approves what one reported.
        raise Forbidden(N_("Another administrator approves the disposition of a case you opened."))
    if not case.impact_assessment:
        raise invalid_field("impact_assessment", N_("Record the impact assessment before closing the case."))
    instrument = get_in_org(session, Instrument, case.instrument_id, actor)
    disposition = data["disposition"]
    update = _carry_out(session, instrument, case, disposition, data)
    case.state = "closed"
    case.disposition = disposition
    case.disposition_note = data.get("disposition_note")
    case.use_limits = data.get("use_limits") if disposition == "downgrade" else None
    case.approved_by_id = actor.user_id
    case.approved_by_name = actor.name
    case.closed_on = today
    case.closed_at = utcnow()
    session.flush()
    details = {"case_id": case.id, "disposition": disposition}
    if case.disposition_note:
        details["reason"] = case.disposition_note
    if case.use_limits:
        details["use_limits"] = case.use_limits
    ledger_ops.apply_change(session, actor, instrument, update, today, "nonconformity.closed", details)
    return case


def _carry_out(
    session: Session, instrument: Instrument, case: NonconformityCase, disposition: str, data
) -> dict:
    if disposition == "scrap":
        return {"status": "scrapped"}
    # Only the stop the case made is lifted; a suspension approved before the case stays.
    back = (
        {"status": _lifted_to(session, instrument, case)}
        if case.stopped_from and instrument.status == "suspended"
        else {}
    )
    if disposition == "downgrade":
        if not data.get("use_limits"):
            raise invalid_field("use_limits", N_("Write the limits of use that go on the label."))
        return {**back, "conclusion": "limited"}
    # adjust, repair: only a good result since the failure lets it back into use (the failing
    # record itself counts when it passed after adjustment, as left).
    since = case.record.performed_on if case.record is not None else case.opened_on
    passed = last_renewing_pass(session, instrument)
    if passed is None or passed < since or instrument.conclusion == "fail":
        raise invalid_field(
            "disposition",
            N_("Record the passing verification or calibration after the adjustment or repair first."),
        )
    return back


def _lifted_to(session: Session, instrument: Instrument, case: NonconformityCase) -> str:
    """Return the status the case's stop gives back: the one it stopped, as a rule.

    Not "out for calibration" once the service order that held the instrument has brought it back
    (its return leaves a stopped instrument stopped): it is in service, at home.
    """
    if case.stopped_from == "out_for_calibration" and not held_by_an_order(session, instrument):
        return "in_service"
    return case.stopped_from


def _open_case(session: Session, actor: Actor, case_id) -> NonconformityCase:
    case = get_in_org(session, NonconformityCase, case_id, actor)
    if case.state != "open":
        raise Conflict(N_("This case is closed."))
    return case
