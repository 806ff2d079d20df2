"""Reading repeatability tests and stability assessments, always within the actor's organisation."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Instrument, RepeatabilityTest, StabilityAssessment
from service.actors import Actor
from service.scoping import get_in_org


def tests_of(session: Session, actor: Actor, instrument_id: int) -> list[RepeatabilityTest]:
    """Return an instrument's repeatability tests, newest first (404 for a foreign instrument)."""
    actor.require("ledger.read")
    instrument = get_in_org(session, Instrument, instrument_id, actor)
    return list(
        session.scalars(
            select(RepeatabilityTest)
            .where(RepeatabilityTest.org_id == actor.org_id, RepeatabilityTest.instrument_id == instrument.id)
            .order_by(RepeatabilityTest.performed_on.desc(), RepeatabilityTest.id.desc())
        )
    )


def assessments_of(session: Session, actor: Actor, instrument_id: int) -> list[StabilityAssessment]:
    """Return an instrument's stability assessments, newest first (404 for a foreign instrument)."""
    actor.require("ledger.read")
    instrument = get_in_org(session, Instrument, instrument_id, actor)
    return list(
        session.scalars(
            select(StabilityAssessment)
            .where(
                StabilityAssessment.org_id == actor.org_id,
                StabilityAssessment.instrument_id == instrument.id,
            )
            .order_by(StabilityAssessment.started_on.desc(), StabilityAssessment.id.desc())
        )
    )


def get_test(session: Session, actor: Actor, test_id: int) -> RepeatabilityTest:
    """Return one repeatability test of the actor's organisation."""
    actor.require("ledger.read")
    return get_in_org(session, RepeatabilityTest, test_id, actor)


def get_assessment(session: Session, actor: Actor, assessment_id: int) -> StabilityAssessment:
    """Return one stability assessment of the actor's organisation."""
    actor.require("ledger.read")
    return get_in_org(session, StabilityAssessment, assessment_id, actor)


def window_counts(session: Session, org_id: int, first: date, last: date) -> dict:
    """Return the checks of a window (the dossier's 12 months): tests done, assessments closed, and passed.

    ``{"repeatability": {"done": n, "passed": m}, "stability": {"done": n, "passed": m}}``; an
    assessment counts when it closed within the window (an open one is not done yet), passed only
    with a final (not provisional) pass.
    """
    tests = session.execute(
        select(func.count(), func.count().filter(RepeatabilityTest.passed.is_(True))).where(
            RepeatabilityTest.org_id == org_id,
            RepeatabilityTest.performed_on.between(first, last),
        )
    ).one()
    assessments = session.execute(
        select(
            func.count(),
            func.count().filter(
                StabilityAssessment.passed.is_(True), StabilityAssessment.provisional.is_(False)
            ),
        ).where(
            StabilityAssessment.org_id == org_id,
            StabilityAssessment.state == "closed",
            StabilityAssessment.closed_on.between(first, last),
        )
    ).one()
    return {
        "repeatability": {"done": tests[0], "passed": tests[1]},
        "stability": {"done": assessments[0], "passed": assessments[1]},
    }
