"""Running ledger import jobs: started by the web process at upload, swept up by the scheduler.

The upload's request commits the job and hands its id to :class:`ImportRunner`, so the page answers
at once and nobody waits for the scheduler's next sweep. By default each job runs in a child
process (:mod:`service.jobs.children`): an import of 100,000 rows is CPU-bound Python, and in a
thread of the web process it held the GIL against every request that worker served. If the job's
process dies, the scheduler's ``ledger-imports`` job picks the work up when its lease runs out
(:func:`~service.ledger_io.runner.run_pending_imports`).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from service.jobs.children import start_in_child
from service.ledger_io.runner import run_import

log = logging.getLogger(__name__)
#: Imports in threads (``IMPORT_RUNNER=thread``): two at a time per web process.
THREADS = 2


class ImportRunner:
    """Starts import jobs as their uploads commit, the way ``IMPORT_RUNNER`` says."""

    def __init__(self, app: Flask, mode: str):
        self.app, self.mode = app, mode
        self._pool = (
            ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="ledger-import")
            if mode == "thread"
            else None
        )

    def start(self, import_id: int) -> None:
        """Run the job now (inline), soon (child process or thread), or leave it to the scheduler."""
        if self.mode == "inline":
            self._run(import_id)
        elif self.mode == "process":
            start_in_child(self.app.config["CALRECALL"].database_url, run_import, import_id, "ledger-import")
        elif self._pool is not None:
            self._pool.submit(self._run, import_id)

    def _run(self, import_id: int) -> None:
        try:
            run_import(self.app.extensions["calrecall.sessions"], import_id)
        except Exception:
            # The job stays claimed; the scheduler retries it when the lease runs out.
            log.exception("ledger import %s could not be run", import_id)


def init_import_runner(app: Flask) -> ImportRunner:
    """Attach the runner to the application."""
    runner = ImportRunner(app, app.config["CALRECALL"].import_runner)
    app.extensions["calrecall.import_runner"] = runner
    return runner
