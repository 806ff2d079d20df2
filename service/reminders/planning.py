"""Planning: once a day per firm, turn the instruments that reach a step of the ladder into digests.

Each recipient gets one message per channel per day listing all their instruments, never one per
instrument. The day's bookkeeping row (``reminder_runs``) and its messages are written in one
transaction; the row is inserted first and only the planner that inserted it goes on, so any
number of processes may plan at once and a day is planned once. Each message also carries an
idempotency key under a unique constraint, a second guard against a digest planned twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from models import (
    Department,
    Instrument,
    Notification,
    NotificationItem,
    Organization,
    ReminderPolicy,
    ReminderRun,
    SmsOptOut,
    User,
)
from models.ledger import RECALLED_STATUSES
from service.bulk import insert_ignoring_conflicts, insert_rows
from service.db import allow_all_tenants, unit_of_work
from service.measurement.checks.reminders import write_check_reminders
from service.reminders.case_reminders import cases_to_remind, write_case_reminders
from service.reminders.messages import Digest, DigestItem, render_digests
from service.reminders.outbox import e164, idempotency_key, outbox_row
from service.reminders.policy import defaults, get_policy, ladder_of, window_of
from service.reminders.rules import (
    CATCH_UP_DAYS,
    Ladder,
    Stage,
    candidate_due_dates,
    latest_stage,
    next_send_time,
)

log = logging.getLogger(__name__)

#: The language of messages to people the system knows only by mobile number, and of group robots.
DEFAULT_LOCALE = "zh_Hans_CN"
ROBOT_NAMES = {"wecom": "WeCom group", "dingtalk": "DingTalk group"}


@dataclass(frozen=True)
class Due:
    """An instrument that reaches a step of the ladder on the planned day."""

    instrument_id: int
    management_no: str
    name: str
    department_id: int | None
    due_on: date
    stage: Stage
    escalates: bool
    custodian_user_id: int | None = None
    custodian_mobile: str | None = None
    custodian_name: str | None = None


@dataclass
class Recipient:
    """Someone (or a group robot) to tell, with an address per channel."""

    key: str
    locale: str
    name: str | None = None
    user_id: int | None = None
    addresses: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanResult:
    """What planning one firm's day produced."""

    org_id: int
    day: date
    instruments: int
    messages: int


# Which instruments ---------------------------------------------------------------------------------


def find_due(session: Session, org_id: int, ladder: Ladder, first_day: date, day: date) -> list[Due]:
    """Return the firm's instruments that reach a step between ``first_day`` and ``day``."""
    return find_due_across(session, [DueQuestion(org_id, ladder, first_day, day)])[org_id]


@dataclass(frozen=True)
class DueQuestion:
    """Which instruments of a firm reach a step of its ladder from ``first_day`` to ``day``."""

    org_id: int
    ladder: Ladder
    first_day: date
    day: date


#: Firms asked in one statement (a bound parameter each; SQLite allows 32,766).
FIRMS_PER_STATEMENT = 1000


def find_due_across(session: Session, questions: Iterable[DueQuestion]) -> dict[int, list[Due]]:
    """Return each firm's instruments that reach a step, firms of one ladder and day in one statement.

    The daily run plans every firm; one statement per firm cost 1,000 statements (5 s on
    PostgreSQL, whose planner cannot tell how few of a firm's rows a 160-day ``IN`` list holds).
    Across firms, the partial index on the due date of instruments in use serves the statement.
    """
    found: dict[int, list[Due]] = {}
    groups: dict[tuple[Ladder, date, date], list[int]] = defaultdict(list)
    for question in questions:
        found[question.org_id] = []
        groups[(question.ladder, question.first_day, question.day)].append(question.org_id)
    for (ladder, first_day, day), org_ids in groups.items():
        ranges = candidate_due_dates(ladder, first_day, day)
        if not ranges:
            continue
        for start in range(0, len(org_ids), FIRMS_PER_STATEMENT):
            for row in session.execute(_due_rows(ranges, org_ids[start : start + FIRMS_PER_STATEMENT])):
                stage = latest_stage(ladder, row.next_due_on, first_day, day, row.is_mandatory)
                if stage is not None:
                    found[row.org_id].append(
                        Due(
                            row.id,
                            row.management_no,
                            row.name,
                            row.department_id,
                            row.next_due_on,
                            stage,
                            stage.escalates(ladder),
                            row.custodian_user_id,
                            row.custodian_mobile,
                            row.custodian_name,
                        )
                    )
    return found


def _due_rows(ranges: list[tuple[date, date]], org_ids: list[int]):
    """The SELECT of the instruments in use of ``org_ids`` whose due date is in ``ranges``."""
    # Single days as one IN list: PostgreSQL plans an OR of some 160 equalities (the default
    # ladder's overdue rounds) in ~7 ms and runs it as as many bitmap index scans; ``= ANY`` is
    # one index condition.
    days = [start for start, end in ranges if start == end]
    in_ranges = or_(
        *([Instrument.next_due_on.in_(days)] if days else []),
        *(Instrument.next_due_on.between(start, end) for start, end in ranges if start != end),
    )
    firms = Instrument.org_id == org_ids[0] if len(org_ids) == 1 else Instrument.org_id.in_(org_ids)
    return (
        select(
            Instrument.id,
            Instrument.org_id,
            Instrument.management_no,
            Instrument.name,
            Instrument.department_id,
            Instrument.next_due_on,
            Instrument.is_mandatory,
            Instrument.custodian_user_id,
            Instrument.custodian_mobile,
            Instrument.custodian_name,
        )
        .where(firms, Instrument.status.in_(RECALLED_STATUSES), in_ranges)
        .order_by(Instrument.next_due_on, Instrument.id)
    )


# Who is told ---------------------------------------------------------------------------------------


def _person(user: User, opted_out: set[str]) -> Recipient:
    recipient = Recipient(f"user:{user.id}", user.locale or DEFAULT_LOCALE, user.name, user.id)
    if user.notify_sms and user.mobile and e164(user.mobile) not in opted_out:
        recipient.addresses["sms"] = e164(user.mobile)
    if user.notify_email and user.email:
        recipient.addresses["email"] = user.email
    if user.notify_in_app:
        recipient.addresses["in_app"] = user.email
    return recipient


def assign_recipients(
    session: Session, org_id: int, policy: ReminderPolicy, dues: list[Due]
) -> dict[str, tuple[Recipient, list[Due]]]:
    """Return each recipient with the instruments they are told about."""
    users = {
        u.id: u for u in session.scalars(select(User).where(User.org_id == org_id, User.is_active.is_(True)))
    }
    # Only the numbers this firm's day could text: the opt-out list is global and grows.
    phones = {e164(u.mobile) for u in users.values() if u.mobile}
    phones |= {e164(d.custodian_mobile) for d in dues if d.custodian_mobile}
    opted_out = (
        set(session.scalars(select(SmsOptOut.phone).where(SmsOptOut.phone.in_(phones)))) if phones else set()
    )
    people = {uid: _person(u, opted_out) for uid, u in users.items()}
    metrology = [people[u.id] for u in users.values() if u.role == "metrology"] if policy.to_metrology else []
    admins = [people[u.id] for u in users.values() if u.role == "admin"]
    heads = {}
    if policy.to_department_head:
        heads = dict(
            session.execute(
                select(Department.id, Department.head_user_id).where(
                    Department.org_id == org_id, Department.head_user_id.is_not(None)
                )
            ).all()
        )
    told: dict[str, tuple[Recipient, list[Due]]] = {}

    def tell(recipient: Recipient | None, due: Due) -> None:
        if recipient is None or not recipient.addresses:
            return
        told.setdefault(recipient.key, (recipient, []))[1].append(due)

    for due in dues:
        audience: dict[str, Recipient] = {}
        user_id, mobile, name = (
            (due.custodian_user_id, due.custodian_mobile, due.custodian_name)
            if policy.to_custodian
            else (None, None, None)
        )
        if user_id in people:
            audience[people[user_id].key] = people[user_id]
        elif mobile and e164(mobile) not in opted_out:
            stranger = Recipient(f"mobile:{e164(mobile)}", DEFAULT_LOCALE, name, None, {"sms": e164(mobile)})
            audience[stranger.key] = stranger
        head = heads.get(due.department_id)
        if head in people:
            audience[people[head].key] = people[head]
        for person in metrology + (admins if due.escalates else []):
            audience[person.key] = person
        for recipient in audience.values():
            tell(recipient, due)
    return told


# Writing the outbox --------------------------------------------------------------------------------


#: The columns of a digest's items, as written.
ITEM_COLUMNS = ("org_id", "notification_id", "instrument_id", "stage", "days", "due_on")


def _contents(dues: Iterable[Due]) -> str:
    return ",".join(
        f"{d.instrument_id}:{d.stage.kind}{d.stage.days}" for d in sorted(dues, key=lambda d: d.instrument_id)
    )


def plan_day(
    session: Session,
    org: Organization,
    day: date,
    now: datetime,
    base_url: str,
    asked: tuple[DueQuestion, list[Due]] | None = None,
) -> PlanResult | None:
    """Plan ``org``'s reminders for its local ``day``; None when the day was already planned.

    ``asked`` is the answer of :func:`find_due_across` read before the firm's transaction; it is
    used when its question is still the day's (same ladder, same first day), else asked again.
    The caller commits: the day's row and its messages land together or not at all.
    """
    inserted = insert_ignoring_conflicts(
        session.connection(),
        ReminderRun.__table__,
        [{"org_id": org.id, "local_day": day, "planned_at": now, "instruments": 0, "messages": 0}],
        returning=("org_id",),
    )
    if not inserted:
        return None
    previous = session.scalar(
        select(func.max(ReminderRun.local_day)).where(
            ReminderRun.org_id == org.id, ReminderRun.local_day < day
        )
    )
    first_day = _first_day(previous, day)
    policy = get_policy(session, org.id)
    ladder = ladder_of(policy)
    question = DueQuestion(org.id, ladder, first_day, day)
    if asked is not None and asked[0] == question:
        dues = asked[1]
    else:
        dues = find_due_across(session, [question])[org.id]
    open_cases = cases_to_remind(session, org.id, first_day, day, ladder.overdue_every)
    send_at = next_send_time(window_of(policy), now.astimezone(ZoneInfo(org.timezone)))
    messages = write_case_reminders(session, org, open_cases, day, now, send_at, base_url)
    messages += write_check_reminders(session, org, ladder, first_day, day, now, send_at, base_url)
    if dues:
        departments = dict(
            session.execute(select(Department.id, Department.name).where(Department.org_id == org.id)).all()
        )
        told = assign_recipients(session, org.id, policy, dues)
        for channel, address in (("wecom", policy.wecom_url), ("dingtalk", policy.dingtalk_url)):
            if address:
                robot = Recipient(
                    f"robot:{channel}", DEFAULT_LOCALE, None, None, {channel: ROBOT_NAMES[channel]}
                )
                told[robot.key] = (robot, list(dues))
        messages += _write_digests(session, org, day, now, send_at, base_url, told, departments)
    session.execute(
        ReminderRun.__table__.update()
        .where(ReminderRun.org_id == org.id, ReminderRun.local_day == day)
        .values(instruments=len(dues), messages=messages)
    )
    return PlanResult(org.id, day, len(dues), messages)


def _first_day(previous: date | None, day: date) -> date:
    """Return the first day to plan: the day after the last one planned, a week back at most."""
    if previous is None:
        return day
    return max(previous + timedelta(days=1), day - timedelta(days=CATCH_UP_DAYS))


def _ask_in_advance(
    session: Session, todo: list[tuple[int, date]]
) -> dict[int, tuple[DueQuestion, list[Due]]]:
    """Return the due instruments of the firms to plan, asked together (see :func:`find_due_across`).

    A firm planned before, but not within the catch-up week, is left out: its own transaction
    reads when it was last planned.
    """
    if not todo:
        return {}
    org_ids = [org_id for org_id, _day in todo]
    since = min(day for _org, day in todo) - timedelta(days=CATCH_UP_DAYS + 2)
    policies: dict[int, ReminderPolicy] = {}
    recent: dict[int, list[date]] = defaultdict(list)
    ever: set[int] = set()
    for chunk in range(0, len(org_ids), FIRMS_PER_STATEMENT):
        some = org_ids[chunk : chunk + FIRMS_PER_STATEMENT]
        policies.update(
            (policy.org_id, policy)
            for policy in session.scalars(select(ReminderPolicy).where(ReminderPolicy.org_id.in_(some)))
        )
        ever.update(session.scalars(select(ReminderRun.org_id).where(ReminderRun.org_id.in_(some)).distinct()))
        runs = select(ReminderRun.org_id, ReminderRun.local_day).where(
            ReminderRun.org_id.in_(some), ReminderRun.local_day >= since
        )
        for org_id, local_day in session.execute(runs):
            recent[org_id].append(local_day)
    questions = []
    for org_id, day in todo:
        previous = max((planned for planned in recent[org_id] if planned < day), default=None)
        if previous is None and org_id in ever:
            continue
        ladder = ladder_of(policies.get(org_id) or defaults(org_id))
        questions.append(DueQuestion(org_id, ladder, _first_day(previous, day), day))
    answers = find_due_across(session, questions)
    return {question.org_id: (question, answers[question.org_id]) for question in questions}


def _write_digests(session, org, day, now, send_at, base_url, told, departments) -> int:
    rows, items = [], {}
    for recipient, dues in told.values():
        digest = Digest(
            org_name=org.name,
            recipient_name=recipient.name,
            day=day,
            link=f"{base_url.rstrip('/')}/reminders",
            items=[
                DigestItem(
                    d.management_no,
                    d.name,
                    departments.get(d.department_id),
                    d.due_on,
                    d.stage.kind,
                    d.stage.days,
                )
                for d in dues
            ],
        )
        contents = _contents(dues)
        texts = render_digests(digest, recipient.addresses, recipient.locale)
        for channel, address in recipient.addresses.items():
            rendered = texts[channel]
            key = idempotency_key(org.id, recipient.key, channel, day, "due_digest", contents)
            rows.append(
                outbox_row(
                    org_id=org.id,
                    kind="due_digest",
                    channel=channel,
                    recipient_user_id=recipient.user_id,
                    to_address=address,
                    locale=recipient.locale,
                    rendered=rendered,
                    key=key,
                    day=day,
                    now=now,
                    send_at=send_at,
                    summary=digest.summary(),
                )
            )
            items[key] = dues
    inserted = insert_ignoring_conflicts(
        session.connection(), Notification.__table__, rows, returning=("id", "idempotency_key")
    )
    item_rows = [
        {
            "org_id": org.id,
            "notification_id": notification_id,
            "instrument_id": due.instrument_id,
            "stage": due.stage.kind,
            "days": due.stage.days,
            "due_on": due.due_on,
        }
        for notification_id, key in inserted
        for due in items[key]
    ]
    # The items of messages inserted just now cannot exist yet: COPY on PostgreSQL, which writes the
    # day's quarter of a million rows several times faster than INSERT.
    insert_rows(session.connection(), NotificationItem.__table__, ITEM_COLUMNS, item_rows)
    return len(inserted)


def plan_all(
    sessions: sessionmaker[Session], now: datetime, base_url: str, org_ids: Iterable[int] | None = None
) -> list[PlanResult]:
    """Plan each firm's current local day that has no plan yet, one transaction per firm.

    A firm whose planning fails is logged and retried at the next run; the others go on.
    """
    with sessions() as session:
        allow_all_tenants(session)
        stmt = select(Organization.id, Organization.timezone).order_by(Organization.id)
        if org_ids is not None:
            stmt = stmt.where(Organization.id.in_(list(org_ids)))
        orgs = session.execute(stmt).all()
        planned = {
            (row.org_id, row.local_day)
            for row in session.execute(
                select(ReminderRun.org_id, ReminderRun.local_day).where(
                    ReminderRun.local_day >= (now - timedelta(days=1)).date(),
                    ReminderRun.local_day <= (now + timedelta(days=1)).date(),
                )
            )
        }
        todo = [(org_id, now.astimezone(ZoneInfo(zone)).date()) for org_id, zone in orgs]
        todo = [(org_id, day) for org_id, day in todo if (org_id, day) not in planned]
        asked = _ask_in_advance(session, todo)
    results = []
    for org_id, day in todo:
        try:
            with unit_of_work(sessions) as session:
                org = session.get(Organization, org_id)
                result = plan_day(session, org, day, now, base_url, asked.get(org_id))
        except Exception:
            log.exception("planning reminders of organisation %s for %s failed", org_id, day)
            continue
        if result is not None:
            results.append(result)
    return results
