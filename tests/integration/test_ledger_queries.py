"""The ledger's SQL agrees with its Python rules, on SQLite and PostgreSQL."""

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import Instrument
from models.ledger import CONCLUSIONS, STATUSES
from service.clock import today_in
from service.ledger import queries
from tests.factories import make_instrument


@pytest.fixture
def grid(world, db_session):
    """One instrument for every status × conclusion × due date (past, today, future, none)."""
    today = today_in("Asia/Shanghai")
    dues = [today - timedelta(days=1), today, today + timedelta(days=1), None]
    actor = world.a.actor()
    for n, (status, conclusion, due) in enumerate(itertools.product(STATUSES, (*CONCLUSIONS, None), dues)):
        make_instrument(
            db_session,
            actor,
            management_no=f"G-{n:03d}",
            status=status,
            conclusion=conclusion,
            valid_until=due.isoformat() if due else None,
            last_done_on=None,
        )
    db_session.commit()
    return today


@pytest.mark.parametrize("label", ["green", "yellow", "red"])
def test_label_predicate_matches_the_python_rule(grid, world, db_session, label):
    today = grid
    rows = db_session.scalars(select(Instrument).where(Instrument.org_id == world.a.org.id)).all()
    expected = {i.id for i in rows if i.label(today) == label}
    found = set(
        db_session.scalars(
            select(Instrument.id).where(
                Instrument.org_id == world.a.org.id, Instrument.label_is(label, today)
            )
        )
    )
    assert found == expected
    assert expected  # every label occurs in the grid


def _python_order(rows, sort):
    field, descending = sort.lstrip("-"), sort.startswith("-")
    dated = sorted(
        (r for r in rows if getattr(r, field) is not None), key=lambda r: (getattr(r, field), r.id)
    )
    undated = sorted((r for r in rows if getattr(r, field) is None), key=lambda r: r.id)
    if descending:
        return list(reversed(undated)) + list(reversed(dated))
    return dated + undated


@pytest.mark.parametrize("sort", ["next_due_on", "-next_due_on", "management_no", "-name"])
@pytest.mark.parametrize("limit", [1, 7, 500])
def test_keyset_walk_equals_a_plain_sort(grid, world, db_session, sort, limit):
    actor = world.a.actor()
    rows = db_session.scalars(select(Instrument).where(Instrument.org_id == world.a.org.id)).all()
    walked, cursor = [], None
    while True:
        page = queries.list_instruments(
            db_session, actor, {"sort": sort, "limit": limit, "cursor": cursor}, grid
        )
        walked += [i.id for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert walked == [r.id for r in _python_order(rows, sort)]


@pytest.mark.parametrize("sort", ["next_due_on", "-next_due_on", "management_no", "-name", "-updated_at"])
@pytest.mark.parametrize("limit", [1, 7, 50])
def test_each_pages_previous_cursor_opens_the_page_before_it(grid, world, db_session, sort, limit):
    actor = world.a.actor()
    pages, cursor = [], None
    while True:
        page = queries.list_instruments(
            db_session, actor, {"sort": sort, "limit": limit, "cursor": cursor}, grid
        )
        pages.append((cursor, page))
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages[0][1].prev_cursor is None  # the first page has none
    for (earlier_cursor, earlier), (_cursor, page) in itertools.pairwise(pages):
        assert page.prev_cursor == (earlier_cursor or "")
        again = queries.list_instruments(
            db_session, actor, {"sort": sort, "limit": limit, "cursor": page.prev_cursor or None}, grid
        )
        assert [i.id for i in again.items] == [i.id for i in earlier.items]


def test_the_total_counts_the_filtered_ledger_up_to_a_cap(grid, world, db_session):
    actor = world.a.actor()
    everything = len(
        db_session.scalars(select(Instrument.id).where(Instrument.org_id == world.a.org.id)).all()
    )
    assert queries.count_instruments(db_session, actor, {}, grid) == (everything, False)
    assert queries.count_instruments(db_session, actor, {}, grid, cap=5) == (5, True)
    suspended = queries.count_instruments(db_session, actor, {"status": "suspended"}, grid)
    assert suspended == (
        len(queries.list_instruments(db_session, actor, {"status": "suspended"}, grid).items),
        False,
    )
