"""The institute's week in a real browser: staff plan, the client confirms, the technician records,
and the client sees its new due dates.

Selectors are ids, names and data attributes, never translated text: the UI defaults to Chinese.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.browser import playwright_expect

expect = playwright_expect()

from sqlalchemy import select  # noqa: E402

from models import User  # noqa: E402
from service.actors import Actor  # noqa: E402
from service.db import allow_all_tenants, unit_of_work  # noqa: E402
from service.ledger.dates import next_due_on  # noqa: E402
from tests import factories  # noqa: E402
from tests.browser.test_journey import sign_in, sign_out  # noqa: E402

pytestmark = pytest.mark.browser


def _due_gauges(live_server) -> list[tuple[int, str]]:
    """Two of the firm's gauges falling due within the week."""
    with unit_of_work(live_server.sessions) as session:
        allow_all_tenants(session)
        engineer = session.scalar(select(User).where(User.email == live_server.metrology.email))
        gauges = [
            factories.make_instrument(
                session,
                Actor.of(engineer),
                live_server.today,
                management_no=f"VJ-{n}",
                name="一般压力表",
                valid_until=(live_server.today + timedelta(days=days)).isoformat(),
            )
            for n, days in ((1, 4), (2, 6))
        ]
        return [(g.id, g.management_no) for g in gauges]


def test_staff_plan_a_week_the_client_confirms_the_technician_records(page, live_server):
    today = live_server.today
    gauges = _due_gauges(live_server)

    # Staff plan the coming week and propose the visit.
    sign_in(page, live_server.institute_staff)
    page.goto(f"/visits/plan?from={today.isoformat()}&days=7")
    card = page.locator("[data-proposed]")
    expect(card).to_have_count(1)
    for _id, number in gauges:
        expect(card).to_contain_text(number)
    page.locator("#create-visits").click()
    expect(page).to_have_url(re.compile(r"/visits$"))
    expect(page.locator("[data-visit] [data-visit-state='proposed']")).to_have_count(1)
    sign_out(page)

    # The client confirms the date in its portal.
    sign_in(page, live_server.metrology)
    page.goto("/visits/mine")
    page.locator("[data-visit] button[name=answer][value=confirm]").click()
    expect(page.locator("[data-visit] [data-visit-state='confirmed']")).to_have_count(1)
    sign_out(page)

    # The technician works the sheet on the day: a result for each gauge.
    sign_in(page, live_server.technician)
    page.goto("/visits")
    page.locator("[data-visit] a[href$='/worksheet']").click()
    for _ in gauges:
        form = page.locator("[data-item-state='pending'] form[data-result-form]").first
        form.locator("select[name=kind]").select_option("verification")
        form.locator("select[name=conclusion]").select_option("pass")
        form.locator("input[name=reading-nominal]").fill("1.0")
        form.locator("input[name=reading-reading]").fill("1.004")
        form.locator("input[name=reading-mpe]").fill("0.016")
        form.locator("button[type=submit]").click()
        expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("[data-item-state='done']")).to_have_count(2)
    expect(page.locator("#progress [data-visit-state='completed']")).to_have_count(1)
    sign_out(page)

    # The client sees the new due dates in its ledger.
    sign_in(page, live_server.metrology)
    due = next_due_on(today, 12, None)
    for instrument_id, _number in gauges:
        page.goto(f"/instruments/{instrument_id}")
        expect(page.locator("#instrument-label [data-label]")).to_have_attribute("data-label", "green")
        expect(page.locator("main")).to_contain_text(due.isoformat())
        expect(page.locator(".timeline [data-event='record.created']")).to_have_count(1)
