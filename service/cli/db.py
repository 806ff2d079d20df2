"""``db``: the database schema."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup


@click.group("db", cls=AppGroup)
def db_group():
    """Database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str):
    """Create or migrate the schema (Alembic)."""
    # Imported here: web workers load the CLI with the app and have no use for Alembic.
    from service.migrations import upgrade

    upgrade(current_app.extensions["calrecall.engine"], revision)
    click.echo(f"schema at {revision}")
