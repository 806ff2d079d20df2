"""Running ledger export jobs: a child process per export as its request commits, or the scheduler.

An export of 100,000 instruments is seconds of CPU; run in a web worker (or a thread of one, which
shares its GIL) it would slow every request that worker serves. :class:`ExportRunner` therefore
starts each job in a child process from the fork server (the web process has threads, which plain
``fork`` does not survive safely) with its own database engine. If that child dies, the scheduler's
``ledger-exports`` job takes the export over when its lease runs out
(:func:`~service.ledger_io.export_runner.run_pending_exports`).
"""

from __future__ import annotations

import logging
import multiprocessing

from flask import Flask

from service.ledger_io.export_runner import run_export
from service.ledger_io.sandbox import forkserver

log = logging.getLogger(__name__)


def run_in_child(database_url: str, export_id: int) -> None:
    """Write one export in this (child) process, with an engine of its own."""
    from service.db import make_engine, make_session_factory

    logging.basicConfig(level=logging.INFO)
    engine = make_engine(database_url)
    try:
        run_export(make_session_factory(engine), export_id)
    except Exception:
        # The job stays claimed; the scheduler retries it when the lease runs out.
        log.exception("ledger export %s could not be run", export_id)
    finally:
        engine.dispose()


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
            multiprocessing.active_children()  # reap the children that have finished
            url = self.app.config["CALRECALL"].database_url
            child = forkserver().Process(
                target=run_in_child, args=(url, export_id), name=f"ledger-export-{export_id}"
            )
            child.start()


def init_export_runner(app: Flask) -> ExportRunner:
    """Attach the runner to the application."""
    runner = ExportRunner(app, app.config["CALRECALL"].export_runner)
    app.extensions["calrecall.export_runner"] = runner
    return runner
