"""The dispatcher's bound on messages in flight, in one process on a database of its own.

*In flight* means handed to the provider with the outcome not yet committed. The dispatcher records
outcomes from a thread of its own and hands a message over only while fewer than
``dispatch_in_flight`` are in flight. These tests stall the recording and count what the provider
receives meanwhile.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from models import Notification
from notifications import SendResult
from service.config import Config
from service.db import unit_of_work
from service.reminders.channels import Channels
from service.reminders.dispatch import dispatch
from tests.conftest import TEST_DATABASE_URL
from tests.integration.test_postgres_concurrency import committed_world  # noqa: F401 (fixture)
from tests.reminders import DAY, at, make_notification

#: How long the stalling provider keeps the outcomes from being recorded.
STALL_SECONDS = 1.0


class StallingProvider:
    """Accept every message; at the first, keep outcomes from being recorded for a moment.

    It takes a lock that recording needs (PostgreSQL: the claimed rows, ``FOR UPDATE``; SQLite: the
    write lock) for ``STALL_SECONDS`` and counts the messages handed over while it holds it.
    """

    def __init__(self, engine):
        self.engine = engine
        self.handed: list[str] = []
        self.while_stalled = 0
        self.stalled = False

    def send(self, message) -> SendResult:
        if not self.handed:
            self._stall()
        self.handed.append(message.idempotency_key)
        if self.stalled:
            self.while_stalled += 1
        return SendResult.sent(f"stalling-{len(self.handed)}")

    def _stall(self) -> None:
        connection = self.engine.connect().execution_options(sqlite_begin="IMMEDIATE")
        connection.begin()
        if self.engine.dialect.name == "postgresql":
            connection.execute(text("SELECT id FROM notifications WHERE state = 'sending' FOR UPDATE"))
        self.stalled = True

        def release() -> None:
            self.stalled = False
            connection.rollback()
            connection.close()

        threading.Timer(STALL_SECONDS, release).start()


class TroublingProvider:
    """Accept every message; at the ``at``-th, cause trouble in the database with ``statement``."""

    def __init__(self, engine, at: int, statement: str):
        self.engine = engine
        self.at = at
        self.statement = statement
        self.handed: list[str] = []

    def send(self, message) -> SendResult:
        self.handed.append(message.idempotency_key)
        if len(self.handed) == self.at:
            with self.engine.begin() as connection:
                connection.exec_driver_sql(self.statement)
        return SendResult.sent(f"troubling-{len(self.handed)}")


#: Make recording a sent message fail from now on, as a broken recorder would.
REFUSE_SENT = {
    "postgresql": "ALTER TABLE notifications ADD CONSTRAINT ck_refuse_sent CHECK (state <> 'sent') NOT VALID",
    "sqlite": "CREATE TRIGGER refuse_sent BEFORE UPDATE ON notifications WHEN NEW.state = 'sent'"
    " BEGIN SELECT RAISE(ABORT, 'refused'); END",
}
#: End every other connection to the database, as a restarted server or a proxy's timeout would.
DISCONNECT = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


def _queue_emails(sessions, world, per_user: int = 8) -> None:
    with unit_of_work(sessions) as session:
        for user in (world.a.admin, world.a.metrology, world.a.viewer):
            for _ in range(per_user):
                make_notification(session, session.merge(user))


def _outbox(sessions) -> list[Notification]:
    with unit_of_work(sessions) as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def _channels(provider, in_flight: int) -> Channels:
    config = Config(secret_key="test-secret", dispatch_in_flight=in_flight)
    return Channels(config, overrides={"email": provider, "sms": provider})


@pytest.mark.parametrize("in_flight", [1, 3, 10])
def test_no_more_than_the_setting_is_handed_over_while_recording_stalls(committed_world, in_flight):  # noqa: F811
    sessions, world = committed_world
    _queue_emails(sessions, world)
    provider = StallingProvider(sessions.kw["bind"])
    totals = dispatch(sessions, _channels(provider, in_flight), at(DAY, 10))
    # The provider got exactly the bound while no outcome could be recorded, and the rest after.
    assert provider.while_stalled == in_flight
    outbox = _outbox(sessions)
    assert totals["sent"] == len(outbox) == len(provider.handed) == 24
    assert sorted(provider.handed) == sorted(m.idempotency_key for m in outbox)
    assert {m.state for m in outbox} == {"sent"}


def test_a_failing_recorder_stops_the_dispatcher_within_the_bound(committed_world):  # noqa: F811
    sessions, world = committed_world
    _queue_emails(sessions, world)
    engine = sessions.kw["bind"]
    provider = TroublingProvider(engine, 6, REFUSE_SENT[engine.dialect.name])
    failure: list[BaseException] = []

    def run() -> None:
        try:
            dispatch(sessions, _channels(provider, 3), at(DAY, 10))
        except BaseException as exc:  # noqa: BLE001 - asserted below
            failure.append(exc)

    dispatcher = threading.Thread(target=run)
    dispatcher.start()
    dispatcher.join(timeout=60)
    assert not dispatcher.is_alive(), "the dispatcher hung after its recorder failed"
    assert [type(exc) for exc in failure] == [IntegrityError], failure
    outbox = _outbox(sessions)
    recorded = {m.idempotency_key for m in outbox if m.state == "sent"}
    # It stopped handing messages over: no more went out than were recorded, plus the bound.
    assert recorded < set(provider.handed)
    assert 6 <= len(provider.handed) <= len(recorded) + 3
    # What was handed over and not recorded waits, claimed, for its lease to run out.
    assert {m.state for m in outbox if m.idempotency_key not in recorded} == {"sending"}


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="ends the connections from the server's side")
def test_outcomes_are_recorded_again_on_a_new_connection_when_the_old_one_drops(committed_world):  # noqa: F811
    sessions, world = committed_world
    _queue_emails(sessions, world)
    provider = TroublingProvider(sessions.kw["bind"], 6, DISCONNECT)
    totals = dispatch(sessions, _channels(provider, 3), at(DAY, 10))
    outbox = _outbox(sessions)
    assert totals["sent"] == len(outbox) == len(provider.handed) == 24
    assert sorted(provider.handed) == sorted(m.idempotency_key for m in outbox)
    assert {m.state for m in outbox} == {"sent"}
