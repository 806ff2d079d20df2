"""Ledger imports as background jobs: claiming a job under a lease, running it, saving its progress.

The web page and the API upload a file and return at once; a worker runs the job:

1. **preview** — read the file and do a dry run; the report (counts, rejected rows, the column
   mapping) is stored for the page. The user may correct the mapping, which queues a new preview.
2. **import** — after the user confirms, the same file is imported for real. The instruments, the
   history and the job's own "done" land in one transaction: a worker that dies midway leaves
   nothing behind, and the job runs again when its lease runs out.

Workers claim a job with one ``UPDATE … RETURNING`` (PostgreSQL skips rows another worker has
locked; SQLite serialises writers), so a job runs in one place at a time whichever process — a web
worker's thread or the scheduler — picks it up. Progress (rows read, validated, written) is saved
from a second session while the job runs, at most once a second.
"""

from __future__ import annotations

import logging
import time as monotonic
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, delete, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from models import LedgerExport, LedgerImport, Organization, User
from service.actors import Actor
from service.clock import now_utc, today_in
from service.db import allow_all_tenants, begin_writes_immediately, scope_to_org, unit_of_work
from service.errors import DomainError, Invalid
from service.i18n import N_
from service.ledger_io.importer import read_ledger, write_ledger
from service.ledger_io.queries import mapping_of
from service.ledger_io.stored import dump_message, dump_report

log = logging.getLogger(__name__)

#: How long a claimed run may go without a sign of life before another worker takes it over.
LEASE = timedelta(minutes=15)
#: A job whose runs keep dying (say, the file kills the worker) stops after this many.
MAX_ATTEMPTS = 3
#: Uploads never imported are dropped after this long.
UPLOAD_RETENTION = timedelta(days=7)
#: Seconds between two progress saves.
PROGRESS_INTERVAL = 1.0
STAGE_COLUMNS = {"read": "rows_read", "validated": "rows_validated", "written": "rows_written"}
TOTAL_COLUMNS = {"read": "rows_total", "validated": "rows_total", "written": "rows_data"}


#: A job model: a row with ``state``, ``lease_until``, ``attempts``, ``updated_at``, ``finished_at``
#: and ``error`` (ledger imports, ledger exports); the functions below claim and end either kind.
Job = type[LedgerImport] | type[LedgerExport]


def _runnable(now: datetime, model: Job = LedgerImport):
    expired = and_(model.state == "running", model.lease_until < now)
    return and_(or_(model.state == "queued", expired), model.attempts < MAX_ATTEMPTS)


@dataclass(frozen=True)
class Claim:
    """A worker's hold on a job: the job, and the attempt it runs (which fences its writes)."""

    import_id: int
    attempt: int

    @property
    def job_id(self) -> int:
        """The claimed job's id, whatever its kind."""
        return self.import_id


def claim(
    session: Session, now: datetime, import_id: int | None = None, model: Job = LedgerImport
) -> Claim | None:
    """Take one runnable job (``import_id``'s, or the oldest) under a lease; return the claim, or None.

    One statement: another worker either sees the row already taken or, on PostgreSQL, skips it
    while it is locked. The caller commits. A worker whose lease ran out loses the job to the
    next claim, and its own writes (which name its attempt) then change nothing.
    """
    candidate = select(model.id).where(_runnable(now, model)).order_by(model.id).limit(1)
    if import_id is not None:
        candidate = candidate.where(model.id == import_id)
    candidate = candidate.with_for_update(skip_locked=True).scalar_subquery()
    claimed = session.execute(
        update(model)
        .where(model.id == candidate, _runnable(now, model))
        .values(
            state="running",
            lease_until=now + LEASE,
            attempts=model.attempts + 1,
            updated_at=now,
        )
        .returning(model.id, model.attempts)
        .execution_options(synchronize_session=False)
    ).first()
    return Claim(*claimed) if claimed else None


def give_up_on_dead_runs(session: Session, now: datetime, model: Job = LedgerImport, message=None) -> int:
    """Fail the jobs whose every attempt died with its worker; return how many."""
    return session.execute(
        update(model)
        .where(
            model.state == "running",
            model.lease_until < now,
            model.attempts >= MAX_ATTEMPTS,
        )
        .values(
            state="failed",
            finished_at=now,
            lease_until=None,
            error=dump_message(message or _GAVE_UP),
        )
        .execution_options(synchronize_session=False)
    ).rowcount


_GAVE_UP = N_(
    "The import stopped %(count)s times before it finished; nothing was imported.", count=MAX_ATTEMPTS
)
_INTERNAL = N_("The import stopped because of an unexpected error; nothing was imported. Please try again.")


class ProgressSaver:
    """Saves a running job's row counts from its own short transactions, at most once a second.

    On SQLite, one connection writes at a time: while the import holds the write lock the saver
    waits for the end (``pause``) instead of blocking the import it reports on.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        held: Claim,
        now=now_utc,
        model: Job = LedgerImport,
        stages: dict[str, tuple[str, str]] | None = None,
    ):
        self.sessions, self.held, self.now, self.model = sessions, held, now, model
        #: Each stage's (done, total) columns.
        self.stages = stages or {s: (column, TOTAL_COLUMNS[s]) for s, column in STAGE_COLUMNS.items()}
        self.counts: dict[str, int] = {}
        self.paused = False
        self._last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        """Note the rows done at ``stage``; save when the last save is a second old."""
        done_column, total_column = self.stages[stage]
        self.counts[done_column] = done
        self.counts[total_column] = total
        if not self.paused and monotonic.monotonic() - self._last >= PROGRESS_INTERVAL:
            self.save()

    def pause_while_writing(self, session: Session) -> None:
        """Stop saving while ``session`` writes, if the database allows only one writer."""
        bind = session.get_bind()
        self.paused = isinstance(bind, Engine) and bind.dialect.name == "sqlite"

    def save(self) -> None:
        """Save the counts and extend the lease: the job is alive."""
        self._last = monotonic.monotonic()
        session = self.sessions()
        allow_all_tenants(session)
        try:
            session.execute(
                update(self.model)
                .where(*_held(self.held, self.model))
                .values(**self.counts, lease_until=self.now() + LEASE)
                .execution_options(synchronize_session=False)
            )
            session.commit()
        except SQLAlchemyError:
            # Progress is a courtesy: a busy database must not fail the import it reports on.
            session.rollback()
            table = self.model.__tablename__
            log.warning("progress of %s %s not saved", table, self.held.job_id, exc_info=True)
        finally:
            session.close()


def _held(held: Claim, model: Job = LedgerImport):
    """Return the condition that the job is still running under ``held``."""
    return (
        model.id == held.job_id,
        model.state == "running",
        model.attempts == held.attempt,
    )


def run_import(sessions: sessionmaker[Session], import_id: int | None = None, now=now_utc) -> int | None:
    """Claim a job (``import_id`` or the oldest runnable one) and run it; return its id, or None."""
    session = sessions()
    begin_writes_immediately(session)
    allow_all_tenants(session)
    try:
        claimed = claim(session, now(), import_id)
        session.commit()
    finally:
        session.close()
    if claimed is None:
        return None
    _run(sessions, claimed, now)
    return claimed.import_id


def run_pending_imports(sessions: sessionmaker[Session], now=now_utc, limit: int = 20) -> int:
    """Run queued jobs (and those whose worker died) until none is left or ``limit`` ran; return how many."""
    with unit_of_work(sessions) as session:
        give_up_on_dead_runs(session, now())
    ran = 0
    while ran < limit and run_import(sessions, now=now) is not None:
        ran += 1
    return ran


def _run(sessions: sessionmaker[Session], held: Claim, now) -> None:
    progress = ProgressSaver(sessions, held, now)
    try:
        ledger = _read(sessions, held, progress)
        _write(sessions, held, ledger, progress, now)
    except DomainError as exc:
        # The columns as read, so that the user can name the one that holds the management number.
        columns = getattr(exc, "column_fields", None)
        _fail(
            sessions, held, now, progress.counts, exc.message, {"column_fields": columns} if columns else None
        )
    except Exception:
        log.exception("ledger import %s failed", held.import_id)
        _fail(sessions, held, now, progress.counts, _INTERNAL)


def _fail(sessions, held: Claim, now, counts: dict, message, report: dict | None = None) -> None:
    """End the run as failed with ``message``, keeping no report (but the columns) and no changes."""
    _finish(sessions, held, now, counts, "failed", error=dump_message(message), report=report, changes=None)


def _read(sessions: sessionmaker[Session], held: Claim, progress: ProgressSaver):
    """Read and check the job's file, holding no transaction meanwhile (progress is saved alongside)."""
    with sessions() as session:
        allow_all_tenants(session)
        job = session.get(LedgerImport, held.import_id)
        _actor_of(session, job)  # fail early, before a long read, if the user may no longer import
        content, filename, reading = job.content, job.filename, (mapping_of(job), job.header_row, job.sheet)
    mapping, header_row, sheet = reading
    return read_ledger(
        content, filename, mapping=mapping, header_row=header_row, sheet=sheet, progress=progress
    )


def _write(sessions: sessionmaker[Session], held: Claim, ledger, progress: ProgressSaver, now) -> None:
    """Write (or, for a preview, rehearse) the import and mark the job done, in one transaction.

    If the job is no longer this worker's (its lease ran out and another took it), everything is
    undone instead: only one run of a job ever commits.
    """
    session = sessions()
    begin_writes_immediately(session)
    allow_all_tenants(session)
    try:
        job = session.get(LedgerImport, held.import_id)
        scope_to_org(session, job.org_id)
        actor = _actor_of(session, job)
        today = today_in(session.get(Organization, job.org_id).timezone)
        progress.pause_while_writing(session)
        report = write_ledger(
            session, actor, ledger, today, dry_run=job.phase == "preview", progress=progress
        )
        values = {"report": dump_report(report), "changes": report.changes.dump()}
        if job.phase == "import":
            values.update(imported_at=now(), content=None)
        if _mark(session, held, now, progress.counts, "done", **values):
            session.commit()
            log.info("ledger import %s (%s) done in org %s", held.import_id, job.phase, job.org_id)
        else:
            session.rollback()
            log.warning("ledger import %s: attempt %s lost its claim; undone", held.import_id, held.attempt)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _actor_of(session: Session, job: LedgerImport) -> Actor:
    """Return who runs the job, as they may act now: a deactivated or demoted user imports nothing.

    The uploader previews; whoever confirmed the import imports (and is named in the history).
    """
    user = session.get(User, job.confirmed_by_id if job.phase == "import" else job.created_by_id)
    actor = Actor.of(user)
    if not user.is_active:
        raise Invalid(N_("The user who uploaded this file is no longer active."))
    actor.require("ledger.write")
    return actor


def _mark(
    session: Session, held: Claim, now, counts: dict, state: str, model: Job = LedgerImport, **values
) -> bool:
    """End the run held by ``held`` in ``state``; False if the job is no longer held by it."""
    ended = session.execute(
        update(model)
        .where(*_held(held, model))
        .values(**counts, **values, state=state, lease_until=None, finished_at=now(), updated_at=now())
        .execution_options(synchronize_session=False)
    )
    return ended.rowcount == 1


def _finish(
    sessions, held: Claim, now, counts: dict, state: str, model: Job = LedgerImport, **values
) -> None:
    with unit_of_work(sessions) as session:
        _mark(session, held, now, counts, state, model, **values)


def forget_old_uploads(session: Session, now: datetime) -> int:
    """Delete uploads that were never imported and have waited too long; return how many."""
    return session.execute(
        delete(LedgerImport).where(
            LedgerImport.imported_at.is_(None),
            LedgerImport.state.in_(("done", "failed")),
            LedgerImport.updated_at < now - UPLOAD_RETENTION,
        )
    ).rowcount
