"""``db``: the database schema, and on PostgreSQL the roles that own and use it."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup


@click.group("db", cls=AppGroup)
def db_group():
    """Database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str):
    """Create or migrate the schema (Alembic), on MIGRATIONS_DATABASE_URL when it is set."""
    # Imported here: web workers load the CLI with the app and have no use for Alembic.
    from service.db import make_engine
    from service.migrations import upgrade

    config = current_app.config["CALRECALL"]
    if config.migrations_url == config.database_url:
        upgrade(current_app.extensions["calrecall.engine"], revision)
    else:
        engine = make_engine(config.migrations_url)
        try:
            upgrade(engine, revision)
        finally:
            engine.dispose()
    click.echo(f"schema at {revision}")


@db_group.command("create-roles")
@click.option(
    "--url", help="As a role that may create roles (default: MIGRATIONS_DATABASE_URL, else DATABASE_URL)."
)
@click.option("--owner", default="calrecall_owner", show_default=True, help="Owns the tables, migrates.")
@click.option("--app", "app_role", default="calrecall_app", show_default=True, help="The web processes.")
@click.option("--jobs", default="calrecall_jobs", show_default=True, help="The scheduler and the CLI.")
def db_create_roles(url: str | None, owner: str, app_role: str, jobs: str):
    """Create the PostgreSQL roles (if missing) and grant them their rights on this database.

    Safe to run again. Hands the existing tables to the owner role; set the roles' passwords
    yourself (ALTER ROLE … PASSWORD), they are never given on a command line.
    """
    from models import Base
    from service.db import make_engine
    from service.rls import Roles, create_roles

    engine = make_engine(url or current_app.config["CALRECALL"].migrations_url)
    try:
        if engine.dialect.name != "postgresql":
            click.echo("roles and row-level security are PostgreSQL's; SQLite needs neither", err=True)
            sys.exit(2)
        roles = Roles(owner=owner, app=app_role, jobs=jobs)
        with engine.begin() as connection:
            create_roles(connection, roles, [*Base.metadata.tables, "alembic_version"])
    finally:
        engine.dispose()
    click.echo(f"roles {owner} (owner), {app_role} (web), {jobs} (jobs) ready")
