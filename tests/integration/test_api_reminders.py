"""The reminder API: policy, outbox, an instrument's reminders, one's channels, a test message."""

from __future__ import annotations

import pytest

from models import ReminderPolicy
from service.jobs.reminders import run_planning
from tests.api import API, auth
from tests.reminders import DAY, at, due_on, firm_with_people, make_notification, messages


@pytest.fixture
def planned(app, db_session, world):
    firm = firm_with_people(db_session, world.a)
    instrument = due_on(db_session, world.a.actor("admin"), 30, custodian_user_id=firm.custodian.id)
    db_session.commit()
    run_planning(app, at(DAY, 8))
    return instrument


def test_policy_round_trip(client, db_session, world):
    admin = auth(db_session, world.a.admin)
    assert client.get(f"{API}/reminders/policy", headers=admin).json["offsets_days"] == [30, 15, 7, 0]
    response = client.put(
        f"{API}/reminders/policy",
        headers=admin,
        json={"offsets_days": [60, 30, 0], "mandatory_offsets_days": "90, 60, 30", "window_start": "08:00"},
    )
    assert response.status_code == 200, response.json
    assert response.json["offsets_days"] == [60, 30, 0]
    assert response.json["mandatory_offsets_days"] == [90, 60, 30]
    assert response.json["window_start"] == "08:00"
    assert db_session.get(ReminderPolicy, world.a.org.id).offsets_days == [60, 30, 0]


@pytest.mark.parametrize(
    "body",
    [
        {"offsets_days": []},
        {"offsets_days": [1.5]},
        {"offsets_days": [30, -5]},
        {"mandatory_offsets_days": "60, -1"},
        {"offsets_days": "x"},
        {"overdue_every_days": 1000},
        {"window_start": "9am"},
        {"wecom_url": "https://example.com/?key=1"},
        {"unknown": 1},
    ],
)
def test_bad_policy_is_a_400(client, db_session, world, body):
    response = client.put(f"{API}/reminders/policy", headers=auth(db_session, world.a.admin), json=body)
    assert response.status_code == 400
    assert response.json["errors"]
    assert db_session.get(ReminderPolicy, world.a.org.id) is None


def test_a_policy_with_no_recipient_is_a_400_with_a_field_message(client, db_session, world):
    body = {"to_custodian": False, "to_metrology": False, "to_department_head": False}
    response = client.put(f"{API}/reminders/policy", headers=auth(db_session, world.a.admin), json=body)
    assert response.status_code == 400
    assert response.json["errors"]["to_custodian"]
    assert db_session.get(ReminderPolicy, world.a.org.id) is None


def test_robot_secrets_are_masked_for_those_who_cannot_change_them(client, db_session, world):
    url = "https://oapi.dingtalk.com/robot/send?access_token=secret-token"
    admin = auth(db_session, world.a.admin)
    client.put(
        f"{API}/reminders/policy", headers=admin, json={"dingtalk_url": url, "dingtalk_secret": "SEC1"}
    )
    as_admin = client.get(f"{API}/reminders/policy", headers=admin).json
    assert (as_admin["dingtalk_url"], as_admin["dingtalk_secret"]) == (url, "***")
    as_staff = client.get(f"{API}/reminders/policy", headers=auth(db_session, world.a.metrology)).json
    assert (as_staff["dingtalk_url"], as_staff["dingtalk_secret"]) == ("***", "***")
    assert (
        client.put(
            f"{API}/reminders/policy", headers=auth(db_session, world.a.metrology), json={}
        ).status_code
        == 403
    )


def test_outbox_pages_and_filters(client, db_session, world, planned):
    headers = auth(db_session, world.a.metrology)
    listed = client.get(f"{API}/notifications?channel=sms", headers=headers).json
    assert listed["items"]
    assert {m["channel"] for m in listed["items"]} == {"sms"}
    one = client.get(f"{API}/notifications/{listed['items'][0]['id']}", headers=headers).json
    assert one["items"] == [{"instrument_id": planned.id, "stage": "due", "days": 30, "due_on": "2026-12-31"}]
    assert client.get(f"{API}/notifications?state=nonsense", headers=headers).status_code == 400
    other = client.get(f"{API}/notifications", headers=auth(db_session, world.b.metrology)).json
    assert other["items"] == []


def test_an_instruments_reminders(client, db_session, world, planned):
    items = client.get(
        f"{API}/instruments/{planned.id}/reminders", headers=auth(db_session, world.a.viewer)
    ).json["items"]
    assert {(i["stage"], i["days"]) for i in items} == {("due", 30)}
    assert {i["channel"] for i in items} >= {"sms", "email", "in_app"}
    foreign = client.get(f"{API}/instruments/{planned.id}/reminders", headers=auth(db_session, world.b.admin))
    assert foreign.status_code == 404


def test_retry_a_dead_message(client, db_session, world):
    dead = make_notification(db_session, world.a.metrology, state="dead", attempts=6)
    db_session.commit()
    assert (
        client.post(
            f"{API}/notifications/{dead.id}/retry", headers=auth(db_session, world.a.metrology)
        ).status_code
        == 403
    )
    response = client.post(f"{API}/notifications/{dead.id}/retry", headers=auth(db_session, world.a.admin))
    assert response.status_code == 200
    assert (response.json["state"], response.json["attempts"]) == ("pending", 0)
    again = client.post(f"{API}/notifications/{dead.id}/retry", headers=auth(db_session, world.a.admin))
    assert again.status_code == 409
    foreign = client.post(f"{API}/notifications/{dead.id}/retry", headers=auth(db_session, world.b.admin))
    assert foreign.status_code == 404


def test_my_channels_and_a_test_message(client, db_session, world, outbox):
    headers = auth(db_session, world.a.viewer)
    assert client.get(f"{API}/me/channels", headers=headers).json == {
        "notify_sms": True,
        "notify_email": True,
        "notify_in_app": True,
        "sms_opted_out": False,
    }
    changed = client.put(f"{API}/me/channels", headers=headers, json={"notify_sms": False})
    assert changed.json["notify_sms"] is False
    assert (
        client.put(f"{API}/me/channels", headers=headers, json={"notify_sms": "perhaps"}).status_code == 400
    )
    sent = client.post(f"{API}/me/test-message", headers=headers, json={"channel": "email"})
    assert sent.status_code == 202
    assert [m["to"] for m in outbox.messages()] == [world.a.viewer.email]
    assert messages(db_session, id=sent.json["id"])[0].state == "sent"
    assert client.post(f"{API}/me/test-message", headers=headers, json={"channel": "sms"}).status_code == 400


def test_outbox_refuses_unknown_parameters(client, db_session, world):
    headers = auth(db_session, world.a.metrology)
    assert client.get(f"{API}/instruments?colour=red", headers=headers).status_code == 400
    response = client.get(f"{API}/notifications?colour=red", headers=headers)
    assert response.status_code == 400
    assert "colour" in response.json["errors"]
