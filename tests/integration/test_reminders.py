"""Planning digests and dispatching the outbox, through the real database and the file backends."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import Notification, NotificationItem, ReminderRun, SmsOptOut
from notifications import SendResult
from service.jobs.reminders import run_dispatch, run_planning, run_tick
from service.observability.metrics import SMS_HELD
from service.reminders import dispatch as dispatching
from service.reminders.dispatch import MAX_ATTEMPTS, claim, record
from tests.reminders import DAY, at, due_on, firm_with_people, make_notification, messages, set_policy


@pytest.fixture
def firm(db_session, world):
    firm = firm_with_people(db_session, world.a)
    db_session.commit()
    return firm


def _due(db_session, firm, days, **fields):
    actor = firm.tenant.actor("admin")
    fields.setdefault("department_id", firm.tenant.department.id)
    instrument = due_on(db_session, actor, days, **fields)
    db_session.commit()
    return instrument


class Provider:
    """A provider double at the adapter boundary: answers from a script, records what it was given."""

    def __init__(self, *answers: SendResult, always: SendResult | None = None):
        self.answers = list(answers)
        self.always = always
        self.sent: list = []
        self.reconciled: list = []
        self.found: SendResult | None = None

    def send(self, message):
        self.sent.append(message)
        if self.answers:
            return self.answers.pop(0)
        return self.always or SendResult.sent(f"id-{len(self.sent)}")

    def reconcile(self, message, since):
        self.reconciled.append(message)
        return self.found


@pytest.fixture
def providers(app):
    installed = {}
    app.extensions["calrecall.channel_overrides"] = installed
    yield installed
    app.extensions.pop("calrecall.channel_overrides", None)


# Planning ------------------------------------------------------------------------------------------


def test_one_digest_per_recipient_and_channel_listing_all_their_instruments(app, db_session, firm):
    thirty = _due(db_session, firm, 30, custodian_user_id=firm.custodian.id)
    seven = _due(db_session, firm, 7, custodian_user_id=firm.custodian.id)
    _due(db_session, firm, 12)  # no step today
    summary = run_planning(app, at(DAY, 0, 30))
    assert summary == {"firms_planned": 3, "instruments": 2, "messages": summary["messages"]}
    org_id = firm.tenant.org.id
    custodian_sms = messages(db_session, org_id, recipient_user_id=firm.custodian.id, channel="sms")
    assert len(custodian_sms) == 1
    [sms] = custodian_sms
    assert sms.to_address == "+8613800000001"
    assert "2台计量器具将于30天内到期" in sms.body
    assert sms.state == "pending"
    assert sms.not_before == at(DAY, 9)  # planned at 00:30, sent when the window opens
    items = db_session.scalars(
        select(NotificationItem).where(NotificationItem.notification_id == sms.id)
    ).all()
    assert {(i.instrument_id, i.stage, i.days) for i in items} == {
        (thirty.id, "due", 30),
        (seven.id, "due", 7),
    }
    # Custodian, department head and metrology staff, each on SMS, email and in-app; not the admin yet.
    recipients = {(m.recipient_user_id, m.channel) for m in messages(db_session, org_id)}
    people = {firm.custodian.id, firm.head.id, firm.tenant.metrology.id}
    assert recipients == {(p, c) for p in people for c in ("sms", "email", "in_app")}
    in_app = messages(db_session, org_id, channel="in_app")
    assert {m.state for m in in_app} == {"delivered"}


def test_planning_the_same_day_again_adds_nothing(app, db_session, firm):
    _due(db_session, firm, 15)
    first = run_planning(app, at(DAY, 1))
    again = run_planning(app, at(DAY, 2))
    assert first["messages"] > 0
    assert again == {"firms_planned": 0, "instruments": 0, "messages": 0}
    run = db_session.scalar(select(ReminderRun).where(ReminderRun.org_id == firm.tenant.org.id))
    assert run.messages == len(messages(db_session, firm.tenant.org.id)) > 0


def test_a_mobile_only_custodian_gets_an_sms_in_chinese(app, db_session, firm):
    _due(db_session, firm, 0, custodian="赵师傅", custodian_mobile="139 0000 0009")
    run_planning(app, at(DAY, 8))
    [sms] = messages(db_session, firm.tenant.org.id, to_address="+8613900000009")
    assert sms.recipient_user_id is None
    assert sms.locale == "zh_Hans_CN"
    assert sms.body.startswith("【计量台账】")
    assert "1台计量器具" in sms.body


def test_admins_are_told_from_the_second_overdue_reminder(app, db_session, firm):
    org_id = firm.tenant.org.id
    _due(db_session, firm, -7)
    run_planning(app, at(DAY, 8))
    assert not messages(db_session, org_id, recipient_user_id=firm.tenant.admin.id)
    _due(db_session, firm, -14 + 1)  # 14 days overdue tomorrow
    run_planning(app, at(DAY + timedelta(days=1), 8))
    [admin_email] = messages(db_session, org_id, recipient_user_id=firm.tenant.admin.id, channel="email")
    assert "overdue" in admin_email.subject or "超期" in admin_email.subject


def test_users_who_switched_a_channel_off_do_not_get_it(app, db_session, firm):
    firm.tenant.metrology.notify_sms = False
    db_session.commit()
    _due(db_session, firm, 30)
    run_planning(app, at(DAY, 8))
    channels = {
        m.channel
        for m in messages(db_session, firm.tenant.org.id, recipient_user_id=firm.tenant.metrology.id)
    }
    assert channels == {"email", "in_app"}


def test_a_missed_day_is_caught_up(app, db_session, firm):
    org_id = firm.tenant.org.id
    run_planning(app, at(DAY - timedelta(days=2), 8))  # planned two days ago; yesterday was missed
    instrument = _due(db_session, firm, 29)  # its 30-day step fell yesterday
    run_planning(app, at(DAY, 8))
    items = db_session.scalars(
        select(NotificationItem).where(
            NotificationItem.org_id == org_id, NotificationItem.instrument_id == instrument.id
        )
    ).all()
    assert items
    assert {(i.stage, i.days) for i in items} == {("due", 29)}


def test_group_robots_get_one_markdown_digest(app, db_session, firm):
    set_policy(
        db_session,
        firm.tenant.org.id,
        offsets_days=[30, 0],
        wecom_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
    )
    db_session.commit()
    _due(db_session, firm, 30)
    _due(db_session, firm, 0)
    run_planning(app, at(DAY, 8))
    [robot] = messages(db_session, firm.tenant.org.id, channel="wecom")
    assert robot.to_address == "WeCom group"
    assert "key=" not in robot.to_address
    assert robot.body.startswith("###")
    assert robot.summary == {"due": 2, "overdue": 0, "within_days": 30}


def test_a_group_robot_gets_at_most_twenty_messages_a_minute(app, db_session, firm, providers):
    set_policy(
        db_session, firm.tenant.org.id, wecom_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"
    )
    for _ in range(dispatching.ROBOT_PER_MINUTE + 5):
        make_notification(
            db_session, firm.tenant.admin, channel="wecom", recipient_user_id=None, to_address="WeCom group"
        )
    db_session.commit()
    robot = providers["wecom"] = Provider()
    first = run_dispatch(app, at(DAY, 10))
    assert (first["sent"], first["deferred"]) == (20, 5)
    assert run_dispatch(app, at(DAY, 10, 0)).get("sent", 0) == 0  # the rest wait for the next minute
    assert run_dispatch(app, at(DAY, 10, 1)).get("sent") == 5
    assert len(robot.sent) == 25
    assert {m.state for m in messages(db_session, firm.tenant.org.id, channel="wecom")} == {"sent"}


def test_messages_in_flight_count_against_the_robots_minute(app, db_session, firm, providers):
    set_policy(
        db_session, firm.tenant.org.id, wecom_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"
    )
    for state in ["sending"] * 15 + ["pending"] * 10:
        make_notification(
            db_session,
            firm.tenant.admin,
            channel="wecom",
            recipient_user_id=None,
            to_address="WeCom group",
            state=state,
            lease_until=at(DAY, 10, 5),
        )
    db_session.commit()
    providers["wecom"] = Provider()
    assert run_dispatch(app, at(DAY, 10))["sent"] == 5


def test_a_firm_only_sees_its_own_instruments(app, db_session, world, firm):
    other = due_on(db_session, world.b.actor("admin"), 30)
    db_session.commit()
    _due(db_session, firm, 30)
    run_planning(app, at(DAY, 8))
    for message in messages(db_session, firm.tenant.org.id):
        ids = {
            i.instrument_id
            for i in db_session.scalars(
                select(NotificationItem).where(NotificationItem.notification_id == message.id)
            )
        }
        assert other.id not in ids


# Dispatch ------------------------------------------------------------------------------------------


def test_tick_sends_within_the_window_to_the_file_backend(app, db_session, firm, outbox):
    _due(db_session, firm, 30)
    early = run_tick(app, at(DAY, 7))
    assert early["messages"] > 0
    assert early["dispatch"].get("sent", 0) == 0
    later = run_tick(app, at(DAY, 9, 1))
    sent = outbox.messages()
    assert later["dispatch"]["sent"] == len(sent) > 0
    assert all(
        {"channel", "to", "subject", "body", "idempotency_key", "org", "sent_at"} <= set(m) for m in sent
    )
    assert {m["org"] for m in sent} == {firm.tenant.org.slug}
    assert run_tick(app, at(DAY, 10))["dispatch"] == {}
    assert len(outbox.messages()) == len(sent)
    assert {m.state for m in messages(db_session, firm.tenant.org.id) if m.channel != "in_app"} == {"sent"}


def test_working_days_only_holds_messages_over_the_weekend(app, db_session, firm, outbox):
    saturday = DAY + timedelta(days=4)
    set_policy(db_session, firm.tenant.org.id, offsets_days=[30], working_days_only=True)
    db_session.commit()
    _due(db_session, firm, 4 + 30)
    run_tick(app, at(saturday, 10))
    assert outbox.messages() == []
    pending = messages(db_session, firm.tenant.org.id, state="pending")
    assert pending
    assert {m.not_before for m in pending} == {at(saturday + timedelta(days=2), 9)}


def test_retryable_failures_back_off_and_then_die(app, db_session, firm, providers):
    _due(db_session, firm, 30)
    run_planning(app, at(DAY, 8))
    providers["sms"] = Provider(always=SendResult.retry("429 Too Many Requests", "20429"))
    providers["email"] = Provider()
    [first] = messages(
        db_session, firm.tenant.org.id, channel="sms", recipient_user_id=firm.tenant.metrology.id
    )
    now = at(DAY, 10)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        run_dispatch(app, now)
        [message] = messages(db_session, firm.tenant.org.id, id=first.id)
        assert message.attempts == attempt
        if attempt < MAX_ATTEMPTS:
            assert message.state == "pending"
            assert message.error_code == "20429"
            assert message.not_before > now
            now = message.not_before
    assert message.state == "dead"


def test_permanent_failures_stop_at_once_and_an_opt_out_is_remembered(app, db_session, firm, providers):
    _due(db_session, firm, 30)
    run_planning(app, at(DAY, 8))
    providers["sms"] = Provider(always=SendResult.permanent("unsubscribed", "21610", opted_out=True))
    providers["email"] = Provider()
    run_dispatch(app, at(DAY, 10))
    failed = messages(db_session, firm.tenant.org.id, channel="sms")
    assert {(m.state, m.error_code, m.attempts) for m in failed} == {("failed", "21610", 1)}
    assert db_session.get(SmsOptOut, "+8613800000003").source == "provider"


def test_an_ambiguous_send_is_reconciled_before_any_resend(app, db_session, firm, providers):
    _due(db_session, firm, 30)
    run_planning(app, at(DAY, 8))
    sms = Provider(always=SendResult.unknown("502 Bad Gateway", "502"))
    providers["sms"], providers["email"] = sms, Provider()
    run_dispatch(app, at(DAY, 10))
    unknown = messages(db_session, firm.tenant.org.id, channel="sms")
    assert {m.state for m in unknown} == {"unknown"}
    sent_before = len(sms.sent)
    sms.found = SendResult.sent("SM-found")
    run_dispatch(app, at(DAY, 10, 5))
    assert len(sms.sent) == sent_before  # nothing sent again: the provider had them
    assert {(m.state, m.provider_id) for m in messages(db_session, firm.tenant.org.id, channel="sms")} == {
        ("sent", "SM-found")
    }


def test_a_worker_whose_lease_ran_out_records_nothing(app, sessions, db_session, firm):
    _due(db_session, firm, 30)
    run_planning(app, at(DAY, 8))
    from service.db import unit_of_work

    with app.app_context(), unit_of_work(sessions) as session:
        stale, _ = claim(session, at(DAY, 10), "stale-worker", limit=1)
    with app.app_context(), unit_of_work(sessions) as session:
        later = at(DAY, 10) + dispatching.LEASE + timedelta(seconds=1)
        fresh, _ = claim(session, later, "fresh-worker", only_ids=[stale[0].id])
    assert [c.id for c in stale] == [c.id for c in fresh]
    assert fresh[0].was == "sending"  # the new worker knows to ask the provider first
    with unit_of_work(sessions) as session:
        record(session, "stale-worker", [(stale[0], SendResult.sent("late"))], at(DAY, 10, 6))
    [message] = messages(db_session, id=stale[0].id)
    assert (message.state, message.claimed_by, message.provider_id) == ("sending", "fresh-worker", None)


def test_the_daily_sms_ceiling_holds_the_rest_and_tells_the_admins(app, db_session, firm, providers):
    set_policy(db_session, firm.tenant.org.id, offsets_days=[30], sms_daily_limit=2)
    db_session.commit()
    _due(db_session, firm, 30, custodian_user_id=firm.custodian.id)
    run_planning(app, at(DAY, 8))
    providers["sms"], providers["email"] = Provider(), Provider()
    held_before = SMS_HELD._value.get()
    totals = run_dispatch(app, at(DAY, 10))
    sms = messages(db_session, firm.tenant.org.id, channel="sms")
    assert len(sms) == 3
    assert sorted(m.state for m in sms) == ["held", "sent", "sent"]
    assert totals["held"] == 1
    assert SMS_HELD._value.get() == held_before + 1  # /metrics: calrecall_sms_ceiling_held_total
    notices = messages(db_session, firm.tenant.org.id, kind="sms_ceiling")
    assert {(m.recipient_user_id, m.channel) for m in notices} == {
        (firm.tenant.admin.id, "in_app"),
        (firm.tenant.admin.id, "email"),
    }
    run_dispatch(app, at(DAY, 11))
    assert len(messages(db_session, firm.tenant.org.id, kind="sms_ceiling")) == 2  # once a day


def test_a_number_that_sent_stop_is_skipped_at_dispatch(app, db_session, firm, providers):
    _due(db_session, firm, 30, custodian_user_id=firm.custodian.id)
    run_planning(app, at(DAY, 8))
    db_session.add(SmsOptOut(phone="+8613800000001", source="keyword"))
    db_session.commit()
    providers["sms"], providers["email"] = Provider(), Provider()
    run_dispatch(app, at(DAY, 10))
    [skipped] = messages(db_session, firm.tenant.org.id, to_address="+8613800000001")
    assert skipped.state == "skipped"
    assert "+8613800000001" not in {m.to for m in providers["sms"].sent}


def test_cli_tick_prints_json(app, db_session, firm, outbox):
    _due(db_session, firm, 30)
    result = app.test_cli_runner().invoke(args=["reminders", "tick", "--now", "2026-12-01T10:00"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["messages"] > 0
    assert summary["dispatch"]["sent"] == len(outbox.messages())


def test_cli_tick_refuses_a_malformed_time(app):
    result = app.test_cli_runner().invoke(args=["reminders", "tick", "--now", "tomorrow"])
    assert result.exit_code == 2
    assert "--now" in result.output


def test_firms_are_asked_for_their_due_instruments_together_and_get_what_each_alone_would(
    app, db_session, world, firm
):
    from sqlalchemy import event

    from service.reminders.planning import DueQuestion, find_due, find_due_across
    from service.reminders.policy import defaults, ladder_of
    from service.reminders.rules import Ladder

    a, b = firm.tenant.org.id, world.b.org.id
    for days in (30, 15, 29, 7, 0, -7, -14, 60):
        _due(db_session, firm, days)
        due_on(db_session, world.b.actor("admin"), days)
    db_session.commit()
    # Firm B reminds 60 days ahead too: another ladder, its own statement.
    questions = [
        DueQuestion(a, ladder_of(defaults(a)), DAY - timedelta(days=1), DAY),
        DueQuestion(b, Ladder(offsets=(60, 30, 15, 7, 0)), DAY, DAY),
    ]
    together = find_due_across(db_session, questions)
    for question in questions:
        alone = find_due(db_session, question.org_id, question.ladder, question.first_day, question.day)
        assert together[question.org_id] == alone
        assert alone
    assert {d.due_on - DAY for d in together[b]} >= {timedelta(days=60)}
    assert {d.due_on - DAY for d in together[a]} >= {timedelta(days=29), timedelta(days=-14)}
    # The daily run sends one due-selection statement for the firms of one ladder.
    selects = []

    def watch(connection, cursor, statement, *args):
        if "instruments.custodian_mobile" in statement:
            selects.append(statement)

    event.listen(db_session.get_bind(), "before_cursor_execute", watch)
    try:
        run_planning(app, at(DAY, 8))
    finally:
        event.remove(db_session.get_bind(), "before_cursor_execute", watch)
    assert len(selects) == 1
    assert messages(db_session, a)
    assert messages(db_session, b)


@pytest.mark.parametrize("whose", ["another firm's instrument", "a firm that does not exist"])
def test_an_item_lists_only_an_instrument_of_its_own_firm(db_session, world, whose):
    # Items carry no foreign key to organizations of their own (migration 0033): the composite key
    # (org_id, instrument_id) to the instrument is what ties them to an existing firm.
    notification = make_notification(db_session, world.a.metrology)
    mine = due_on(db_session, world.a.actor("admin"), 30)
    theirs = due_on(db_session, world.b.actor("admin"), 30)
    item = {"notification_id": notification.id, "stage": "due", "days": 30, "due_on": DAY}
    items = NotificationItem.__table__.insert()
    db_session.execute(items, [{**item, "org_id": world.a.org.id, "instrument_id": mine.id}])
    wrong = (world.a.org.id, theirs.id) if whose == "another firm's instrument" else (10**9, mine.id)
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.execute(items, [{**item, "org_id": wrong[0], "instrument_id": wrong[1]}])


def _firms_with_dues(db_session, count: int) -> list[int]:
    """Make ``count`` more firms, each with a metrology engineer and an instrument due in 30 days."""
    from tests import factories
    from tests.factories import Actor

    org_ids = []
    for _ in range(count):
        org = factories.make_org(db_session, "firm")
        factories.make_user(db_session, org, "metrology", mobile="13900000009")
        admin = factories.make_user(db_session, org, "admin")
        due_on(db_session, Actor.of(admin), 30)
        org_ids.append(org.id)
    db_session.commit()
    return org_ids


def test_firms_are_planned_together_in_a_few_statements_however_many_they_are(app, db_session, world, firm):
    from sqlalchemy import event

    _due(db_session, firm, 30)

    def statements_planning() -> tuple[int, dict]:
        sent = []
        watch = lambda _c, _cur, statement, *_: sent.append(statement)  # noqa: E731
        event.listen(db_session.get_bind(), "before_cursor_execute", watch)
        try:
            summary = run_planning(app, at(DAY, 8))
        finally:
            event.remove(db_session.get_bind(), "before_cursor_execute", watch)
        return len(sent), summary

    few, summary = statements_planning()
    assert summary["firms_planned"] == 3
    db_session.execute(ReminderRun.__table__.delete())
    db_session.execute(NotificationItem.__table__.delete())
    db_session.execute(Notification.__table__.delete())
    db_session.commit()
    _firms_with_dues(db_session, 6)
    many, summary = statements_planning()
    assert summary["firms_planned"] == 9
    assert summary["instruments"] == 7
    # Nine firms cost what three did: one transaction reads and writes for all of them.
    assert many == few


def test_a_firm_whose_planning_fails_is_planned_again_next_run_and_the_others_are_planned(
    app, db_session, world, firm, monkeypatch
):
    from service.reminders import planning

    broken_org = firm.tenant.org
    _due(db_session, firm, 30)
    others = _firms_with_dues(db_session, 2)
    real_render = planning.render_digests

    def render_failing_for_one_firm(digest, addresses, locale):
        if digest.org_name == broken_org.name:
            raise RuntimeError("a template fails for this firm's data")
        return real_render(digest, addresses, locale)

    monkeypatch.setattr(planning, "render_digests", render_failing_for_one_firm)
    summary = run_planning(app, at(DAY, 8))
    planned = set(db_session.scalars(select(ReminderRun.org_id)))
    assert planned == {world.b.org.id, world.institute.id, *others}
    assert summary["instruments"] == 2
    assert messages(db_session, broken_org.id) == []
    for org_id in others:
        assert messages(db_session, org_id)

    monkeypatch.setattr(planning, "render_digests", real_render)
    again = run_planning(app, at(DAY, 9))
    assert again["firms_planned"] == 1
    assert again["instruments"] == 1
    assert messages(db_session, broken_org.id)


def test_a_batch_whose_commit_fails_counts_its_firms_once_when_they_are_planned_one_by_one(
    app, db_session, world, firm, monkeypatch
):
    """Results count once their transaction has committed: a batch's were counted before (twice)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from service.reminders import planning

    _due(db_session, firm, 30)
    others = _firms_with_dues(db_session, 2)
    real_plan_days = planning.plan_days
    batches = []

    def plan_days_noting_batches(session, org_ids, *args):
        batches.append(list(org_ids))
        return real_plan_days(session, org_ids, *args)

    def first_batch_commit_fails(session):
        if len(batches) == 1 and len(batches[0]) > 1:
            batches.append(["failed"])
            raise RuntimeError("the connection dropped at COMMIT")

    monkeypatch.setattr(planning, "plan_days", plan_days_noting_batches)
    event.listen(Session, "before_commit", first_batch_commit_fails)
    try:
        summary = run_planning(app, at(DAY, 8))
    finally:
        event.remove(Session, "before_commit", first_batch_commit_fails)

    assert len(batches[0]) > 1
    assert batches[1] == ["failed"]
    planned = set(db_session.scalars(select(ReminderRun.org_id)))
    assert planned == {world.b.org.id, world.institute.id, firm.tenant.org.id, *others}
    assert summary["firms_planned"] == len(planned)
    assert summary["instruments"] == 3
    for org_id in (firm.tenant.org.id, *others):
        assert messages(db_session, org_id)
