"""Watching the running service: health checks, JSON logs with a request id, Prometheus metrics.

- ``logs``: the log format (JSON lines or text), the request's fields on every line, redaction.
- ``metrics``: what ``/metrics`` reports and who may read it.
- ``views``: ``/healthz``, ``/readyz``, ``/metrics``.
- ``gunicorn``: the production server's settings (``gunicorn -c python:service.observability.gunicorn``).
"""

from __future__ import annotations

import logging
import re
import uuid
from time import perf_counter

from flask import Flask, g, request

from service.observability.logs import configure_logging
from service.observability.metrics import observe_request

REQUEST_ID_HEADER = "X-Request-ID"
#: An id a proxy in front already gave the request is kept if it looks like one (and cannot smuggle
#: anything into a log line); otherwise the app makes its own.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{8,64}$")
#: Files that every page loads: their requests are logged at DEBUG only, not to drown the pages'.
_FILE_BLUEPRINTS = ("bootstrap", "vendor")

requests_log = logging.getLogger("calrecall.requests")


def init_observability(app: Flask) -> None:
    """Configure logging, give each request an id, count and log it; register the health pages.

    Called before the other request hooks: the id and the clock start before any other work, and
    the count and the log line (after-request hooks run in reverse) see the final status.
    """
    configure_logging(app.config["CALRECALL"])

    @app.before_request
    def _start_request():
        given = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        g.request_started = perf_counter()

    @app.after_request
    def _finish_request(response):
        request_id = g.get("request_id")
        if request_id:
            response.headers[REQUEST_ID_HEADER] = request_id
        started = g.get("request_started")
        if started is None:
            return response
        seconds = perf_counter() - started
        observe_request(request.method, request.endpoint, response.status_code, seconds)
        quiet = request.endpoint == "static" or request.blueprint in _FILE_BLUEPRINTS
        path = _path()
        requests_log.log(
            logging.DEBUG if quiet else logging.INFO,
            "%s %s %s %.1f ms",
            request.method,
            path,
            response.status_code,
            seconds * 1000,
            extra={
                "method": request.method,
                "path": path,
                "endpoint": request.endpoint,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 1),
            },
        )
        return response

    from service.observability.views import bp

    app.register_blueprint(bp)


def _path() -> str:
    """Return the route the request matched (``/calendar/<token>.ics``), or its address if none.

    The route, so that a secret in the address (a feed's token, a reset link's) never reaches the log.
    """
    rule = request.url_rule
    return rule.rule if rule is not None else request.path
