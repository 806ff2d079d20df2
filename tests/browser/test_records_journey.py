"""Recording a calibration in a real browser: the form with a point and a PDF, then the new due date.

Selectors are ids, names and data attributes, never translated text: the UI defaults to Chinese.
"""

from __future__ import annotations

import re

import pytest

from tests.browser import playwright_expect

expect = playwright_expect()

from service.ledger.dates import add_months, next_due_on  # noqa: E402
from tests.browser.test_journey import sign_in  # noqa: E402
from tests.files import pdf_bytes  # noqa: E402

pytestmark = pytest.mark.browser

NUMBER = "BR-CAL-01"


def _add_instrument(page, number: str, last_done) -> None:
    page.goto("/instruments/new")
    page.fill("#f-management_no", number)
    page.fill("#f-name", "数字压力计")
    page.select_option("#f-control_method", "calibration")
    page.fill("#f-interval_months", "12")
    page.fill("#f-last_done_on", last_done.isoformat())
    page.locator("main form[method=post] button.btn-primary[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/instruments/\d+$"))


def test_engineer_records_a_calibration_with_its_certificate(page, live_server):
    today = live_server.today
    overdue_since = add_months(today, -13)
    sign_in(page, live_server.metrology)

    # An instrument whose calibration is a month overdue: red.
    _add_instrument(page, NUMBER, overdue_since)
    expect(page.locator("#instrument-label [data-label]")).to_have_attribute("data-label", "red")
    instrument_url = page.url

    # Record the calibration: a point, the standard used, the confirmation and the certificate PDF.
    page.locator("a[href$='/records/new']").click()
    page.select_option("#f-kind", "calibration")
    expect(page.locator("#f-conclusion")).to_be_hidden()  # a calibration has no legal conclusion
    page.fill("#f-performed_on", today.isoformat())
    page.fill("#f-certificate_no", "JZ2026-0815")
    page.fill("#f-lab_name", "河南省计量测试科学研究院")
    page.select_option("#f-certificate_type", "calibration_certificate")
    page.fill("#f-performed_by", "郭工")
    page.fill("input[name='readings-0-point']", "1 MPa")
    page.fill("input[name='readings-0-nominal']", "1.000")
    page.fill("input[name='readings-0-reading']", "1.003")
    page.fill("input[name='readings-0-mpe']", "0.010")
    page.locator("[data-add-row='readings']").click()  # one more row, renumbered
    expect(page.locator("input[name='readings-4-point']")).to_have_count(1)
    page.fill("input[name='standards-0-name']", "活塞式压力计")
    page.fill("input[name='standards-0-certificate_no']", "GJ-2026-01")
    page.select_option("#f-confirmation", "fit")
    page.set_input_files(
        "#f-file", files=[{"name": "校准证书.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()}]
    )
    page.locator("#record-form button[type=submit]").click()

    # The record's page: the due date it gives, the point within tolerance, the file.
    expect(page).to_have_url(re.compile(r"/records/\d+$"))
    due = next_due_on(today, 12, None)
    expect(page.locator("[data-next-due]")).to_have_text(due.isoformat())
    expect(page.locator("#readings [data-within='True']")).to_have_count(1)
    expect(page.locator("#confirmation [data-confirmation='fit']")).to_have_count(1)
    attachment = page.locator("#attachments [data-attachment] a")
    expect(attachment).to_have_text("校准证书.pdf")
    download = page.request.get(attachment.get_attribute("href"))
    assert download.body().startswith(b"%PDF")

    # The instrument: green, due in a year, the record listed and the timeline telling it.
    page.goto(instrument_url)
    expect(page.locator("#instrument-label [data-label]")).to_have_attribute("data-label", "green")
    expect(page.locator("#instrument-status ~ strong")).to_have_text(due.isoformat())
    expect(page.locator("#instrument-records [data-record]")).to_have_count(1)
    expect(page.locator(".timeline [data-event='record.created']")).to_have_count(1)
    expect(page.locator(".timeline [data-event='record.confirmed']")).to_have_count(
        0
    )  # confirmed with the record
    expect(page.locator(".timeline [data-event='record.created'] [data-record-event]")).to_contain_text(
        "JZ2026-0815"
    )


def test_a_renamed_executable_is_refused_on_the_form(page, live_server):
    sign_in(page, live_server.metrology)
    _add_instrument(page, "BR-CAL-02", add_months(live_server.today, -1))
    page.locator("a[href$='/records/new']").click()
    page.fill("#f-performed_on", live_server.today.isoformat())
    page.select_option("#f-kind", "self_check")
    page.select_option("#f-conclusion", "pass")
    page.set_input_files(
        "#f-file", files=[{"name": "证书.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00" * 100}]
    )
    page.locator("#record-form button[type=submit]").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    expect(page).to_have_url(re.compile(r"/records/new$"))
