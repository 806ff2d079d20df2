"""A user of firm A asking for anything of firm B gets 404 and changes nothing.

The walker visits every registered rule with an integer id in its path, for every method, with
ids that belong to firm B, and fails if a new kind of id parameter appears without being mapped
here: new routes are covered automatically.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from models import (
    Base,
    ClientLink,
    HistoryHead,
    Organization,
    TenantScoped,
)
from service.app import create_app
from service.auth.operations import create_api_token
from service.clock import now_utc, today_in
from service.config import Config
from service.tenancy import operations as tenancy_ops
from tests.conftest import end_client_link, login
from tests.factories import PASSWORD, make_instrument, make_org
from tests.routes import fill_path, make_one_of_each

SKIPPED_ENDPOINTS = {"static", "bootstrap.static"}
#: Plausible form and JSON fields, so that a request is not refused for being empty before the id is checked.
BODY = {
    "name": "x",
    "reason": "x",
    "decision": "approve",
    "action": "suspend",
    "management_no": "IDOR-1",
    "interval_months": "6",
    "role": "viewer",
    "email": "idor@example.com",
    "status": "out_for_calibration",
}


#: Tables of figures derived from the others and kept between requests (see service/reports/snapshots.py).
DERIVED_TABLES = {"figure_snapshots"}


def _snapshot(session, org_id: int) -> dict:
    """Every row firm B owns or shares, and its organisation, links and chain head, as plain values."""
    session.expire_all()
    rows: dict = {}
    for mapper in Base.registry.mappers:
        model = mapper.class_
        # Tenant rows by their owner; rows shared by an institute and a firm (visits, service
        # orders) by the firm's side.
        owner = model.org_id if issubclass(model, TenantScoped) else getattr(model, "firm_id", None)
        # Figures a page keeps to avoid computing them again are not the firm's data: reading the
        # dashboard writes them.
        if owner is not None and model.__tablename__ not in DERIVED_TABLES:
            stmt = select(model).where(owner == org_id).order_by(*model.__table__.primary_key.columns)
            table = model.__table__
            rows[table.name] = [
                tuple(getattr(obj, c.key) for c in mapper.column_attrs) for obj in session.scalars(stmt)
            ]
    org = session.get(Organization, org_id)
    rows["organization"] = tuple(getattr(org, c.key) for c in Organization.__mapper__.column_attrs)
    rows["links"] = [
        (link.id, link.ended_at)
        for link in session.scalars(
            select(ClientLink).where(ClientLink.firm_id == org_id).order_by(ClientLink.id)
        )
    ]
    head = session.get(HistoryHead, org_id)
    rows["head"] = (head.last_seq, head.last_hash)
    return rows


@pytest.fixture
def foreign(app, world, db_session):
    """Objects of firm B for every kind of id a route may take."""
    b = world.b
    invitation, _inv = tenancy_ops.invite_user(
        db_session, b.actor("admin"), {"email": "new@b.test", "role": "viewer"}, now_utc(), 7
    )
    other_institute = make_org(db_session, "institute")
    link = tenancy_ops.link_client(db_session, other_institute.id, b.org.id)
    values, _token = make_one_of_each(app, db_session, b, other_institute.id)
    return values | {"instrument_id": b.instruments[1].id, "invitation_id": invitation.id, "link_id": link.id}


OTHER_PARAMS = {"window": "30", "token": "not-a-real-token", "day": "2026-01-05"}


def _rules(app, api: bool):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS or rule.endpoint.startswith("api.") != api:
            continue
        int_params = [name for name, conv in rule._converters.items() if isinstance(conv, IntegerConverter)]
        if not int_params:
            continue
        yield rule, int_params


def _call(client, method: str, path: str, api_headers=None):
    if api_headers is not None:
        return client.open(path, method=method, json=BODY, headers=api_headers)
    if method == "GET":
        return client.get(path)
    return client.open(path, method=method, data=BODY)


def test_every_web_route_hides_other_tenants(app, client, world, foreign, db_session):
    before = _snapshot(db_session, world.b.org.id)
    exercised = set()
    # A firm admin (the widest firm role) and an institute admin (linked to firm A only).
    for user in (world.a.admin, world.institute_admin):
        client.post("/logout")
        login(client, user)
        for rule, params in _rules(app, api=False):
            unmapped = [p for p in rule.arguments if p not in foreign and p not in OTHER_PARAMS]
            assert not unmapped, f"map {unmapped} of {rule.rule} to a foreign object in this test"
            values = {**OTHER_PARAMS, **foreign}
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = _call(client, method, fill_path(rule, values))
                assert response.status_code == 404, (user.email, method, rule.rule, response.status_code)
                exercised.add(rule.rule)
            if "client_id" in params:
                # Through the institute's own, linked client, a firm-B id is still foreign.
                own_client = {**values, "client_id": world.a.org.id}
                response = client.get(fill_path(rule, own_client))
                expected = 404 if len(params) > 1 else (200 if user is world.institute_admin else 404)
                assert response.status_code == expected, (user.email, rule.rule, response.status_code)
    assert _snapshot(db_session, world.b.org.id) == before
    all_rules = {rule.rule for rule, _ in _rules(app, api=False)}
    assert exercised == all_rules
    assert len(all_rules) >= 15  # the walk really found the id-bearing routes


def test_every_api_endpoint_hides_other_tenants(app, client, world, foreign, db_session):
    _api_token, token = create_api_token(db_session, world.a.actor("admin"), "walker")
    db_session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    before = _snapshot(db_session, world.b.org.id)
    exercised = set()
    for rule, _params in _rules(app, api=True):
        unmapped = [p for p in rule.arguments if p not in foreign and p not in OTHER_PARAMS]
        assert not unmapped, f"map {unmapped} of {rule.rule} to a foreign object in this test"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = _call(
                client, method, fill_path(rule, {**OTHER_PARAMS, **foreign}), api_headers=headers
            )
            assert response.status_code == 404, (method, rule.rule, response.status_code, response.json)
            assert response.is_json
            exercised.add((rule.rule, method))
    assert _snapshot(db_session, world.b.org.id) == before
    assert len(exercised) >= 13  # every id-bearing endpoint and method of the API (13 today)


def test_institute_sees_a_client_only_through_an_active_link(client, world, db_session):
    instrument = world.a.instruments[0]
    login(client, world.institute_staff)
    assert client.get(f"/clients/{world.a.org.id}/instruments").status_code == 200
    assert instrument.management_no in client.get(f"/clients/{world.a.org.id}/instruments").text
    assert client.get(f"/clients/{world.a.org.id}/instruments/{instrument.id}").status_code == 200
    assert client.get(f"/clients/{world.b.org.id}/instruments").status_code == 404
    # Read-only: the institute cannot edit the client's instruments through its own ledger routes either.
    assert client.get(f"/instruments/{instrument.id}/edit").status_code == 404
    # The firm ends the link: the client disappears.
    end_client_link(client, db_session, world.a.admin, back_as=world.institute_staff)
    assert client.get(f"/clients/{world.a.org.id}/instruments").status_code == 404
    assert client.get(f"/clients/{world.a.org.id}/instruments/{instrument.id}").status_code == 404
    assert world.a.org.name not in client.get("/org/clients").text


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/instruments/new", "department_id"),
        ("/instruments/new", "custodian_user_id"),
    ],
)
def test_foreign_ids_in_forms_are_404(client, world, db_session, path, field):
    login(client, world.a.metrology)
    foreign_id = {"department_id": world.b.department.id, "custodian_user_id": world.b.viewer.id}[field]
    data = {"management_no": "FX-1", "name": "x", "interval_months": "12", field: str(foreign_id)}
    assert client.post(path, data=data).status_code == 404


def test_foreign_ids_in_filters_and_edits_are_404(client, world, db_session):
    login(client, world.a.metrology)
    assert client.get(f"/instruments?department={world.b.department.id}").status_code == 404
    own = world.a.instruments[0]
    data = {
        "management_no": own.management_no,
        "name": "x",
        "interval_months": "12",
        "department_id": str(world.b.department.id),
    }
    assert client.post(f"/instruments/{own.id}/edit", data=data).status_code == 404
    response = client.post(
        "/instruments/bulk", data={"ids": [own.id], "custodian_user_id": world.b.viewer.id}
    )
    assert response.status_code == 404
    client.post("/logout")
    login(client, world.a.admin)
    response = client.post("/org/departments", data={"name": "新部门", "head_user_id": world.b.viewer.id})
    assert response.status_code == 404


def test_session_net_refuses_unscoped_and_cross_tenant_work(world, sessions):
    from service.db import TenancyError, scope_to_org

    session = sessions()
    from models import Instrument

    with pytest.raises(TenancyError):
        session.scalars(select(Instrument)).all()  # neither scoped nor opened to all tenants
    session.rollback()
    scope_to_org(session, world.a.org.id)
    # Even a query that forgets its org filter only sees firm A.
    ids = {i.org_id for i in session.scalars(select(Instrument))}
    assert ids == {world.a.org.id}
    # A row of firm B cannot be written through a session scoped to firm A.
    foreign = session.execute(
        select(Instrument)
        .where(Instrument.id == world.b.instruments[0].id)
        .execution_options(all_tenants=True)
    ).scalar_one()
    foreign.name = "hijacked"
    with pytest.raises(TenancyError):
        session.flush()
    session.rollback()
    session.close()


def test_every_form_post_needs_a_csrf_token(config, engine, sessions, world, db_session):
    """With CSRF on (as in production), a POST without the token changes nothing, on every route."""
    app = create_app(Config(**{**config.__dict__, "csrf_enabled": True}), engine=engine)
    app.extensions["calrecall.sessions"] = sessions
    client = app.test_client()
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post("/login", data={"email": world.a.admin.email, "password": PASSWORD, "csrf_token": token})
    own = {
        "instrument_id": world.a.instruments[0].id,
        "department_id": world.a.department.id,
        "request_id": 1,
        "user_id": world.a.viewer.id,
        "token_id": 1,
        "invitation_id": 1,
        "link_id": 1,
        "client_id": world.a.org.id,
        "import_id": 1,
        "export_id": 1,
        "notification_id": 1,
        "record_id": 1,
        "attachment_id": 1,
        "case_id": 1,
        "plan_id": 1,
        "visit_id": 1,
        "item_id": 1,
        "order_id": 1,
        "technician_id": 1,
        "campaign_id": 1,
        "recommender_id": 1,
        "nomination_id": 1,
        "file_id": 1,
        "assignment_id": 1,
        "award_id": 1,
        "objection_id": 1,
        "assistance_id": 1,
        "test_id": 1,
        "assessment_id": 1,
        "project_id": 1,
        "participant_id": 1,
        "year": 2026,
        "public_token": "x",
        "window": "30",
        "token": "x",
        "day": "2026-01-05",
    }
    before = _snapshot(db_session, world.a.org.id)
    posts = 0
    for rule in app.url_map.iter_rules():
        if (
            "POST" not in rule.methods
            or rule.endpoint.startswith(("api.", "webhooks."))  # webhooks are signed instead
            or rule.endpoint == "auth.logout"
        ):
            continue
        response = client.post(fill_path(rule, own), data=BODY)
        assert response.status_code in (303, 400), (rule.rule, response.status_code)
        posts += 1
    assert client.get("/").status_code == 200  # still signed in
    assert _snapshot(db_session, world.a.org.id) == before
    assert posts >= 15


def test_client_ledgers_are_dated_in_the_clients_time_zone(client, world, db_session):
    """Labels on a client's page follow the client's calendar, not the institute's."""
    world.a.org.timezone = "Pacific/Kiritimati"  # UTC+14
    world.institute.timezone = "Etc/GMT+12"  # UTC-12: always one or two days behind
    db_session.commit()
    firm_today = today_in("Pacific/Kiritimati")
    instrument = make_instrument(
        db_session, world.a.actor(), valid_until=(firm_today - timedelta(days=1)).isoformat()
    )
    db_session.commit()
    login(client, world.institute_staff)
    page = client.get(f"/clients/{world.a.org.id}/instruments/{instrument.id}")
    assert re.search(r'id="instrument-label"><span[^>]*data-label="red"', page.text)
