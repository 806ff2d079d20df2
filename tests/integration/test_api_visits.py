"""The visits API: plan, propose, answer, results on site, and the boundaries between the two sides."""

from __future__ import annotations

from datetime import timedelta

from service.actors import Actor
from service.clock import today_in
from service.visits import technicians
from tests import factories
from tests.api import API, auth


def test_the_visit_journey_through_the_api(client, db_session, world):
    today = today_in("Asia/Shanghai")
    technician = technicians.save_technician(
        db_session,
        Actor.of(world.institute_admin),
        {"name": "郭志强", "disciplines": ["pressure"], "daily_capacity": 8},
    )
    gauge = factories.make_instrument(
        db_session,
        world.a.actor(),
        today,
        name="一般压力表",
        valid_until=(today + timedelta(days=6)).isoformat(),
    )
    db_session.commit()
    staff, firm, other = (
        auth(db_session, u) for u in (world.institute_staff, world.a.metrology, world.b.admin)
    )

    plan = client.get(f"{API}/visits/plan?from={today.isoformat()}&days=14", headers=staff).json
    [proposed] = plan["visits"]
    assert proposed["instrument_ids"] == [gauge.id]
    assert client.get(f"{API}/visits/plan?from=nope&days=14", headers=staff).status_code == 400

    body = {
        "visits": [
            {
                "firm_id": world.a.org.id,
                "planned_on": proposed["date"],
                "items": [{"instrument_id": gauge.id, "technician_id": technician.id}],
            }
        ]
    }
    created = client.post(f"{API}/visits", headers=staff, json=body)
    assert created.status_code == 201, created.json
    visit = created.json["items"][0]
    assert client.post(f"{API}/visits", headers=staff, json=body).status_code == 409  # already on a visit
    foreign = {"visits": [{**body["visits"][0], "firm_id": world.b.org.id}]}
    assert client.post(f"{API}/visits", headers=staff, json=foreign).status_code == 404

    assert client.get(f"{API}/visits/{visit['id']}", headers=other).status_code == 404
    assert [v["id"] for v in client.get(f"{API}/visits", headers=firm).json["items"]] == [visit["id"]]
    [listed] = client.get(f"{API}/visits", headers=staff).json["items"]
    assert listed["items"][0]["management_no"] == gauge.management_no  # the client's instrument, by name
    item = visit["items"][0]["id"]
    early = client.post(
        f"{API}/visits/{visit['id']}/items/{item}/result", headers=staff, json={"conclusion": "pass"}
    )
    assert early.status_code == 409  # not confirmed yet
    answered = client.post(f"{API}/visits/{visit['id']}/answer", headers=firm, json={"answer": "confirm"})
    assert answered.json["state"] == "confirmed"
    result = client.post(
        f"{API}/visits/{visit['id']}/items/{item}/result",
        headers=staff,
        json={"kind": "verification", "conclusion": "pass"},
    )
    assert result.status_code == 201, result.json
    assert result.json["certificate_no"].startswith("JD")
    assert client.get(f"{API}/visits/{visit['id']}", headers=firm).json["state"] == "completed"
    moved = client.get(f"{API}/instruments/{gauge.id}", headers=firm).json
    assert moved["certificate_no"] == result.json["certificate_no"]


def test_odd_input_is_refused_not_a_server_error(client, db_session, world):
    staff = auth(db_session, world.institute_staff)
    assert client.get(f"{API}/visits/plan?from=9999-12-31&days=92", headers=staff).status_code == 400
    huge = {"visits": [{"firm_id": 10**20, "planned_on": "2026-12-01", "items": [{"instrument_id": 10**20}]}]}
    response = client.post(f"{API}/visits", headers=staff, json=huge)
    assert response.status_code == 400, response.json
