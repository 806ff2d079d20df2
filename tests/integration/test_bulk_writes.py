"""Bulk writes: statements run in order (on SQLite on a second thread), failures reach the caller."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Date, DateTime, Integer, MetaData, Table, func, select, text, update
from sqlalchemy.exc import IntegrityError

from models import Event, HistoryHead, Instrument
from service.bulk import BulkWrites, EncodedJSON, bulk_writes, insert_ignoring_conflicts, insert_rows
from service.db import make_engine
from service.history.chain import append_events_in_bulk, lock_chain, verify_chain

EVENTS = Event.__table__
COLUMNS = ("org_id", "seq", "kind", "subject_type", "subject_id", "actor_id", "actor_name", "occurred_at")
COLUMNS += ("data", "prev_hash", "hash")


def _event(org_id: int, seq: int, occurred_at=None, data=None) -> dict:
    return {
        "org_id": org_id,
        "seq": seq,
        "kind": "test.bulk",
        "subject_type": "instrument",
        "subject_id": seq,
        "actor_id": None,
        "actor_name": None,
        "occurred_at": occurred_at or datetime.now(UTC),
        "data": {"n": seq} if data is None else data,
        "prev_hash": "0" * 64,
        "hash": f"{seq:064x}",
    }


def _run(db_session, statements) -> None:
    """Hand ``(what, rows or statement)`` to one bulk_writes in order; "fail" raises as a caller would."""
    with bulk_writes(db_session.connection()) as writes:
        for what, argument in statements:
            if what == "insert":
                writes.insert(EVENTS, COLUMNS, argument)
            elif what == "execute":
                writes.execute(argument, [{}])
            else:
                raise RuntimeError("the caller failed")


def _events_of(db_session, org_id: int, low: int):
    return db_session.scalars(
        select(Event).where(Event.org_id == org_id, Event.seq >= low).order_by(Event.seq)
    ).all()


def test_appending_thousands_of_events_in_bulk_keeps_the_chain(world, db_session):
    org_id = world.a.org.id
    head = lock_chain(db_session, org_id)
    start = head.last_seq
    entries = [("test.bulk", ("instrument", i), {"i": i, "name": f"压力表 {i}"}) for i in range(7_000)]
    with bulk_writes(db_session.connection()) as writes:
        appended = append_events_in_bulk(writes, head, entries, world.a.admin.id, world.a.admin.name)
    db_session.flush()

    assert appended == 7_000
    assert db_session.get(HistoryHead, org_id).last_seq == start + 7_000
    report = verify_chain(db_session, org_id)
    assert report.ok
    assert report.checked == start + 7_000
    last = _events_of(db_session, org_id, start + 7_000)[0]
    assert last.data == {"i": 6_999, "name": "压力表 6999"}
    assert last.actor_id == world.a.admin.id


def test_encoded_json_is_stored_as_it_is_and_values_as_sqlalchemy_converts_them(world, db_session):
    org_id = world.b.org.id
    shanghai = timezone(timedelta(hours=8))
    rows = [
        _event(org_id, 9001, datetime(2026, 1, 1, 8, 0, tzinfo=shanghai), EncodedJSON('{"a":[1,"一"]}')),
        _event(org_id, 9002, datetime(2026, 1, 1, 0, 0, tzinfo=UTC), {"a": [1, "一"]}),  # equal instant, UTC
    ]
    with bulk_writes(db_session.connection()) as writes:
        writes.insert(EVENTS, COLUMNS, rows)
    stored = _events_of(db_session, org_id, 9001)
    assert [e.data for e in stored] == [{"a": [1, "一"]}] * 2
    assert [e.occurred_at for e in stored] == [datetime(2026, 1, 1, 0, 0, tzinfo=UTC)] * 2


def test_a_failed_statement_reaches_the_caller_and_nothing_after_it_runs(world, db_session):
    org_id = world.b.org.id
    instrument = world.b.instruments[0]
    savepoint = db_session.begin_nested()
    moved = update(Instrument).where(Instrument.id == instrument.id).values(location="after the failure")
    statements = [
        ("insert", [_event(org_id, 9101)]),
        ("insert", [_event(org_id, 9102), _event(org_id, 9102)]),  # the same seq twice
        ("execute", moved),
    ]
    with pytest.raises(IntegrityError):
        _run(db_session, statements)
    if db_session.get_bind().dialect.name == "sqlite":  # PostgreSQL refuses any statement until rollback
        location = db_session.scalar(select(Instrument.location).where(Instrument.id == instrument.id))
        assert location != "after the failure"
    savepoint.rollback()
    assert not _events_of(db_session, org_id, 9101)
    assert db_session.scalar(select(func.count()).select_from(Event)) > 0  # the connection works again


def test_an_interrupted_wait_drops_the_statements_not_yet_run(monkeypatch):
    """Ctrl-C while the caller waits for the last statements: none may run after its rollback."""
    calls = []
    monkeypatch.setattr(BulkWrites, "finish", lambda self: calls.append("finish") or _interrupt())
    monkeypatch.setattr(BulkWrites, "abandon", lambda self: calls.append("abandon"))
    engine = make_engine("sqlite://")
    with engine.connect() as connection, pytest.raises(KeyboardInterrupt), bulk_writes(connection):
        pass
    assert calls == ["finish", "abandon"]


def _interrupt():
    raise KeyboardInterrupt


def test_an_in_memory_database_writes_in_the_callers_thread():
    """Its connection refuses other threads; the statements run at once instead."""
    table = Table("readings", MetaData(), Column("id", Integer, primary_key=True), Column("day", Date))
    engine = make_engine("sqlite://")
    table.metadata.create_all(engine)
    with engine.begin() as connection, bulk_writes(connection) as writes:
        assert writes._worker is None
        writes.insert(table, ("id", "day"), [{"id": i, "day": date(2026, 1, i)} for i in range(1, 6)])
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(table)) == 5


def test_equal_instants_in_other_zones_keep_their_own_wall_clock_where_the_column_has_no_zone():
    table = Table("clock", MetaData(), Column("id", Integer, primary_key=True), Column("at", DateTime))
    engine = make_engine("sqlite://")
    table.metadata.create_all(engine)
    shanghai = timezone(timedelta(hours=8))
    moments = [datetime(2026, 1, 1, 8, 0, tzinfo=shanghai), datetime(2026, 1, 1, 0, 0, tzinfo=UTC)]
    with engine.begin() as connection, bulk_writes(connection) as writes:
        writes.insert(table, ("id", "at"), [{"id": i, "at": at} for i, at in enumerate(moments)])
    with engine.connect() as connection:
        stored = connection.scalars(select(table.c.at).order_by(table.c.id)).all()
    assert [at.hour for at in stored] == [8, 0]  # as SQLAlchemy stores each on its own


def test_an_error_of_the_caller_drops_the_statements_not_yet_run(world, db_session):
    org_id = world.b.org.id
    savepoint = db_session.begin_nested()
    statements = [("insert", [_event(org_id, seq)]) for seq in range(9201, 9221)]
    with pytest.raises(RuntimeError, match="caller"):
        _run(db_session, [*statements, ("fail", None)])
    savepoint.rollback()
    assert not _events_of(db_session, org_id, 9201)
    assert db_session.scalar(select(func.max(Event.seq))) > 0  # the connection is the session's again


def test_rows_inserted_ignoring_conflicts_read_back_as_sqlalchemy_writes_them(world, db_session):
    # On PostgreSQL several rows go as one JSON parameter (json_populate_recordset); one row goes
    # through SQLAlchemy's own INSERT. Both must store the same values, and a repeated key adds nothing.
    from models import Notification
    from service.bulk import insert_ignoring_conflicts
    from tests.reminders import DAY, at

    def row(key: str, **changes) -> dict:
        return {
            "org_id": world.a.org.id,
            "kind": "due_digest",
            "channel": "email",
            "recipient_user_id": world.a.metrology.id,
            "to_address": "张工 <zhang@example.com>",
            "locale": "zh_Hans_CN",
            "subject": '到期提醒 "引号" \\ 反斜杠',
            "body": "第一行\n第二行\t制表",
            "html": None,
            "idempotency_key": key,
            "local_day": DAY,
            "state": "pending",
            "attempts": 0,
            "not_before": at(DAY, 9, 30),
            "is_ceiling_exempt": False,
            "summary": {"instruments": 2, "words": ["压力表", None, 1.5]},
            "created_at": datetime(2026, 12, 1, 1, 2, 3, 456789, tzinfo=UTC),
            "sent_at": None,
            "updated_at": at(DAY, 8),
        } | changes

    table = Notification.__table__
    connection = db_session.connection()
    first = insert_ignoring_conflicts(connection, table, [row("one")], returning=("idempotency_key",))
    assert first == [("one",)]
    many = [row("two"), row("three", summary={}, html="<p>x</p>"), row("one")]
    inserted = insert_ignoring_conflicts(connection, table, many, returning=("idempotency_key",))
    assert sorted(key for (key,) in inserted) == ["three", "two"]
    stored = {
        n.idempotency_key: n
        for n in db_session.scalars(select(Notification).where(Notification.org_id == world.a.org.id))
    }
    one, two, three = stored["one"], stored["two"], stored["three"]
    columns = [c.name for c in table.columns if c.name not in ("id", "idempotency_key")]
    assert {c: getattr(two, c) for c in columns} == {c: getattr(one, c) for c in columns}
    assert three.summary == {}
    assert three.html == "<p>x</p>"
    assert two.not_before == at(DAY, 9, 30)
    assert two.created_at == datetime(2026, 12, 1, 1, 2, 3, 456789, tzinfo=UTC)


def test_foreign_key_checks_of_bulk_writes_are_planned_once_and_the_callers_planning_comes_back(db_session):
    """PostgreSQL plans a foreign key's check again for every row under force_custom_plan.

    A trigger on the written table notes the setting each row is checked under: the server's
    default (a check planned once) for COPY and the JSON recordset alike, and the engine's own
    setting again for the statements after them.
    """
    connection = db_session.connection()
    if connection.dialect.name != "postgresql":
        pytest.skip("plan_cache_mode and foreign-key checks run as statements are PostgreSQL's")
    assert connection.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
    connection.exec_driver_sql("CREATE TEMPORARY TABLE bulk_parent (id integer PRIMARY KEY)")
    connection.exec_driver_sql(
        "CREATE TEMPORARY TABLE bulk_child (id integer PRIMARY KEY, parent_id integer REFERENCES bulk_parent)"
    )
    connection.exec_driver_sql("CREATE TEMPORARY TABLE bulk_seen (mode text)")
    connection.exec_driver_sql(
        "CREATE FUNCTION pg_temp.note_planning() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO bulk_seen VALUES (current_setting('plan_cache_mode')); RETURN NEW; END $$"
    )
    connection.exec_driver_sql(
        "CREATE TRIGGER note_planning BEFORE INSERT ON bulk_child "
        "FOR EACH ROW EXECUTE FUNCTION pg_temp.note_planning()"
    )
    connection.exec_driver_sql("INSERT INTO bulk_parent SELECT generate_series(1, 3)")
    child = Table(
        "bulk_child", MetaData(), Column("id", Integer, primary_key=True), Column("parent_id", Integer)
    )

    insert_rows(
        connection, child, ("id", "parent_id"), [{"id": i, "parent_id": 1 + i % 3} for i in range(10)]
    )
    insert_ignoring_conflicts(connection, child, [{"id": i, "parent_id": 2} for i in range(5, 15)])
    seen = connection.scalars(text("SELECT mode FROM bulk_seen")).all()

    assert seen == ["auto"] * 20
    assert connection.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
    assert connection.scalar(text("SELECT count(*) FROM bulk_child")) == 15
    db_session.rollback()
