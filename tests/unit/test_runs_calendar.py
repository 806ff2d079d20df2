"""The suite's calendar: a run that crosses Shanghai's midnight keeps the day it was collected on."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from service.clock import now_utc, today_in
from tests.conftest import _RunsCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_today_stays_on_the_runs_first_day(monkeypatch):
    yesterday = datetime.now(UTC) - timedelta(days=1)
    monkeypatch.setattr(_RunsCalendar, "started", yesterday)

    assert today_in("Asia/Shanghai") == yesterday.astimezone(SHANGHAI).date()
    assert abs(now_utc() - datetime.now(UTC)) < timedelta(seconds=5)  # timestamps keep the real time


def test_today_is_the_real_day_while_the_day_lasts(monkeypatch):
    monkeypatch.setattr(_RunsCalendar, "started", datetime.now(UTC))

    assert today_in("Asia/Shanghai") == datetime.now(SHANGHAI).date()
