"""Record repeatability tests and build stability assessments up, group by group, to a verdict.

A failing test or assessment warns the metrology staff (in-app and email): it is evidence about
the instrument's fitness that an engineer must look at, not a nonconformity case by itself — the
instrument did not fail a verification, and whether it must be stopped is the engineer's call
(they open a case by hand when it is).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from models import Instrument, RepeatabilityTest, StabilityAssessment, StabilityGroup
from models.base import utcnow
from service.actors import Actor
from service.errors import Conflict, invalid_field
from service.history.chain import record_event, records_history
from service.i18n import N_
from service.measurement.stability import rules
from service.measurement.stability.schemas import (
    RepeatabilityIn,
    StabilityAssessmentIn,
    StabilityCloseIn,
    StabilityGroupIn,
)
from service.reminders.notices import notify_people
from service.schemas import load_or_invalid
from service.scoping import get_in_org

#: Who hears of a failing test: the people who keep the ledger of the organisation.
WARNED_ROLES = ("admin", "metrology", "staff")


def _not_future(field: str, day: date, today: date) -> None:
    if day > today:
        raise invalid_field(field, N_("This date is in the future."))


@records_history
def record_repeatability(
    session: Session, actor: Actor, instrument_id: int, payload: Mapping, today: date, base_url: str = ""
) -> RepeatabilityTest:
    """Record a repeatability test of an instrument; warn the staff when s exceeds the claim."""
    actor.require("ledger.write")
    instrument = get_in_org(session, Instrument, instrument_id, actor)
    data = load_or_invalid(RepeatabilityIn(), payload)
    _not_future("performed_on", data["performed_on"], today)
    if len(data["readings"]) < rules.MIN_REPEATABILITY_READINGS:
        raise invalid_field(
            "readings",
            N_(
                "At least %(needed)s readings are needed, %(given)s given.",
                needed=rules.MIN_REPEATABILITY_READINGS,
                given=len(data["readings"]),
            ),
        )
    result = rules.repeatability(data["readings"], data["claimed"])
    test = RepeatabilityTest(
        org_id=actor.org_id,
        instrument_id=instrument.id,
        performed_on=data["performed_on"],
        quantity=data["quantity"],
        unit=data.get("unit") or "",
        readings=[str(r) for r in data["readings"]],
        claimed=str(data["claimed"]),
        conditions=data.get("conditions"),
        performed_by_name=data.get("performed_by_name") or actor.name,
        mean=str(result.mean),
        s=str(result.s),
        passed=bool(result.passed),
        created_by_id=actor.user_id,
    )
    session.add(test)
    session.flush()
    record_event(
        session,
        actor,
        "repeatability.recorded",
        ("instrument", instrument.id),
        {
            "test_id": test.id,
            "performed_on": test.performed_on.isoformat(),
            "quantity": test.quantity,
            "n": result.n,
            "s": rules.shown(result.s),
            "claimed": test.claimed,
            "passed": test.passed,
        },
    )
    if not test.passed:
        _warn(
            session,
            instrument,
            "repeatability",
            f"repeatability:{test.id}:failed",
            today,
            what=test.quantity,
            figure=rules.shown(result.s),
            allowed=test.claimed,
            unit=test.unit,
            link=f"{base_url.rstrip('/')}/repeatability-tests/{test.id}",
        )
    return test


@records_history
def open_assessment(
    session: Session, actor: Actor, instrument_id: int, payload: Mapping, today: date
) -> StabilityAssessment:
    """Open a stability assessment of an instrument on a check object; groups follow over months."""
    actor.require("ledger.write")
    instrument = get_in_org(session, Instrument, instrument_id, actor)
    data = load_or_invalid(StabilityAssessmentIn(), payload)
    _not_future("started_on", data["started_on"], today)
    assessment = StabilityAssessment(
        org_id=actor.org_id,
        instrument_id=instrument.id,
        check_object=data["check_object"],
        unit=data.get("unit") or "",
        allowed=str(data["allowed"]),
        allowed_basis=data["allowed_basis"],
        started_on=data["started_on"],
        note=data.get("note"),
        created_by_name=actor.name,
        warnings=[],
    )
    session.add(assessment)
    session.flush()
    _refresh(session, assessment)
    record_event(
        session,
        actor,
        "stability.opened",
        ("instrument", instrument.id),
        {
            "assessment_id": assessment.id,
            "check_object": assessment.check_object,
            "allowed": assessment.allowed,
            "allowed_basis": assessment.allowed_basis,
        },
    )
    return assessment


@records_history
def add_group(
    session: Session, actor: Actor, assessment_id: int, payload: Mapping, today: date
) -> StabilityGroup:
    """Add a group of readings to an open assessment and recompute its figures."""
    actor.require("ledger.write")
    assessment = get_in_org(session, StabilityAssessment, assessment_id, actor)
    if not assessment.is_open:
        raise Conflict(N_("This stability assessment is closed."))
    data = load_or_invalid(StabilityGroupIn(), payload)
    _not_future("measured_on", data["measured_on"], today)
    if data["measured_on"] < assessment.started_on:
        raise invalid_field("measured_on", N_("This date is before the assessment started."))
    if not data["readings"]:
        raise invalid_field("readings", N_("Enter at least one reading."))
    group = StabilityGroup(
        org_id=actor.org_id,
        assessment_id=assessment.id,
        measured_on=data["measured_on"],
        readings=[str(r) for r in data["readings"]],
        mean=str(rules.mean_of(data["readings"])),
        recorded_by_name=actor.name,
    )
    session.add(group)
    session.flush()
    session.expire(assessment, ["groups"])
    result = _refresh(session, assessment)
    record_event(
        session,
        actor,
        "stability.group_added",
        ("instrument", assessment.instrument_id),
        {
            "assessment_id": assessment.id,
            "group_id": group.id,
            "measured_on": group.measured_on.isoformat(),
            "n": len(group.readings),
            "mean": rules.shown(Decimal(group.mean)),
            "stability": rules.shown(result.stability),
        },
    )
    return group


@records_history
def close_assessment(
    session: Session, actor: Actor, assessment_id: int, payload: Mapping, today: date, base_url: str = ""
) -> StabilityAssessment:
    """Close an assessment with its verdict; warn the staff when the stability exceeds the allowed value.

    Fewer than four groups or a short interval do not refuse the closing: the verdict is stored as
    provisional with its warnings. Fewer than two groups give no verdict at all and are refused.
    """
    actor.require("ledger.write")
    assessment = get_in_org(session, StabilityAssessment, assessment_id, actor)
    if not assessment.is_open:
        raise Conflict(N_("This stability assessment is closed."))
    data = load_or_invalid(StabilityCloseIn(), payload)
    _not_future("closed_on", data["closed_on"], today)
    result = _refresh(session, assessment)
    if result.stability is None:
        raise Conflict(N_("At least two groups are needed before the assessment can be closed."))
    assessment.state = "closed"
    assessment.closed_on = data["closed_on"]
    assessment.closed_by_name = actor.name
    session.flush()
    record_event(
        session,
        actor,
        "stability.closed",
        ("instrument", assessment.instrument_id),
        {
            "assessment_id": assessment.id,
            "stability": rules.shown(result.stability),
            "allowed": assessment.allowed,
            "passed": assessment.passed,
            "provisional": assessment.provisional,
        },
    )
    if assessment.passed is False:
        _warn(
            session,
            assessment.instrument,
            "stability",
            f"stability:{assessment.id}:failed",
            today,
            what=assessment.check_object,
            figure=rules.shown(result.stability),
            allowed=assessment.allowed,
            unit=assessment.unit,
            link=f"{base_url.rstrip('/')}/stability-assessments/{assessment.id}",
        )
    return assessment


def figures(assessment: StabilityAssessment) -> rules.Stability:
    """Return the figures of an assessment from its groups."""
    groups = [rules.Group(g.measured_on, tuple(Decimal(r) for r in g.readings)) for g in assessment.groups]
    return rules.stability(groups, Decimal(assessment.allowed))


def _refresh(session: Session, assessment: StabilityAssessment) -> rules.Stability:
    """Store the assessment's figures as of its groups now."""
    result = figures(assessment)
    assessment.stability = None if result.stability is None else str(result.stability)
    assessment.passed = result.passed
    assessment.provisional = result.provisional
    assessment.warnings = [
        {k: (v.isoformat() if isinstance(v, date) else v) for k, v in w.items() if k not in ("from", "to")}
        | ({"start": w["from"].isoformat(), "end": w["to"].isoformat()} if "from" in w else {})
        for w in result.warnings
    ]
    session.flush()
    return result


def _warn(session: Session, instrument: Instrument, kind: str, contents: str, today: date, **context) -> None:
    """Tell the organisation's ledger keepers that a check of ``instrument`` failed."""
    now: datetime = utcnow()
    notify_people(
        session,
        instrument.org_id,
        WARNED_ROLES,
        # An existing kind, to leave the notifications' check constraint alone (see the notes).
        "open_cases",
        "stability_failed",
        contents,
        today,
        now,
        check=kind,
        management_no=instrument.management_no,
        name=instrument.name,
        **context,
    )
