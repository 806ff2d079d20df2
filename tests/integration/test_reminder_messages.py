"""The words of reminders: an SMS digest stays within two segments in both languages."""

from __future__ import annotations

from datetime import date

import pytest

from notifications.sms_text import fits
from service.reminders.messages import Digest, DigestItem, render_digest


def _digest(due: int, overdue: int) -> Digest:
    items = [
        DigestItem(f"ZJ-{n:05d}", "精密压力表", "质检部", date(2026, 12, 31), "due", 30) for n in range(due)
    ]
    items += [
        DigestItem(f"YQ-{n:05d}", "游标卡尺", "生产部", date(2026, 11, 1), "overdue", 30)
        for n in range(overdue)
    ]
    return Digest(
        "河南省郑州市某某精密机械制造股份有限公司第二分公司",
        "王保管",
        date(2026, 12, 1),
        "https://ledger.example.cn/reminders",
        items,
    )


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
@pytest.mark.parametrize(("due", "overdue"), [(1, 0), (0, 3), (1234, 567)])
def test_sms_digests_fit_two_segments(app, locale, due, overdue):
    with app.test_request_context():
        body = render_digest(_digest(due, overdue), "sms", locale).body
    assert fits(body, max_segments=2), body
    assert str(due or overdue) in body


def test_the_chinese_sms_reads_as_users_expect(app):
    with app.test_request_context():
        body = render_digest(_digest(12, 3), "sms", "zh_Hans_CN").body
    assert body.startswith("【计量台账】")
    assert "您有12台计量器具将于30天内到期，3台已超期" in body


def test_an_instrument_due_today_is_said_due_today_not_within_0_days(app):
    """Issue #16: 「1台将于0天内到期」 read oddly; the day of the due date says 今天到期."""
    today = date(2026, 12, 1)
    item = DigestItem("ZJ-00001", "精密压力表", "质检部", today, "due", 0)
    digest = Digest("某公司", "王保管", today, "https://ledger.example.cn/reminders", [item])
    with app.test_request_context():
        for channel in ("sms", "email", "robot", "inapp"):
            rendered = render_digest(digest, channel, "zh_Hans_CN")
            text = f"{rendered.subject or ''} {rendered.body}"
            assert "0天内" not in text, (channel, text)
        sms = render_digest(digest, "sms", "zh_Hans_CN").body
        assert "今天到期" in sms
        assert "due today" in render_digest(digest, "sms", "en").body


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_a_recipients_channels_rendered_together_read_as_each_alone(app, locale):
    from service.reminders.messages import render_digests

    channels = ("sms", "email", "in_app", "wecom", "dingtalk")
    digest = _digest(5, 2)
    with app.test_request_context():
        together = render_digests(digest, channels, locale)
        assert together == {channel: render_digest(digest, channel, locale) for channel in channels}
    assert together["email"].html
    assert together["in_app"].html is None
    assert together["email"].body == together["in_app"].body
