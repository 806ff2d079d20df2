"""Housekeeping: forget spent credentials, old sign-in records, abandoned uploads and orphan files."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, sessionmaker

from models import Attachment, Invitation, NominationFile, PasswordReset, SignInAttempt
from service.db import unit_of_work
from service.ledger_io.runner import forget_old_uploads
from service.traceability import files

log = logging.getLogger(__name__)

#: How long the sign-in audit is kept, and spent or expired links after they stopped working.
SIGN_IN_RETENTION = timedelta(days=180)
LINK_RETENTION = timedelta(days=30)
#: A stored file no attachment or nomination scan names is removed once it is this old. An upload's
#: file is written before its row commits (a rolled-back upload leaves it behind); the grace keeps
#: the sweep away from uploads still under way.
ORPHAN_GRACE = timedelta(days=1)
#: Stored files looked up per query.
LOOKUP_CHUNK = 500


def run_housekeeping(
    sessions: sessionmaker[Session], now: datetime, attachments_dir: Path | None = None
) -> dict[str, int]:
    """Delete old sign-in attempts, long-dead links and invitations, abandoned uploads; idempotent.

    Given ``attachments_dir``, also the stored files nothing names (:func:`sweep_orphan_files`).
    """
    cutoff = now - LINK_RETENTION
    with unit_of_work(sessions) as session:
        counts = {
            "sign_in_attempts": session.execute(
                delete(SignInAttempt).where(SignInAttempt.created_at < now - SIGN_IN_RETENTION)
            ).rowcount,
            "password_resets": session.execute(
                delete(PasswordReset).where(PasswordReset.expires_at < cutoff)
            ).rowcount,
            "invitations": session.execute(
                delete(Invitation).where(
                    or_(Invitation.expires_at < cutoff, Invitation.revoked_at < cutoff),
                    Invitation.accepted_at.is_(None),
                )
            ).rowcount,
            "ledger_uploads": forget_old_uploads(session, now),
        }
        if attachments_dir is not None:
            counts["attachment_files"] = sweep_orphan_files(session, Path(attachments_dir), now)
    log.info("housekeeping removed %s", counts)
    return counts


def sweep_orphan_files(session: Session, root: Path, now: datetime) -> int:
    """Remove the stored files no attachment or nomination scan names, and dead temporary files.

    Files are shared by content (two firms uploading the same certificate store it once), so a
    file stays while any attachment anywhere names it. Only files older than :data:`ORPHAN_GRACE`
    go, their age checked again just before: storing the same content again renews it.
    Returns how many files were removed.
    """
    cutoff = (now - ORPHAN_GRACE).timestamp()
    old = {sha256: path for sha256, path in files.stored_files(root) if _modified(path) < cutoff}
    named: set[str] = set()
    hashes = sorted(old)
    for start in range(0, len(hashes), LOOKUP_CHUNK):
        chunk = hashes[start : start + LOOKUP_CHUNK]
        for column in (Attachment.sha256, NominationFile.sha256):
            statement = select(column).where(column.in_(chunk))
            named.update(session.scalars(statement.execution_options(all_tenants=True)))
    doomed = [path for sha256, path in old.items() if sha256 not in named]
    doomed += [path for path in files.leftover_uploads(root) if _modified(path) < cutoff]
    removed = 0
    for path in doomed:
        if _modified(path) < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    if removed:
        log.info("removed %s stored files nothing names", removed)
    return removed


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return float("inf")  # gone already: nothing to remove
