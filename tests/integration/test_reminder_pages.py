"""The reminder pages and Twilio's callbacks, through the HTTP client."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from models import ReminderPolicy, SmsOptOut
from service.jobs.reminders import run_planning
from tests.reminders import DAY, at, due_on, firm_with_people, messages, plan_a_due_reminder
from tests.twilio_fake import TOKEN, twilio_app


@pytest.fixture
def planned(app, db_session, world):
    return plan_a_due_reminder(app, db_session, world.a)


def test_admin_changes_the_policy(client, login_as, db_session, world):
    login_as(world.a.admin)
    page = client.get("/reminders/policy")
    assert page.status_code == 200
    assert b'name="offsets_days"' in page.data
    response = client.post(
        "/reminders/policy",
        data={
            "offsets_days": "60，30、7, 0",
            "mandatory_offsets_days": "",
            "overdue_every_days": "3",
            "escalate_from": "1",
            "window_start": "08:30",
            "window_end": "17:00",
            "to_custodian": "on",
            "working_days_only": "on",
            "sms_daily_limit": "50",
            "wecom_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
            "dingtalk_url": "",
            "dingtalk_secret": "",
        },
    )
    assert response.status_code == 303
    policy = db_session.get(ReminderPolicy, world.a.org.id)
    db_session.refresh(policy)
    assert policy.offsets_days == [60, 30, 7, 0]
    assert (policy.overdue_every_days, policy.escalate_from, policy.sms_daily_limit) == (3, 1, 50)
    assert (policy.to_custodian, policy.to_metrology, policy.working_days_only) == (True, False, True)
    assert policy.window_start.strftime("%H:%M") == "08:30"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("offsets_days", "30, abc"),
        ("offsets_days", "400"),
        ("window_end", "25:00"),
        ("wecom_url", "http://169.254.169.254/latest"),
        ("dingtalk_url", "https://evil.example.com/robot/send?access_token=x"),
        ("sms_daily_limit", "-1"),
    ],
)
def test_bad_policy_input_is_refused_with_a_message_and_changes_nothing(
    client, login_as, db_session, world, field, value
):
    login_as(world.a.admin)
    response = client.post("/reminders/policy", data={field: value})
    assert response.status_code == 422
    assert b"invalid-feedback" in response.data
    assert db_session.get(ReminderPolicy, world.a.org.id) is None


def test_a_window_that_ends_before_it_starts_is_refused(client, login_as, world):
    login_as(world.a.admin)
    response = client.post("/reminders/policy", data={"window_start": "18:00", "window_end": "09:00"})
    assert response.status_code == 422


def test_metrology_staff_read_the_policy_but_cannot_change_it(client, login_as, world):
    login_as(world.a.metrology)
    assert client.get("/reminders/policy").status_code == 200
    assert client.post("/reminders/policy", data={"offsets_days": "1"}).status_code == 403
    client.post("/logout")
    login_as(world.a.viewer)
    assert client.get("/reminders/policy").status_code == 403


def test_outbox_lists_the_firms_messages_only(client, login_as, planned, world):
    login_as(world.a.metrology)
    page = client.get("/reminders/outbox?state=pending")
    assert page.status_code == 200
    assert page.data.count(b'data-state="pending"') > 0
    client.post("/logout")
    login_as(world.b.metrology)
    assert b'data-state="pending"' not in client.get("/reminders/outbox").data


def test_a_foreign_message_is_a_404(client, login_as, planned, db_session, world):
    [message, *_] = messages(db_session, world.a.org.id)
    login_as(world.b.admin)
    assert client.get(f"/reminders/outbox/{message.id}").status_code == 404
    assert client.post(f"/reminders/outbox/{message.id}/retry").status_code == 404
    client.post("/logout")
    login_as(world.a.metrology)
    shown = client.get(f"/reminders/outbox/{message.id}")
    assert shown.status_code == 200
    assert b"MN-" in shown.data
    # "State" is a message's sending state here, not an approval's ("审批状态").
    assert "审批状态" not in shown.data.decode()


def test_bad_outbox_filters_are_a_400(client, login_as, world):
    login_as(world.a.metrology)
    assert client.get("/reminders/outbox?state=bogus").status_code == 400
    assert client.get("/reminders/outbox?before=abc").status_code == 400


def test_my_reminders_and_channel_choice(client, login_as, planned, db_session):
    login_as(planned.custodian)
    page = client.get("/reminders")
    assert page.status_code == 200
    assert b'id="unread"' in page.data
    assert client.post("/reminders/read").status_code == 303
    assert b'id="unread"' not in client.get("/reminders").data
    assert client.post("/reminders/channels", data={"notify_email": "on"}).status_code == 303
    db_session.refresh(planned.custodian)
    assert (
        planned.custodian.notify_sms,
        planned.custodian.notify_email,
        planned.custodian.notify_in_app,
    ) == (
        False,
        True,
        False,
    )


def test_send_myself_a_test_message(client, login_as, world, outbox):
    login_as(world.a.metrology)
    response = client.post("/reminders/test", data={"channel": "email"})
    assert response.status_code == 303
    [sent] = outbox.messages()
    assert sent["to"] == world.a.metrology.email
    assert sent["channel"] == "email"
    assert client.post("/reminders/test", data={"channel": "sms"}).status_code == 303  # no mobile: refused
    assert len(outbox.messages()) == 1
    assert client.post("/reminders/test", data={"channel": "fax"}).status_code == 303
    assert len(outbox.messages()) == 1


def test_admin_releases_held_sms(client, login_as, planned, db_session, world):
    for message in messages(db_session, world.a.org.id, channel="sms"):
        message.state = "held"
    db_session.commit()
    login_as(world.a.metrology)
    assert client.post("/reminders/outbox/release").status_code == 303
    assert {m.state for m in messages(db_session, world.a.org.id, channel="sms")} == {"held"}
    client.post("/logout")
    login_as(world.a.admin)
    assert client.post("/reminders/outbox/release").status_code == 303
    released = messages(db_session, world.a.org.id, channel="sms")
    assert {(m.state, m.is_ceiling_exempt) for m in released} == {("pending", True)}


# Twilio's callbacks --------------------------------------------------------------------------------


@pytest.fixture
def twilio_client(config, engine, sessions):
    return twilio_app(config, engine, sessions).test_client()


def _signed(client, path: str, form: dict, token: str = TOKEN):
    url = f"http://localhost{path}"
    signature = RequestValidator(token).compute_signature(url, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def test_status_callbacks_move_a_message_forward_only(twilio_client, planned, db_session, world):
    [sms, *_] = messages(db_session, world.a.org.id, channel="sms")
    sms.state, sms.provider_id = "sent", "SM123"
    db_session.commit()
    assert (
        _signed(
            twilio_client, "/webhooks/twilio/status", {"MessageSid": "SM123", "MessageStatus": "delivered"}
        ).status_code
        == 204
    )
    assert (
        _signed(
            twilio_client, "/webhooks/twilio/status", {"MessageSid": "SM123", "MessageStatus": "sent"}
        ).status_code
        == 204
    )
    [after] = messages(db_session, id=sms.id)
    assert (after.state, after.provider_status) == ("delivered", "delivered")


def test_an_undelivered_report_keeps_its_error_code(twilio_client, planned, db_session, world):
    [sms, *_] = messages(db_session, world.a.org.id, channel="sms")
    sms.state, sms.provider_id = "sent", "SM999"
    db_session.commit()
    form = {"MessageSid": "SM999", "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert _signed(twilio_client, "/webhooks/twilio/status", form).status_code == 204
    [after] = messages(db_session, id=sms.id)
    assert (after.state, after.error_code) == ("undelivered", "30003")


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl"])
def test_callbacks_without_a_valid_signature_are_refused(
    twilio_client, planned, db_session, world, signature
):
    [sms, *_] = messages(db_session, world.a.org.id, channel="sms")
    sms.state, sms.provider_id = "sent", "SM777"
    db_session.commit()
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    form = {"MessageSid": "SM777", "MessageStatus": "delivered"}
    assert twilio_client.post("/webhooks/twilio/status", data=form, headers=headers).status_code == 403
    assert _signed(twilio_client, "/webhooks/twilio/status", form, token="other-token").status_code == 403
    assert (
        twilio_client.post(
            "/webhooks/twilio/inbound", data={"From": "+8613800000001", "Body": "STOP"}
        ).status_code
        == 403
    )
    assert messages(db_session, id=sms.id)[0].state == "sent"
    assert db_session.get(SmsOptOut, "+8613800000001") is None


@pytest.mark.parametrize("word", ["STOP", "退订", "td"])
def test_inbound_stop_opts_out_and_skips_what_waits(twilio_client, planned, db_session, world, word):
    response = _signed(
        twilio_client, "/webhooks/twilio/inbound", {"From": "+86 138 0000 0001", "Body": f" {word} "}
    )
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert db_session.get(SmsOptOut, "+8613800000001").source == "keyword"
    [waiting] = messages(db_session, world.a.org.id, to_address="+8613800000001")
    assert waiting.state == "skipped"
    _signed(twilio_client, "/webhooks/twilio/inbound", {"From": "+8613800000001", "Body": "START"})
    db_session.expire_all()
    assert db_session.get(SmsOptOut, "+8613800000001") is None


def test_webhooks_do_not_exist_without_twilio(client):
    assert client.post("/webhooks/twilio/status", data={}).status_code == 404


def test_an_instruments_page_lists_the_reminders_it_caused(client, login_as, app, db_session, world):
    firm = firm_with_people(db_session, world.a)
    instrument = due_on(db_session, world.a.actor("admin"), 30, custodian_user_id=firm.custodian.id)
    quiet = due_on(db_session, world.a.actor("admin"), 200)
    db_session.commit()
    run_planning(app, at(DAY, 8))
    login_as(world.a.viewer)
    page = client.get(f"/instruments/{instrument.id}").data.decode()
    section = page[page.index('id="instrument-reminders"') :]
    assert 'data-channel="sms"' in section
    assert 'data-channel="email"' in section
    assert 'data-state="pending"' in section
    assert "/reminders/outbox/" not in section  # a viewer sees the list, not the outbox
    assert 'data-channel="' not in client.get(f"/instruments/{quiet.id}").data.decode()
    client.post("/logout")
    login_as(world.a.metrology)
    assert "/reminders/outbox/" in client.get(f"/instruments/{instrument.id}").data.decode()
    client.post("/logout")
    # The institute sees its client's instrument, but not the client's outbox.
    login_as(world.institute_staff)
    shown = client.get(f"/clients/{world.a.org.id}/instruments/{instrument.id}")
    assert shown.status_code == 200
    assert b"instrument-reminders" not in shown.data


def test_a_policy_with_no_recipient_is_refused_with_a_message(client, login_as, db_session, world):
    login_as(world.a.admin)
    response = client.post("/reminders/policy", data={"offsets_days": "30, 7, 0"})  # every box unticked
    assert response.status_code == 422
    page = response.data.decode()
    assert "invalid-feedback" in page
    assert "至少" in page  # "Tick at least one recipient…" in Chinese
    assert db_session.get(ReminderPolicy, world.a.org.id) is None


def test_outbox_names_each_recipient_beside_the_address(client, login_as, app, db_session, world):
    firm = firm_with_people(db_session, world.a)
    due_on(db_session, world.a.actor("admin"), 30, custodian_user_id=firm.custodian.id)
    due_on(db_session, world.a.actor("admin"), 15, custodian="赵临时", custodian_mobile="13900000009")
    db_session.commit()
    run_planning(app, at(DAY, 8))
    login_as(world.a.metrology)
    page = client.get("/reminders/outbox?channel=sms").data.decode()
    assert "+8613800000001" in page
    assert "王保管" in page  # a user: their name
    assert "+8613900000009" in page
    assert "赵临时" in page  # a custodian known only by mobile: the name on the instrument
