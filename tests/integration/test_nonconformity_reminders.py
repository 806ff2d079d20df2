"""Open nonconformity cases are reminded like overdue instruments, once per step, in both languages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from service.jobs.reminders import run_planning
from service.nonconformity import operations
from service.reminders.case_reminders import OpenCase, reminded_between
from service.reminders.messages import render_notice
from tests import factories
from tests.reminders import DAY, at, messages
from tests.snapshot import assert_snapshot


@pytest.mark.parametrize(
    ("opened_days_ago", "missed_days", "expected"),
    [
        (7, 0, True),  # the first step
        (14, 0, True),
        (8, 0, False),
        (0, 0, False),  # the day it opened: the opening itself is the news
        (8, 1, True),  # yesterday's step was missed: caught up today
        (9, 1, False),
    ],
)
def test_reminder_steps(opened_days_ago, missed_days, expected):
    day = date(2026, 12, 1)
    opened = day - timedelta(days=opened_days_ago)
    assert reminded_between(opened, day - timedelta(days=missed_days), day, 7) is expected


def test_no_steps_when_the_ladder_has_none():
    assert not reminded_between(date(2026, 1, 1), date(2026, 1, 8), date(2026, 1, 8), 0)


def test_open_cases_are_reminded_to_admins_and_engineers_once(app, db_session, world):
    tenant = world.a
    instrument = tenant.instruments[0]
    opened_on = DAY - timedelta(days=7)
    case = operations.open_case(db_session, tenant.actor(), instrument.id, {"description": "跌落"}, opened_on)
    closed = factories.make_instrument(db_session, tenant.actor())
    other = operations.open_case(db_session, tenant.actor(), closed.id, {"description": "x"}, opened_on)
    operations.assess(db_session, tenant.actor(), other.id, {"impact_assessment": "无"}, opened_on)
    operations.close(db_session, tenant.actor("admin"), other.id, {"disposition": "scrap"}, opened_on)
    db_session.commit()

    run_planning(app, at(DAY, 8))
    sent = messages(db_session, tenant.org.id, kind="open_cases")
    recipients = {(m.recipient_user_id, m.channel) for m in sent}
    assert recipients == {
        (user.id, channel) for user in (tenant.admin, tenant.metrology) for channel in ("in_app", "email")
    }
    assert all(instrument.management_no in m.body for m in sent)
    assert all(closed.management_no not in m.body for m in sent)
    assert case.id

    run_planning(app, at(DAY + timedelta(days=1), 8))  # day 8: no step
    assert len(messages(db_session, tenant.org.id, kind="open_cases")) == len(sent)
    assert messages(db_session, world.b.org.id, kind="open_cases") == []


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_open_cases_snapshot(app, locale):
    cases = [
        OpenCase(1, "YL-0001", "一般压力表", date(2026, 11, 17), 14, False),
        OpenCase(2, "TP-0005", "电子天平 <分析>", date(2026, 11, 24), 7, True),
    ]
    with app.test_request_context():
        rendered = render_notice(
            "open_cases",
            "email",
            locale,
            org_name="郑州精工机械有限公司",
            cases=cases,
            link="https://ledger.example.cn/nonconformity",
        )
    assert_snapshot(f"reminders/open_cases.{locale}.txt", f"{rendered.subject}\n\n{rendered.body}")
