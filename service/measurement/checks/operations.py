"""Intermediate checks: plans made and changed, checks recorded, and what a check sets off.

After a check: a reading outside the point's MPE opens a nonconformity case on the instrument
(unless one is open already); a control-chart signal completed by this check tells the firm's
metrology staff (in the app and by email), suggesting an early calibration.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import CheckPlan, CheckPoint, CheckReading, CheckRecord, Instrument, User
from service.actors import Actor
from service.errors import Conflict, invalid_field
from service.history.chain import record_event, records_history
from service.i18n import N_
from service.measurement.checks import queries, rules
from service.measurement.checks.schemas import CheckPlanIn, CheckPlanPatch, CheckRecordIn
from service.nonconformity import operations as nc_ops
from service.reminders.notices import notify_people
from service.schemas import load_or_invalid
from service.scoping import get_in_org

#: Who hears of a control-chart signal.
SIGNAL_ROLES = ("admin", "metrology")

PLAN_FIELDS = (
    "check_object",
    "check_instrument_id",
    "interval_months",
    "interval_days",
    "performer_user_id",
    "baseline_mode",
    "baseline_n",
    "next_due_on",
    "note",
)


def _check_refs(session: Session, actor: Actor, instrument: Instrument, data: Mapping) -> None:
    other = data.get("check_instrument_id")
    if other is not None:
        if other == instrument.id:
            raise invalid_field("check_instrument_id", N_("An instrument cannot check itself."))
        get_in_org(session, Instrument, other, actor)
    person = data.get("performer_user_id")
    if person is not None:
        found = session.scalar(
            select(User.id).where(User.id == person, User.org_id == actor.org_id, User.is_active.is_(True))
        )
        if found is None:
            raise invalid_field("performer_user_id", N_("Not a user of this organisation."))


def _check_points(mode: str, points: list[Mapping]) -> None:
    for point in points:
        if (point.get("centre") is None) != (point.get("sigma") is None):
            raise invalid_field("points", N_("Give both the centre and σ of a point, or neither."))
        if mode == "entered" and point.get("sigma") is None:
            raise invalid_field("points", N_("An entered baseline needs a centre and σ for every point."))


@records_history
def create_plan(
    session: Session, actor: Actor, instrument_id: int, payload: Mapping, today: date
) -> CheckPlan:
    """Create an intermediate-check plan for an instrument."""
    actor.require("ledger.write")
    instrument = get_in_org(session, Instrument, instrument_id, actor)
    data = load_or_invalid(CheckPlanIn(), payload)
    _check_refs(session, actor, instrument, data)
    _check_points(data["baseline_mode"], data["points"])
    plan = CheckPlan(org_id=actor.org_id, instrument_id=instrument.id, active=True)
    for name in PLAN_FIELDS:
        setattr(plan, name, data.get(name))
    plan.next_due_on = data.get("next_due_on") or today
    if data["baseline_mode"] == "entered":
        plan.baseline_fixed_on = today
    session.add(plan)
    session.flush()
    for position, point in enumerate(data["points"]):
        session.add(_point(actor, plan, position, point))
    session.flush()
    session.expire(plan, ["points"])
    record_event(
        session,
        actor,
        "check_plan.created",
        ("instrument", instrument.id),
        {"plan_id": plan.id, "check_object": plan.check_object, "points": len(data["points"])},
    )
    return plan


def _point(actor: Actor, plan: CheckPlan, position: int, data: Mapping) -> CheckPoint:
    return CheckPoint(
        org_id=actor.org_id,
        plan_id=plan.id,
        position=position,
        label=data["label"],
        nominal=data["nominal"],
        unit=data.get("unit"),
        mpe=data.get("mpe"),
        centre=data.get("centre"),
        sigma=data.get("sigma"),
    )


@records_history
def update_plan(session: Session, actor: Actor, plan_id, payload: Mapping, today: date) -> CheckPlan:
    """Change a plan; points with an id are changed, points without one added; ``active`` false ends it.

    A new interval moves the next due date to the last check's day plus that interval, unless the
    change gives another due date.
    """
    actor.require("ledger.write")
    plan = get_in_org(session, CheckPlan, plan_id, actor)
    data = load_or_invalid(CheckPlanPatch(), payload, partial=True)
    merged = {name: data.get(name, getattr(plan, name)) for name in ("interval_months", "interval_days")}
    if ("interval_months" in data or "interval_days" in data) and (merged["interval_months"] is None) == (
        merged["interval_days"] is None
    ):
        raise invalid_field("interval_months", N_("Give the interval in months or in days."))
    _check_refs(session, actor, plan.instrument, data)
    if "next_due_on" in data and data["next_due_on"] is None:
        # A plan always has its next check due, or it would never be reminded again: a cleared date
        # counts from the last check (today when there is none).
        latest = _latest_check(session, plan)
        data["next_due_on"] = (
            rules.next_due(latest, merged["interval_months"], merged["interval_days"]) if latest else today
        )
    changed = {}
    for name in (*PLAN_FIELDS, "active"):
        if name in data and data[name] != getattr(plan, name):
            changed[name] = data[name]
            setattr(plan, name, data[name])
    if ({"interval_months", "interval_days"} & changed.keys()) and "next_due_on" not in changed:
        # A new interval counts from the last check, as recording one does (none yet: the first
        # check's date stands); a due date changed in the same breath wins. (The edit form sends
        # the date it showed, unchanged.)
        latest = _latest_check(session, plan)
        if latest is not None:
            moved = rules.next_due(latest, plan.interval_months, plan.interval_days)
            if moved != plan.next_due_on:
                plan.next_due_on = changed["next_due_on"] = moved
    if "points" in data:
        _check_points(plan.baseline_mode, data["points"])
        existing = {p.id: p for p in plan.points}
        for position, point in enumerate(data["points"]):
            if point.get("id") is not None:
                row = existing.get(point["id"])
                if row is None:
                    raise invalid_field("points", N_("Not a point of this plan."))
                for name in ("label", "nominal", "unit", "mpe", "centre", "sigma"):
                    if name in point:
                        setattr(row, name, point[name])
                row.position = position
            else:
                session.add(_point(actor, plan, position, point))
        changed["points"] = len(data["points"])
        session.flush()
        session.expire(plan, ["points"])
    if changed:
        record_event(
            session,
            actor,
            "check_plan.updated",
            ("instrument", plan.instrument_id),
            {"plan_id": plan.id} | changed,
        )
    return plan


@records_history
def fix_baseline(session: Session, actor: Actor, plan_id, today: date) -> CheckPlan:
    """Fix each point's centre and σ from the first N checks (refused with fewer than N)."""
    actor.require("ledger.write")
    plan = get_in_org(session, CheckPlan, plan_id, actor)
    _fix_from_first(session, actor, plan, today, strict=True)
    return plan


def _fix_from_first(session: Session, actor: Actor, plan: CheckPlan, today: date, strict: bool) -> bool:
    fixed = {}
    for chart in queries.charts(session, plan):
        try:
            baseline = rules.baseline_from(chart.deviations, plan.baseline_n)
        except rules.BaselineError as exc:
            if strict:
                raise invalid_field(
                    "baseline_n",
                    N_("The baseline needs the first N checks of every point, with some spread."),
                ) from exc
            return False
        fixed[chart.point] = baseline
    for point, baseline in fixed.items():
        point.centre, point.sigma = baseline.centre, baseline.sigma
    plan.baseline_fixed_on = today
    record_event(
        session,
        actor,
        "check_plan.baseline_fixed",
        ("instrument", plan.instrument_id),
        {"plan_id": plan.id, "points": {p.label: [b.centre, b.sigma] for p, b in fixed.items()}},
    )
    return True


@records_history
def record_check(
    session: Session,
    actor: Actor,
    plan_id,
    payload: Mapping,
    today: date,
    now: datetime,
    base_url: str = "",
) -> CheckRecord:
    """Record a check, move the next due date, and act on what it shows."""
    actor.require("ledger.write")
    plan = get_in_org(session, CheckPlan, plan_id, actor)
    if not plan.active:
        raise Conflict(N_("This check plan has ended: make it active again to record checks."))
    data = load_or_invalid(CheckRecordIn(), payload)
    if data["performed_on"] > today:
        raise invalid_field("performed_on", N_("A check cannot be dated in the future."))
    points = {p.id: p for p in plan.points}
    given = [r["point_id"] for r in data["readings"]]
    if sorted(given) != sorted(points) or len(set(given)) != len(given):
        raise invalid_field("readings", N_("Give one reading for each check point."))
    record = CheckRecord(
        org_id=actor.org_id,
        plan_id=plan.id,
        performed_on=data["performed_on"],
        performed_by_id=actor.user_id,
        performed_by_name=actor.name,
        note=data.get("note"),
    )
    session.add(record)
    session.flush()
    out = []
    for reading in data["readings"]:
        deviation = rules.deviation(reading["value"], reading["reference"])
        session.add(
            CheckReading(
                org_id=actor.org_id,
                record_id=record.id,
                point_id=reading["point_id"],
                value=reading["value"],
                reference=reading["reference"],
                deviation=deviation,
            )
        )
        if rules.out_of_tolerance(deviation, points[reading["point_id"]].mpe):
            out.append(points[reading["point_id"]].label)
    session.flush()
    plan.next_due_on = rules.next_due(_latest_check(session, plan), plan.interval_months, plan.interval_days)
    record_event(
        session,
        actor,
        "check.recorded",
        ("instrument", plan.instrument_id),
        {
            "plan_id": plan.id,
            "check_record_id": record.id,
            "checked_on": record.performed_on,
            "out_of_mpe": out,
        },
    )
    if plan.baseline_mode == "first_n" and plan.baseline_fixed_on is None:
        _fix_from_first(session, actor, plan, today, strict=False)
    if out:
        _open_case(session, actor, plan, record, out, today)
    _tell_signals(session, actor, plan, record, today, now, base_url)
    return record


def _latest_check(session: Session, plan: CheckPlan) -> date | None:
    """Return the day of the plan's latest check, or None before its first."""
    return session.scalar(
        select(CheckRecord.performed_on)
        .where(CheckRecord.org_id == plan.org_id, CheckRecord.plan_id == plan.id)
        .order_by(CheckRecord.performed_on.desc())
        .limit(1)
    )


def _open_case(session, actor, plan: CheckPlan, record: CheckRecord, out: list[str], today: date) -> None:
    """Open a case on the instrument, as a failed result does; nothing when one is open already."""
    description = f"期间核查 {record.performed_on.isoformat()}: |偏差| > MPE ({', '.join(out)})"
    nc_ops.open_for_check(session, actor, plan.instrument, description, today)


def _tell_signals(session, actor, plan: CheckPlan, record: CheckRecord, today, now, base_url: str) -> None:
    """Tell the metrology staff of the signals this check completed."""
    signals = []
    for chart in queries.charts(session, plan):
        if not chart.record_ids or chart.record_ids[-1] != record.id:
            continue
        last = len(chart.deviations) - 1
        for signal in chart.signals:
            if signal.index == last:
                msgid, args = chart.words(signal)
                signals.append({"point": chart.point.label, "msgid": msgid, **args, "rule": signal.rule})
    if not signals:
        return
    instrument = plan.instrument
    record_event(
        session,
        actor,
        "check.signal",
        ("instrument", instrument.id),
        {
            "plan_id": plan.id,
            "check_record_id": record.id,
            "signals": [[s["point"], s["rule"]] for s in signals],
        },
    )
    notify_people(
        session,
        actor.org_id,
        SIGNAL_ROLES,
        "check_signal",
        "check_signal",
        f"check_record:{record.id}",
        today,
        now,
        management_no=instrument.management_no,
        name=instrument.name,
        signals=signals,
        link=f"{base_url.rstrip('/')}/check-plans/{plan.id}",
    )
