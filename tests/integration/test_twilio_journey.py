"""Reminders by SMS from the planner to Twilio and back, through the real SDK with its HTTP layer replaced.

Nothing of ours is mocked: the planner writes the outbox, the dispatcher claims it and calls the
Twilio adapter, the SDK builds the real request (recorded by ``FakeTwilioHttp``), and Twilio's
signed status callback moves the message on.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from twilio.request_validator import RequestValidator

from models import SmsOptOut
from service.jobs.reminders import run_dispatch
from tests.reminders import DAY, at, messages, plan_a_due_reminder
from tests.twilio_fake import FROM, SID, TOKEN, FakeTwilioHttp, error_json, message_json, twilio_app

MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"


def _accept(data: dict) -> tuple[int, dict]:
    """Twilio's answer to a send it accepts: a new Message resource with a fresh SID."""
    _accept.count += 1
    return 201, message_json(f"SM{_accept.count:032d}", data["To"], data["Body"])


_accept.count = 0


@pytest.fixture
def http():
    return FakeTwilioHttp(default=_accept)


@pytest.fixture
def sms_app(config, engine, sessions, http):
    return twilio_app(config, engine, sessions, http)


@pytest.fixture
def planned(sms_app, db_session, world):
    return plan_a_due_reminder(sms_app, db_session, world.a)


def _posts(http: FakeTwilioHttp) -> list[dict]:
    return [r["data"] for r in http.requests if r["method"] == "POST"]


def test_due_sms_reach_twilio_once_each_and_delivery_reports_come_back(sms_app, http, planned, db_session):
    org_id = planned.tenant.org.id
    outbox = messages(db_session, org_id, channel="sms")
    assert outbox
    run_dispatch(sms_app, at(DAY, 10))

    posts = _posts(http)
    assert sorted(p["To"] for p in posts) == sorted(m.to_address for m in outbox)
    by_number = {m.to_address: m for m in outbox}
    for post in posts:
        assert post["From"] == FROM
        assert post["Body"] == by_number[post["To"]].body
        assert post["StatusCallback"] == "http://testserver/webhooks/twilio/status"
    assert {r["url"] for r in http.requests} == {MESSAGES_URL}
    assert {r["auth"] for r in http.requests} == {(SID, TOKEN)}

    sent = messages(db_session, org_id, channel="sms")
    assert {m.state for m in sent} == {"sent"}
    assert all(m.provider_id.startswith("SM") for m in sent)

    # A second dispatch has nothing left to send.
    run_dispatch(sms_app, at(DAY, 10, 5))
    assert len(_posts(http)) == len(posts)

    # Twilio reports the handset received it.
    first = sent[0]
    form = {"MessageSid": first.provider_id, "MessageStatus": "delivered", "To": first.to_address}
    url = "http://localhost/webhooks/twilio/status"
    signature = RequestValidator(TOKEN).compute_signature(url, form)
    response = sms_app.test_client().post(
        "/webhooks/twilio/status", data=form, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 204
    [after] = messages(db_session, id=first.id)
    assert after.state == "delivered"


def test_a_throttled_send_is_retried_after_its_backoff(sms_app, http, planned, db_session):
    [first, *_] = messages(db_session, planned.tenant.org.id, channel="sms")
    http.answers.append(error_json(429, 20429, "Too Many Requests"))
    run_dispatch(sms_app, at(DAY, 10), only_ids=[first.id])
    [waiting] = messages(db_session, id=first.id)
    assert (waiting.state, waiting.attempts, waiting.error_code) == ("pending", 1, "20429")
    assert waiting.not_before > at(DAY, 10)

    run_dispatch(sms_app, waiting.not_before + timedelta(seconds=1), only_ids=[first.id])
    [done] = messages(db_session, id=first.id)
    assert (done.state, done.attempts) == ("sent", 2)
    assert [p["To"] for p in _posts(http)] == [first.to_address] * 2


def test_an_unreachable_number_stops_at_once(sms_app, http, planned, db_session):
    [first, *_] = messages(db_session, planned.tenant.org.id, channel="sms")
    http.answers.append(error_json(400, 21610, "Attempt to send to unsubscribed recipient"))
    run_dispatch(sms_app, at(DAY, 10), only_ids=[first.id])
    [failed] = messages(db_session, id=first.id)
    assert (failed.state, failed.error_code) == ("failed", "21610")
    assert db_session.get(SmsOptOut, first.to_address).source == "provider"
    run_dispatch(sms_app, at(DAY, 12), only_ids=[first.id])
    assert len(_posts(http)) == 1


def test_a_send_lost_in_a_timeout_is_found_at_twilio_and_not_sent_again(sms_app, http, planned, db_session):
    [first, *_] = messages(db_session, planned.tenant.org.id, channel="sms")
    http.answers.append(requests.exceptions.ReadTimeout("read timed out"))
    run_dispatch(sms_app, at(DAY, 10), only_ids=[first.id])
    [unknown] = messages(db_session, id=first.id)
    assert unknown.state == "unknown"
    assert unknown.first_attempt_at == at(DAY, 10)  # stored in UTC, whatever zone the clock was given in

    # Twilio did take it: its message list shows the same body to the same number.
    found = message_json("SMfound", first.to_address, first.body, status="delivered")
    found["date_created"] = "Tue, 01 Dec 2026 02:00:00 +0000"  # 10:00 in Shanghai, the first attempt
    found["date_sent"] = "Tue, 01 Dec 2026 02:00:01 +0000"
    http.answers.append((200, _page([found])))
    run_dispatch(sms_app, unknown.not_before + timedelta(seconds=1), only_ids=[first.id])
    [after] = messages(db_session, id=first.id)
    assert (after.state, after.provider_id) == ("sent", "SMfound")
    assert len(_posts(http)) == 1
    [lookup] = [r for r in http.requests if r["method"] == "GET"]
    assert lookup["params"]["To"] == first.to_address


def _page(items: list[dict]) -> dict:
    return {
        "messages": items,
        "end": len(items) - 1,
        "first_page_uri": f"/2010-04-01/Accounts/{SID}/Messages.json?PageSize=50&Page=0",
        "next_page_uri": None,
        "page": 0,
        "page_size": 50,
        "previous_page_uri": None,
        "start": 0,
        "uri": f"/2010-04-01/Accounts/{SID}/Messages.json?PageSize=50&Page=0",
    }
