"""Planning: once a day per firm, turn the instruments that reach a step of the ladder into digests.

Each recipient gets one message per channel per day listing all their instruments, never one per
instrument. The day's bookkeeping row (``reminder_runs``) and its messages are written in one
transaction; the row is inserted first and only the planner that inserted it goes on, so any
number of processes may plan at once and a day is planned once. Each message also carries an
idempotency key under a unique constraint, a second guard against a digest planned twice.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, or_, select
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
from service.measurement.checks.reminders import check_plans_to_remind, check_reminder_rows, check_window
from service.reminders.case_reminders import case_reminder_rows, cases_to_remind, open_cases_of
from service.reminders.messages import Digest, DigestItem, render_digests
from service.reminders.outbox import e164, idempotency_key, outbox_row
from service.reminders.policy import defaults, ladder_of, window_of
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


def opted_out_among(session: Session, phones: set[str]) -> set[str]:
    """Return which of ``phones`` (E.164) asked to receive no more SMS."""
    found: set[str] = set()
    listed = sorted(phones)
    # Only the numbers the day could text are asked: the opt-out list is global and grows.
    for start in range(0, len(listed), FIRMS_PER_STATEMENT):
        found.update(
            session.scalars(
                select(SmsOptOut.phone).where(
                    SmsOptOut.phone.in_(listed[start : start + FIRMS_PER_STATEMENT])
                )
            )
        )
    return found


def phones_of(users: Iterable[User], dues: Iterable[Due]) -> set[str]:
    """The numbers (E.164) a firm's day could text: its users' and its instruments' custodians'."""
    phones = {e164(u.mobile) for u in users if u.mobile}
    return phones | {e164(d.custodian_mobile) for d in dues if d.custodian_mobile}


def assign_recipients(
    policy: ReminderPolicy,
    dues: list[Due],
    users: Iterable[User],
    heads: dict[int, int],
    opted_out: set[str],
) -> dict[str, tuple[Recipient, list[Due]]]:
    """Return each recipient with the instruments they are told about.

    ``users`` are the firm's active users, ``heads`` its departments' heads (department id to user
    id) and ``opted_out`` the numbers that asked for no SMS.
    """
    users = list(users)
    people = {u.id: _person(u, opted_out) for u in users}
    metrology = [people[u.id] for u in users if u.role == "metrology"] if policy.to_metrology else []
    admins = [people[u.id] for u in users if u.role == "admin"]
    if not policy.to_department_head:
        heads = {}
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


#: Firms planned in one transaction. One transaction a firm cost a day of 1,000 firms 1,000 commits
#: and some 15,000 statements (each firm's policy, previous day, users, departments, cases, checks,
#: opt-outs, two inserts and the day's row); a batch reads and writes for all its firms at once.
FIRMS_PER_TRANSACTION = 50


@dataclass
class FirmDay:
    """One firm's day to plan, with what its planning reads (read for a batch of firms at once)."""

    org: Organization
    day: date
    policy: ReminderPolicy
    first_day: date
    users: list[User] = field(default_factory=list)
    departments: dict[int, str] = field(default_factory=dict)
    heads: dict[int, int] = field(default_factory=dict)

    @property
    def ladder(self) -> Ladder:
        """The firm's ladder of reminder steps."""
        return ladder_of(self.policy)

    @property
    def question(self) -> DueQuestion:
        """Which of the firm's instruments the day reminds of."""
        return DueQuestion(self.org.id, self.ladder, self.first_day, self.day)


def plan_days(
    session: Session, org_ids: Iterable[int], day: date, now: datetime, base_url: str
) -> list[PlanResult]:
    """Plan ``day`` (each firm's local day) for the firms of ``org_ids`` that have no plan for it.

    A firm's day row is inserted first and only the planner that inserted it goes on, so any number
    of processes may plan at once and a day is planned once. The caller commits: the firms' day
    rows and their messages land together or not at all.
    """
    claimed = _claim_day(session, sorted(set(org_ids)), day, now)
    if not claimed:
        return []
    firms = _read_firms(session, claimed, day)
    dues = find_due_across(session, [firm.question for firm in firms.values()])
    open_cases = open_cases_of(session, claimed)
    windows = [check_window(firm.ladder, firm.first_day, day) for firm in firms.values()]
    check_plans = check_plans_to_remind(
        session, claimed, min(since for since, _ in windows), max(until for _, until in windows)
    )
    opted_out = opted_out_among(
        session, set().union(*(phones_of(firm.users, dues[org_id]) for org_id, firm in firms.items()))
    )
    outbox = _Outbox()
    for org_id, firm in firms.items():
        _add_firm_day(
            outbox, firm, dues[org_id], open_cases[org_id], check_plans[org_id], opted_out, now, base_url
        )
    written = outbox.write(session.connection())
    results = [PlanResult(org_id, day, len(dues[org_id]), written.get(org_id, 0)) for org_id in firms]
    session.execute(
        ReminderRun.__table__.update()
        .where(ReminderRun.org_id == bindparam("firm"), ReminderRun.local_day == day)
        .values(instruments=bindparam("instruments"), messages=bindparam("messages")),
        [{"firm": r.org_id, "instruments": r.instruments, "messages": r.messages} for r in results],
    )
    return results


def _add_firm_day(outbox, firm: FirmDay, dues, open_cases, check_plans, opted_out, now, base_url) -> None:
    """Add one firm's messages of the day: its open cases, its checks and its due-date digests."""
    org, ladder, day = firm.org, firm.ladder, firm.day
    send_at = next_send_time(window_of(firm.policy), now.astimezone(ZoneInfo(org.timezone)))
    cases = cases_to_remind(open_cases, firm.first_day, day, ladder.overdue_every)
    outbox.add(case_reminder_rows(org, firm.users, cases, day, now, send_at, base_url))
    outbox.add(
        check_reminder_rows(org, firm.users, ladder, check_plans, firm.first_day, day, now, send_at, base_url)
    )
    if not dues:
        return
    told = assign_recipients(firm.policy, dues, firm.users, firm.heads, opted_out)
    for channel, address in (("wecom", firm.policy.wecom_url), ("dingtalk", firm.policy.dingtalk_url)):
        if address:
            robot = Recipient(f"robot:{channel}", DEFAULT_LOCALE, None, None, {channel: ROBOT_NAMES[channel]})
            told[robot.key] = (robot, list(dues))
    _add_digests(outbox, org, day, now, send_at, base_url, told, firm.departments)


def _claim_day(session: Session, org_ids: list[int], day: date, now: datetime) -> list[int]:
    """Insert the day's row of each firm; return the firms whose row this transaction inserted."""
    inserted = insert_ignoring_conflicts(
        session.connection(),
        ReminderRun.__table__,
        [
            {"org_id": org_id, "local_day": day, "planned_at": now, "instruments": 0, "messages": 0}
            for org_id in org_ids
        ],
        returning=("org_id",),
    )
    return sorted(row.org_id for row in inserted)


def _read_firms(session: Session, org_ids: list[int], day: date) -> dict[int, FirmDay]:
    """Read what planning ``day`` needs of each firm: a few statements for all of them."""
    orgs = session.scalars(select(Organization).where(Organization.id.in_(org_ids)))
    policies = {
        policy.org_id: policy
        for policy in session.scalars(select(ReminderPolicy).where(ReminderPolicy.org_id.in_(org_ids)))
    }
    previous = dict(
        session.execute(
            select(ReminderRun.org_id, func.max(ReminderRun.local_day))
            .where(ReminderRun.org_id.in_(org_ids), ReminderRun.local_day < day)
            .group_by(ReminderRun.org_id)
        ).all()
    )
    firms = {
        org.id: FirmDay(
            org, day, policies.get(org.id) or defaults(org.id), _first_day(previous.get(org.id), day)
        )
        for org in orgs
    }
    users = session.scalars(
        select(User).where(User.org_id.in_(org_ids), User.is_active.is_(True)).order_by(User.id)
    )
    for user in users:
        firms[user.org_id].users.append(user)
    departments = select(Department.org_id, Department.id, Department.name, Department.head_user_id).where(
        Department.org_id.in_(org_ids)
    )
    for org_id, department_id, name, head_user_id in session.execute(departments):
        firms[org_id].departments[department_id] = name
        if head_user_id is not None:
            firms[org_id].heads[department_id] = head_user_id
    return dict(sorted(firms.items()))


def _first_day(previous: date | None, day: date) -> date:
    """Return the first day to plan: the day after the last one planned, a week back at most."""
    if previous is None:
        return day
    return max(previous + timedelta(days=1), day - timedelta(days=CATCH_UP_DAYS))


class _Outbox:
    """The messages of a batch of firms' days, written in one statement, and the digests' items."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.items: dict[str, list[Due]] = {}

    def add(self, rows: Iterable[dict], items: list[Due] | None = None) -> None:
        for row in rows:
            self.rows.append(row)
            if items is not None:
                self.items[row["idempotency_key"]] = items

    def write(self, connection) -> dict[int, int]:
        """Insert the messages (those not planned before) and their items; return how many a firm."""
        inserted = insert_ignoring_conflicts(
            connection, Notification.__table__, self.rows, returning=("id", "idempotency_key", "org_id")
        )
        item_rows = [
            {
                "org_id": org_id,
                "notification_id": notification_id,
                "instrument_id": due.instrument_id,
                "stage": due.stage.kind,
                "days": due.stage.days,
                "due_on": due.due_on,
            }
            for notification_id, key, org_id in inserted
            for due in self.items.get(key, ())
        ]
        # The items of messages inserted just now cannot exist yet: COPY on PostgreSQL, which writes
        # the day's quarter of a million rows several times faster than INSERT.
        insert_rows(connection, NotificationItem.__table__, ITEM_COLUMNS, item_rows)
        return Counter(org_id for _id, _key, org_id in inserted)


def _add_digests(outbox: _Outbox, org, day, now, send_at, base_url, told, departments) -> None:
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
        outbox.add(
            (
                outbox_row(
                    org_id=org.id,
                    kind="due_digest",
                    channel=channel,
                    recipient_user_id=recipient.user_id,
                    to_address=address,
                    locale=recipient.locale,
                    rendered=texts[channel],
                    key=idempotency_key(org.id, recipient.key, channel, day, "due_digest", contents),
                    day=day,
                    now=now,
                    send_at=send_at,
                    summary=digest.summary(),
                )
                for channel, address in recipient.addresses.items()
            ),
            items=dues,
        )


def _plan_and_commit(
    sessions: sessionmaker[Session], org_ids: list[int], day: date, now: datetime, base_url: str
) -> list[PlanResult]:
    """Plan ``org_ids``' day in one transaction; return the results once it has committed.

    A commit that fails raises here, so its firms are never counted as planned.
    """
    with unit_of_work(sessions) as session:
        planned = plan_days(session, org_ids, day, now, base_url)
    return planned


def plan_all(
    sessions: sessionmaker[Session], now: datetime, base_url: str, org_ids: Iterable[int] | None = None
) -> list[PlanResult]:
    """Plan each firm's current local day that has no plan yet, ``FIRMS_PER_TRANSACTION`` firms at a time.

    When a batch fails, its firms are planned again one transaction each: a firm whose planning
    fails is logged and retried at the next run; the others go on.
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
    by_day: dict[date, list[int]] = defaultdict(list)
    for org_id, zone in orgs:
        day = now.astimezone(ZoneInfo(zone)).date()
        if (org_id, day) not in planned:
            by_day[day].append(org_id)
    results = []
    for day, firms in sorted(by_day.items()):
        for start in range(0, len(firms), FIRMS_PER_TRANSACTION):
            batch = firms[start : start + FIRMS_PER_TRANSACTION]
            try:
                results += _plan_and_commit(sessions, batch, day, now, base_url)
            except Exception:
                if len(batch) == 1:
                    log.exception("planning reminders of organisation %s for %s failed", batch[0], day)
                    continue
                log.warning(
                    "planning %s firms together failed; planning them one by one", len(batch), exc_info=True
                )
                for org_id in batch:
                    try:
                        results += _plan_and_commit(sessions, [org_id], day, now, base_url)
                    except Exception:
                        log.exception("planning reminders of organisation %s for %s failed", org_id, day)
    return results
