"""Concurrent writers on PostgreSQL: no deadlock, no fork of the hash chain."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from models import Base, LedgerImport
from service.clock import today_in
from service.db import make_engine, make_session_factory, unit_of_work
from service.history.chain import verify_chain
from service.ledger import operations
from service.ledger_io import operations as import_ops
from service.ledger_io import runner as import_runner
from tests.conftest import TEST_DATABASE_URL
from tests.factories import World

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="row locks and deadlocks need PostgreSQL")


@pytest.fixture
def committed_world(tmp_path):
    """A world committed for real in a database of its own, so that two connections see it.

    On PostgreSQL a database made for the test; without ``TEST_DATABASE_URL``, a SQLite file (for
    the tests of other modules that run on both).
    """
    if not TEST_DATABASE_URL:
        engine = make_engine(f"sqlite:///{tmp_path / 'committed.sqlite3'}")
        Base.metadata.create_all(engine)
        sessions = make_session_factory(engine)
        with unit_of_work(sessions) as session:
            world = World.build(session)
        yield sessions, world
        engine.dispose()
        return
    name = f"calrecall_conc_{uuid.uuid4().hex[:8]}"
    url = make_url(TEST_DATABASE_URL)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(url.set(database=name).render_as_string(hide_password=False))
    Base.metadata.create_all(engine)
    sessions = make_session_factory(engine)
    with unit_of_work(sessions) as session:
        world = World.build(session)
    yield sessions, world
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_bulk_edits_in_opposite_orders_do_not_deadlock(committed_world):
    sessions, world = committed_world
    first, second = (i.id for i in world.a.instruments[:2])
    actor, today = world.a.actor(), today_in("Asia/Shanghai")
    errors: list[Exception] = []
    start = threading.Barrier(2)

    def edit(order: list[int], rounds: int = 15) -> None:
        start.wait()
        for n in range(rounds):
            try:
                with unit_of_work(sessions, actor.org_id) as session:
                    operations.bulk_edit(session, actor, order, {"interval_months": str(n % 12 + 1)}, today)
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=edit, args=(order,)) for order in ([first, second], [second, first])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with unit_of_work(sessions) as session:
        report = verify_chain(session, world.a.org.id)
    assert report.ok


def test_concurrent_import_workers_run_each_job_exactly_once(committed_world):
    """Four workers sweep the same queue: every upload is checked once, its claim never shared."""
    sessions, world = committed_world
    actor = world.a.actor("admin")
    with unit_of_work(sessions) as session:
        ids = [
            import_ops.upload(session, actor, f"管理编号,器具名称\nC-{n},压力表\n".encode(), f"{n}.csv").id
            for n in range(8)
        ]
    start, claims, errors = threading.Barrier(4), [], []
    original = import_runner.claim

    def recording_claim(session, now, import_id=None):
        held = original(session, now, import_id)
        if held is not None:
            claims.append(held)
        return held

    def worker() -> None:
        start.wait()
        try:
            import_runner.run_pending_imports(sessions)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    import_runner.claim = recording_claim
    try:
        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        import_runner.claim = original
    assert errors == []
    assert sorted(c.import_id for c in claims) == ids  # each job claimed once
    with unit_of_work(sessions) as session:
        jobs = [session.get(LedgerImport, i) for i in ids]
        assert {(j.state, j.attempts, j.report["created"]) for j in jobs} == {("done", 1, 1)}
