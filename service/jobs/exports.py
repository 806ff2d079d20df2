"""Running ledger export jobs: a child process per export as its request commits, or the scheduler.

An export of 100,000 instruments is seconds of CPU, so :class:`ExportRunner` starts each job in a
child process (:mod:`service.jobs.children`). If that child dies, the scheduler's ``ledger-exports``
job takes the export over when its lease runs out
(:func:`~service.ledger_io.export_runner.run_pending_exports`).
"""

from __future__ import annotations

import logging

from flask import Flask

from service.jobs.children import start_in_child
from service.ledger_io.export_runner import run_export

log = logging.getLogger(__name__)


class ExportRunner:
    """Starts export jobs as their requests commit, the way ``EXPORT_RUNNER`` says."""

    def __init__(self, app: Flask, mode: str):
        self.app, self.mode = app, mode

    def start(self, export_id: int) -> None:
        """Run the job now (inline), in a child process, or leave it to the scheduler."""
        if self.mode == "inline":
            try:
                run_export(self.app.extensions["calrecall.sessions"], export_id)
            except Exception:
                log.exception("ledger export %s could not be run", export_id)
        elif self.mode == "process":
            start_in_child(self.app.config["CALRECALL"].database_url, run_export, export_id, "ledger-export")


def init_export_runner(app: Flask) -> ExportRunner:
    """Attach the runner to the application."""
    runner = ExportRunner(app, app.config["CALRECALL"].export_runner)
    app.extensions["calrecall.export_runner"] = runner
    return runner
