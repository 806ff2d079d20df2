"""History events are shown in one order, whatever order their data was stored in."""

from service.web.templating import in_field_order


def test_fields_and_changes_are_shown_in_the_ledgers_column_order():
    # A bulk import stores them sorted by key; a single edit in the order it made them.
    stored = {"status": ["in_service", "sealed"], "location": ["一楼", "二楼"], "name": ["表", "压力表"]}
    assert [field for field, _ in in_field_order(stored)] == ["name", "location", "status"]


def test_unknown_fields_come_last_in_their_stored_order():
    stored = {"zeta": 1, "name": "表", "alpha": 2}
    assert in_field_order(stored) == [("name", "表"), ("zeta", 1), ("alpha", 2)]
