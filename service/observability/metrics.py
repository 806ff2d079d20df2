"""What ``/metrics`` tells Prometheus, and who may ask.

Two kinds of figures. Those a process counts as it works (request latencies, job runs, SMS held by
the ceiling) live in ``prometheus_client`` metrics; under gunicorn and beside the scheduler they are
kept in files under ``PROMETHEUS_MULTIPROC_DIR``, shared by every process of the host, so that one
scrape of any web worker sees them all. Those that are a state of the database (the outbox, the
imports under way) are asked of the database at each scrape, so that they are true whichever
process changed them.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from ipaddress import ip_address
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from models import LedgerExport, LedgerImport, Notification
from models.reminders import CLAIMABLE_STATES
from service.clock import now_utc
from service.db import allow_all_tenants

log = logging.getLogger(__name__)
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter(
    "calrecall_http_requests", "Requests answered, by endpoint and status.", ("method", "endpoint", "status")
)
REQUEST_SECONDS = Histogram(
    "calrecall_http_request_duration_seconds",
    "Time from the request's arrival to its response, by endpoint.",
    ("method", "endpoint"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
JOB_RUNS = Counter("calrecall_job_runs", "Runs of the scheduler's jobs, failed or not.", ("job",))
JOB_FAILURES = Counter(
    "calrecall_job_failures", "Runs of the scheduler's jobs that raised an error.", ("job",)
)
JOB_SECONDS = Histogram(
    "calrecall_job_duration_seconds",
    "How long the scheduler's jobs ran.",
    ("job",),
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 1800),
)
SMS_HELD = Counter("calrecall_sms_ceiling_held", "SMS held back because a firm reached its daily ceiling.")

#: The label of requests that matched no route (404s of unknown addresses): one series for all.
UNMATCHED = "unmatched"


def observe_request(method: str, endpoint: str | None, status: int, seconds: float) -> None:
    """Count one answered request and its latency."""
    endpoint = endpoint or UNMATCHED
    REQUESTS.labels(method, endpoint, str(status)).inc()
    REQUEST_SECONDS.labels(method, endpoint).observe(seconds)


def counted_job(job_id: str, run: Callable[[], object]) -> Callable[[], object]:
    """Wrap a scheduled job so that its runs, failures and duration are counted."""
    # Zero from the start, so that an alert on failures sees every job before its first one.
    JOB_RUNS.labels(job_id)
    JOB_FAILURES.labels(job_id)

    def run_counted():
        with JOB_SECONDS.labels(job_id).time():
            JOB_RUNS.labels(job_id).inc()
            try:
                return run()
            except Exception:
                JOB_FAILURES.labels(job_id).inc()
                raise

    run_counted.__name__ = f"{job_id} (counted)"
    return run_counted


class DatabaseState(Collector):
    """Figures read from the database at each scrape.

    The outbox by state and its oldest due message, the ledger imports and exports queued and running,
    and whether the database answered at all.
    """

    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime] = now_utc):
        self.sessions = sessions
        self.now = now

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield the figures, or only ``calrecall_database_up 0`` when the database does not answer."""
        try:
            with self.sessions() as session:
                allow_all_tenants(session)
                # Gathered before the first yield: a database lost half-way yields nothing half-read.
                families = [*self._outbox(session), *self._ledger_jobs(session)]
        except DBAPIError as exc:
            log.warning("metrics: the database did not answer: %s", exc.orig or exc)
            families = []
        yield GaugeMetricFamily(
            "calrecall_database_up",
            "Whether the database answered this scrape (1) or not (0).",
            value=1 if families else 0,
        )
        yield from families

    def _outbox(self, session: Session) -> Iterator[GaugeMetricFamily]:
        by_state = GaugeMetricFamily(
            "calrecall_outbox_messages", "Messages in the outbox, by state.", labels=("state",)
        )
        for state, count in session.execute(
            select(Notification.state, func.count()).group_by(Notification.state).order_by(Notification.state)
        ):
            by_state.add_metric((state,), count)
        yield by_state
        now = self.now()
        # The claim's partial index holds exactly these rows: the scan is as short as the backlog.
        oldest = session.scalar(
            select(func.min(Notification.not_before)).where(
                Notification.state.in_(CLAIMABLE_STATES), Notification.not_before <= now
            )
        )
        yield GaugeMetricFamily(
            "calrecall_outbox_oldest_due_seconds",
            "How long the oldest message due to be sent has waited past its time (0: none waits).",
            value=(now - oldest).total_seconds() if oldest else 0.0,
        )

    def _ledger_jobs(self, session: Session) -> Iterator[GaugeMetricFamily]:
        for model, name, what in (
            (LedgerImport, "calrecall_imports", "Ledger imports"),
            (LedgerExport, "calrecall_exports", "Ledger exports"),
        ):
            family = GaugeMetricFamily(name, f"{what} queued or running.", labels=("state",))
            counts = dict(
                session.execute(
                    select(model.state, func.count())
                    .where(model.state.in_(("queued", "running")))
                    .group_by(model.state)
                ).all()
            )
            for state in ("queued", "running"):
                family.add_metric((state,), counts.get(state, 0))
            yield family


def exposition(sessions: sessionmaker[Session]) -> bytes:
    """Return every figure in Prometheus's text format."""
    if os.environ.get(MULTIPROCESS_DIR):
        counted = CollectorRegistry()
        MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    state = CollectorRegistry(auto_describe=False)
    state.register(DatabaseState(sessions))
    return generate_latest(counted) + generate_latest(state)


def may_read_metrics(config, remote_addr: str | None, authorization: str | None) -> bool:
    """Whether a scrape from ``remote_addr`` with this Authorization header may read the figures."""
    if config.metrics_token and authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip(), config.metrics_token):
            return True
    try:
        address = ip_address(remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in config.metrics_networks)


def clear_dead_processes(directory: str | os.PathLike | None = None) -> int:
    """Remove the metric files of processes that no longer run; return how many were removed.

    Each process writes ``<kind>_<pid>.db``. A process that starts (the gunicorn master, the
    scheduler) clears those of dead ones: their figures end with them, as after any restart,
    and the directory does not grow with every worker ever forked.
    """
    directory = directory or os.environ.get(MULTIPROCESS_DIR)
    if not directory:
        return 0
    removed = 0
    for path in Path(directory).glob("*_*.db"):
        pid = path.stem.rsplit("_", 1)[1]
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True
