"""Dispatch: claim messages from the outbox, send them, record what the provider said.

1. **Claim** a batch in one short transaction: ``SELECT … FOR UPDATE SKIP LOCKED`` then an
   ``UPDATE`` that names this worker and sets a lease (on SQLite the transaction holds the write
   lock from ``BEGIN IMMEDIATE``, which does the same). Opt-outs, the SMS ceiling and the robots'
   rate limit are applied here, inside the claim. While one batch is sent, the next is claimed on
   another connection.
2. **Send** outside any transaction.
3. **Record** each outcome with an ``UPDATE … WHERE claimed_by = this worker``: a worker whose
   lease ran out (it hung, or was killed) changes nothing, and the message is claimed again.

A message whose send may have gone through (a timeout, a 5xx, a lease that ran out while
sending) is ``unknown``; before sending it again the dispatcher asks the provider whether it went
(Twilio lists messages by number and date).

**In flight.** A message is *in flight* from the moment it is handed to its channel adapter (the
provider) until the transaction that records its outcome has committed. A dispatcher keeps at most
``Config.dispatch_in_flight`` messages in flight (``DISPATCH_IN_FLIGHT``, 10 by default): it waits
for a free slot before handing a message over, and a slot frees when the outcome's commit returns.
Outcomes are recorded by a thread of the dispatcher's own as soon as each arrives (several in one
transaction when they arrive faster than a commit takes), so sending and recording overlap. The
one window in which a message can go twice is a crash after the provider accepted it and before
its outcome was recorded, on a channel whose provider cannot be asked (email, robots): a dispatcher
killed at any moment repeats at most ``dispatch_in_flight`` messages.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, bindparam, func, literal, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker, undefer

from models import Notification, Organization, ReminderPolicy, SmsOptOut, SmsUsage, User
from models.base import UTCDateTime
from models.reminders import CLAIMABLE_STATES, ROBOT_CHANNELS
from notifications import Message, SendResult
from notifications.message import Reconcilable
from service.bulk import insert_ignoring_conflicts
from service.clock import now_utc
from service.db import allow_all_tenants, unit_of_work
from service.observability.metrics import SMS_HELD
from service.reminders.channels import Channels
from service.reminders.notices import hold_notice_rows
from service.reminders.policy import defaults, window_of
from service.reminders.rules import next_send_time

log = logging.getLogger(__name__)

#: How long a claim lasts; a worker that has not recorded an outcome by then has lost it.
LEASE = timedelta(minutes=5)
BATCH = 200
#: After this many attempts a message is dead and shown to the firm's admins.
MAX_ATTEMPTS = 6
#: An ambiguous send is reconciled with the provider after this long (the provider's list lags).
RECONCILE_AFTER = timedelta(minutes=2)
BACKOFF_BASE = timedelta(seconds=60)
BACKOFF_CAP = timedelta(hours=6)
#: Threads recording outcomes on PostgreSQL, each on a connection of its own: while one waits for its
#: commit to reach the disk, the other records what arrived meanwhile (PostgreSQL flushes both commits
#: together). SQLite has one writer at a time: one thread.
RECORDERS = 2
#: WeCom and DingTalk robots accept 20 messages a minute each.
ROBOT_PER_MINUTE = 20
USER_CHANNEL_FLAGS = {"sms": "notify_sms", "email": "notify_email", "in_app": "notify_in_app"}


def worker_name() -> str:
    """Return a name for this dispatcher that no other process shares."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Return the wait before attempt ``attempts + 1``: exponential, capped, with jitter (50–100%)."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(0, attempts - 1)))
    return ceiling * (rng or random).uniform(0.5, 1.0)


class Candidate(NamedTuple):
    """A message a claim may send, with what the checks inside the claim need."""

    message: Notification
    org_slug: str
    timezone: str
    policy: ReminderPolicy


@dataclass(frozen=True)
class Claimed:
    """A claimed message and what sending it needs."""

    id: int
    org_id: int
    org_slug: str
    channel: str
    to: str
    subject: str
    body: str
    html: str | None
    key: str
    attempts: int
    first_attempt_at: datetime
    #: The state before this claim: ``unknown`` or ``sending`` (a lease ran out) means "ask first".
    was: str
    policy: ReminderPolicy
    timezone: str

    def message(self) -> Message:
        """Return the message for the channel adapter."""
        return Message(
            self.channel, self.to, self.subject, self.body, self.key, html=self.html, org=self.org_slug
        )


# Claiming ------------------------------------------------------------------------------------------


def claim(
    session: Session,
    now: datetime,
    worker: str,
    limit: int = BATCH,
    only_ids: Iterable[int] | None = None,
    base_url: str = "",
) -> tuple[list[Claimed], Counter]:
    """Claim up to ``limit`` messages that are due; return them and what was settled without sending.

    ``base_url`` is the site's address, for the link in a notice that SMS are held.
    """
    n = Notification
    candidates = (
        select(n.id, n.state)
        .where(n.state.in_(CLAIMABLE_STATES), n.not_before <= now)
        .order_by(n.not_before, n.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if only_ids is not None:
        candidates = candidates.where(n.id.in_(list(only_ids)))
    was = dict(session.execute(candidates).all())
    settled: Counter = Counter()
    if not was:
        return [], settled
    rows = session.execute(
        select(
            n,
            Organization.slug,
            Organization.timezone,
            User.is_active,
            User.notify_sms,
            User.notify_email,
            User.notify_in_app,
        )
        .join(Organization, Organization.id == n.org_id)
        .outerjoin(User, (User.id == n.recipient_user_id) & (User.org_id == n.org_id))
        .where(n.id.in_(list(was)))
        .order_by(n.not_before, n.id)
        # The HTML body is deferred for lists; a claim sends it, so load it with the row.
        .options(undefer(n.html))
        .execution_options(populate_existing=True)
    ).all()
    policies = {
        p.org_id: p
        for p in session.scalars(
            select(ReminderPolicy).where(ReminderPolicy.org_id.in_({row.Notification.org_id for row in rows}))
        )
    }
    opted_out = set(
        session.scalars(
            select(SmsOptOut.phone).where(
                SmsOptOut.phone.in_(
                    {row.Notification.to_address for row in rows if row.Notification.channel == "sms"}
                )
            )
        )
    )

    for org_id in {row.Notification.org_id for row in rows} - set(policies):
        policies[org_id] = defaults(org_id)  # one transient default per firm, not per message
    keep, later, skip = [], [], []
    for row in rows:
        message = row.Notification
        policy = policies[message.org_id]
        reason = _skip_reason(message, row, policy, opted_out)
        if reason:
            skip.append((message.id, reason))
        else:
            keep.append(Candidate(message, row.slug, row.timezone, policy))
    keep, later = _limit_robots(session, keep, now)
    keep, held, quota_days = _apply_sms_ceiling(session, keep, now, base_url)
    settled.update(skipped=len(skip), deferred=len(later), held=len(held))
    _settle(session, now, skip, later, held)

    sending = {
        "state": "sending",
        "claimed_by": worker,
        "lease_until": now + LEASE,
        "not_before": now + LEASE,
        "attempts": n.attempts + 1,
        # Typed, or SQLite would store a non-UTC ``now`` (tick --now) as its wall-clock time.
        "first_attempt_at": func.coalesce(n.first_attempt_at, literal(now, UTCDateTime())),
        "updated_at": now,
    }
    # One statement per firms' local day the SMS were counted on (usually one), one for the rest.
    for day, counted in quota_days.items():
        _update_messages(session, counted, quota_day=day, **sending)
    counted = {message_id for ids in quota_days.values() for message_id in ids}
    rest = [c.message.id for c in keep if c.message.id not in counted]
    if rest:
        _update_messages(session, rest, **sending)
    claimed = [_claimed(c, was[c.message.id], now) for c in keep]
    return claimed, settled


def _claimed(candidate: Candidate, was: str, now: datetime) -> Claimed:
    """What sending a claimed candidate needs, its attempt counted (the row was raised in the claim)."""
    m = candidate.message
    return Claimed(
        id=m.id,
        org_id=m.org_id,
        org_slug=candidate.org_slug,
        channel=m.channel,
        to=m.to_address,
        subject=m.subject,
        body=m.body,
        html=m.html,
        key=m.idempotency_key,
        attempts=m.attempts + 1,
        first_attempt_at=m.first_attempt_at or now,
        was=was,
        policy=candidate.policy,
        timezone=candidate.timezone,
    )


def _skip_reason(message: Notification, row, policy: ReminderPolicy, opted_out: set[str]) -> str | None:
    """Return why a message must not go out any more (the recipient changed their mind), or None."""
    if message.channel == "sms" and message.to_address in opted_out:
        return "opted out (STOP)"
    if message.recipient_user_id is not None:
        if not row.is_active:
            return "user deactivated"
        if message.kind != "test" and not getattr(row, USER_CHANNEL_FLAGS.get(message.channel, ""), True):
            return "channel switched off by the user"
    if message.channel == "wecom" and not policy.wecom_url:
        return "robot removed"
    if message.channel == "dingtalk" and not policy.dingtalk_url:
        return "robot removed"
    return None


def _limit_robots(
    session: Session, keep: list[Candidate], now: datetime
) -> tuple[list[Candidate], list[int]]:
    """Keep each firm's robot within its rate; defer the rest by a minute.

    The last minute's sends count, and so do messages another worker holds in flight. Two claims
    running at the same instant may still both count the same past; the robot then answers with its
    rate-limit error, which the adapter classifies as retryable, so nothing is lost.
    """
    robots = {(c.message.org_id, c.message.channel) for c in keep if c.message.channel in ROBOT_CHANNELS}
    if not robots:
        return keep, []
    n = Notification
    recent = Counter()
    for org_id, channel in robots:
        recent[(org_id, channel)] = session.scalar(
            select(func.count())
            .select_from(n)
            .where(
                n.org_id == org_id,
                n.channel == channel,
                or_(n.sent_at > now - timedelta(minutes=1), n.state == "sending"),
            )
        )
    kept, later = [], []
    for entry in keep:
        message = entry.message
        slot = (message.org_id, message.channel)
        if message.channel in ROBOT_CHANNELS:
            if recent[slot] >= ROBOT_PER_MINUTE:
                later.append(message.id)
                continue
            recent[slot] += 1
        kept.append(entry)
    return kept, later


def _apply_sms_ceiling(
    session: Session, keep: list[Candidate], now: datetime, base_url: str
) -> tuple[list[Candidate], list[int], dict[date, list[int]]]:
    """Count new SMS against each firm's daily ceiling; hold those beyond it.

    Return the messages to send, those held, and the counted ones by the local day they count on
    (the claim stores it with them). The firm's counter row is raised in one ``UPDATE`` (which locks
    it until this claim commits), so concurrent dispatchers never let more through than the ceiling.
    """
    counting: dict[int, list[Candidate]] = defaultdict(list)
    for entry in keep:
        message = entry.message
        if message.channel == "sms" and message.quota_day is None and not message.is_ceiling_exempt:
            counting[message.org_id].append(entry)
    held: list[Candidate] = []
    quota_days: dict[date, list[int]] = defaultdict(list)
    table = SmsUsage.__table__
    days = {
        org_id: now.astimezone(ZoneInfo(entries[0].timezone)).date() for org_id, entries in counting.items()
    }
    insert_ignoring_conflicts(
        session.connection(),
        table,
        [{"org_id": org_id, "local_day": day, "used": 0} for org_id, day in sorted(days.items())],
    )
    for org_id, entries in counting.items():
        policy, day = entries[0].policy, days[org_id]
        used = session.execute(
            table.update()
            .where(table.c.org_id == org_id, table.c.local_day == day)
            .values(used=table.c.used + len(entries))
            .returning(table.c.used)
        ).scalar_one()
        over = min(len(entries), max(0, used - policy.sms_daily_limit))
        if over:
            session.execute(
                table.update()
                .where(table.c.org_id == org_id, table.c.local_day == day)
                .values(used=table.c.used - over)
            )
            held.extend(entries[len(entries) - over :])
            hold_notice_rows(session, org_id, day, now, policy.sms_daily_limit, over, base_url)
        quota_days[day].extend(entry.message.id for entry in entries[: len(entries) - over])
    held_ids = {entry.message.id for entry in held}
    return (
        [entry for entry in keep if entry.message.id not in held_ids],
        [entry.message.id for entry in held],
        {day: ids for day, ids in quota_days.items() if ids},
    )


def _settle(session: Session, now: datetime, skip: list, later: list, held: list) -> None:
    by_reason: dict[str, list[int]] = defaultdict(list)
    for message_id, reason in skip:
        by_reason[reason].append(message_id)
    for reason, ids in by_reason.items():
        _update_messages(
            session,
            ids,
            state="skipped",
            last_error=reason,
            updated_at=now,
            claimed_by=None,
            lease_until=None,
        )
    if later:
        _update_messages(
            session, later, state="pending", not_before=now + timedelta(minutes=1), updated_at=now
        )
    if held:
        _update_messages(
            session,
            held,
            state="held",
            last_error="daily SMS limit reached",
            updated_at=now,
            claimed_by=None,
            lease_until=None,
        )


def _update_messages(session: Session, ids: list[int], **values) -> None:
    """Set ``values`` on the messages ``ids`` in one statement; loaded copies keep their old values."""
    session.execute(
        update(Notification)
        .where(Notification.id.in_(ids))
        .values(**values)
        .execution_options(synchronize_session=False)
    )


# Sending and recording -----------------------------------------------------------------------------


def send_one(claimed: Claimed, channels: Channels) -> SendResult:
    """Send one claimed message, asking the provider first when an earlier send may have gone."""
    try:
        channel = channels.get(claimed.channel, claimed.policy)
        message = claimed.message()
        if claimed.was in ("unknown", "sending") and isinstance(channel, Reconcilable):
            found = channel.reconcile(message, claimed.first_attempt_at - timedelta(minutes=5))
            if found is not None:
                return found
        if claimed.attempts > MAX_ATTEMPTS:
            return SendResult.permanent("gave up after the last attempt's outcome stayed unknown", "dead")
        return channel.send(message)
    except Exception as exc:  # an adapter's bug must not stop the batch; the send may have gone
        log.exception("sending message %s failed unexpectedly", claimed.id)
        return SendResult.unknown(f"{type(exc).__name__}: {exc}"[:500])


def _outcome_values(claimed: Claimed, result: SendResult, now: datetime) -> dict:
    values = {
        "b_id": claimed.id,
        "b_worker": None,
        "state": None,
        "provider_id": result.provider_id,
        "error_code": result.code,
        "last_error": (result.error or "")[:500] or None,
        "not_before": now,
        "sent_at": None,
        "updated_at": now,
    }
    if result.ok:
        values.update(state="sent", sent_at=now, error_code=None, last_error=None)
    elif result.outcome == "permanent":
        values["state"] = "dead" if result.code == "dead" else "failed"
    elif claimed.attempts >= MAX_ATTEMPTS:
        values["state"] = "dead"
    elif result.outcome == "unknown":
        values.update(state="unknown", not_before=now + RECONCILE_AFTER)
    else:
        wait = backoff(claimed.attempts)
        if result.retry_after:
            wait = max(wait, timedelta(seconds=result.retry_after))
        opens = next_send_time(window_of(claimed.policy), (now + wait).astimezone(ZoneInfo(claimed.timezone)))
        values.update(state="pending", not_before=opens)
    return values


def _recording_statement():
    table = Notification.__table__
    return (
        table.update()
        .where(
            table.c.id == bindparam("b_id"),
            table.c.claimed_by == bindparam("b_worker"),
            table.c.state == "sending",
        )
        .values(
            state=bindparam("state"),
            provider_id=func.coalesce(bindparam("provider_id"), table.c.provider_id),
            error_code=bindparam("error_code"),
            last_error=bindparam("last_error"),
            not_before=bindparam("not_before"),
            sent_at=bindparam("sent_at"),
            updated_at=bindparam("updated_at"),
            lease_until=None,
            claimed_by=None,
        )
    )


#: Built once: the recorder runs it a thousand times a minute, and building it costs more than its key.
RECORDING = _recording_statement()


def record(session: Session, worker: str, outcomes: list[tuple[Claimed, SendResult]], now: datetime) -> None:
    """Record outcomes of this worker's claims; a claim another worker has taken over is left alone."""
    rows = []
    for claimed, result in outcomes:
        values = _outcome_values(claimed, result, now)
        values["b_worker"] = worker
        rows.append(values)
    if rows:
        session.connection().execute(RECORDING, rows)
    stops = [{"phone": c.to, "source": "provider", "created_at": now} for c, r in outcomes if r.opted_out]
    insert_ignoring_conflicts(session.connection(), SmsOptOut.__table__, stops)


def dispatch(
    sessions: sessionmaker[Session],
    channels: Channels,
    now: datetime | None = None,
    *,
    worker: str | None = None,
    only_ids: Iterable[int] | None = None,
    max_messages: int | None = None,
) -> Counter:
    """Send what is due, batch after batch, until nothing is left; return counts by outcome.

    ``now`` fixes the time for tests and ``reminders tick --now``; by default each batch uses the
    current time. At most ``channels.config.dispatch_in_flight`` messages are in flight at once.
    """
    worker = worker or worker_name()
    totals: Counter = Counter()
    only = list(only_ids) if only_ids is not None else None
    recorder = Recorder(sessions, worker, now, channels.config.dispatch_in_flight)

    def claim_once() -> tuple[list[Claimed], Counter]:
        with unit_of_work(sessions) as session:
            return claim(session, now or now_utc(), worker, BATCH, only, channels.config.fixed_base_url)

    def next_batch() -> tuple[list[Claimed], Counter]:
        try:
            return claim_once()
        except DBAPIError as exc:
            # A connection that dropped is worth one more try on a new one. Had the claim committed
            # unbeknown to us, its messages wait for their lease like a dead worker's: none was sent.
            if not exc.connection_invalidated:
                raise
            log.warning("lost the database connection while claiming; trying again")
            return claim_once()

    # With a recorder thread, the next batch is claimed on a third connection while this one is sent
    # (claiming costs about as much as recording: overlapping them keeps the rate).
    claimer = ThreadPoolExecutor(1, thread_name_prefix=f"claims {worker}") if recorder.threaded else None
    try:
        upcoming = claimer.submit(next_batch) if claimer else None
        while max_messages is None or totals["claimed"] < max_messages:
            batch, settled = upcoming.result() if upcoming else next_batch()
            totals.update(settled)
            SMS_HELD.inc(settled["held"])  # the claim that held them has committed
            if not batch:
                break
            totals["claimed"] += len(batch)
            more = max_messages is None or totals["claimed"] < max_messages
            upcoming = claimer.submit(next_batch) if claimer and more else None
            for claimed in batch:
                recorder.acquire()
                result = send_one(claimed, channels)
                totals[result.outcome] += 1
                recorder.put(claimed, result)
    except BaseException:
        recorder.close(raise_error=False)
        raise
    finally:
        if claimer:
            claimer.shutdown()
    recorder.close()
    return totals


class Recorder:
    """Record outcomes as soon as the provider answers, keeping at most ``limit`` messages in flight.

    Threads of its own (:data:`RECORDERS` on PostgreSQL, one on SQLite), each on a connection of its
    own, commit whatever outcomes have arrived since their last commit; :meth:`acquire` (called
    before a message is handed to the provider) waits while ``limit`` messages are handed over and
    not yet recorded. When the sessions are bound to one
    connection rather than an engine (the tests' rolled-back transaction), a second thread cannot
    share it: each outcome is then recorded at once in the caller's thread, one in flight at a time.
    """

    def __init__(self, sessions: sessionmaker[Session], worker: str, now: datetime | None, limit: int):
        if limit < 1:
            raise ValueError("at least one message must be allowed in flight")
        self.sessions = sessions
        self.worker = worker
        self.now = now
        self.limit = limit
        #: Messages handed to the provider whose outcome is not committed yet.
        self.in_flight = 0
        self.error: BaseException | None = None
        self._arrived: list[tuple[Claimed, SendResult]] = []
        self._closing = False
        lock = threading.Lock()
        #: Signalled when outcomes arrive (recorders wait on it) and when slots free (the sender waits).
        self._arrival = threading.Condition(lock)
        self._freed = threading.Condition(lock)
        self._threads: list[threading.Thread] = []
        engine = _shareable_engine(sessions.kw.get("bind"))
        if engine is not None:
            count = RECORDERS if engine.dialect.name == "postgresql" else 1
            self._threads = [
                threading.Thread(target=self._run, name=f"outcomes {n} {worker}", daemon=True)
                for n in range(count)
            ]
            for thread in self._threads:
                thread.start()

    @property
    def threaded(self) -> bool:
        """Whether outcomes are recorded by threads on connections of their own."""
        return bool(self._threads)

    def acquire(self) -> None:
        """Wait until one more message may be in flight, and count it; raise if recording failed."""
        with self._freed:
            self._freed.wait_for(lambda: self.in_flight < self.limit or self.error is not None)
            if self.error is not None:
                raise self.error
            self.in_flight += 1

    def put(self, claimed: Claimed, result: SendResult) -> None:
        """Hand over the outcome of an acquired message to be recorded."""
        if not self._threads:
            try:
                _record_now(self.sessions, self.worker, [(claimed, result)], self.now)
            finally:
                self.in_flight -= 1
            return
        with self._arrival:
            self._arrived.append((claimed, result))
            self._arrival.notify()

    def close(self, raise_error: bool = True) -> None:
        """Record what has arrived and stop the threads; raise their error unless ``raise_error`` is false."""
        if self._threads:
            with self._arrival:
                self._closing = True
                self._arrival.notify_all()
            for thread in self._threads:
                thread.join()
        if raise_error and self.error is not None:
            raise self.error

    def _run(self) -> None:
        try:
            self._record_until_closed()
        except BaseException as exc:  # the sender raises it again at its next message, or at close
            with self._freed:
                self.error = exc
                self._freed.notify_all()

    def _record_until_closed(self) -> None:
        engine = _shareable_engine(self.sessions.kw["bind"])
        session: Session | None = None
        try:
            while True:
                with self._arrival:
                    self._arrival.wait_for(lambda: self._arrived or self._closing)
                    if not self._arrived:
                        return
                    outcomes, self._arrived = self._arrived, []
                for attempt in range(2):
                    session = session or _recording_session(engine)
                    try:
                        record(session, self.worker, outcomes, self.now or now_utc())
                        session.commit()
                        break
                    except DBAPIError as exc:
                        # A dropped connection (a restarted server, a proxy's idle timeout) is worth one
                        # more try on a new one: recording again is harmless, as it only changes rows
                        # this worker still holds in ``sending``.
                        _close(session)
                        session = None
                        if attempt or not exc.connection_invalidated:
                            raise
                        log.warning("lost the database connection while recording outcomes; trying again")
                with self._freed:
                    self.in_flight -= len(outcomes)
                    self._freed.notify()
        finally:
            if session is not None:
                _close(session)


def _recording_session(engine: Engine) -> Session:
    """Return a session on a connection of its own, for the recorder's thread."""
    options = {"sqlite_begin": "IMMEDIATE"} if engine.dialect.name == "sqlite" else {}
    session = Session(bind=engine.connect().execution_options(**options))
    allow_all_tenants(session)
    return session


def _close(session: Session) -> None:
    connection = session.bind
    session.close()
    connection.close()


def _shareable_engine(bind) -> Engine | None:
    """Return the engine behind ``bind`` if another thread may open a connection of its own on it."""
    if not isinstance(bind, Engine):
        return None
    if bind.dialect.name == "sqlite" and bind.url.database in (None, "", ":memory:"):
        return None  # each thread would see a database of its own
    return bind


def _record_now(sessions, worker: str, outcomes: list, now: datetime | None) -> None:
    with unit_of_work(sessions) as session:
        record(session, worker, outcomes, now or now_utc())


def release_expired_leases(session: Session, now: datetime) -> int:
    """Mark messages whose worker's lease ran out as ``unknown`` (to be reconciled); return how many."""
    n = Notification
    return session.execute(
        update(n)
        .where(n.state == "sending", n.lease_until < now)
        .values(state="unknown", claimed_by=None, lease_until=None, not_before=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
