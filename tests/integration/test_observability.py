"""Health checks, request ids, JSON logs without secrets, and the Prometheus figures."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, text

from models import LedgerImport
from service.clock import now_utc
from service.db import make_session_factory
from service.migrations import head_revision
from service.observability.logs import configure_logging
from service.observability.metrics import JOB_FAILURES, JOB_RUNS, clear_dead_processes, counted_job
from tests.api import API, auth
from tests.conftest import login
from tests.factories import PASSWORD
from tests.reminders import make_notification

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def unreachable_database(app, tmp_path):
    """Point the app at a database that cannot be opened, for the length of the test."""
    engine = create_engine(f"sqlite:///{tmp_path / 'missing-folder' / 'db.sqlite3'}")
    previous = app.extensions["calrecall.sessions"]
    app.extensions["calrecall.sessions"] = make_session_factory(engine)
    yield
    app.extensions["calrecall.sessions"] = previous
    engine.dispose()


@pytest.fixture
def json_log(app):
    """Collect the app's log lines as JSON objects while the test runs."""
    stream = io.StringIO()
    configure_logging(replace(app.config["CALRECALL"], log_format="json"), stream)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    configure_logging(app.config["CALRECALL"])


# Health --------------------------------------------------------------------------------------------


def test_healthz_answers_without_the_database(client, unreachable_database):
    response = client.get("/healthz")
    assert (response.status_code, response.json) == (200, {"status": "ok"})
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_wants_the_schema_at_the_migration_head(client, db_session):
    # The tests' schema comes from the models, without Alembic's table: never migrated.
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json == {
        "status": "unavailable",
        "database": "ok",
        "schema": None,
        "expected": head_revision(),
    }
    assert response.headers["Retry-After"]

    db_session.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
    db_session.execute(text("INSERT INTO alembic_version VALUES ('0001')"))
    db_session.commit()
    assert client.get("/readyz").json["schema"] == "0001"
    assert client.get("/readyz").status_code == 503

    db_session.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head_revision()})
    db_session.commit()
    response = client.get("/readyz")
    assert (response.status_code, response.json["status"]) == (200, "ready")


def test_readyz_says_unavailable_when_the_database_is_out_of_reach(client, unreachable_database):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"
    assert response.headers["Retry-After"]


def test_health_checks_load_no_signed_in_user(client, world, sessions, unreachable_database):
    # A signed-in browser's cookie must not make the liveness check ask the database for the user.
    with client.session_transaction() as cookie:
        cookie["_user_id"] = str(world.a.admin.id)
    assert client.get("/healthz").status_code == 200


# Request ids and logs ------------------------------------------------------------------------------


def test_every_response_carries_a_request_id_and_keeps_a_proxys(client):
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32
    assert made != client.get("/healthz").headers["X-Request-ID"]
    given = client.get("/healthz", headers={"X-Request-ID": "proxy-abc-12345"})
    assert given.headers["X-Request-ID"] == "proxy-abc-12345"
    forged = client.get("/healthz", headers={"X-Request-ID": 'x" {"level": "error"}'})
    assert len(forged.headers["X-Request-ID"]) == 32


def test_a_request_is_logged_as_json_with_its_id_organisation_and_user(client, world, json_log):
    login(client, world.a.metrology)
    response = client.get("/instruments")
    [line] = [entry for entry in json_log() if entry.get("path") == "/instruments"]
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert (line["org_id"], line["user_id"]) == (world.a.org.id, world.a.metrology.id)
    assert (line["level"], line["logger"], line["status"], line["method"]) == (
        "info",
        "calrecall.requests",
        200,
        "GET",
    )
    assert line["duration_ms"] >= 0
    assert line["time"].endswith("+00:00")


def test_logs_never_hold_passwords_tokens_or_secrets(app, client, db_session, world, json_log):
    client.post("/login", data={"email": world.a.admin.email, "password": PASSWORD})
    bearer = auth(db_session, world.a.admin)
    token = bearer["Authorization"].split()[1]
    client.get(f"{API}/instruments", headers=bearer)
    client.get(f"{API}/instruments?token={token}", headers=bearer)
    # What a careless log call or an exception's message could carry.
    log = logging.getLogger("service.test")
    log.warning("connecting to postgresql://calrecall_app:hunter2-secret@db:5432/calrecall")
    log.warning("header was Authorization: Bearer %s", token)
    log.warning("form password=%s", PASSWORD)
    try:
        raise RuntimeError(f"secret key {app.config['SECRET_KEY']} rejected")
    except RuntimeError:
        log.exception("failed")
    text_of_log = "\n".join(json.dumps(entry, ensure_ascii=False) for entry in json_log())
    for secret in (PASSWORD, token, "hunter2-secret", app.config["SECRET_KEY"]):
        assert secret not in text_of_log, secret
    assert text_of_log.count("***") >= 4


def test_a_route_with_a_token_in_its_address_logs_the_route_not_the_token(client, json_log):
    client.get("/calendar/not-a-real-token-but-secret.ics")
    paths = [entry.get("path") for entry in json_log() if entry.get("logger") == "calrecall.requests"]
    assert paths
    assert all("not-a-real-token-but-secret" not in path for path in paths), paths


# Metrics -------------------------------------------------------------------------------------------


def _sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _metrics(client, **kwargs) -> dict[str, float]:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.text
    figures = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            figures[name] = float(value)
    return figures


def test_metrics_are_closed_to_other_addresses_unless_they_bring_the_token(app, client):
    stranger = {"environ_base": {"REMOTE_ADDR": "203.0.113.9"}}
    assert client.get("/metrics", **stranger).status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer guess"}, **stranger).status_code == 403
    config = app.config["CALRECALL"]
    app.config["CALRECALL"] = replace(
        config, metrics_token="scrape-token-0123", metrics_allowed_ips="10.0.0.0/8"
    )
    try:
        assert client.get("/metrics").status_code == 403  # 127.0.0.1 is no longer listed
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.2.3.4"}).status_code == 200
        opened = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-0123"}, **stranger)
        assert opened.status_code == 200
    finally:
        app.config["CALRECALL"] = config


def test_request_latency_is_counted_per_endpoint(client):
    labels = {"method": "GET", "endpoint": "observability.healthz"}
    before = _sample("calrecall_http_request_duration_seconds_count", **labels)
    answered = _sample("calrecall_http_requests_total", status="200", **labels)
    client.get("/healthz")
    client.get("/healthz")
    assert _sample("calrecall_http_request_duration_seconds_count", **labels) == before + 2
    assert _sample("calrecall_http_requests_total", status="200", **labels) == answered + 2
    unknown = _sample("calrecall_http_requests_total", method="GET", endpoint="unmatched", status="404")
    client.get("/no/such/page")
    assert (
        _sample("calrecall_http_requests_total", method="GET", endpoint="unmatched", status="404")
        == unknown + 1
    )


def test_metrics_show_the_outbox_by_state_its_oldest_due_message_and_imports(client, db_session, world):
    now = now_utc()
    for state, not_before in (
        ("pending", now - timedelta(minutes=10)),
        ("pending", now + timedelta(hours=5)),
        ("sent", now),
    ):
        make_notification(db_session, world.a.admin, state=state, not_before=not_before)
    db_session.add(
        LedgerImport(
            org_id=world.a.org.id, created_by_id=world.a.admin.id, filename="l.xlsx", size=1, state="running"
        )
    )
    db_session.commit()
    figures = _metrics(client)
    assert figures["calrecall_database_up"] == 1
    assert figures['calrecall_outbox_messages{state="pending"}'] == 2
    assert figures['calrecall_outbox_messages{state="sent"}'] == 1
    assert 590 <= figures["calrecall_outbox_oldest_due_seconds"] <= 900  # the future one is not late
    assert figures['calrecall_imports{state="running"}'] == 1
    assert figures['calrecall_exports{state="queued"}'] == 0
    assert "calrecall_http_request_duration_seconds_bucket" in " ".join(figures)


def test_metrics_still_answer_when_the_database_does_not(client, unreachable_database):
    figures = _metrics(client)
    assert figures["calrecall_database_up"] == 0
    assert not any(name.startswith("calrecall_outbox") for name in figures)


def test_scheduled_jobs_count_their_runs_and_failures():
    def broken():
        raise ValueError("boom")

    runs, failures = (
        _sample("calrecall_job_runs_total", job="t"),
        _sample("calrecall_job_failures_total", job="t"),
    )
    assert counted_job("t", lambda: 42)() == 42
    with pytest.raises(ValueError, match="boom"):
        counted_job("t", broken)()
    assert JOB_RUNS.labels("t")._value.get() == runs + 2
    assert JOB_FAILURES.labels("t")._value.get() == failures + 1


def test_the_scheduler_counts_every_job(app):
    from service.jobs.schedule import build_scheduler

    scheduler = build_scheduler(app)
    assert all(job.func.__name__.endswith("(counted)") for job in scheduler.get_jobs())


_COUNT_ONE = """
from service.observability.metrics import JOB_RUNS, observe_request
observe_request("GET", "ledger.index", 200, 0.02)
JOB_RUNS.labels("reminders-dispatch").inc()
"""


def test_figures_of_every_process_add_up_in_one_scrape(app, client, tmp_path, monkeypatch):
    # gunicorn's workers and the scheduler each write their own file; any worker's scrape reads all.
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", _COUNT_ONE], cwd=ROOT, env=environment, check=True)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    figures = _metrics(client)
    assert figures['calrecall_job_runs_total{job="reminders-dispatch"}'] == 2
    assert figures['calrecall_http_request_duration_seconds_count{endpoint="ledger.index",method="GET"}'] == 2
    assert clear_dead_processes(tmp_path) >= 2
    assert not list(tmp_path.glob("*.db"))


def test_a_log_line_never_asks_the_database_for_the_user(app, db_session, world):
    # After a rollback the signed-in user's attributes are expired; a log line must not load them.
    from flask import g
    from sqlalchemy import event

    from models import User
    from service.observability.logs import request_fields

    user = db_session.get(User, world.a.admin.id)
    statements = []
    bind = db_session.connection()
    event.listen(bind, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with app.test_request_context("/"):
        g.request_id, g._login_user = "r" * 32, user
        assert request_fields() == {"request_id": "r" * 32, "org_id": world.a.org.id, "user_id": user.id}
        db_session.expire(user)
        assert request_fields() == {"request_id": "r" * 32}
    assert statements == []
