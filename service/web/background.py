"""Work a request hands on once its transaction has committed: an import or export to run, a message."""

from __future__ import annotations

from flask import current_app

from service.jobs.reminders import run_dispatch
from service.web.context import after_commit


def start_import_after_commit(job_id: int) -> None:
    """Hand the import job to the runner once the request's transaction holds it."""
    runner = current_app.extensions["calrecall.import_runner"]
    after_commit(lambda: runner.start(job_id))


def start_export_after_commit(job_id: int) -> None:
    """Hand the export job to its runner once the request's transaction holds it."""
    runner = current_app.extensions["calrecall.export_runner"]
    after_commit(lambda: runner.start(job_id))


def send_after_commit(message_id: int) -> None:
    """Dispatch one queued message as soon as the request has committed it (a test message)."""
    app = current_app._get_current_object()
    after_commit(lambda: run_dispatch(app, only_ids=[message_id]))
