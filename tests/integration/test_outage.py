"""A database outage: every request gets the app's own 503 with Retry-After, never a bare 500."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from models import Base
from service.actors import Actor
from service.app import create_app
from service.db import allow_all_tenants, make_engine
from tests import factories
from tests.api import API, auth
from tests.conftest import TEST_DATABASE_URL, login
from tests.tcp_proxy import TcpProxy


def _lose_the_connection_at_commit(_session):
    raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))


def test_a_commit_that_loses_the_database_gets_the_outage_page(client, sessions, db_session, world):
    login(client, world.a.metrology)
    bearer = auth(db_session, world.a.metrology)
    event.listen(sessions, "before_commit", _lose_the_connection_at_commit)
    try:
        page = client.get("/instruments")
        api = client.get(f"{API}/instruments", headers=bearer)
    finally:
        event.remove(sessions, "before_commit", _lose_the_connection_at_commit)
    assert (page.status_code, page.mimetype) == (503, "text/html")
    assert 'class="navbar' in page.text
    assert page.headers["Retry-After"]
    assert (api.status_code, api.mimetype) == (503, "application/json")
    assert api.headers["Retry-After"]
    assert api.json["message"]


# A real PostgreSQL going away ----------------------------------------------------------------------

on_postgresql = pytest.mark.skipif(
    not (TEST_DATABASE_URL or "").startswith("postgresql"), reason="a PostgreSQL outage needs PostgreSQL"
)


@pytest.fixture
def outage(config, tmp_path):
    """An app on a database of its own, reached through a proxy the test can cut."""
    url = make_url(TEST_DATABASE_URL)
    name = f"{url.database}_outage"
    admin = make_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxied = url.set(database=name, host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    engine = make_engine(proxied, pool_size=4, max_overflow=0)
    Base.metadata.create_all(engine)
    app = create_app(config.__class__(**{**config.__dict__, "database_url": proxied}), engine=engine)
    app.config["TESTING"] = True
    with app.extensions["calrecall.sessions"]() as session:
        allow_all_tenants(session)
        org = factories.make_org(session, "firm")
        user = factories.make_user(session, org, "metrology")
        instrument = factories.make_instrument(session, Actor.of(user))
        session.commit()
        details = {"email": user.email, "instrument": instrument.id}
        details["bearer"] = auth(session, user)
    try:
        yield app, proxy, details
    finally:
        proxy.close()
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _pages(details: dict) -> list[tuple[str, str, dict]]:
    """Requests of every kind: pages signed in and not, a sign-in, the API, a form post."""
    return [
        ("GET", "/", {}),
        ("GET", "/instruments", {}),
        ("GET", f"/instruments/{details['instrument']}", {}),
        ("GET", "/login", {}),
        ("POST", "/login", {"data": {"email": details["email"], "password": factories.PASSWORD}}),
        ("GET", f"{API}/instruments", {"headers": details["bearer"]}),
        ("GET", f"{API}/instruments?due_within=30", {"headers": details["bearer"]}),
        (
            "POST",
            "/instruments/new",
            {"data": {"management_no": "X-1", "name": "压力表", "interval_months": "12"}},
        ),
    ]


@on_postgresql
def test_every_request_during_a_postgresql_outage_gets_503_with_retry_after(outage):
    app, proxy, details = outage
    client = app.test_client()
    client.post("/login", data={"email": details["email"], "password": factories.PASSWORD})
    assert client.get("/instruments").status_code == 200  # the pool holds live connections now

    proxy.cut()
    for method, path, kwargs in _pages(details):
        response = client.open(path, method=method, **kwargs)
        assert response.status_code == 503, (method, path, response.status_code)
        assert response.headers["Retry-After"], path
        expected = "application/json" if path.startswith(API) else "text/html"
        assert response.mimetype == expected, path
    assert client.get("/healthz").status_code == 200  # the process itself lives
    assert client.get("/readyz").status_code == 503
    assert "calrecall_database_up 0.0" in client.get("/metrics").text

    proxy.restore()
    assert client.get("/instruments").status_code == 200
    assert client.get("/readyz").json["database"] == "ok"


@on_postgresql
def test_requests_under_way_while_postgresql_goes_and_comes_back_never_get_a_500(outage):
    app, proxy, details = outage
    statuses: Counter = Counter()
    stop = threading.Event()

    def visitor():
        client = app.test_client()
        client.post("/login", data={"email": details["email"], "password": factories.PASSWORD})
        while not stop.is_set():
            for method, path, kwargs in _pages(details):
                try:
                    statuses[client.open(path, method=method, **kwargs).status_code] += 1
                except Exception as exc:  # what would reach gunicorn: its bare 500
                    statuses[f"{method} {path}: {exc!r}"] += 1

    threads = [threading.Thread(target=visitor) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(3):
            stop.wait(0.4)
            proxy.cut()
            stop.wait(0.4)
            proxy.restore()
        stop.wait(0.4)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert statuses[503] > 0, statuses
    # 302: to the sign-in page when signing in met the outage; 422: the form's number already taken.
    assert set(statuses) <= {200, 302, 303, 409, 422, 503}, statuses
