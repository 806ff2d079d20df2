"""Background jobs in child processes: CPU-bound work kept out of the web workers.

An import or export of 100,000 instruments is seconds of CPU. In a web worker, or in a thread of
one (which shares its GIL), it would slow every request that worker serves. A job is therefore run
in a child process from the fork server (the web process has threads, which plain ``fork`` does not
survive safely), with a database engine of its own. If the child dies, the scheduler takes the job
over when its lease runs out: the jobs are claimed and leased in the database.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from service.ledger_io.sandbox import forkserver

log = logging.getLogger(__name__)

#: How much lower than the web workers a job's process runs (``nice``): on a busy machine the
#: requests go first and the job takes the CPU they leave (``bench/load.py --during-import``).
JOB_NICENESS = 10

#: ``run(sessions, job_id)``: a module-level function (the fork server pickles it by name).
JobRun = Callable[[sessionmaker[Session], int], object]


def start_in_child(database_url: str, run: JobRun, job_id: int, name: str) -> None:
    """Start ``run(sessions, job_id)`` in a child process and return at once."""
    multiprocessing.active_children()  # reap the children that have finished
    child = forkserver().Process(
        target=run_in_child, args=(database_url, run, job_id, name), name=f"{name}-{job_id}"
    )
    child.start()


def run_in_child(database_url: str, run: JobRun, job_id: int, name: str) -> None:
    """Run one job in this (child) process, with an engine of its own."""
    from service.db import make_engine, make_session_factory

    os.nice(JOB_NICENESS)
    logging.basicConfig(level=logging.INFO)
    engine = make_engine(database_url)
    try:
        run(make_session_factory(engine), job_id)
    except Exception:
        # The job stays claimed; the scheduler retries it when the lease runs out.
        log.exception("%s %s could not be run", name, job_id)
    finally:
        engine.dispose()
