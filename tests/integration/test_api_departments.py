"""The departments resource of the API."""

from __future__ import annotations

import pytest

from models import Department
from tests.api import API, assert_refused, fresh, patched, snapshot
from tests.factories import make_department


def test_departments_crud(client, db_session, world, headers):
    response = client.get(f"{API}/departments", headers=headers["viewer"])
    assert response.status_code == 200
    assert [d["id"] for d in response.json["items"]] == [world.a.department.id]

    response = client.post(f"{API}/departments", json={"name": "质检部"}, headers=headers["admin"])
    assert response.status_code == 201, response.json
    dept_id = response.json["id"]
    assert response.json == {"id": dept_id, "name": "质检部", "head_user_id": None}

    path = f"{API}/departments/{dept_id}"
    changed = patched(client, path, {"head_user_id": world.a.metrology.id}, headers["admin"])
    assert changed == {"id": dept_id, "name": "质检部", "head_user_id": world.a.metrology.id}

    changed = patched(client, path, {"name": "计量室"}, headers["admin"])
    assert changed["name"] == "计量室"
    assert changed["head_user_id"] == world.a.metrology.id

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
    assert_refused(client, db_session, "POST", f"{API}/departments", body, headers["admin"], field)


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
