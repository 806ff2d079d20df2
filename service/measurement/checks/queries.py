"""Intermediate checks read back: plans of an instrument, a plan's checks, its control charts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import CheckPlan, CheckPoint, CheckReading, CheckRecord, Department, Instrument, User
from models.ledger import RECALLED_STATUSES
from service.actors import Actor
from service.i18n import N_, Msg
from service.measurement.checks import rules, schedule
from service.scoping import get_in_org

#: A signal in words, by rule and side; ``first``/``last`` are check numbers (1 for the first check).
SIGNAL_WORDS = {
    (1, 1): N_("1 point beyond 3σ above the centre at check %(last)s"),
    (1, -1): N_("1 point beyond 3σ below the centre at check %(last)s"),
    (2, 1): N_("2 of 3 beyond 2σ above the centre at checks %(first)s–%(last)s"),
    (2, -1): N_("2 of 3 beyond 2σ below the centre at checks %(first)s–%(last)s"),
    (3, 1): N_("4 of 5 beyond 1σ above the centre at checks %(first)s–%(last)s"),
    (3, -1): N_("4 of 5 beyond 1σ below the centre at checks %(first)s–%(last)s"),
    (4, 1): N_("8 in a row above the centre at checks %(first)s–%(last)s"),
    (4, -1): N_("8 in a row below the centre at checks %(first)s–%(last)s"),
}


@dataclass
class PointChart:
    """One check point's control chart: its series, limits and what fired."""

    point: CheckPoint
    record_ids: list[int] = field(default_factory=list)
    dates: list[date] = field(default_factory=list)
    deviations: list[float] = field(default_factory=list)
    limits: rules.Limits | None = None
    signals: list[rules.Signal] = field(default_factory=list)
    out_of_tolerance: list[int] = field(default_factory=list)

    def words(self, signal: rules.Signal) -> tuple[str, dict]:
        """The msgid describing ``signal`` and its arguments (check numbers from 1)."""
        return SIGNAL_WORDS[(signal.rule, signal.side)], {
            "first": signal.points[0] + 1,
            "last": signal.points[-1] + 1,
        }


def plans_of(session: Session, actor: Actor, instrument_id: int) -> tuple[Instrument, list[CheckPlan]]:
    """Return the instrument and its check plans (active first)."""
    instrument = get_in_org(session, Instrument, instrument_id, actor)
    plans = session.scalars(
        select(CheckPlan)
        .where(CheckPlan.org_id == actor.org_id, CheckPlan.instrument_id == instrument.id)
        .order_by(CheckPlan.active.desc(), CheckPlan.id)
    ).all()
    return instrument, list(plans)


def get_plan(session: Session, actor: Actor, plan_id) -> CheckPlan:
    """Return a plan of the actor's organisation (NotFound otherwise)."""
    return get_in_org(session, CheckPlan, plan_id, actor)


def records_of(session: Session, plan: CheckPlan) -> list[CheckRecord]:
    """The plan's checks, oldest first."""
    return list(
        session.scalars(
            select(CheckRecord)
            .where(CheckRecord.org_id == plan.org_id, CheckRecord.plan_id == plan.id)
            .order_by(CheckRecord.performed_on, CheckRecord.id)
        )
    )


def point_baseline(plan: CheckPlan, point: CheckPoint, deviations: list[float]) -> rules.Baseline | None:
    """The point's baseline: the fixed one, else the first N checks' once there are N; else None."""
    if point.centre is not None and point.sigma is not None:
        return rules.Baseline(point.centre, point.sigma)
    if plan.baseline_mode == "first_n" and len(deviations) >= plan.baseline_n:
        try:
            return rules.baseline_from(deviations, plan.baseline_n)
        except rules.BaselineError:
            return None
    return None


def charts(session: Session, plan: CheckPlan) -> list[PointChart]:
    """Every point's control chart."""
    records = records_of(session, plan)
    order = {r.id: i for i, r in enumerate(records)}
    readings = session.scalars(
        select(CheckReading).where(
            CheckReading.org_id == plan.org_id, CheckReading.record_id.in_(list(order) or [0])
        )
    ).all()
    by_point: dict[int, list[CheckReading]] = {}
    for reading in readings:
        by_point.setdefault(reading.point_id, []).append(reading)
    dates = {r.id: r.performed_on for r in records}
    result = []
    for point in sorted(plan.points, key=lambda p: (p.position, p.id)):
        chart = PointChart(point)
        for reading in sorted(by_point.get(point.id, []), key=lambda r: order[r.record_id]):
            chart.record_ids.append(reading.record_id)
            chart.dates.append(dates[reading.record_id])
            chart.deviations.append(reading.deviation)
        baseline = point_baseline(plan, point, chart.deviations)
        if baseline is not None:
            chart.limits = rules.limits(baseline)
            chart.signals = rules.western_electric(chart.deviations, chart.limits)
        chart.out_of_tolerance = [
            i for i, d in enumerate(chart.deviations) if rules.out_of_tolerance(d, point.mpe)
        ]
        result.append(chart)
    return result


@dataclass(frozen=True)
class DueCheck:
    """A check due in a period, with what the periodic plan shows of its plan and instrument."""

    due: schedule.CheckDue
    management_no: str
    name: str
    department: str | None
    check_object: str
    #: The plan's person, by name; None: the firm's metrology staff.
    performer: str | None


def due_in_period(
    session: Session,
    actor: Actor,
    start: date,
    end: date,
    today: date,
    department_id: int | None = None,
) -> list[DueCheck]:
    """Return the checks of the actor's active plans due in ``[start, end]``, by planned month and date.

    Only instruments in use are planned: a suspended, sealed or scrapped instrument's checks are not,
    nor those of an ended (archived) plan. See :mod:`.schedule` for the dates.
    """
    stmt = (
        select(
            CheckPlan.id,
            CheckPlan.instrument_id,
            CheckPlan.interval_months,
            CheckPlan.interval_days,
            CheckPlan.next_due_on,
            CheckPlan.check_object,
            User.name.label("performer"),
            Instrument.management_no,
            Instrument.name,
            Department.name.label("department"),
        )
        .join(
            Instrument, (Instrument.id == CheckPlan.instrument_id) & (Instrument.org_id == CheckPlan.org_id)
        )
        .outerjoin(Department, Department.id == Instrument.department_id)
        .outerjoin(User, User.id == CheckPlan.performer_user_id)
        .where(
            CheckPlan.org_id == actor.org_id,
            CheckPlan.active.is_(True),
            Instrument.status.in_(RECALLED_STATUSES),
        )
        .order_by(CheckPlan.id)
    )
    if department_id is not None:
        stmt = stmt.where(Instrument.department_id == department_id)
    plans = session.execute(stmt).all()
    if not plans:
        return []
    done: dict[int, list[schedule.Done]] = {}
    wanted = [row.id for row in plans]
    for offset in range(0, len(wanted), 1000):
        for plan_id, performed_on, by in session.execute(
            select(CheckRecord.plan_id, CheckRecord.performed_on, CheckRecord.performed_by_name).where(
                CheckRecord.org_id == actor.org_id, CheckRecord.plan_id.in_(wanted[offset : offset + 1000])
            )
        ):
            done.setdefault(plan_id, []).append(schedule.Done(performed_on, by))
    found = []
    for row in plans:
        facts = schedule.PlanFacts(
            row.id,
            row.instrument_id,
            row.interval_months,
            row.interval_days,
            row.next_due_on,
            done.get(row.id, ()),
        )
        for due in schedule.dues_in(facts, start, end, today):
            found.append(
                DueCheck(due, row.management_no, row.name, row.department, row.check_object, row.performer)
            )
    return sorted(found, key=lambda c: (c.due.planned_month, c.due.due_on, c.management_no, c.due.plan_id))


@dataclass(frozen=True)
class Finding:
    """A control-chart signal (``kind`` "signal") or a reading outside the MPE ("out_of_mpe"), in words."""

    checked_on: date
    kind: str
    words: Msg


def findings_since(session: Session, actor: Actor, instrument_id: int, after: date | None) -> list[Finding]:
    """Return what the instrument's active check plans found in checks done after ``after`` (None: ever).

    A signal counts from the check that completed it; a reading outside its point's MPE from its check.
    """
    plans = session.scalars(
        select(CheckPlan)
        .where(
            CheckPlan.org_id == actor.org_id,
            CheckPlan.instrument_id == instrument_id,
            CheckPlan.active.is_(True),
        )
        .order_by(CheckPlan.id)
    ).all()
    found = []
    for plan in plans:
        for chart in charts(session, plan):
            label = chart.point.label

            def words(index: int, finding: Msg, plan=plan, label=label, chart=chart) -> Msg:
                return N_(
                    "%(date)s, %(object)s, %(point)s: %(finding)s",
                    date=chart.dates[index].isoformat(),
                    object=plan.check_object,
                    point=label,
                    finding=finding,
                )

            for signal in chart.signals:
                day = chart.dates[signal.index]
                if after is None or day > after:
                    msgid, args = chart.words(signal)
                    found.append(Finding(day, "signal", words(signal.index, Msg(str(msgid), args))))
            for index in chart.out_of_tolerance:
                day = chart.dates[index]
                if after is None or day > after:
                    finding = N_(
                        "deviation %(deviation)s outside the MPE ±%(mpe)s",
                        deviation=f"{chart.deviations[index]:.6g}",
                        mpe=f"{chart.point.mpe:.6g}",
                    )
                    found.append(Finding(day, "out_of_mpe", words(index, finding)))
    return sorted(found, key=lambda f: f.checked_on)
