"""The organisation resource of the API: read, change, input errors, admins only."""

from __future__ import annotations

import pytest

from models import Organization
from tests.api import API, fresh, patched, snapshot


def test_organisation_read_and_change(client, db_session, world, headers):
    response = client.get(f"{API}/organisation", headers=headers["viewer"])
    assert response.status_code == 200
    assert response.json["id"] == world.a.org.id
    assert response.json["slug"] == world.a.org.slug

    changed = patched(client, f"{API}/organisation", {"industry": "化工", "employees": 120}, headers["admin"])
    assert changed["industry"] == "化工"
    assert changed["name"] == world.a.org.name  # untouched fields keep their values
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
