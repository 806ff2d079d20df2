"""Snapshots of every rendered reminder, per channel and language (``tests/snapshots/reminders``).

A change to a template or a translation shows up here as a diff to review, not as a surprise in
somebody's phone. ``UPDATE_SNAPSHOTS=1`` rewrites the files.
"""

from __future__ import annotations

from datetime import date

import pytest

from service.reminders.messages import Digest, DigestItem, render_digest, render_notice
from tests.snapshot import assert_snapshot

LOCALES = ["zh_Hans_CN", "en"]


def _digest() -> Digest:
    day = date(2026, 12, 1)
    return Digest(
        org_name="郑州精工机械有限公司",
        recipient_name="王保管",
        day=day,
        link="https://ledger.example.cn/reminders",
        items=[
            DigestItem("YL-0001", "一般压力表", "质检部", date(2026, 12, 31), "due", 30),
            # Markup in a name must be escaped in the HTML email and kept as typed elsewhere.
            DigestItem("WD-0107", "温湿度计 <带探头> & 支架", None, day, "due", 0),
            DigestItem("KC-0032", "游标卡尺", "机加工车间", date(2026, 11, 17), "overdue", 14),
            DigestItem("TP-0005", "电子天平", "化验室", date(2026, 11, 24), "overdue", 7),
        ],
    )


def _render(app, channel: str, locale: str):
    with app.test_request_context():
        return render_digest(_digest(), channel, locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_sms_digest(app, locale):
    rendered = _render(app, "sms", locale)
    assert_snapshot(f"reminders/digest.sms.{locale}.txt", rendered.body)


@pytest.mark.parametrize("locale", LOCALES)
def test_email_digest(app, locale):
    rendered = _render(app, "email", locale)
    assert_snapshot(f"reminders/digest.email.{locale}.txt", f"Subject: {rendered.subject}\n\n{rendered.body}")
    assert_snapshot(f"reminders/digest.email.{locale}.html", rendered.html)
    assert "&lt;带探头&gt; &amp; 支架" in rendered.html


@pytest.mark.parametrize("channel", ["wecom", "dingtalk"])
@pytest.mark.parametrize("locale", LOCALES)
def test_robot_digest(app, channel, locale):
    # Both robots take the same markdown; one snapshot serves both, and this proves it.
    rendered = _render(app, channel, locale)
    assert_snapshot(f"reminders/digest.robot.{locale}.md", rendered.body)


@pytest.mark.parametrize("locale", LOCALES)
def test_in_app_digest(app, locale):
    rendered = _render(app, "in_app", locale)
    assert rendered.html is None
    assert_snapshot(f"reminders/digest.in_app.{locale}.txt", f"{rendered.subject}\n\n{rendered.body}")


@pytest.mark.parametrize("locale", LOCALES)
def test_notices(app, locale):
    with app.test_request_context():
        test = render_notice("test", "sms", locale, name="王保管")
        ceiling = render_notice(
            "sms_ceiling",
            "email",
            locale,
            org_name="郑州精工机械有限公司",
            limit=200,
            held=37,
            link="https://ledger.example.cn/outbox?state=held",
        )
    assert_snapshot(f"reminders/test.{locale}.txt", f"{test.subject}\n\n{test.body}")
    assert_snapshot(f"reminders/sms_ceiling.{locale}.txt", f"{ceiling.subject}\n\n{ceiling.body}")
