"""The reminder jobs: plan each firm's day, dispatch the outbox, release expired leases.

Plain functions that the scheduler, ``flask reminders tick`` and the tests call alike. The app only
hands over its configuration and session factory: the domain renders messages without Flask.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Flask

from service.clock import now_utc
from service.db import unit_of_work
from service.reminders.channels import Channels
from service.reminders.dispatch import dispatch, release_expired_leases
from service.reminders.planning import plan_all

log = logging.getLogger(__name__)


def channels_of(app: Flask) -> Channels:
    """Return the channel adapters configured for ``app`` (tests may replace Twilio's HTTP layer)."""
    return Channels(
        app.config["CALRECALL"],
        http_client=app.extensions.get("calrecall.twilio_http_client"),
        overrides=app.extensions.get("calrecall.channel_overrides"),
    )


def run_planning(app: Flask, now: datetime | None = None) -> dict:
    """Plan every firm's current day that has no plan yet."""
    now = now or now_utc()
    results = plan_all(app.extensions["calrecall.sessions"], now, app.config["CALRECALL"].fixed_base_url)
    summary = {
        "firms_planned": len(results),
        "instruments": sum(r.instruments for r in results),
        "messages": sum(r.messages for r in results),
    }
    if results:
        log.info("reminders planned: %s", summary)
    return summary


def run_dispatch(app: Flask, now: datetime | None = None, only_ids=None) -> dict:
    """Send what is due in the outbox; ``now`` fixes the clock (``reminders tick --now``)."""
    totals = dispatch(app.extensions["calrecall.sessions"], channels_of(app), now, only_ids=only_ids)
    return dict(totals)


def run_tick(app: Flask, now: datetime | None = None) -> dict:
    """Plan, then dispatch, once: what ``flask reminders tick`` does."""
    planned = run_planning(app, now)
    sent = run_dispatch(app, now)
    return {**planned, "dispatch": sent}


def run_lease_sweep(app: Flask, now: datetime | None = None) -> int:
    """Turn messages whose dispatcher died mid-send into ``unknown``, to be reconciled and retried."""
    with unit_of_work(app.extensions["calrecall.sessions"]) as session:
        count = release_expired_leases(session, now or now_utc())
    if count:
        log.warning(
            "%s messages were left sending by a dispatcher that stopped; they will be reconciled", count
        )
    return count
