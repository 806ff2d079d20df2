"""Status requests (maker-checker) through the API."""

from __future__ import annotations

import pytest

from models import Instrument
from service.ledger import operations as ledger_ops
from tests.api import API, events_of, fresh, snapshot
from tests.factories import make_user


def _ask(client, instrument, action: str, reason: str, headers: dict) -> dict:
    """Ask through the API to change ``instrument``'s status; assert the request was taken and return it."""
    response = client.post(
        f"{API}/instruments/{instrument.id}/status-requests",
        json={"action": action, "reason": reason},
        headers=headers,
    )
    assert response.status_code == 201, response.json
    return response.json


def test_approved_suspension_changes_status_label_and_history(client, db_session, world, headers):
    instrument = world.a.instruments[0]
    asked = _ask(client, instrument, "suspend", "示值超差", headers["metrology"])
    request_id = asked["id"]
    assert asked["state"] == "pending"
    assert asked["requested_by_id"] == world.a.metrology.id
    assert asked["management_no"] == instrument.management_no
    assert fresh(db_session, Instrument, instrument.id).status == "in_service"

    listed = client.get(f"{API}/status-requests", headers=headers["viewer"]).json["items"]
    assert [r["id"] for r in listed] == [request_id]
    per_instrument = client.get(
        f"{API}/instruments/{instrument.id}/status-requests", headers=headers["viewer"]
    )
    assert [r["id"] for r in per_instrument.json["items"]] == [request_id]

    # The requester holds no decision right; nothing changes.
    before = snapshot(db_session)
    assert (
        client.post(f"{API}/status-requests/{request_id}/approve", headers=headers["metrology"]).status_code
        == 403
    )
    assert snapshot(db_session) == before

    response = client.post(
        f"{API}/status-requests/{request_id}/approve", json={"reason": "同意"}, headers=headers["admin"]
    )
    assert response.status_code == 200, response.json
    assert response.json["state"] == "approved"
    assert response.json["decided_by_id"] == world.a.admin.id
    assert response.json["decided_by_name"] == world.a.admin.name

    shown = client.get(f"{API}/instruments/{instrument.id}", headers=headers["viewer"]).json
    assert (shown["status"], shown["label"]) == ("suspended", "red")
    kinds = [
        e["kind"]
        for e in client.get(f"{API}/instruments/{instrument.id}/history", headers=headers["viewer"]).json[
            "items"
        ]
    ]
    assert kinds[:2] == ["status.approved", "status.requested"]

    assert client.get(f"{API}/status-requests", headers=headers["viewer"]).json["items"] == []
    approved = client.get(
        f"{API}/status-requests", query_string={"state": "approved"}, headers=headers["viewer"]
    )
    assert [r["id"] for r in approved.json["items"]] == [request_id]
    everything = client.get(
        f"{API}/status-requests", query_string={"state": "all"}, headers=headers["viewer"]
    )
    assert [r["id"] for r in everything.json["items"]] == [request_id]

    # Deciding twice is a conflict.
    assert (
        client.post(
            f"{API}/status-requests/{request_id}/reject", json={"reason": "x"}, headers=headers["admin"]
        ).status_code
        == 409
    )


def test_the_requester_cannot_approve_their_own_request(client, db_session, world, headers):
    make_user(db_session, world.a.org, "admin")  # a second administrator exists to decide
    db_session.commit()
    instrument = world.a.instruments[0]
    request_id = _ask(client, instrument, "scrap", "报废", headers["admin"])["id"]
    before = snapshot(db_session)
    response = client.post(f"{API}/status-requests/{request_id}/approve", headers=headers["admin"])
    assert response.status_code == 403
    assert response.json["message"]
    assert snapshot(db_session) == before
    assert fresh(db_session, Instrument, instrument.id).status == "in_service"


def test_a_sole_admin_decides_their_own_request_and_the_history_says_so(client, db_session, world, headers):
    instrument = world.a.instruments[0]
    request_id = _ask(client, instrument, "seal", "长期不用", headers["admin"])["id"]
    response = client.post(f"{API}/status-requests/{request_id}/approve", headers=headers["admin"])
    assert response.status_code == 200
    assert fresh(db_session, Instrument, instrument.id).status == "sealed"
    history = client.get(f"{API}/instruments/{instrument.id}/history", headers=headers["admin"]).json["items"]
    approved = next(e for e in history if e["kind"] == "status.approved")
    assert approved["data"]["sole_admin"] is True


def test_reject_needs_a_reason_and_withdraw_is_the_requesters(client, db_session, world, headers):
    first, second = world.a.instruments[:2]
    made = ledger_ops.request_status_change(db_session, world.a.actor(), first.id, "seal", "封存")
    other = ledger_ops.request_status_change(db_session, world.a.actor(), second.id, "suspend", "停用")
    db_session.commit()

    before = snapshot(db_session)
    for body in ({}, {"reason": "  "}, {"reason": "x" * 1001}):
        response = client.post(f"{API}/status-requests/{made.id}/reject", json=body, headers=headers["admin"])
        assert response.status_code == 400
        assert "reason" in response.json["errors"]
    response = client.post(
        f"{API}/status-requests/{made.id}/reject", json={"why": "x"}, headers=headers["admin"]
    )
    assert response.status_code == 400
    assert "why" in response.json["errors"]
    assert snapshot(db_session) == before

    response = client.post(
        f"{API}/status-requests/{made.id}/reject", json={"reason": "不需要"}, headers=headers["admin"]
    )
    assert response.status_code == 200
    assert (response.json["state"], response.json["decision_reason"]) == ("rejected", "不需要")
    assert fresh(db_session, Instrument, first.id).status == "in_service"
    assert events_of(db_session, first.id)[-1] == "status.rejected"

    assert (
        client.post(f"{API}/status-requests/{other.id}/withdraw", headers=headers["admin"]).status_code == 403
    )
    response = client.post(f"{API}/status-requests/{other.id}/withdraw", headers=headers["metrology"])
    assert response.status_code == 200
    assert response.json["state"] == "withdrawn"
    assert events_of(db_session, second.id)[-1] == "status.withdrawn"
    withdrawn = client.get(
        f"{API}/status-requests", query_string={"state": "withdrawn"}, headers=headers["viewer"]
    )
    assert [r["id"] for r in withdrawn.json["items"]] == [other.id]


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"action": "explode", "reason": "x"}, "action", 400),
        ({"reason": "x"}, "action", 400),
        ({"action": "suspend"}, "reason", 400),
        ({"action": "suspend", "reason": "x" * 1001}, "reason", 400),
        ({"action": "suspend", "reason": "x", "urgent": True}, "urgent", 400),
        ({"action": "replace", "reason": "x"}, "replacement_id", 400),
        ({"action": "replace", "reason": "x", "replacement_id": "two"}, "replacement_id", 400),
        ({"action": "resume", "reason": "x"}, None, 409),  # it is not suspended
    ],
)
def test_status_request_bad_input(client, db_session, world, headers, body, field, status):
    before = snapshot(db_session)
    response = client.post(
        f"{API}/instruments/{world.a.instruments[0].id}/status-requests",
        json=body,
        headers=headers["metrology"],
    )
    assert response.status_code == status, response.json
    assert response.json["message"]
    if field:
        assert field in response.json["errors"]
    assert snapshot(db_session) == before


def test_replacement_request(client, db_session, world, headers):
    old, new = world.a.instruments[:2]
    response = client.post(
        f"{API}/instruments/{old.id}/status-requests",
        json={"action": "replace", "reason": "换新", "replacement_id": new.id},
        headers=headers["metrology"],
    )
    assert response.status_code == 201, response.json
    assert response.json["replacement_id"] == new.id
    response = client.post(f"{API}/status-requests/{response.json['id']}/approve", headers=headers["admin"])
    assert response.status_code == 200
    replaced = client.get(f"{API}/instruments/{old.id}", headers=headers["viewer"]).json
    assert (replaced["status"], replaced["replaced_by_id"]) == ("scrapped", new.id)


def test_status_request_list_bad_state(client, world, headers):
    response = client.get(f"{API}/status-requests", query_string={"state": "lost"}, headers=headers["viewer"])
    assert response.status_code == 400
    assert "state" in response.json["errors"]
