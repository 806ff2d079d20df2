"""No input produces a 500: every route, with the caller's own ids and hostile values."""

from __future__ import annotations

import pytest

from service.auth.operations import create_api_token
from tests.conftest import login
from tests.routes import fill_path, make_one_of_each

JUNK_VALUES = [
    "",
    "x" * 5000,
    "0",
    "-1",
    "99999999999999999999",
    "2025-02-30",
    "null",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\x00",
    "真" * 300,
    "1e309",
]
FIELDS = [
    "management_no",
    "name",
    "interval_months",
    "last_done_on",
    "valid_until",
    "department_id",
    "custodian_user_id",
    "custodian_mobile",
    "status",
    "abc_class",
    "is_mandatory",
    "ids",
    "action",
    "reason",
    "decision",
    "role",
    "email",
    "credit_code",
    "region_code",
    "employees",
    "annual_revenue_wan",
    "head_user_id",
    "locale",
    "password",
    "replacement_no",
    "cursor",
    "due_within",
    "label",
    "sort",
    "limit",
    "q",
    "department",
    "next",
    "back",
    "year",
]
JSON_VALUES = [None, [], {}, -1, 10**20, "x" * 5000, True, 1.5, "2025-02-30"]


def _own_values(app, world, db_session):
    values, token = make_one_of_each(app, db_session, world.a, world.institute.id)
    return values | {
        "invitation_id": 10**6,
        "link_id": 10**6,
        "window": "30",
        "token": "junk",
        "day": "2026-01-05",
    }, token


def _paths(app, values, api: bool):
    for rule in app.url_map.iter_rules():
        # Signing out would end the walk early; it takes no input anyway. The readiness check's 503
        # is its answer here: the tests' schema comes from the models, never stamped by Alembic.
        if (
            rule.endpoint in ("static", "bootstrap.static", "auth.logout", "observability.readyz")
            or rule.endpoint.startswith("api.") != api
        ):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, fill_path(rule, values)


@pytest.mark.parametrize("junk", JUNK_VALUES)
def test_web_routes_never_fail_on_junk(app, client, world, db_session, junk):
    values, _token = _own_values(app, world, db_session)
    login(client, world.a.admin)
    for method, path in _paths(app, values, api=False):
        data = {field: junk for field in FIELDS}
        response = client.open(path, method=method, data=data, query_string=data if method == "GET" else None)
        response.close()  # a download streams its file until closed
        assert response.status_code < 500, (method, path, junk[:20], response.status_code)
    assert client.get("/").status_code == 200  # still signed in: every route was really exercised


@pytest.mark.parametrize("junk", JSON_VALUES)
def test_api_never_fails_on_junk(app, client, world, db_session, junk):
    values, token = _own_values(app, world, db_session)
    headers = {"Authorization": f"Bearer {token}"}
    for method, path in _paths(app, values, api=True):
        for body in ({field: junk for field in FIELDS}, junk):
            response = client.open(path, method=method, json=body, headers=headers)
            assert response.status_code < 500, (method, path, body, response.status_code)
            # Errors are JSON; successes are JSON too, except downloads and 204s.
            download = response.status_code == 200 and (
                path.endswith((".xlsx", ".csv", ".svg", ".docx"))
                or "/attachments/" in path
                or "/files/" in path
            )
            response.close()  # a download streams its file until closed
            assert response.is_json or download or response.status_code == 204, path
        response = client.open(
            path, method=method, data=b"\xff\xfe not json", headers=headers, content_type="application/json"
        )
        response.close()
        assert response.status_code < 500, (method, path, "bad bytes")


def _cursor(payload) -> str:
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def test_review_findings_never_fail(client, world, db_session):
    """Each of these answered 500 before (found by review); now a 4xx or a page."""
    login(client, world.a.admin)
    big = 10**20
    own = world.a.instruments[0].id
    paths = [
        "/instruments?department=²",
        f"/instruments?department={big}",
        f"/instruments/{big}",
        f"/instruments/{2**63}/edit",
        "/instruments?cursor=" + _cursor(["next_due_on", 123, 1]),
        "/instruments?cursor=" + _cursor(["next_due_on", ["x"], 1]),
        "/instruments?cursor=" + _cursor(["next_due_on", None, 2**70]),
        "/instruments?sort=name&cursor=" + _cursor(["name", 5, 1]),
        "/instruments?cursor=" + _cursor(["next_due_on", "2025-01-01", True]),
        "/calendar?month=9999-12",
        "/calendar?month=0001-01",
        "/recall/30?window=7&cursor=x",
        "/instruments?endpoint=x",
        "/instruments?_external=1&_anchor=x",
        f"/clients/{world.a.org.id}/instruments?client_id=5&cursor=x",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code < 500, (path, response.status_code)
    forms = [
        ("/instruments/bulk", {"ids": ["²", str(big)], "interval_months": "3"}),
        ("/instruments/bulk", {"ids": [str(own)], "department_id": str(big)}),
        ("/instruments/new", {"management_no": "B-1", "name": "x", "custodian_user_id": str(big)}),
        ("/org/departments", {"name": "大", "head_user_id": str(big)}),
    ]
    for path, data in forms:
        response = client.post(path, data=data)
        assert response.status_code < 500, (path, response.status_code)


def test_api_review_findings_never_fail(client, world, db_session):
    _api_token, token = create_api_token(db_session, world.a.actor("admin"), "t")
    db_session.commit()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    own = world.a.instruments[0].id
    bodies = [
        ("/api/v1/instruments/bulk", '{"ids": [100000000000000000000], "changes": {"interval_months": 3}}'),
        (
            "/api/v1/instruments/bulk",
            f'{{"ids": [{own}], "changes": {{"department_id": 100000000000000000000}}}}',
        ),
        ("/api/v1/instruments", '{"management_no": "J-1", "name": "\\ud800"}'),
        (
            f"/api/v1/instruments/{own}/status-requests",
            '{"action": "replace", "reason": "x", "replacement_id": 1e30}',
        ),
    ]
    for path, body in bodies:
        response = client.post(path, data=body, headers=headers)
        assert response.status_code < 500, (path, body, response.status_code)
