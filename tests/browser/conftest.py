"""Browser fixtures: the real app on a real port, its own migrated SQLite file, headless Chromium.

Independent of the session-wide ``engine``/``app`` fixtures of ``tests/conftest.py``: the server
here runs in another thread and needs committed data in a file both can open, with CSRF on.
Playwright and Chromium are imported lazily so that the suite still collects without them; the
test modules skip themselves when Debian's Chromium is missing (``apt-get install chromium``).
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from dataclasses import dataclass
from datetime import date

import pytest
from werkzeug.serving import make_server

from service.actors import Actor
from service.app import create_app
from service.clock import today_in
from service.config import Config
from service.db import unit_of_work
from service.migrations import upgrade
from service.tenancy import operations as tenancy_ops
from tests import factories
from tests.browser import NO_CHINESE_FONT, NO_CHROMIUM

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Per-action timeout: a local server answers in milliseconds, so fail fast rather than hang.
TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class Login:
    email: str
    password: str = factories.PASSWORD


@dataclass(frozen=True)
class BrowserWorld:
    """What the browser tests arranged: a firm with an admin and a metrology engineer."""

    base_url: str
    org_name: str
    department: str
    admin: Login
    metrology: Login
    today: date
    #: The calibration institute serving the firm: its staff and a technician with an account.
    institute_staff: Login
    technician: Login
    #: The institute's administrator, who organises its award campaigns.
    institute_admin: Login = None
    #: Opens a database session on the server's database, to arrange data a test needs.
    sessions: object = None
    #: The served application, for arranging what needs its context (messages rendered from templates).
    app: object = None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item so the ``page`` fixture can tell a failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """Serve a fresh, migrated application on 127.0.0.1 in a thread; yield it and its world."""
    folder = tmp_path_factory.mktemp("browser")
    config = Config(
        database_url=f"sqlite:///{folder / 'browser.sqlite3'}",
        secret_key="browser-test-secret",
        email_backend="file",
        sms_backend="file",
        notify_file=str(folder / "notifications.jsonl"),
        attachments_dir=str(folder / "attachments"),
        csrf_enabled=True,
    )
    app = create_app(config)
    engine = app.extensions["calrecall.engine"]
    upgrade(engine)
    with unit_of_work(app.extensions["calrecall.sessions"]) as session:
        org = factories.make_org(session, "firm", name="浏览器测试有限公司")
        admin = factories.make_user(session, org, "admin", name="王管理")
        metrology = factories.make_user(session, org, "metrology", name="李计量")
        department = factories.make_department(session, Actor.of(admin), name="质检部")
        institute = factories.make_org(session, "institute", name="浏览器测试计量院")
        staff = factories.make_user(session, institute, "staff", name="高调度")
        technician = factories.make_user(session, institute, "technician", name="郭技术")
        tenancy_ops.link_client(session, institute.id, org.id)
        institute_admin = factories.make_user(session, institute, "admin", name="马院长")
        factories.make_technician(
            session,
            Actor.of(institute_admin),
            name=technician.name,
            daily_capacity=10,
            user_id=technician.id,
        )
        arranged = (
            org.name,
            department.name,
            admin.email,
            metrology.email,
            org.timezone,
            staff.email,
            technician.email,
            institute_admin.email,
        )
    (
        org_name,
        department_name,
        admin_email,
        metrology_email,
        timezone,
        staff_email,
        technician_email,
        institute_admin_email,
    ) = arranged

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-live-server", daemon=True)
    thread.start()
    try:
        yield BrowserWorld(
            base_url=f"http://127.0.0.1:{server.server_port}",
            org_name=org_name,
            department=department_name,
            admin=Login(admin_email),
            metrology=Login(metrology_email),
            today=today_in(timezone),
            institute_staff=Login(staff_email),
            technician=Login(technician_email),
            institute_admin=Login(institute_admin_email),
            sessions=app.extensions["calrecall.sessions"],
            app=app,
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        engine.dispose()


def _has_chinese_font() -> bool:
    """Whether fontconfig knows a font for Chinese (the pages' language; widths depend on it)."""
    try:
        listing = subprocess.run(
            ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:  # no fontconfig at all
        return False
    return bool(listing.stdout.strip())


@pytest.fixture(scope="module")
def browser():
    """One headless Debian Chromium per module; never a Playwright-downloaded browser."""
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip(NO_CHROMIUM)
    if not _has_chinese_font():
        pytest.skip(NO_CHINESE_FONT)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, live_server, request, tmp_path):
    """A fresh browser context (no cookies) per test; a full-page screenshot if the test fails."""
    context = browser.new_context(base_url=live_server.base_url, viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.set_default_navigation_timeout(TIMEOUT_MS)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        target = tmp_path / "failure.png"
        try:
            page.screenshot(path=str(target), full_page=True)
            print(f"\nscreenshot of the failure: {target} (at {page.url})")
        except Exception as exc:  # a broken page must not hide the real failure
            print(f"\nno screenshot of the failure: {exc}")
    context.close()
