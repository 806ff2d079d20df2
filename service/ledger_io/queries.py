"""Reading ledger imports and exports: one job, the firm's recent jobs, an import's changes, progress."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import LedgerExport, LedgerImport
from service.actors import Actor
from service.errors import Conflict
from service.i18n import N_, Msg
from service.ledger_io.changes import PER_PAGE, ChangesPage, page_of
from service.ledger_io.stored import load_message
from service.scoping import get_in_org


def get_import(session: Session, actor: Actor, import_id: int, lock: bool = False) -> LedgerImport:
    """Return one of the actor's firm's imports (404 for anyone else's).

    ``lock`` takes the row's lock, re-reading it, before a change: of two requests racing to
    confirm the same upload (a double click), the second sees what the first did.
    """
    actor.require("ledger.write")
    job = get_in_org(session, LedgerImport, import_id, actor)
    if lock:
        session.refresh(job, with_for_update=True)
    return job


def list_imports(session: Session, actor: Actor, limit: int = 20) -> list[LedgerImport]:
    """Return the firm's latest imports, newest first."""
    actor.require("ledger.write")
    return list(
        session.scalars(
            select(LedgerImport)
            .where(LedgerImport.org_id == actor.org_id)
            .order_by(LedgerImport.id.desc())
            .limit(limit)
        )
    )


def get_changes(
    session: Session, actor: Actor, import_id: int, kind: str, page: int = 1, per_page: int = PER_PAGE
) -> ChangesPage:
    """Return a page of the instruments the import creates (``kind`` "created") or updates ("updated").

    Those of its last finished run: the preview's, or once imported, the import's. Only that
    column is read, not the whole job.
    """
    job = get_import(session, actor, import_id)
    if job.state != "done":
        raise Conflict(N_("The file has not been checked yet, or its check failed: nothing to show."))
    stored = session.scalar(select(LedgerImport.changes).where(LedgerImport.id == job.id))
    return page_of(stored, kind, page, per_page)


def has_file(session: Session, job: LedgerImport) -> bool:
    """Whether the job still holds its file (asked of the database: the file may be megabytes)."""
    return session.scalar(select(LedgerImport.content.is_not(None)).where(LedgerImport.id == job.id))


def mapping_of(job: LedgerImport) -> dict[int, str | None] | None:
    """Return the job's stored mapping with integer column indexes."""
    return {int(i): name for i, name in job.mapping.items()} if job.mapping else None


def error_of(job: LedgerImport) -> Msg | None:
    """Return why the job's last run failed."""
    return load_message(job.error) if job.error else None


def progress_of(job: LedgerImport) -> dict:
    """Return the job's state and row counts (the page's polling and the API share it)."""
    return {
        "id": job.id,
        "phase": job.phase,
        "state": job.state,
        "rows_total": job.rows_total,
        "rows_data": job.rows_data,
        "rows_read": job.rows_read,
        "rows_validated": job.rows_validated,
        "rows_written": job.rows_written,
        "imported": job.imported_at is not None,
    }


def get_export(session: Session, actor: Actor, export_id: int) -> LedgerExport:
    """Return one of the actor's firm's ledger exports (404 for anyone else's)."""
    actor.require("ledger.read")
    return get_in_org(session, LedgerExport, export_id, actor)


def list_exports(session: Session, actor: Actor, limit: int = 10) -> list[LedgerExport]:
    """Return the firm's latest exports that are still kept, newest first."""
    actor.require("ledger.read")
    return list(
        session.scalars(
            select(LedgerExport)
            .where(LedgerExport.org_id == actor.org_id)
            .order_by(LedgerExport.id.desc())
            .limit(limit)
        )
    )


def export_ready(job: LedgerExport, now: datetime) -> bool:
    """Whether the export's file can be downloaded now (written, and not yet expired)."""
    return job.state == "done" and job.expires_at is not None and job.expires_at > now


def export_progress(job: LedgerExport, now: datetime) -> dict:
    """Return the export's state, row counts and whether its file is ready (the page and the API share it)."""
    percent = int(100 * job.rows_written / job.rows_total) if job.rows_total else 0
    return {
        "id": job.id,
        "state": job.state,
        "rows_total": job.rows_total,
        "rows_written": job.rows_written,
        "percent": 100 if job.state == "done" else percent,
        "ready": export_ready(job, now),
        "expires_at": job.expires_at,
    }
