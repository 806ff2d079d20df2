"""The schedule as data, and the APScheduler loop that runs it in its own process.

Never run inside web workers: APScheduler 3 cannot share a job store between processes, so each
worker would run every job. Jobs are idempotent, so running two scheduler processes is safe.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask

from service.clock import now_utc
from service.jobs.housekeeping import run_housekeeping
from service.jobs.reminders import run_dispatch, run_lease_sweep, run_planning
from service.jobs.verify_history import run_history_verification
from service.ledger_io.export_runner import run_pending_exports
from service.ledger_io.runner import run_pending_imports
from service.observability.metrics import counted_job

log = logging.getLogger(__name__)
TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class ScheduledJob:
    """One job: a stable id, when it runs (cron fields, Asia/Shanghai) and what it calls."""

    id: str
    cron: dict[str, Any]
    run: Any


def scheduled_jobs(app: Flask) -> list[ScheduledJob]:
    """Return the jobs with their calls bound to the application's sessions."""
    sessions = app.extensions["calrecall.sessions"]
    attachments = Path(app.config["CALRECALL"].attachments_dir)
    return [
        ScheduledJob("verify-history", {"hour": 2, "minute": 30}, lambda: run_history_verification(sessions)),
        ScheduledJob(
            "housekeeping",
            {"hour": 3, "minute": 15},
            lambda: run_housekeeping(sessions, now_utc(), attachments),
        ),
        # Uploads queued while no web thread took them, and runs whose worker died.
        ScheduledJob("ledger-imports", {"second": "*/20"}, lambda: run_pending_imports(sessions)),
        # Exports queued with EXPORT_RUNNER=scheduler, runs whose process died, expired files.
        ScheduledJob("ledger-exports", {"second": "*/20"}, lambda: run_pending_exports(sessions)),
        # Each firm's day is planned by the first run after its local midnight; the hourly runs
        # after that find it planned and do nothing.
        ScheduledJob("reminders-plan", {"minute": 1}, lambda: run_planning(app)),
        ScheduledJob("reminders-dispatch", {"second": "*/30"}, lambda: run_dispatch(app)),
        ScheduledJob("reminders-leases", {"minute": "*/5"}, lambda: run_lease_sweep(app)),
    ]


def build_scheduler(app: Flask) -> BlockingScheduler:
    """Return a scheduler with every job: coalesced, one instance at a time, an hour's grace.

    Each run is counted for ``/metrics`` (runs, failures, duration by job).
    """
    scheduler = BlockingScheduler(timezone=TIMEZONE)
    for job in scheduled_jobs(app):
        scheduler.add_job(
            counted_job(job.id, job.run),
            CronTrigger(timezone=TIMEZONE, **job.cron),
            id=job.id,
            name=job.id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
        )
    return scheduler
