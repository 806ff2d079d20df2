"""``token``: API tokens."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from models import User
from service.actors import Actor
from service.auth.operations import DEFAULT_TOKEN_DAYS, NEVER, TOKEN_LIFETIMES, create_api_token
from service.cli.common import fail, org_by_slug, sessions
from service.db import unit_of_work
from service.errors import DomainError


@click.group("token", cls=AppGroup)
def token_group():
    """API tokens."""


@token_group.command("create")
@click.option("--org", "org_slug", required=True)
@click.option("--email", required=True)
@click.option("--name", default="cli", show_default=True)
@click.option(
    "--days",
    type=click.Choice([*(str(d) for d in TOKEN_LIFETIMES), NEVER]),
    default=str(DEFAULT_TOKEN_DAYS),
    show_default=True,
    help="how long it works",
)
def token_create(org_slug: str, email: str, name: str, days: str):
    """Create an API token for a user and print it (shown once)."""
    try:
        with unit_of_work(sessions()) as session:
            org = org_by_slug(session, org_slug)
            user = session.scalar(select(User).where(User.org_id == org.id, User.email == email.lower()))
            if user is None:
                click.echo(f"error: no user {email} in {org_slug}", err=True)
                sys.exit(2)
            _api_token, token = create_api_token(session, Actor.of(user), name, days)
        click.echo(token)
    except DomainError as exc:
        fail(exc)
