"""gunicorn's settings in production: ``gunicorn -c python:service.observability.gunicorn wsgi:app``.

Its own log lines as JSON like the app's; no access log, since the app logs every request itself with
its id, organisation and user, and the raw addresses an access log writes may carry a calendar
feed's or a reset link's token. ``GUNICORN_BIND`` and ``GUNICORN_WORKERS`` (or gunicorn's own
command-line flags, which win) set the address and the number of workers.
"""

from __future__ import annotations

import os

from service.observability.logs import JsonFormatter, Redactor
from service.observability.metrics import clear_dead_processes

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
#: Longer than a ledger page at its slowest, shorter than a proxy's usual 60 s.
timeout = 30
graceful_timeout = 25
accesslog = None

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": lambda: JsonFormatter(Redactor())}},
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    },
    # gunicorn lays this over its own defaults, whose root logger names a handler replaced here.
    # The app gives the root logger its handler when it starts (service.observability.logs).
    "root": {"level": "INFO", "handlers": []},
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}


def on_starting(_server) -> None:
    """Clear the metric files of processes of an earlier start (PROMETHEUS_MULTIPROC_DIR)."""
    clear_dead_processes()
