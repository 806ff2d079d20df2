"""Concurrent writers on the default SQLite database queue up instead of failing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from models import Base
from service.app import create_app
from service.auth.operations import create_api_token
from service.config import Config
from service.db import unit_of_work
from tests.factories import PASSWORD, World


@pytest.fixture
def file_app(tmp_path):
    app = create_app(
        Config(
            database_url=f"sqlite:///{tmp_path / 'concurrent.sqlite3'}",
            secret_key="x",
            csrf_enabled=False,
            email_backend="file",
            notify_file=str(tmp_path / "n.jsonl"),
        )
    )
    engine = app.extensions["calrecall.engine"]
    Base.metadata.create_all(engine)
    with unit_of_work(app.extensions["calrecall.sessions"]) as session:
        world = World.build(session)
        _api_token, token = create_api_token(session, world.a.actor(), "load")
        ids = [i.id for i in world.a.instruments]
        email = world.a.viewer.email
    yield app, token, ids, email
    engine.dispose()


def test_concurrent_api_edits_all_succeed(file_app):
    app, token, ids, _email = file_app
    headers = {"Authorization": f"Bearer {token}"}

    def edit(n: int) -> int:
        client = app.test_client()
        response = client.patch(
            f"/api/v1/instruments/{ids[n % len(ids)]}", json={"location": f"L{n}"}, headers=headers
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(edit, range(48)))
    assert statuses == [200] * 48


def test_concurrent_failed_sign_ins_are_counted_not_crashed(file_app):
    app, _token, _ids, email = file_app

    def attempt(n: int) -> int:
        return app.test_client().post("/login", data={"email": email, "password": f"wrong-{n}"}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(attempt, range(24)))
    assert set(statuses) <= {401, 429}
    assert statuses.count(401) == 5  # the account's allowance, counted exactly under contention
    assert app.test_client().post("/login", data={"email": email, "password": PASSWORD}).status_code == 429
