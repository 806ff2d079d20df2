"""Housekeeping: forget spent credentials and old sign-in records."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session, sessionmaker

from models import Invitation, PasswordReset, SignInAttempt
from service.db import unit_of_work
from service.ledger_io.jobs import forget_old_uploads

log = logging.getLogger(__name__)

#: How long the sign-in audit is kept, and spent or expired links after they stopped working.
SIGN_IN_RETENTION = timedelta(days=180)
LINK_RETENTION = timedelta(days=30)


def run_housekeeping(sessions: sessionmaker[Session], now: datetime) -> dict[str, int]:
    """Delete old sign-in attempts, long-dead reset links and invitations, abandoned uploads; idempotent."""
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
    log.info("housekeeping removed %s", counts)
    return counts
