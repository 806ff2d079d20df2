"""Rules every API resource keeps: JSON errors, bodies that are not objects, roles and tenancy."""

from __future__ import annotations

import re

import pytest

from service.ledger import operations as ledger_ops
from tests.api import API, instrument_ids, snapshot
from tests.factories import make_department


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
@pytest.mark.parametrize(
    "body",
    [{"bogus": 1}, [1, 2], {"is_active": "yes", "is_mandatory": 0}],
    ids=["unknown-field", "not-an-object", "not-a-boolean"],
)
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
    assert instrument_ids(client, headers["viewer"]) == own_instruments
    assert instrument_ids(client, headers["viewer"], q="压力") == own_instruments
    assert client.get(f"{API}/status-requests", headers=headers["viewer"]).json["items"] == []
    users = client.get(f"{API}/users", headers=headers["viewer"]).json["items"]
    assert world.b.admin.id not in {u["id"] for u in users}
    departments = client.get(f"{API}/departments", headers=headers["viewer"]).json["items"]
    assert [d["id"] for d in departments] == [world.a.department.id]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("patch", "/instruments/{n}"),
        ("delete", "/departments/{n}"),
        ("post", "/instruments/{n}/status-requests"),
        ("post", "/status-requests/{n}/approve"),
        ("get", "/instruments/{n}"),
    ],
)
@pytest.mark.parametrize("number", [2**31, 99_999_999_999])
def test_an_id_that_cannot_exist_is_not_found_on_every_method(client, headers, method, path, number):
    response = client.open(
        API + path.format(n=number), method=method.upper(), json={}, headers=headers["admin"]
    )
    assert response.status_code == 404, response.json
    assert response.json["message"]


def test_a_method_not_allowed_says_which_are(client, headers):
    response = client.delete(f"{API}/instruments", headers=headers["admin"])
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["Allow"].split(",")} >= {"GET", "POST"}
    response = client.put(f"{API}/instruments/{2**31 - 1}", headers=headers["admin"])
    assert response.status_code == 405
    assert "PATCH" in response.headers["Allow"]


@pytest.mark.parametrize("value", [0, 1, "yes", "off", "true", "on", ""])
def test_booleans_in_a_json_body_are_true_or_false(client, db_session, world, headers, value):
    before = snapshot(db_session)
    body = {"management_no": "BOOL-1", "name": "压力表", "is_mandatory": value, "mandatory_use": "trade"}
    response = client.post(f"{API}/instruments", json=body, headers=headers["metrology"])
    assert response.status_code == 400, response.json
    assert "is_mandatory" in response.json["errors"]
    response = client.patch(
        f"{API}/users/{world.a.viewer.id}", json={"is_active": value}, headers=headers["admin"]
    )
    assert response.status_code == 400, response.json
    assert "is_active" in response.json["errors"]
    assert snapshot(db_session) == before


@pytest.mark.parametrize("value", ["0", "1", "yes", "off", "on", "True"])
@pytest.mark.parametrize(("path", "name"), [("/instruments", "overdue"), ("/instruments", "is_mandatory")])
def test_booleans_in_a_query_string_are_true_or_false(client, headers, path, name, value):
    response = client.get(API + path, query_string={name: value}, headers=headers["viewer"])
    assert response.status_code == 400, response.json
    assert name in response.json["errors"]
    for good in ("true", "false"):
        assert client.get(API + path, query_string={name: good}, headers=headers["viewer"]).status_code == 200


def test_the_web_list_still_takes_checkbox_values(client, world, login_as):
    login_as(world.a.viewer)
    assert client.get("/instruments", query_string={"is_mandatory": "on", "overdue": "1"}).status_code == 200
