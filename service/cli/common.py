"""What the commands share: the session factory, finding an organisation, acting for it, errors, times."""

from __future__ import annotations

import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import click
from flask import current_app
from sqlalchemy import select

from models import Organization, User
from service.actors import Actor
from service.app import use_jobs_database
from service.errors import DomainError
from service.i18n import Msg


def sessions():
    """Return the application's session factory, on the jobs' database (JOBS_DATABASE_URL)."""
    app = current_app._get_current_object()
    use_jobs_database(app)
    return app.extensions["calrecall.sessions"]


def _text(message) -> str:
    return message.render() if isinstance(message, Msg) else str(message)


def fail(exc: DomainError) -> None:
    """Print a domain error with its field messages and exit non-zero."""
    click.echo(f"error: {_text(exc.message)}", err=True)
    for field, messages in exc.field_errors.items():
        for message in messages:
            click.echo(f"  {field}: {_text(message)}", err=True)
    sys.exit(2)


def org_by_slug(session, slug: str) -> Organization:
    """Return the organisation with ``slug``, or exit with a message."""
    org = session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        click.echo(f"error: no organisation with slug {slug!r}", err=True)
        sys.exit(2)
    return org


def admin_actor(session, org: Organization) -> Actor:
    """Return the organisation acting through the command line (its first administrator's rights)."""
    admin = session.scalar(
        select(User)
        .where(User.org_id == org.id, User.role == "admin", User.is_active.is_(True))
        .order_by(User.id)
    )
    if admin is None:
        click.echo(f"error: {org.slug!r} has no active administrator", err=True)
        sys.exit(2)
    return Actor.of(admin)


def parse_local(text: str, zone: str) -> datetime:
    """Return ``YYYY-MM-DDTHH:MM`` in ``zone`` as an aware datetime, or exit with a message."""
    try:
        parsed = datetime.strptime(text.strip(), "%Y-%m-%dT%H:%M")
    except ValueError:
        click.echo(f"error: --now must look like 2026-12-01T09:30, not {text!r}", err=True)
        sys.exit(2)
    return parsed.replace(tzinfo=ZoneInfo(zone))
