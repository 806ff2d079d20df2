"""The instruments resource of the API: create, read, change, bulk edit, paging and filters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models import Instrument
from tests.api import (
    API,
    assert_refused,
    auth,
    events_of,
    fresh,
    instrument_ids,
    local_today,
    patched,
    snapshot,
)
from tests.factories import make_department, make_instrument


def test_instrument_create_get_and_patch(client, db_session, world, headers):
    last = local_today() - timedelta(days=30)
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

    change = {"location": "二号车间", "status": "out_for_calibration"}
    changed = patched(client, f"{API}/instruments/{instrument_id}", change, headers["metrology"])
    assert changed["location"] == "二号车间"
    assert changed["status"] == "out_for_calibration"
    # A partial update leaves every other field as it was.
    for name in ("management_no", "name", "custodian", "interval_months", "last_done_on", "is_mandatory"):
        assert changed[name] == body[name]
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
    path = f"{API}/instruments/{instrument.id}"
    change = {"department_id": other.id, "custodian_user_id": world.a.viewer.id}
    changed = patched(client, path, change, headers["metrology"])
    assert (changed["department_id"], changed["department"]) == (other.id, "动力车间")
    assert changed["custodian"] == world.a.viewer.name
    changed = patched(client, path, {"department": world.a.department.name}, headers["metrology"])
    assert changed["department"] == world.a.department.name


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
    path = f"{API}/instruments/{instrument.id}"
    assert_refused(client, db_session, "PATCH", path, change, headers["metrology"], field)


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
    assert_refused(client, db_session, "POST", f"{API}/instruments/bulk", body, headers["metrology"], field)


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


@pytest.mark.parametrize("sort", ["next_due_on", "-next_due_on", "management_no", "-name"])
def test_keyset_paging_returns_every_instrument_once(client, db_session, world, headers, sort):
    actor = world.a.actor()
    for n in range(25):
        fields = {"name": f"表{n % 4}"}
        if n % 3:  # a third have no due date at all: NULLs must page too
            fields["last_done_on"] = (local_today() - timedelta(days=n * 5 % 40)).isoformat()
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
    actor, today = world.a.actor(), local_today()
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


def test_list_filters(client, world, headers, varied):
    made, other = varied
    viewer = headers["viewer"]
    ids = {k: v.id for k, v in made.items()}
    world_ids = {i.id for i in world.a.instruments}

    # The factory's name is 压力表.
    assert instrument_ids(client, viewer, q="压力") == {ids["overdue"]} | world_ids
    assert instrument_ids(client, viewer, q="fuel-9") == {ids["mandatory"]}
    assert instrument_ids(client, viewer, q="100%") == set()
    assert instrument_ids(client, viewer, management_no=made["limited"].management_no) == {ids["limited"]}
    assert instrument_ids(client, viewer, status="out_for_calibration") == {ids["away"]}
    assert instrument_ids(client, viewer, label="red") == {ids["overdue"]}
    assert instrument_ids(client, viewer, label="yellow") == {ids["limited"]}
    assert ids["mandatory"] in instrument_ids(client, viewer, label="green")
    assert instrument_ids(client, viewer, overdue="true") == {ids["overdue"]}
    assert instrument_ids(client, viewer, due_within=7) == {ids["soon"]}
    assert instrument_ids(client, viewer, is_mandatory="true") == {ids["mandatory"]}
    assert ids["mandatory"] not in instrument_ids(client, viewer, is_mandatory="false")
    assert instrument_ids(client, viewer, department=str(other.id)) == {ids["soon"], ids["away"]}
    assert instrument_ids(client, viewer, department="仓库") == {ids["soon"], ids["away"]}
    assert instrument_ids(client, viewer, department=str(other.id), due_within=7) == {ids["soon"]}


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
