"""Ledger exports as background jobs: claimed under a lease, written row by row, kept for a day.

The request that asks for an export only queues it (:func:`~service.ledger_io.operations.queue_export`);
the job is claimed with the import's machinery (:func:`~service.ledger_io.runner.claim`, the same
lease, attempts and :class:`~service.ledger_io.runner.ProgressSaver`), in a process of its own or by
the scheduler (:mod:`service.jobs.exports`), never in a web worker. The run

1. counts the instruments the filters select (the progress's total);
2. reads them ``YIELD_PER`` at a time (a server-side cursor on PostgreSQL) and writes each as a
   row of an xlsxwriter constant-memory workbook in a temporary file, saving the rows written at
   most once a second;
3. stores the finished file on the job with ``expires_at`` = now + :data:`RETENTION`, in the same
   statement that marks it done, fenced by its attempt as an import is.

A bad filter, a user no longer active or allowed to read the ledger ends the job ``failed`` with a
message the page shows; an unexpected error does too (with the traceback in the log).
"""

from __future__ import annotations

import logging
import tempfile
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_
from sqlalchemy.orm import Session, sessionmaker

from models import LedgerExport, Organization, User
from service.actors import Actor
from service.clock import now_utc, today_in
from service.db import allow_all_tenants, begin_writes_immediately, scope_to_org, unit_of_work
from service.errors import DomainError, Invalid
from service.i18n import N_
from service.ledger import queries as ledger_queries
from service.ledger_io.exporter import iter_ledger, ledger_row, write_xlsx
from service.ledger_io.runner import MAX_ATTEMPTS, Claim, ProgressSaver, _finish, claim, give_up_on_dead_runs
from service.ledger_io.stored import dump_message

log = logging.getLogger(__name__)

#: How long a finished export's file is kept for download.
RETENTION = timedelta(hours=24)
#: The export's progress columns, as :class:`ProgressSaver` stages them.
STAGES = {"written": ("rows_written", "rows_total")}
#: Counting stops here: more than this is written all the same, the bar just shows a lower total.
COUNT_CAP = 10_000_000

_GAVE_UP = N_("The export stopped %(count)s times before it finished. Please try again.", count=MAX_ATTEMPTS)
_INTERNAL = N_("The export stopped because of an unexpected error. Please try again.")
_INACTIVE = N_("The user who asked for this export is no longer active.")


def run_export(sessions: sessionmaker[Session], export_id: int | None = None, now=now_utc) -> int | None:
    """Claim an export (``export_id`` or the oldest runnable one) and write it; return its id, or None."""
    session = sessions()
    begin_writes_immediately(session)
    allow_all_tenants(session)
    try:
        claimed = claim(session, now(), export_id, LedgerExport)
        session.commit()
    finally:
        session.close()
    if claimed is None:
        return None
    _run(sessions, claimed, now)
    return claimed.job_id


def run_pending_exports(sessions: sessionmaker[Session], now=now_utc, limit: int = 5) -> int:
    """Forget expired files, then run queued exports (and those whose worker died); return how many ran."""
    with unit_of_work(sessions) as session:
        give_up_on_dead_runs(session, now(), LedgerExport, _GAVE_UP)
        forget_expired_exports(session, now())
    ran = 0
    while ran < limit and run_export(sessions, now=now) is not None:
        ran += 1
    return ran


def forget_expired_exports(session: Session, now: datetime) -> int:
    """Delete exports whose file has expired, and failed ones as old; return how many."""
    return session.execute(
        delete(LedgerExport).where(
            or_(
                LedgerExport.expires_at < now,
                and_(LedgerExport.state == "failed", LedgerExport.finished_at < now - RETENTION),
            )
        )
    ).rowcount


def _run(sessions: sessionmaker[Session], held: Claim, now) -> None:
    progress = ProgressSaver(sessions, held, now, LedgerExport, STAGES)
    try:
        with tempfile.TemporaryFile() as out:
            filename = _write(sessions, held, out, progress)
            size = out.tell()
            out.seek(0)
            content = out.read()
    except DomainError as exc:
        _finish(sessions, held, now, progress.counts, "failed", LedgerExport, error=dump_message(exc.message))
        return
    except Exception:
        log.exception("ledger export %s failed", held.job_id)
        _finish(sessions, held, now, progress.counts, "failed", LedgerExport, error=dump_message(_INTERNAL))
        return
    _finish(
        sessions,
        held,
        now,
        progress.counts,
        "done",
        LedgerExport,
        content=content,
        size=size,
        filename=filename,
        expires_at=now() + RETENTION,
        error=None,
    )
    rows = progress.counts.get("rows_written")
    log.info("ledger export %s done: %s rows, %s bytes", held.job_id, rows, size)


def _write(sessions: sessionmaker[Session], held: Claim, out, progress: ProgressSaver) -> str:
    """Write the job's workbook to ``out`` as its user sees the ledger now; return the file's name."""
    with sessions() as session:
        allow_all_tenants(session)
        job = session.get(LedgerExport, held.job_id)
        scope_to_org(session, job.org_id)
        user = session.get(User, job.created_by_id)
        if not user.is_active:
            raise Invalid(_INACTIVE)
        actor = Actor.of(user)
        org = session.get(Organization, job.org_id)
        today = today_in(org.timezone)
        filters = ledger_queries.parse_filters(job.filters)
        total, _ = ledger_queries.count_instruments(session, actor, filters, today, cap=COUNT_CAP)
        progress("written", 0, total)
        progress.save()
        instruments = iter_ledger(session, actor, filters, today)

        def rows():
            for written, instrument in enumerate(instruments, 1):
                yield ledger_row(instrument, today)
                progress("written", written, max(total, written))

        count = write_xlsx(out, rows())
        progress.counts.update(rows_written=count, rows_total=max(total, count))
        return f"台账-{org.slug}-{today:%Y%m%d}.xlsx"
