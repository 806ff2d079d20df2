"""Fixtures: one schema per run, one rolled-back transaction per test, on SQLite or PostgreSQL.

Set ``TEST_DATABASE_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``) to run the
suite on PostgreSQL; without it a SQLite file in a temporary folder is used.
"""

from __future__ import annotations

import html as html_module
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Base, CalibrationRecord, ClientLink
from service import clock
from service.app import create_app
from service.auth.secrets import use_hasher
from service.config import Config
from service.db import allow_all_tenants, make_engine
from tests import factories

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


class _RunsCalendar(datetime):
    """``datetime`` whose local "now" stays on the calendar day the test run started on.

    Test modules compute ``TODAY = today_in("Asia/Shanghai")`` when they are collected; a run that
    crosses Shanghai's midnight (16:00 UTC) would otherwise compare those dates with the app's new
    day. Only ``service.clock.today_in`` asks for a zone other than UTC, so timestamps (``now_utc``,
    leases, tokens) keep the real time.
    """

    started = datetime.now(UTC)

    @classmethod
    def now(cls, tz=None):
        real = datetime.now(tz)
        if tz is None or tz is UTC:
            return real
        first = cls.started.astimezone(tz)
        return real if real.date() == first.date() else first


clock.datetime = _RunsCalendar

# Production hashing costs ~0.1 s a password; the suite hashes hundreds. Same algorithm, cheap parameters.
use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return TEST_DATABASE_URL or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def notify_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("notify") / "notifications.jsonl"


@pytest.fixture(scope="session")
def config(database_url, notify_file, tmp_path_factory) -> Config:
    return Config(
        database_url=database_url,
        attachments_dir=str(tmp_path_factory.mktemp("attachments")),
        secret_key="test-secret",
        csrf_enabled=False,
        email_backend="file",
        sms_backend="file",
        notify_file=str(notify_file),
        base_url="http://testserver",
        import_runner="inline",
        export_runner="inline",
    )


@pytest.fixture(scope="session")
def app(config, engine):
    app = create_app(config, engine=engine)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def connection(engine):
    """An outer transaction that every test's commits nest in, rolled back at the end."""
    connection = engine.connect()
    transaction = connection.begin()
    yield connection
    transaction.rollback()
    connection.close()


@pytest.fixture
def sessions(app, connection):
    """Bind the application's sessions to the test's connection; their commits become savepoints."""
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    previous = app.extensions["calrecall.sessions"]
    app.extensions["calrecall.sessions"] = factory
    yield factory
    app.extensions["calrecall.sessions"] = previous


@pytest.fixture
def db_session(sessions) -> Session:
    """A session open to every tenant, for arranging and inspecting data."""
    session = sessions()
    allow_all_tenants(session)
    yield session
    session.close()


@pytest.fixture
def client(app, sessions):
    return app.test_client()


@pytest.fixture
def outbox(notify_file):
    """The messages the file backends wrote during this test."""
    notify_file.unlink(missing_ok=True)

    class Outbox:
        def messages(self) -> list[dict]:
            if not notify_file.exists():
                return []
            return [json.loads(line) for line in notify_file.read_text("utf-8").splitlines()]

        def link(self, pattern: str) -> str:
            for message in reversed(self.messages()):
                found = re.search(pattern, message["body"])
                if found:
                    return found.group(0)
            raise AssertionError(f"no message with {pattern!r}")

    return Outbox()


@pytest.fixture
def world(db_session):
    """Two firms with users of every role, departments and instruments, and an institute linked to firm A."""
    w = factories.World.build(db_session)
    db_session.commit()
    return w


def login(client, user, password: str = factories.PASSWORD):
    """Sign ``user`` in on ``client``; assert it worked."""
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 303, response.data[:500]
    return response


def page_text(html: str) -> str:
    """The words a reader sees on ``html``: tags and their attributes left out.

    Assert absence against this, not the raw page: a random CSRF token in a hidden field holds
    short strings such as ``P5`` or ``M-1`` by chance.
    """
    return html_module.unescape(re.sub(r"<[^>]*>", " ", html))


def post_passed_result(
    client, db_session, path: str, org_id: int, reading: str, **fields
) -> CalibrationRecord:
    """Post a passed verification with one reading at nominal 1.0 to the result form at ``path``.

    Assert it was taken, and return the record it made for the client firm ``org_id``.
    """
    data = {
        "kind": "verification",
        "conclusion": "pass",
        "reading-nominal": "1.0",
        "reading-reading": reading,
    }
    saved = client.post(path, data=data | fields)
    assert saved.status_code == 303
    return db_session.scalar(
        select(CalibrationRecord)
        .where(CalibrationRecord.org_id == org_id)
        .execution_options(all_tenants=True)
    )


def sign_in_from(client, email: str, password: str, address: str):
    """Post the sign-in form from the network ``address``; return the response."""
    return client.post(
        "/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def change_password(client, new_password: str, current_password: str = factories.PASSWORD):
    """Post the signed-in user's password change form; return the response."""
    fields = {"current_password": current_password, "new_password": new_password}
    return client.post("/account/password", data=fields | {"password_confirm": new_password})


def end_client_link(client, db_session, admin, back_as) -> None:
    """Sign out, have the firm's ``admin`` end its institute link, and sign ``back_as`` in again."""
    link = db_session.scalar(select(ClientLink).where(ClientLink.firm_id == admin.org_id))
    client.post("/logout")
    login(client, admin)
    assert client.post(f"/org/links/{link.id}/end").status_code == 303
    client.post("/logout")
    login(client, back_as)


@pytest.fixture
def login_as(client):
    return lambda user: login(client, user)
