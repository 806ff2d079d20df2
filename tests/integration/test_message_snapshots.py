"""Snapshots of every rendered reminder, per channel and language (``tests/snapshots/reminders``).

A change to a template or a translation shows up here as a diff to review, not as a surprise in
somebody's phone. ``UPDATE_SNAPSHOTS=1`` rewrites the files.
"""

from __future__ import annotations

from datetime import date

import pytest
from flask import has_app_context

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


@pytest.mark.parametrize("locale", LOCALES)
def test_standard_notice(app, locale):
    # The institute's notice to a client firm about a standard found out of tolerance (email and in-app).
    with app.test_request_context():
        notice = render_notice(
            "standard_notice",
            "email",
            locale,
            institute="河南省计量测试科学研究院",
            org_name="郑州精工机械有限公司",
            standard_no="BZ-S01",
            standard_name="精密压力表",
            since=date(2025, 1, 10),
            reason="期间核查发现 10 MPa 点超差",
            items=[
                {
                    "management_no": "YL-0001",
                    "name": "一般压力表",
                    "dates": "2025-03-01",
                    "link": "https://ledger.example.cn/instruments/17",
                },
                {
                    "management_no": "YL-0002",
                    "name": "压力表 <带电接点> & 表座",
                    "dates": "2025-03-01, 2025-08-15",
                    "link": "https://ledger.example.cn/instruments/18",
                },
            ],
        )
        every_use = render_notice(
            "standard_notice",
            "in_app",
            locale,
            institute="河南省计量测试科学研究院",
            org_name="郑州精工机械有限公司",
            standard_no="BZ-S01",
            standard_name="精密压力表",
            since=None,
            reason="送检发现示值超差",
            items=[
                {
                    "management_no": "YL-0001",
                    "name": "一般压力表",
                    "dates": "2024-12-01",
                    "link": "https://ledger.example.cn/instruments/17",
                }
            ],
        )
    assert_snapshot(f"reminders/standard_notice.{locale}.txt", f"{notice.subject}\n\n{notice.body}")
    assert_snapshot(
        f"reminders/standard_notice.every_use.{locale}.txt", f"{every_use.subject}\n\n{every_use.body}"
    )
    # Names are kept as typed: plain text, never HTML-escaped.
    assert "压力表 <带电接点> & 表座" in notice.body


@pytest.mark.parametrize("locale", LOCALES)
def test_a_job_renders_the_same_words_without_flask(locale):
    """The digest needs no Flask app: a scheduler process with a plain session renders it alike."""
    assert not has_app_context()
    rendered = render_digest(_digest(), "sms", locale)
    assert_snapshot(f"reminders/digest.sms.{locale}.txt", rendered.body)
