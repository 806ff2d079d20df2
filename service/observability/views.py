"""The health checks and the metrics: ``/healthz``, ``/readyz``, ``/metrics``.

``/healthz``: the process lives. ``/readyz``: the database answers and the schema is at the
migration head. ``/metrics``: Prometheus's figures, for configured addresses or a token.

None of them signs anyone in or touches the request's own session: a load balancer asks them every
few seconds, and they must answer truthfully while the rest of the app cannot.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service.migrations import head_revision
from service.observability.metrics import exposition, may_read_metrics
from service.web.access import open_to_experts
from service.web.errors import OUTAGE_RETRY_AFTER

log = logging.getLogger(__name__)
bp = Blueprint("observability", __name__)


def _sessions():
    return current_app.extensions["calrecall.sessions"]


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
@open_to_experts  # no one signs in to these; the sign-in hooks skip them
def healthz():
    """Say that the process is alive and answering; asks nothing of the database."""
    return _no_store(jsonify({"status": "ok"}))


@bp.get("/readyz")
@open_to_experts  # no one signs in to these; the sign-in hooks skip them
def readyz():
    """Say whether this process can serve: the database answers and its schema is at the head."""
    head = head_revision()
    with _sessions()() as session:
        try:
            session.execute(text("SELECT 1"))
        except DBAPIError as exc:
            log.warning("readiness: database unreachable: %s", exc.orig or exc)
            return _not_ready({"database": "unreachable", "schema": None, "expected": head})
        try:
            current = session.scalar(text("SELECT version_num FROM alembic_version"))
        except DBAPIError:  # no alembic_version: never migrated
            session.rollback()
            current = None
    if current != head:
        return _not_ready({"database": "ok", "schema": current, "expected": head})
    return _no_store(jsonify({"status": "ready", "database": "ok", "schema": current}))


def _not_ready(details: dict) -> Response:
    response = jsonify({"status": "unavailable", **details})
    response.status_code = 503
    response.headers["Retry-After"] = str(OUTAGE_RETRY_AFTER)
    return _no_store(response)


@bp.get("/metrics")
@open_to_experts  # no one signs in to these; the sign-in hooks skip them
def metrics():
    """Every figure in Prometheus's text format, to the configured addresses or a bearer token."""
    config = current_app.config["CALRECALL"]
    if not may_read_metrics(config, request.remote_addr, request.headers.get("Authorization")):
        response = Response("Metrics are not open to this address.\n", 403, mimetype="text/plain")
        return _no_store(response)
    body = exposition(_sessions())
    return _no_store(Response(body, mimetype="text/plain; version=0.0.4"))
