"""Issue 16's pages in a real browser: on a phone, the ledger at a glance, labels, the institute's home,
the language in the signed-in menu.

Selectors are ids, names and data attributes, never translated text: the UI defaults to Chinese.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from tests.browser import playwright_expect

expect = playwright_expect()

from sqlalchemy import select  # noqa: E402

from models import Organization, Technician, User  # noqa: E402
from service.actors import Actor  # noqa: E402
from service.db import allow_all_tenants, unit_of_work  # noqa: E402
from service.ledger import operations as ledger_ops  # noqa: E402
from tests import factories  # noqa: E402
from tests.browser.test_journey import sign_in, sign_out  # noqa: E402
from tests.reminders import make_notification  # noqa: E402

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
#: More than one page of the ledger (50 rows a page).
GAUGES = 60


@dataclass(frozen=True)
class Arranged:
    instrument_id: int
    overdue_no: str
    visit_id: int
    order_id: int
    firm_name: str


@pytest.fixture(scope="module")
def arranged(live_server) -> Arranged:
    """A ledger of more than a page, an overdue 强检 meter, a request, a message, a visit today, an order."""
    today = live_server.today
    with live_server.app.app_context(), unit_of_work(live_server.sessions) as session:
        allow_all_tenants(session)
        engineer = session.scalar(select(User).where(User.email == live_server.metrology.email))
        staff = session.scalar(select(User).where(User.email == live_server.institute_staff.email))
        firm = session.get(Organization, engineer.org_id)
        who = Actor.of(engineer)
        gauges = [
            factories.make_instrument(
                session,
                who,
                today,
                management_no=f"PG-{n:03d}",
                name="一般压力表",
                custodian="张保管",
                custodian_mobile="13900000001",
                valid_until=(today + timedelta(days=n)).isoformat(),
            )
            for n in range(1, GAUGES + 1)
        ]
        overdue = factories.make_instrument(
            session,
            who,
            today,
            management_no="QJ-001",
            name="加油机",
            is_mandatory=True,
            mandatory_use="trade",
            control_method="verification",
            valid_until=(today - timedelta(days=3)).isoformat(),
        )
        ledger_ops.request_status_change(session, who, gauges[0].id, "suspend", "示值超差，送修")
        make_notification(
            session, engineer, channel="sms", to_address="+8613800000003", recipient_user_id=engineer.id
        )
        technician = session.scalar(select(Technician).where(Technician.org_id == staff.org_id))
        now = datetime.now(UTC)
        visit = factories.make_visit(
            session,
            Actor.of(staff),
            firm.id,
            {gauges[1].id: technician.id, gauges[2].id: technician.id},
            today=today,
            base_url=live_server.base_url,
            now=now,
        )
        order = factories.make_order(
            session, who, staff.org_id, [gauges[10]], today=today, base_url=live_server.base_url, now=now
        )
        return Arranged(gauges[0].id, overdue.management_no, visit.id, order.id, firm.name)


def _sideways_scroll(page, where: str) -> list[str]:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return [f"{where} scrolls sideways: {width[0]} px wide"] if width[0] > width[1] else []


def _squeezed_controls(page, where: str) -> list[str]:
    """Controls of the page's main part squeezed to a sliver or wrapped one character a line."""
    squeezed = page.evaluate(
        """() => [...document.querySelectorAll('main .btn, main input.form-control, main select')]
          .filter(e => e.offsetParent !== null && e.type !== 'hidden')
          .map(e => [e.outerHTML.slice(0, 90), e.getBoundingClientRect()])
          .filter(([, r]) => r.width > 0 && (r.width < 44 || r.height > 64))
          .map(([html, r]) => `${html} ${Math.round(r.width)}x${Math.round(r.height)}`)"""
    )
    return [f"{where}: squeezed {control}" for control in squeezed]


#: What must be in view without scrolling a table sideways: the ledger's due dates, the decision buttons.
ON_SCREEN = {
    "/instruments": ("tr[data-instrument] td[data-due]",),
    "/approvals": (".decide-form button[value=approve]", ".decide-form button[value=reject]"),
}


def _off_screen(page, where: str, selectors) -> list[str]:
    problems = []
    for selector in selectors:
        box = page.locator(selector).first.bounding_box()
        if box is None or box["x"] + box["width"] > page.viewport_size["width"]:
            problems.append(f"{where}: {selector} is off-screen ({box})")
    return problems


def test_no_page_of_the_journeys_scrolls_sideways_on_a_phone(browser, live_server, arranged):
    journeys = [
        (
            live_server.admin,
            [
                "/",
                "/instruments",
                f"/instruments/{arranged.instrument_id}",
                f"/instruments/{arranged.instrument_id}/records/new",
                "/approvals",
                "/reminders/outbox",
                "/reminders/policy",
                "/instruments/import",
            ],
        ),
        (live_server.institute_staff, ["/", "/institute/due", f"/visits/{arranged.visit_id}"]),
        (live_server.technician, ["/", f"/visits/{arranged.visit_id}/worksheet"]),
    ]
    problems = []
    for viewport in (PHONE, DESKTOP):
        for login, paths in journeys:
            context = browser.new_context(base_url=live_server.base_url, viewport=viewport)
            page = context.new_page()
            try:
                sign_in(page, login)
                for path in paths:
                    page.goto(path)
                    where = f"{path} at {viewport['width']} px"
                    problems += _sideways_scroll(page, where) + _squeezed_controls(page, where)
                    problems += _off_screen(page, where, ON_SCREEN.get(path, ()))
            finally:
                context.close()
    assert not problems, "\n".join(problems)


def test_the_ledger_shows_its_total_pages_back_and_shows_every_filter_as_a_removable_chip(
    page, live_server, arranged
):
    sign_in(page, live_server.metrology)
    page.goto("/instruments")
    expect(page.locator("#ledger-total")).to_contain_text(str(GAUGES + 1))
    numbers = "rows => rows.map(r => r.dataset.instrument)"
    first_rows = page.locator("tr[data-instrument]").evaluate_all(numbers)
    expect(page.locator("a[rel=prev]")).to_have_count(0)
    page.locator("a[rel=next]").click()
    expect(page.locator("tr[data-instrument]")).to_have_count(GAUGES + 1 - 50)
    page.locator("a[rel=prev]").click()
    expect(page.locator("tr[data-instrument]")).to_have_count(50)
    assert page.locator("tr[data-instrument]").evaluate_all(numbers) == first_rows

    # A calendar day opens the ledger filtered: the filter shows, and removing it shows everything.
    day = (live_server.today + timedelta(days=5)).isoformat()
    page.goto(f"/instruments?due_from={day}&due_to={day}&in_use=true")
    expect(page.locator("tr[data-instrument]")).to_have_count(1)
    expect(page.locator("#ledger-total")).to_contain_text("1")
    chip = page.locator("[data-chip=due]")
    expect(chip).to_contain_text(day)
    chip.locator("a").click()
    expect(page).to_have_url(re.compile(r"/instruments(\?)?$"))
    expect(page.locator("[data-chip]")).to_have_count(0)

    # Every other filter is a chip too, removed one by one.
    page.goto("/instruments?status=in_service&is_mandatory=true&q=QJ&abc_class=&label=red")
    for name in ("status", "is_mandatory", "q", "label"):
        expect(page.locator(f"[data-chip={name}]")).to_have_count(1)
    expect(page.locator("[data-chip=abc_class]")).to_have_count(0)
    page.locator("[data-chip=label] a").click()
    expect(page.locator("[data-chip=label]")).to_have_count(0)
    expect(page.locator("[data-chip=q]")).to_have_count(1)
    expect(page.locator(f"tr[data-instrument='{arranged.overdue_no}']")).to_have_count(1)


def test_print_labels_with_nothing_selected_says_so_on_the_page(page, live_server, arranged):
    sign_in(page, live_server.metrology)
    page.goto("/instruments")
    page.locator("#print-labels").click()
    expect(page).to_have_url(re.compile(r"/instruments$"))
    expect(page.locator(".alert-danger, .alert-warning")).to_have_count(1)
    assert len(page.context.pages) == 1  # no error tab
    # With a selection, every selected instrument gets a label, record or not.
    page.locator("tr[data-instrument='PG-001'] input.row-select").check()
    page.locator("tr[data-instrument='PG-002'] input.row-select").check()
    page.locator("#print-labels").click()
    expect(page.locator(".qr-label")).to_have_count(2)


def test_institute_staff_and_technicians_land_on_the_institutes_home(page, live_server, arranged):
    sign_in(page, live_server.institute_staff)
    home = page.locator("#institute-home")
    expect(home).to_have_count(1)
    expect(page.locator(f"#visits-today [data-visit='{arranged.visit_id}']")).to_have_count(1)
    expect(page.locator(f"#visits-week [data-visit='{arranged.visit_id}']")).to_have_count(1)
    expect(page.locator(f"#orders-waiting [data-order='{arranged.order_id}']")).to_have_count(1)
    overdue = page.locator("#overdue-clients")
    expect(overdue).to_contain_text(arranged.firm_name)
    expect(overdue.locator("[data-overdue-mandatory]")).to_have_text("1")
    # The menu is grouped: a few dropdowns instead of a dozen links (Home, Clients, Scheduling, Reports,
    # Standards and records, Organisation).
    expect(page.locator("#nav > ul.me-auto > li")).to_have_count(6)
    page.locator("#nav [data-menu=schedule] .dropdown-toggle").click()
    expect(page.locator("#nav [data-menu=schedule] a[href='/institute/due']")).to_be_visible()
    sign_out(page)

    sign_in(page, live_server.technician)
    expect(page.locator("#institute-home")).to_have_count(1)
    expect(page.locator(f"#visits-today [data-visit='{arranged.visit_id}']")).to_have_count(1)


def test_language_switch_in_the_signed_in_menu(page, live_server, arranged):
    sign_in(page, live_server.metrology)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.goto("/instruments")
    page.locator("#nav [data-menu=user] .dropdown-toggle").click()
    page.locator("#nav button[name=locale][value=en]").click()
    expect(page).to_have_url(re.compile(r"/instruments$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    # The choice is the user's: it survives signing out and in again.
    sign_out(page)
    sign_in(page, live_server.metrology)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator("#nav [data-menu=user] .dropdown-toggle").click()
    page.locator("#nav button[name=locale][value=zh_Hans_CN]").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
