"""Outside experts: invited into the institute for campaign work, they can open nothing else."""

from __future__ import annotations

import pytest

from service.actors import Actor
from service.auth.operations import create_api_token
from service.clock import now_utc
from service.errors import Invalid
from service.tenancy import operations as tenancy_ops
from tests.conftest import login
from tests.factories import make_user
from tests.routes import fill_path, make_one_of_each

#: Values for the path parameters that are not ids of rows made here.
OTHER_VALUES = {
    "invitation_id": 10**6,
    "link_id": 10**6,
    "window": "30",
    "token": "junk",
    "day": "2026-01-05",
}


def _open_to_experts(app, rule) -> bool:
    return getattr(app.view_functions[rule.endpoint], "open_to_experts", False)


@pytest.fixture
def expert(db_session, world):
    return make_user(db_session, world.institute, "expert", name="王专家")


@pytest.fixture
def values(app, db_session, world):
    ids, _token = make_one_of_each(app, db_session, world.a, world.institute.id)
    return ids | OTHER_VALUES


def test_every_page_but_the_marked_ones_is_closed_to_an_expert(app, client, db_session, expert, values):
    login(client, expert)
    closed = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith(("api.", "bootstrap.")):
            continue
        if _open_to_experts(app, rule):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(fill_path(rule, values), method=method, data={"name": "x"})
            response.close()
            assert response.status_code == 404, (method, rule.rule, response.status_code)
            closed += 1
    assert closed > 120
    assert client.get("/account").status_code == 200  # still signed in: the walk was real


def test_every_api_endpoint_but_the_marked_ones_is_closed_to_an_expert(
    app, client, db_session, expert, values
):
    _token, secret = create_api_token(db_session, Actor.of(expert), "expert")
    db_session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    closed = 0
    for rule in app.url_map.iter_rules():
        if (
            not rule.endpoint.startswith("api.")
            or rule.endpoint == "api.openapi"
            or _open_to_experts(app, rule)
        ):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(fill_path(rule, values), method=method, json={}, headers=headers)
            response.close()
            assert response.status_code == 404, (method, rule.rule, response.status_code)
            closed += 1
    assert closed > 100


def test_only_an_institute_invites_an_expert(db_session, world):
    invitation, _token = tenancy_ops.invite_user(
        db_session,
        Actor.of(world.institute_admin),
        {"email": "expert@alliance.test", "role": "expert"},
        now_utc(),
        7,
    )
    assert invitation.role == "expert"
    with pytest.raises(Invalid) as refused:
        tenancy_ops.invite_user(
            db_session, world.a.actor("admin"), {"email": "e@x.test", "role": "expert"}, now_utc(), 7
        )
    assert "role" in refused.value.field_errors


def test_the_users_page_offers_the_expert_role(client, world):
    login(client, world.institute_admin)
    page = client.get("/org").get_data(as_text=True)
    assert 'value="expert"' in page
