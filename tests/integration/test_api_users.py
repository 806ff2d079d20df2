"""The users and invitations resources of the API."""

from __future__ import annotations

import re

import pytest

from models import Invitation, User
from tests.api import API, assert_refused, fresh, patched, snapshot


def test_users_list_get_and_update(client, db_session, world, headers):
    response = client.get(f"{API}/users", headers=headers["viewer"])
    assert response.status_code == 200
    ids = {u["id"] for u in response.json["items"]}
    assert ids == {world.a.admin.id, world.a.metrology.id, world.a.viewer.id}
    assert all("password_hash" not in u for u in response.json["items"])

    response = client.get(f"{API}/users/{world.a.viewer.id}", headers=headers["metrology"])
    assert response.status_code == 200
    assert response.json["email"] == world.a.viewer.email

    path = f"{API}/users/{world.a.viewer.id}"
    changed = patched(client, path, {"role": "metrology", "mobile": "+86 139-0000-1111"}, headers["admin"])
    assert changed["role"] == "metrology"
    assert changed["mobile"] == "13900001111"
    assert changed["name"] == world.a.viewer.name
    user = fresh(db_session, User, world.a.viewer.id)
    assert (user.role, user.mobile) == ("metrology", "13900001111")

    patched(client, path, {"is_active": False}, headers["admin"])
    assert fresh(db_session, User, world.a.viewer.id).is_active is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mobile": "12345"}, "mobile"),
        ({"role": "owner"}, "role"),
        ({"role": "staff"}, "role"),  # an institute role in a firm
        ({"name": "x" * 101}, "name"),
        ({"email": "new@example.com"}, "email"),
        ({"is_active": "maybe"}, "is_active"),
    ],
)
def test_user_update_bad_input(client, db_session, world, headers, body, field):
    path = f"{API}/users/{world.a.metrology.id}"
    assert_refused(client, db_session, "PATCH", path, body, headers["admin"], field)


def test_admins_cannot_lock_themselves_out(client, db_session, world, headers):
    before = snapshot(db_session)
    response = client.patch(
        f"{API}/users/{world.a.admin.id}", json={"role": "viewer"}, headers=headers["admin"]
    )
    assert response.status_code == 409
    assert snapshot(db_session) == before


def test_invitation_is_emailed_and_its_token_not_returned(client, db_session, world, headers, outbox):
    response = client.post(
        f"{API}/invitations",
        json={"email": "New.Person@Example.com", "role": "viewer"},
        headers=headers["admin"],
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert set(body) == {"id", "email", "role", "created_at", "expires_at", "email_sent"}
    assert body["email_sent"] is True
    assert body["email"] == "new.person@example.com"
    invitation = fresh(db_session, Invitation, body["id"])
    assert invitation.org_id == world.a.org.id
    [message] = [m for m in outbox.messages() if m["to"] == "new.person@example.com"]
    link = re.search(r"/invitations?/[^\s\"<]+", message["body"])
    assert link is not None
    assert link.group(0).rsplit("/", 1)[-1] not in response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "role": "viewer"}, "email"),
        ({"email": "x@example.com", "role": "technician"}, "role"),
        ({"email": "x@example.com", "role": "viewer", "name": "X"}, "name"),
        ({"role": "viewer"}, "email"),
    ],
)
def test_invitation_bad_input(client, db_session, world, headers, outbox, body, field):
    assert_refused(client, db_session, "POST", f"{API}/invitations", body, headers["admin"], field)
    assert outbox.messages() == []


def test_invitation_for_an_existing_user_is_refused(client, db_session, world, headers):
    response = client.post(
        f"{API}/invitations", json={"email": world.a.viewer.email, "role": "viewer"}, headers=headers["admin"]
    )
    assert response.status_code == 400
    assert "email" in response.json["errors"]
    # Another firm's user is not discoverable: answered as any address (issue #16).
    response = client.post(
        f"{API}/invitations", json={"email": world.b.viewer.email, "role": "viewer"}, headers=headers["admin"]
    )
    assert response.status_code == 201
