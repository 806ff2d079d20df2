"""Snapshots of the notices of visits and service orders, in both languages (``UPDATE_SNAPSHOTS=1``)."""

from __future__ import annotations

from datetime import date

import pytest

from service.reminders.messages import render_notice
from tests.snapshot import assert_snapshot

LOCALES = ["zh_Hans_CN", "en"]
INSTITUTE = "河南省计量测试科学研究院"
FIRM = "郑州精工机械有限公司"
DAY = date(2026, 12, 3)


def _text(app, template: str, locale: str, **context) -> str:
    with app.test_request_context():
        rendered = render_notice(template, "email", locale, **context)
    return f"{rendered.subject}\n\n{rendered.body}"


@pytest.mark.parametrize("locale", LOCALES)
def test_visit_notices(app, locale):
    link = "https://ledger.example.cn/visits/mine"
    proposed = _text(app, "visit_proposed", locale, institute=INSTITUTE, day=DAY, count=7, link=link)
    cancelled = _text(app, "visit_cancelled", locale, institute=INSTITUTE, day=DAY, count=7, link=link)
    confirmed = _text(
        app,
        "visit_answered",
        locale,
        firm=FIRM,
        day=DAY,
        state="confirmed",
        requested_on=None,
        note=None,
        link=link,
    )
    moved = _text(
        app,
        "visit_answered",
        locale,
        firm=FIRM,
        day=DAY,
        state="reschedule_requested",
        requested_on=date(2026, 12, 10),
        note="停产检修",
        link=link,
    )
    assert_snapshot(
        f"visits/notices.{locale}.txt", "\n\n----\n\n".join((proposed, cancelled, confirmed, moved))
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_order_notices(app, locale):
    link = "https://ledger.example.cn/orders/12"
    common = {"order": 12, "institute": INSTITUTE, "firm": FIRM, "count": 3, "link": link}
    submitted = _text(
        app,
        "order_submitted",
        locale,
        **common,
        method="mail_in",
        courier="顺丰",
        tracking_no="SF1234567890",
        note="请加急",
    )
    changes = [
        _text(
            app,
            "order_changed",
            locale,
            **common,
            state=state,
            method="mail_in",
            reason="超出本院能力范围" if state == "declined" else None,
            done=2,
            courier="顺丰" if state == "returned" else None,
            tracking_no="SF0987654321" if state == "returned" else None,
        )
        for state in ("accepted", "declined", "received", "in_progress", "completed", "returned", "cancelled")
    ]
    cancelled = _text(app, "order_cancelled", locale, **common, method="drop_off", reason="已自行送检")
    assert_snapshot(f"orders/notices.{locale}.txt", "\n\n----\n\n".join([submitted, *changes, cancelled]))
