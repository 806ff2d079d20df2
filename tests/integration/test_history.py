import pytest
from sqlalchemy import delete, select, update

from models import Event, HistoryHead
from service.db import TenancyError
from service.history.chain import GENESIS_HASH, verify_chain
from tests.factories import make_instrument


def _count(db_session, org_id) -> int:
    return len(db_session.scalars(select(Event.id).where(Event.org_id == org_id)).all())


def test_chain_verifies(world, db_session):
    report = verify_chain(db_session, world.a.org.id)
    assert report.ok
    assert report.checked == _count(db_session, world.a.org.id) == 6  # three users, three instruments
    first = db_session.scalar(select(Event).where(Event.org_id == world.a.org.id, Event.seq == 1))
    assert first.prev_hash == GENESIS_HASH


def test_chains_are_per_organisation(world, db_session):
    seqs_a = db_session.scalars(
        select(Event.seq).where(Event.org_id == world.a.org.id).order_by(Event.seq)
    ).all()
    seqs_b = db_session.scalars(
        select(Event.seq).where(Event.org_id == world.b.org.id).order_by(Event.seq)
    ).all()
    assert seqs_a == seqs_b == [1, 2, 3, 4, 5, 6]


def _event(db_session, org_id, seq):
    return db_session.scalar(select(Event).where(Event.org_id == org_id, Event.seq == seq))


def test_altered_event_is_named(world, db_session):
    make_instrument(db_session, world.a.actor())
    db_session.commit()
    target = _event(db_session, world.a.org.id, 2)
    # Core UPDATE: what someone with database access could do; the ORM itself refuses (below).
    db_session.execute(update(Event).where(Event.id == target.id).values(actor_name="someone else"))
    db_session.commit()
    db_session.expire_all()
    report = verify_chain(db_session, world.a.org.id)
    assert not report.ok
    assert report.broken_seq == 2
    assert "altered" in report.reason
    assert verify_chain(db_session, world.b.org.id).ok


def test_removed_event_is_named(world, db_session):
    db_session.execute(delete(Event).where(Event.org_id == world.a.org.id, Event.seq == 2))
    db_session.commit()
    report = verify_chain(db_session, world.a.org.id)
    assert (report.ok, report.broken_seq) == (False, 2)
    assert "missing" in report.reason


def test_removed_last_event_is_named(world, db_session):
    last = _count(db_session, world.a.org.id)
    db_session.execute(delete(Event).where(Event.org_id == world.a.org.id, Event.seq == last))
    db_session.commit()
    report = verify_chain(db_session, world.a.org.id)
    assert (report.ok, report.broken_seq) == (False, last)


def test_rewritten_chain_tail_is_detected(world, db_session):
    # Rewriting an event's content and its own hash still breaks the link from its successor.
    target = _event(db_session, world.a.org.id, 1)
    db_session.execute(
        update(Event).where(Event.id == target.id).values(data={"forged": True}, hash="f" * 64)
    )
    db_session.commit()
    db_session.expire_all()
    report = verify_chain(db_session, world.a.org.id)
    assert report.broken_seq == 1


def test_orm_refuses_to_change_or_delete_events(world, db_session):
    event = _event(db_session, world.a.org.id, 1)
    event.kind = "instrument.forged"
    with pytest.raises(TenancyError):
        db_session.flush()
    db_session.rollback()
    event = _event(db_session, world.a.org.id, 1)
    db_session.delete(event)
    with pytest.raises(TenancyError):
        db_session.flush()
    db_session.rollback()


def test_head_tracks_the_tip(world, db_session):
    head = db_session.get(HistoryHead, world.a.org.id)
    count = _count(db_session, world.a.org.id)
    last = _event(db_session, world.a.org.id, count)
    assert (head.last_seq, head.last_hash) == (count, last.hash)
