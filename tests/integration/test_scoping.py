"""get_in_org: the actor's own object, from the identity map when loaded; never another tenant's."""

import pytest
from sqlalchemy import event

from models import Instrument
from service.errors import NotFound
from service.scoping import get_in_org
from tests.factories import make_instrument


def test_an_object_already_loaded_costs_no_query_and_a_foreign_one_is_refused(db_session, world):
    mine = make_instrument(db_session, world.a.actor(), management_no="OWN-1")
    theirs = make_instrument(db_session, world.b.actor(), management_no="FOREIGN-1")
    db_session.commit()
    # Both are loaded in the identity map now (this test's session is not scoped to a tenant).
    assert (mine.management_no, theirs.management_no) == ("OWN-1", "FOREIGN-1")
    statements = []

    def count(connection, cursor, statement, *args):
        statements.append(statement)

    event.listen(db_session.get_bind(), "before_cursor_execute", count)
    try:
        assert get_in_org(db_session, Instrument, mine.id, world.a.actor()) is mine
        assert statements == []
        with pytest.raises(NotFound):
            get_in_org(db_session, Instrument, theirs.id, world.a.actor())
        db_session.expunge_all()
        with pytest.raises(NotFound):
            get_in_org(db_session, Instrument, theirs.id, world.a.actor())
        with pytest.raises(NotFound):
            get_in_org(db_session, Instrument, 2**31, world.a.actor())
    finally:
        event.remove(db_session.get_bind(), "before_cursor_execute", count)
