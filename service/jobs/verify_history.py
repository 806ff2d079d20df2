"""Nightly check of every organisation's hash chain."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Organization
from service.db import unit_of_work
from service.history.chain import verify_chain

log = logging.getLogger(__name__)


def run_history_verification(sessions: sessionmaker[Session]) -> dict[str, str | None]:
    """Verify each organisation's chain; log an error naming the first broken event of any."""
    results: dict[str, str | None] = {}
    with unit_of_work(sessions) as session:
        for org_id, slug in session.execute(
            select(Organization.id, Organization.slug).order_by(Organization.id)
        ):
            report = verify_chain(session, org_id)
            results[slug] = report.reason
            if not report.ok:
                log.error("history chain of %s is broken: %s", slug, report.reason)
    return results
