"""The JSON API under /api/v1: tokens, every resource, input errors, roles, tenancy and OpenAPI."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from models import (
    Department,
    Event,
    HistoryHead,
    Instrument,
    Invitation,
    Organization,
    StatusRequest,
    User,
)
from service.actors import Actor
from service.auth.operations import NEVER, create_api_token, revoke_api_token
from service.clock import now_utc, today_in
from service.errors import Invalid
from service.ledger import operations as ledger_ops
from tests.factories import make_department, make_instrument, make_user

API = "/api/v1"
#: Every table an API call could change; a refused call must leave all of them as they were.
WATCHED = (Organization, User, Department, Invitation, Instrument, StatusRequest, Event, HistoryHead)


def _today() -> date:
    return today_in("Asia/Shanghai")


def auth(db_session, user) -> dict:
    _, token = create_api_token(db_session, Actor.of(user), "t")
    db_session.commit()
    return {"Authorization": f"Bearer {token}"}


def snapshot(db_session) -> dict:
    """Every row of the watched tables, read afresh."""
    db_session.expire_all()
    rows = {}
    for model in WATCHED:
        table = model.__table__
        rows[table.name] = [tuple(r) for r in db_session.execute(select(table).order_by(*table.primary_key))]
    return rows


def fresh(db_session, model, object_id):
    db_session.expire_all()
    return db_session.scalar(select(model).where(model.id == object_id))


def events_of(db_session, instrument_id: int) -> list[str]:
    db_session.expire_all()
    return list(
        db_session.scalars(
            select(Event.kind)
            .where(Event.subject_type == "instrument", Event.subject_id == instrument_id)
            .order_by(Event.seq)
        )
    )


@pytest.fixture
def headers(db_session, world):
    """Bearer headers of firm A's users, by role."""
    return {role: auth(db_session, getattr(world.a, role)) for role in ("admin", "metrology", "viewer")}


# Authentication ---------------------------------------------------------------------------------


def test_requests_without_a_valid_token_are_refused(client, db_session, world):
    response = client.get(f"{API}/instruments")
    assert response.status_code == 401
    assert response.json["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")

    assert client.get(f"{API}/instruments", headers={"Authorization": "Bearer cal_nope"}).status_code == 401
    assert client.get(f"{API}/instruments", headers={"Authorization": "Basic abc"}).status_code == 401

    api_token, token = create_api_token(db_session, world.a.actor(), "t")
    db_session.commit()
    good = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{API}/instruments", headers=good).status_code == 200
    revoke_api_token(db_session, world.a.actor(), api_token.id)
    db_session.commit()
    assert client.get(f"{API}/instruments", headers=good).status_code == 401


def test_a_token_works_for_the_days_chosen_then_stops(client, db_session, world):
    month_ago = now_utc() - timedelta(days=31)
    expired_row, expired = create_api_token(db_session, world.a.actor(), "old", 30, now=month_ago)
    _row, fresh = create_api_token(db_session, world.a.actor(), "new", "365")
    lasting_row, lasting = create_api_token(db_session, world.a.actor(), "cron", NEVER, now=month_ago)
    db_session.commit()
    assert expired_row.expires_at == month_ago + timedelta(days=30)
    assert lasting_row.expires_at is None
    assert client.get(f"{API}/instruments", headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    for token in (fresh, lasting):
        assert (
            client.get(f"{API}/instruments", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        )


@pytest.mark.parametrize("days", [7, "7", "abc", "", None, 0, True, "３０"])
def test_a_token_lifetime_is_one_of_the_choices(db_session, world, days):
    with pytest.raises(Invalid) as refused:
        create_api_token(db_session, world.a.actor(), "t", days)
    assert list(refused.value.field_errors) == ["days"]


def test_a_deactivated_users_token_stops_working(client, db_session, world):
    headers = auth(db_session, world.a.metrology)
    world.a.metrology.is_active = False
    db_session.commit()
    assert client.get(f"{API}/organisation", headers=headers).status_code == 401


def test_openapi_needs_no_token(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    assert response.json["openapi"].startswith("3.")


# Organisation -----------------------------------------------------------------------------------


def test_organisation_read_and_change(client, db_session, world, headers):
    response = client.get(f"{API}/organisation", headers=headers["viewer"])
    assert response.status_code == 200
    assert response.json["id"] == world.a.org.id
    assert response.json["slug"] == world.a.org.slug

    response = client.patch(
        f"{API}/organisation", json={"industry": "化工", "employees": 120}, headers=headers["admin"]
    )
    assert response.status_code == 200, response.json
    assert response.json["industry"] == "化工"
    assert response.json["name"] == world.a.org.name  # untouched fields keep their values
    org = fresh(db_session, Organization, world.a.org.id)
    assert (org.industry, org.employees) == ("化工", 120)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"employees": -1}, "employees"),
        ({"credit_code": "ABC"}, "credit_code"),
        ({"region_code": "110000"}, "region_code"),
        ({"name": "x" * 201}, "name"),
        ({"slug": "new-slug"}, "slug"),
    ],
)
def test_organisation_bad_input(client, db_session, world, headers, body, field):
    before = snapshot(db_session)
    response = client.patch(f"{API}/organisation", json=body, headers=headers["admin"])
    assert response.status_code == 400
    assert response.json["message"]
    assert field in response.json["errors"]
    assert snapshot(db_session) == before


def test_only_admins_change_the_organisation(client, db_session, world, headers):
    before = snapshot(db_session)
    for role in ("metrology", "viewer"):
        response = client.patch(f"{API}/organisation", json={"industry": "x"}, headers=headers[role])
        assert response.status_code == 403
    assert snapshot(db_session) == before


# Users and invitations ----------------------------------------------------------------------------


def test_users_list_get_and_update(client, db_session, world, headers):
    response = client.get(f"{API}/users", headers=headers["viewer"])
    assert response.status_code == 200
    ids = {u["id"] for u in response.json["items"]}
    assert ids == {world.a.admin.id, world.a.metrology.id, world.a.viewer.id}
    assert all("password_hash" not in u for u in response.json["items"])

    response = client.get(f"{API}/users/{world.a.viewer.id}", headers=headers["metrology"])
    assert response.status_code == 200
    assert response.json["email"] == world.a.viewer.email

    response = client.patch(
        f"{API}/users/{world.a.viewer.id}",
        json={"role": "metrology", "mobile": "+86 139-0000-1111"},
        headers=headers["admin"],
    )
    assert response.status_code == 200, response.json
    assert response.json["role"] == "metrology"
    assert response.json["mobile"] == "13900001111"
    assert response.json["name"] == world.a.viewer.name
    user = fresh(db_session, User, world.a.viewer.id)
    assert (user.role, user.mobile) == ("metrology", "13900001111")

    response = client.patch(
        f"{API}/users/{world.a.viewer.id}", json={"is_active": False}, headers=headers["admin"]
    )
    assert response.status_code == 200
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
    before = snapshot(db_session)
    response = client.patch(f"{API}/users/{world.a.metrology.id}", json=body, headers=headers["admin"])
    assert response.status_code == 400
    assert field in response.json["errors"]
    assert snapshot(db_session) == before


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
    before = snapshot(db_session)
    response = client.post(f"{API}/invitations", json=body, headers=headers["admin"])
    assert response.status_code == 400
    assert field in response.json["errors"]
    assert snapshot(db_session) == before
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


# Departments --------------------------------------------------------------------------------------


def test_departments_crud(client, db_session, world, headers):
    response = client.get(f"{API}/departments", headers=headers["viewer"])
    assert response.status_code == 200
    assert [d["id"] for d in response.json["items"]] == [world.a.department.id]

    response = client.post(f"{API}/departments", json={"name": "质检部"}, headers=headers["admin"])
    assert response.status_code == 201, response.json
    dept_id = response.json["id"]
    assert response.json == {"id": dept_id, "name": "质检部", "head_user_id": None}

    response = client.patch(
        f"{API}/departments/{dept_id}", json={"head_user_id": world.a.metrology.id}, headers=headers["admin"]
    )
    assert response.status_code == 200, response.json
    assert response.json == {"id": dept_id, "name": "质检部", "head_user_id": world.a.metrology.id}

    response = client.patch(f"{API}/departments/{dept_id}", json={"name": "计量室"}, headers=headers["admin"])
    assert response.json["name"] == "计量室"
    assert response.json["head_user_id"] == world.a.metrology.id

    assert client.get(f"{API}/departments/{dept_id}", headers=headers["viewer"]).json["name"] == "计量室"

    response = client.delete(f"{API}/departments/{dept_id}", headers=headers["admin"])
    assert response.status_code == 204
    assert fresh(db_session, Department, dept_id) is None
    assert client.get(f"{API}/departments/{dept_id}", headers=headers["admin"]).status_code == 404


def test_a_department_in_use_cannot_be_deleted(client, db_session, world, headers):
    before = snapshot(db_session)
    response = client.delete(f"{API}/departments/{world.a.department.id}", headers=headers["admin"])
    assert response.status_code == 409
    assert response.json["message"]
    assert snapshot(db_session) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x" * 101}, "name"),
        ({}, "name"),
        ({"name": None}, "name"),
        ({"name": "Lab", "code": "L1"}, "code"),
        ({"name": "Lab", "head_user_id": "boss"}, "head_user_id"),
    ],
)
def test_department_create_bad_input(client, db_session, world, headers, body, field):
    before = snapshot(db_session)
    response = client.post(f"{API}/departments", json=body, headers=headers["admin"])
    assert response.status_code == 400
    assert field in response.json["errors"]
    assert snapshot(db_session) == before


def test_department_names_are_unique(client, db_session, world, headers):
    other = make_department(db_session, world.a.actor("admin"), "其他")
    db_session.commit()
    before = snapshot(db_session)
    response = client.post(
        f"{API}/departments", json={"name": world.a.department.name}, headers=headers["admin"]
    )
    assert response.status_code == 400
    assert "name" in response.json["errors"]
    response = client.patch(
        f"{API}/departments/{other.id}", json={"name": world.a.department.name}, headers=headers["admin"]
    )
    assert response.status_code == 400
    assert "name" in response.json["errors"]
    assert snapshot(db_session) == before


# Instruments ------------------------------------------------------------------------------------


def test_instrument_create_get_and_patch(client, db_session, world, headers):
    last = _today() - timedelta(days=30)
    response = client.post(
        f"{API}/instruments",
        json={
            "management_no": "API-001",
            "name": "数字压力计",
            "department": world.a.department.name,
            "custodian": "李四",
            "custodian_mobile": "13812345678",
            "abc_class": "A",
            "is_mandatory": True,
            "mandatory_use": "safety",
            "interval_months": 6,
            "last_done_on": last.isoformat(),
            "conclusion": "pass",
        },
        headers=headers["metrology"],
    )
    assert response.status_code == 201, response.json
    body = response.json
    documented = [
        *("id", "management_no", "name", "model", "serial_no", "manufacturer", "measuring_range"),
        *("accuracy", "department", "location", "custodian", "custodian_mobile", "abc_class"),
        *("is_mandatory", "mandatory_use", "control_method", "interval_months", "last_done_on"),
        *("valid_until", "next_due_on", "lab", "certificate_no", "conclusion", "status", "label", "notes"),
    ]
    for name in documented:
        assert name in body, name
    assert body["department"] == world.a.department.name
    assert body["department_id"] == world.a.department.id
    assert body["custodian"] == "李四"
    assert body["label"] == "green"
    assert body["status"] == "in_service"
    assert body["next_due_on"] is not None
    instrument_id = body["id"]

    assert client.get(f"{API}/instruments/{instrument_id}", headers=headers["viewer"]).json == body

    response = client.patch(
        f"{API}/instruments/{instrument_id}",
        json={"location": "二号车间", "status": "out_for_calibration"},
        headers=headers["metrology"],
    )
    assert response.status_code == 200, response.json
    assert response.json["location"] == "二号车间"
    assert response.json["status"] == "out_for_calibration"
    # A partial update leaves every other field as it was.
    for name in ("management_no", "name", "custodian", "interval_months", "last_done_on", "is_mandatory"):
        assert response.json[name] == body[name]
    instrument = fresh(db_session, Instrument, instrument_id)
    assert (instrument.location, instrument.status, instrument.interval_months) == (
        "二号车间",
        "out_for_calibration",
        6,
    )

    history = client.get(f"{API}/instruments/{instrument_id}/history", headers=headers["viewer"])
    assert history.status_code == 200
    items = history.json["items"]
    assert [e["kind"] for e in items] == ["instrument.updated", "instrument.created"]
    assert items[0]["seq"] > items[1]["seq"]
    assert items[0]["actor_name"] == world.a.metrology.name
    assert items[0]["data"]["changes"]["location"] == [None, "二号车间"]
    assert items[0]["occurred_at"]


def test_patch_shows_the_new_department_and_custodian(client, db_session, world, headers):
    instrument = world.a.instruments[0]
    other = make_department(db_session, world.a.actor("admin"), "动力车间")
    db_session.commit()
    response = client.patch(
        f"{API}/instruments/{instrument.id}",
        json={"department_id": other.id, "custodian_user_id": world.a.viewer.id},
        headers=headers["metrology"],
    )
    assert response.status_code == 200, response.json
    assert (response.json["department_id"], response.json["department"]) == (other.id, "动力车间")
    assert response.json["custodian"] == world.a.viewer.name
    response = client.patch(
        f"{API}/instruments/{instrument.id}",
        json={"department": world.a.department.name},
        headers=headers["metrology"],
    )
    assert response.json["department"] == world.a.department.name


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/users/{u}", {"name": None}, "name"),
        ("/users/{u}", {"name": ""}, "name"),
        ("/instruments/{i}", {"control_method": None}, "control_method"),
    ],
)
def test_null_for_a_required_column_is_a_400(client, db_session, world, headers, path, body, field):
    url = API + path.format(u=world.a.viewer.id, i=world.a.instruments[0].id)
    response = client.patch(url, json=body, headers=headers["admin"])
    assert response.status_code == 400
    assert field in response.json["errors"]


def test_unknown_routes_and_methods_answer_in_json(client, headers):
    response = client.get(f"{API}/nothing-here", headers=headers["viewer"])
    assert response.status_code == 404
    assert response.json["message"]
    response = client.delete(f"{API}/instruments", headers=headers["viewer"])
    assert response.status_code == 405
    assert response.json["message"]


def test_patch_refuses_status_changes_that_need_approval(client, db_session, world, headers):
    instrument = world.a.instruments[0]
    before = snapshot(db_session)
    response = client.patch(
        f"{API}/instruments/{instrument.id}", json={"status": "scrapped"}, headers=headers["metrology"]
    )
    assert response.status_code == 400
    assert "status" in response.json["errors"]
    assert snapshot(db_session) == before


BAD_INSTRUMENTS = [
    pytest.param({"colour": "red"}, "colour", id="unknown-field"),
    pytest.param({"last_done_on": "2025-02-30"}, "last_done_on", id="date-that-does-not-exist"),
    pytest.param({"valid_until": "30/02/2025"}, "valid_until", id="malformed-date"),
    pytest.param({"interval_months": -1}, "interval_months", id="negative-interval"),
    pytest.param({"interval_months": "twelve"}, "interval_months", id="interval-not-a-number"),
    pytest.param({"custodian_mobile": "1381234567"}, "custodian_mobile", id="malformed-mobile"),
    pytest.param({"abc_class": "D"}, "abc_class", id="unknown-abc-class"),
    pytest.param({"status": "lost"}, "status", id="unknown-status"),
    pytest.param({"control_method": "guess"}, "control_method", id="unknown-control-method"),
    pytest.param({"name": "压" * 201}, "name", id="name-too-long"),
    pytest.param({"notes": "x" * 2001}, "notes", id="notes-too-long"),
    pytest.param({"is_mandatory": True, "mandatory_use": None}, "mandatory_use", id="mandatory-without-use"),
    pytest.param({"last_done_on": "2999-01-01"}, "last_done_on", id="last-done-in-the-future"),
    pytest.param({"department": "No such dept"}, "department", id="unknown-department"),
]


@pytest.mark.parametrize(("change", "field"), BAD_INSTRUMENTS)
def test_instrument_create_bad_input(client, db_session, world, headers, change, field):
    before = snapshot(db_session)
    body = {"management_no": "BAD-1", "name": "游标卡尺"} | change
    response = client.post(f"{API}/instruments", json=body, headers=headers["metrology"])
    assert response.status_code == 400, response.json
    assert response.json["message"]
    assert field in response.json["errors"], response.json
    assert all(isinstance(m, str) and m for m in response.json["errors"][field])
    assert snapshot(db_session) == before


@pytest.mark.parametrize(("change", "field"), BAD_INSTRUMENTS)
def test_instrument_patch_bad_input(client, db_session, world, headers, change, field):
    instrument = world.a.instruments[0]
    before = snapshot(db_session)
    response = client.patch(f"{API}/instruments/{instrument.id}", json=change, headers=headers["metrology"])
    assert response.status_code == 400, response.json
    assert field in response.json["errors"], response.json
    assert snapshot(db_session) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/instruments"),
        ("patch", "/instruments/{i}"),
        ("post", "/instruments/bulk"),
        ("post", "/instruments/{i}/status-requests"),
        ("patch", "/organisation"),
        ("patch", "/users/{u}"),
        ("post", "/invitations"),
        ("post", "/departments"),
        ("patch", "/departments/{d}"),
        ("post", "/status-requests/{r}/reject"),
        ("post", "/status-requests/{r}/approve"),
        ("post", "/status-requests/{r}/withdraw"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(client, db_session, world, headers, method, path):
    pending = ledger_ops.request_status_change(
        db_session, world.a.actor("metrology"), world.a.instruments[0].id, "suspend", "坏了"
    )
    db_session.commit()
    url = API + path.format(
        i=world.a.instruments[0].id, u=world.a.viewer.id, d=world.a.department.id, r=pending.id
    )
    before = snapshot(db_session)
    for body in (b"[1, 2]", b'"text"', b"null", b"{not json"):
        response = client.open(
            url, method=method.upper(), data=body, content_type="application/json", headers=headers["admin"]
        )
        assert response.status_code == 400, body
        assert response.json["message"]
    assert snapshot(db_session) == before


def test_duplicate_management_no_is_refused(client, db_session, world, headers):
    taken = world.a.instruments[0].management_no
    before = snapshot(db_session)
    response = client.post(
        f"{API}/instruments", json={"management_no": taken, "name": "x"}, headers=headers["metrology"]
    )
    assert response.status_code == 400
    assert "management_no" in response.json["errors"]
    response = client.patch(
        f"{API}/instruments/{world.a.instruments[1].id}",
        json={"management_no": taken},
        headers=headers["metrology"],
    )
    assert response.status_code == 400
    assert "management_no" in response.json["errors"]
    assert snapshot(db_session) == before
    # The same number in another firm is fine.
    response = client.post(
        f"{API}/instruments",
        json={"management_no": world.b.instruments[0].management_no, "name": "x"},
        headers=headers["metrology"],
    )
    assert response.status_code == 201


def test_bulk_edit(client, db_session, world, headers):
    ids = [i.id for i in world.a.instruments[:2]]
    dept = make_department(db_session, world.a.actor("admin"), "维修部")
    db_session.commit()
    response = client.post(
        f"{API}/instruments/bulk",
        json={"ids": ids, "changes": {"interval_months": 24, "department_id": dept.id}},
        headers=headers["metrology"],
    )
    assert response.status_code == 200, response.json
    assert sorted(i["id"] for i in response.json["items"]) == sorted(ids)
    assert {(i["interval_months"], i["department"]) for i in response.json["items"]} == {(24, "维修部")}
    for instrument_id in ids:
        assert fresh(db_session, Instrument, instrument_id).interval_months == 24
        assert events_of(db_session, instrument_id)[-1] == "instrument.updated"
    assert fresh(db_session, Instrument, world.a.instruments[2].id).interval_months == 12


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ids": [], "changes": {"interval_months": 6}}, "ids"),
        ({"ids": "1,2", "changes": {"interval_months": 6}}, "ids"),
        ({"changes": {"interval_months": 6}}, "ids"),
        ({"ids": [0], "changes": []}, "changes"),
        ({"ids": [0], "changes": {"interval_months": 6}, "dry_run": True}, "dry_run"),
        ({"ids": [0], "changes": {"name": "x"}}, "name"),
        ({"ids": [0], "changes": {"interval_months": -6}}, "interval_months"),
        ({"ids": [0], "changes": {"custodian_mobile": "555"}}, "custodian_mobile"),
        ({"ids": [0], "changes": {"status": "scrapped"}}, "status"),
        ({"ids": [0], "changes": {}}, "_schema"),
    ],
)
def test_bulk_edit_bad_input(client, db_session, world, headers, body, field):
    if body.get("ids") == [0]:
        body = body | {"ids": [i.id for i in world.a.instruments]}
    before = snapshot(db_session)
    response = client.post(f"{API}/instruments/bulk", json=body, headers=headers["metrology"])
    assert response.status_code == 400, response.json
    assert field in response.json["errors"], response.json
    assert snapshot(db_session) == before


def test_bulk_edit_is_all_or_nothing_across_tenants(client, db_session, world, headers):
    ids = [world.a.instruments[0].id, world.b.instruments[0].id]
    before = snapshot(db_session)
    response = client.post(
        f"{API}/instruments/bulk",
        json={"ids": ids, "changes": {"interval_months": 3}},
        headers=headers["metrology"],
    )
    assert response.status_code == 404
    assert snapshot(db_session) == before


# Paging and filters -----------------------------------------------------------------------------


@pytest.mark.parametrize("sort", ["next_due_on", "-next_due_on", "management_no", "-name"])
def test_keyset_paging_returns_every_instrument_once(client, db_session, world, headers, sort):
    actor = world.a.actor()
    for n in range(25):
        fields = {"name": f"表{n % 4}"}
        if n % 3:  # a third have no due date at all: NULLs must page too
            fields["last_done_on"] = (_today() - timedelta(days=n * 5 % 40)).isoformat()
        make_instrument(db_session, actor, **fields)
    db_session.commit()
    expected = set(db_session.scalars(select(Instrument.id).where(Instrument.org_id == world.a.org.id)))
    assert len(expected) == 28

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 7, "sort": sort} | ({"cursor": cursor} if cursor else {})
        response = client.get(f"{API}/instruments", query_string=params, headers=headers["viewer"])
        assert response.status_code == 200, response.json
        assert len(response.json["items"]) <= 7
        seen += [i["id"] for i in response.json["items"]]
        pages += 1
        cursor = response.json["next_cursor"]
        if cursor is None:
            break
        assert pages < 10
    assert len(seen) == len(set(seen)) == 28
    assert set(seen) == expected
    assert pages == 4


def test_a_cursor_of_another_sort_or_garbage_is_refused(client, world, headers):
    page = client.get(f"{API}/instruments", query_string={"limit": 1}, headers=headers["viewer"]).json
    assert page["next_cursor"]
    for params in ({"cursor": page["next_cursor"], "sort": "name"}, {"cursor": "garbage!"}):
        response = client.get(f"{API}/instruments", query_string=params, headers=headers["viewer"])
        assert response.status_code == 400
        assert "cursor" in response.json["errors"]


@pytest.fixture
def varied(db_session, world):
    """Firm A's instruments in every recall situation, by role in the tests."""
    actor, today = world.a.actor(), _today()
    other = make_department(db_session, world.a.actor("admin"), "仓库")
    made = {
        "overdue": make_instrument(
            db_session, actor, name="老化压力表", last_done_on=(today - timedelta(days=400)).isoformat()
        ),
        "soon": make_instrument(
            db_session,
            actor,
            name="温度计",
            last_done_on=(today - timedelta(days=100)).isoformat(),
            valid_until=(today + timedelta(days=5)).isoformat(),
            department_id=other.id,
        ),
        "mandatory": make_instrument(
            db_session,
            actor,
            name="加油机",
            is_mandatory=True,
            mandatory_use="trade",
            serial_no="SN-FUEL-9",
            last_done_on=(today - timedelta(days=10)).isoformat(),
        ),
        "limited": make_instrument(
            db_session, actor, name="天平", conclusion="limited", last_done_on=today.isoformat()
        ),
        "away": make_instrument(
            db_session, actor, name="万用表", status="out_for_calibration", department_id=other.id
        ),
    }
    db_session.commit()
    return made, other


def _ids(client, headers, **params) -> set[int]:
    response = client.get(f"{API}/instruments", query_string=params, headers=headers)
    assert response.status_code == 200, response.json
    return {i["id"] for i in response.json["items"]}


def test_list_filters(client, world, headers, varied):
    made, other = varied
    viewer = headers["viewer"]
    ids = {k: v.id for k, v in made.items()}
    world_ids = {i.id for i in world.a.instruments}

    assert _ids(client, viewer, q="压力") == {ids["overdue"]} | world_ids  # the factory's name is 压力表
    assert _ids(client, viewer, q="fuel-9") == {ids["mandatory"]}
    assert _ids(client, viewer, q="100%") == set()
    assert _ids(client, viewer, management_no=made["limited"].management_no) == {ids["limited"]}
    assert _ids(client, viewer, status="out_for_calibration") == {ids["away"]}
    assert _ids(client, viewer, label="red") == {ids["overdue"]}
    assert _ids(client, viewer, label="yellow") == {ids["limited"]}
    assert ids["mandatory"] in _ids(client, viewer, label="green")
    assert _ids(client, viewer, overdue="true") == {ids["overdue"]}
    assert _ids(client, viewer, due_within=7) == {ids["soon"]}
    assert _ids(client, viewer, is_mandatory="true") == {ids["mandatory"]}
    assert ids["mandatory"] not in _ids(client, viewer, is_mandatory="false")
    assert _ids(client, viewer, department=str(other.id)) == {ids["soon"], ids["away"]}
    assert _ids(client, viewer, department="仓库") == {ids["soon"], ids["away"]}
    assert _ids(client, viewer, department=str(other.id), due_within=7) == {ids["soon"]}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"label": "blue"}, "label"),
        ({"due_within": "-1"}, "due_within"),
        ({"due_within": "soon"}, "due_within"),
        ({"overdue": "perhaps"}, "overdue"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"sort": "price"}, "sort"),
        ({"due_from": "2025-02-30"}, "due_from"),
        ({"colour": "red"}, "colour"),
        ({"q": "x" * 101}, "q"),
        ({"department": "No such dept"}, "department"),
    ],
)
def test_list_filters_bad_input(client, world, headers, params, field):
    response = client.get(f"{API}/instruments", query_string=params, headers=headers["viewer"])
    assert response.status_code == 400
    assert field in response.json["errors"]


def test_institute_users_see_their_own_organisation(client, db_session, world):
    headers = auth(db_session, world.institute_staff)
    assert client.get(f"{API}/instruments", headers=headers).json == {"items": [], "next_cursor": None}
    assert client.get(f"{API}/organisation", headers=headers).json["id"] == world.institute.id
    response = client.get(f"{API}/instruments/{world.a.instruments[0].id}", headers=headers)
    assert response.status_code == 404


# Status requests (maker-checker) ----------------------------------------------------------------


def test_approved_suspension_changes_status_label_and_history(client, db_session, world, headers):
    instrument = world.a.instruments[0]
    response = client.post(
        f"{API}/instruments/{instrument.id}/status-requests",
        json={"action": "suspend", "reason": "示值超差"},
        headers=headers["metrology"],
    )
    assert response.status_code == 201, response.json
    request_id = response.json["id"]
    assert response.json["state"] == "pending"
    assert response.json["requested_by_id"] == world.a.metrology.id
    assert response.json["management_no"] == instrument.management_no
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
    response = client.post(
        f"{API}/instruments/{instrument.id}/status-requests",
        json={"action": "scrap", "reason": "报废"},
        headers=headers["admin"],
    )
    assert response.status_code == 201
    request_id = response.json["id"]
    before = snapshot(db_session)
    response = client.post(f"{API}/status-requests/{request_id}/approve", headers=headers["admin"])
    assert response.status_code == 403
    assert response.json["message"]
    assert snapshot(db_session) == before
    assert fresh(db_session, Instrument, instrument.id).status == "in_service"


def test_a_sole_admin_decides_their_own_request_and_the_history_says_so(client, db_session, world, headers):
    instrument = world.a.instruments[0]
    response = client.post(
        f"{API}/instruments/{instrument.id}/status-requests",
        json={"action": "seal", "reason": "长期不用"},
        headers=headers["admin"],
    )
    request_id = response.json["id"]
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


# Roles: viewers cannot write ----------------------------------------------------------------------


WRITES = [
    ("post", "/instruments", {"management_no": "V-1", "name": "x"}),
    ("patch", "/instruments/{i}", {"location": "x"}),
    ("post", "/instruments/bulk", {"ids": ["{i}"], "changes": {"interval_months": 6}}),
    ("post", "/instruments/{i}/status-requests", {"action": "suspend", "reason": "x"}),
    ("post", "/status-requests/{r}/approve", {}),
    ("post", "/status-requests/{r}/reject", {"reason": "x"}),
    ("post", "/status-requests/{r}/withdraw", None),
    ("patch", "/organisation", {"industry": "x"}),
    ("patch", "/users/{u}", {"name": "x"}),
    ("post", "/invitations", {"email": "v@example.com", "role": "viewer"}),
    ("post", "/departments", {"name": "x"}),
    ("patch", "/departments/{d}", {"name": "x"}),
    ("delete", "/departments/{d}", None),
]


def _fill(value, ids: dict):
    if isinstance(value, str):
        return int(value.format(**ids)) if re.fullmatch(r"\{\w\}", value) else value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def _ids_of(db_session, tenant) -> dict:
    """Ids of one tenant's objects for the URL templates, with a pending request and an unused department."""
    status_request = ledger_ops.request_status_change(
        db_session, tenant.actor("metrology"), tenant.instruments[0].id, "suspend", "x"
    )
    department = make_department(db_session, tenant.actor("admin"))
    db_session.commit()
    return {
        "i": tenant.instruments[1].id,
        "u": tenant.metrology.id,
        "d": department.id,
        "r": status_request.id,
    }


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_viewers_cannot_write(client, db_session, world, headers, method, path, body):
    ids = _ids_of(db_session, world.a)
    before = snapshot(db_session)
    response = client.open(
        API + _fill(path, ids), method=method.upper(), json=_fill(body, ids), headers=headers["viewer"]
    )
    assert response.status_code == 403, response.json
    assert response.json["message"]
    assert snapshot(db_session) == before


# Tenancy: another firm's ids are 404 and nothing changes ----------------------------------------


FOREIGN = [
    ("get", "/instruments/{i}", None),
    ("patch", "/instruments/{i}", {"location": "x"}),
    ("get", "/instruments/{i}/history", None),
    ("get", "/instruments/{i}/status-requests", None),
    ("post", "/instruments/{i}/status-requests", {"action": "suspend", "reason": "x"}),
    ("post", "/instruments/bulk", {"ids": ["{i}"], "changes": {"interval_months": 6}}),
    ("get", "/users/{u}", None),
    ("patch", "/users/{u}", {"name": "x"}),
    ("get", "/departments/{d}", None),
    ("patch", "/departments/{d}", {"name": "x"}),
    ("delete", "/departments/{d}", None),
    ("post", "/status-requests/{r}/approve", {}),
    ("post", "/status-requests/{r}/reject", {"reason": "x"}),
    ("post", "/status-requests/{r}/withdraw", None),
    ("get", "/instruments?department={d}", None),
    # Foreign ids inside a body of one's own objects.
    ("post", "/instruments", {"management_no": "F-1", "name": "x", "department_id": "{d}"}),
    ("patch", "/instruments/{own}", {"custodian_user_id": "{u}"}),
    (
        "post",
        "/instruments/{own}/status-requests",
        {"action": "replace", "reason": "x", "replacement_id": "{i}"},
    ),
    ("post", "/departments", {"name": "新部门", "head_user_id": "{u}"}),
]


#: Writes only administrators may make; the role check comes first, so a metrology engineer gets 403.
ADMIN_ONLY = ("/approve", "/reject", "/users/{u}", "/departments", "/departments/{d}")
FOREIGN_CASES = [
    pytest.param(role, *case, id=f"{role}-{case[0]}-{case[1]}")
    for role in ("admin", "metrology")
    for case in FOREIGN
    if role == "admin" or case[0] == "get" or not case[1].endswith(ADMIN_ONLY)
]


@pytest.mark.parametrize(("role", "method", "path", "body"), FOREIGN_CASES)
def test_another_firms_ids_are_not_found(client, db_session, world, headers, role, method, path, body):
    ids = _ids_of(db_session, world.b) | {"own": world.a.instruments[2].id}
    before = snapshot(db_session)
    response = client.open(
        API + _fill(path, ids), method=method.upper(), json=_fill(body, ids), headers=headers[role]
    )
    assert response.status_code == 404, response.json
    assert response.json["message"]
    assert snapshot(db_session) == before


@pytest.mark.parametrize(
    ("method", "path"),
    sorted({(m, path) for m, path, _body in FOREIGN if m != "get" and "{" in path and "{own}" not in path}),
)
@pytest.mark.parametrize("body", [{"bogus": 1}, [1, 2]], ids=["unknown-field", "not-an-object"])
def test_another_firms_ids_are_not_found_whatever_the_body(
    client, db_session, world, headers, method, path, body
):
    ids = _ids_of(db_session, world.b)
    before = snapshot(db_session)
    response = client.open(API + _fill(path, ids), method=method.upper(), json=body, headers=headers["admin"])
    assert response.status_code == 404, response.json
    assert snapshot(db_session) == before


def test_lists_show_only_ones_own_firm(client, db_session, world, headers):
    ledger_ops.request_status_change(db_session, world.b.actor(), world.b.instruments[0].id, "suspend", "x")
    db_session.commit()
    own_instruments = {i.id for i in world.a.instruments}
    assert _ids(client, headers["viewer"]) == own_instruments
    assert _ids(client, headers["viewer"], q="压力") == own_instruments
    assert client.get(f"{API}/status-requests", headers=headers["viewer"]).json["items"] == []
    users = client.get(f"{API}/users", headers=headers["viewer"]).json["items"]
    assert world.b.admin.id not in {u["id"] for u in users}
    departments = client.get(f"{API}/departments", headers=headers["viewer"]).json["items"]
    assert [d["id"] for d in departments] == [world.a.department.id]


# OpenAPI ----------------------------------------------------------------------------------------


def _resolve(document: dict, ref: str) -> dict:
    assert ref.startswith("#/"), ref
    node = document
    for part in ref[2:].split("/"):
        assert part in node, f"dangling reference {ref}"
        node = node[part]
    return node


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_openapi_documents_every_endpoint(app, client):
    document = client.get(f"{API}/openapi.json").json
    assert document["openapi"] == "3.0.3"
    assert document["info"]["title"]
    assert document["info"]["version"]
    assert document["security"] == [{"bearer": []}]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for ref in _refs(document):
        _resolve(document, ref)

    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith(API) and r.endpoint != "api.openapi"]
    assert len(rules) >= 20
    for rule in rules:
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        assert path in document["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = document["paths"][path].get(method.lower())
            assert operation is not None, f"{method} {path}"
            assert operation["tags"]
            parameters = [
                _resolve(document, p["$ref"]) if "$ref" in p else p for p in operation.get("parameters", [])
            ]
            for name in rule.arguments:
                assert {"in": "path", "name": name} in [
                    {"in": p["in"], "name": p["name"]} for p in parameters
                ], f"{method} {path} does not declare {name}"
                assert all(p["required"] for p in parameters if p["in"] == "path")
            responses = operation["responses"]
            assert any(code.startswith("2") for code in responses), f"{method} {path}"
            assert "401" in responses
            for response in responses.values():
                response = _resolve(document, response["$ref"]) if "$ref" in response else response
                assert response["description"]
            bodiless = ("/approve", "/withdraw", "/confirm", "/retry", "/release-held", "/cancel")
            if method in ("POST", "PATCH") and not path.endswith(bodiless):
                content = operation["requestBody"]["content"]
                body = content.get("application/json", content.get("multipart/form-data"))["schema"]
                assert "$ref" in body, f"{method} {path}"
            if rule.arguments:
                assert "404" in responses, f"{method} {path}"

    schemas = document["components"]["schemas"]
    for name in ("InstrumentOut", "UserOut", "DepartmentOut", "StatusRequestOut", "EventOut", "Error"):
        assert schemas[name]["properties"], name
    instrument_fields = set(schemas["InstrumentOut"]["properties"])
    assert {"id", "management_no", "next_due_on", "status", "label", "custodian_mobile"} <= instrument_fields
    assert "required" not in schemas["InstrumentPatch"]
    listed = {p["name"] for p in document["paths"][f"{API}/instruments"]["get"]["parameters"]}
    assert {
        "management_no",
        "q",
        "status",
        "department",
        "label",
        "is_mandatory",
        "due_within",
        "overdue",
    } <= listed
    assert {"cursor", "limit"} <= listed


def test_openapi_passes_the_validator(client):
    from openapi_spec_validator import validate

    validate(client.get(f"{API}/openapi.json").json)


def test_fractional_interval_is_refused_not_truncated(client, world, headers):
    instrument = world.a.instruments[0]
    response = client.patch(
        f"{API}/instruments/{instrument.id}", json={"interval_months": 1.5}, headers=headers["metrology"]
    )
    assert response.status_code == 400
    assert "interval_months" in response.json["errors"]
    assert (
        client.patch(
            f"{API}/instruments/{instrument.id}", json={"interval_months": 6.0}, headers=headers["metrology"]
        ).json["interval_months"]
        == 6
    )
