from datetime import date

import pytest

from models import Instrument
from service.ledger import status as lifecycle

TODAY = date(2026, 11, 24)


@pytest.mark.parametrize(
    ("status", "conclusion", "due", "label"),
    [
        ("in_service", "pass", date(2027, 1, 1), "green"),
        ("in_service", None, None, "green"),
        ("in_service", "limited", date(2027, 1, 1), "yellow"),
        ("in_service", "fail", date(2027, 1, 1), "red"),
        ("in_service", "pass", date(2026, 11, 23), "red"),  # past due
        ("in_service", "pass", TODAY, "green"),  # due today is not yet past due
        ("in_service", "limited", date(2026, 1, 1), "red"),  # past due beats limited
        ("suspended", "pass", date(2027, 1, 1), "red"),
        ("sealed", "pass", date(2027, 1, 1), "red"),
        ("under_repair", "pass", date(2027, 1, 1), "red"),
        ("out_for_calibration", "pass", date(2027, 1, 1), "green"),
    ],
)
def test_label(status, conclusion, due, label):
    assert Instrument(status=status, conclusion=conclusion, next_due_on=due).label(TODAY) == label


def test_overdue_only_for_instruments_still_in_use():
    assert Instrument(status="in_service", next_due_on=date(2026, 1, 1)).is_overdue(TODAY)
    assert not Instrument(status="sealed", next_due_on=date(2026, 1, 1)).is_overdue(TODAY)
    assert not Instrument(status="in_service", next_due_on=None).is_overdue(TODAY)


def test_direct_changes_never_reach_states_that_need_approval():
    for source, targets in lifecycle.DIRECT_TRANSITIONS.items():
        assert not targets & {"suspended", "sealed", "scrapped"}, source
    assert lifecycle.is_direct_change("in_service", "out_for_calibration")
    assert not lifecycle.is_direct_change("suspended", "in_service")
    assert not lifecycle.is_direct_change("in_service", "scrapped")


@pytest.mark.parametrize(
    ("action", "status", "allowed"),
    [
        ("suspend", "in_service", True),
        ("suspend", "suspended", False),
        ("resume", "suspended", True),
        ("resume", "in_service", False),
        ("unseal", "sealed", True),
        ("seal", "sealed", False),
        ("scrap", "scrapped", False),
        ("replace", "under_repair", True),
    ],
)
def test_actions(action, status, allowed):
    assert lifecycle.action_allowed(action, status) is allowed


def test_actions_for_lists_what_applies():
    assert lifecycle.actions_for("sealed") == ["unseal", "replace", "scrap"]
    assert lifecycle.actions_for("scrapped") == []
