"""``demo``: load the demo institute, its client firms, users and instruments."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from service.cli.common import sessions
from service.db import unit_of_work
from service.demo import DEMO_PASSWORD, load_demo
from service.jobs.reminders import run_planning


@click.command("demo")
@with_appcontext
def demo():
    """Load the demo institute, two client firms, users of every role and a few hundred instruments."""
    with unit_of_work(sessions()) as session:
        created, logins = load_demo(session, current_app.config["CALRECALL"].fixed_base_url)
    click.echo("demo data loaded" if created else "demo data already present")
    if created:
        # Today's reminders go to the outbox at once; the scheduler or `reminders tick` sends them.
        planned = run_planning(current_app)
        click.echo(f"today's reminders planned: {planned['messages']} messages in the outbox")
    configured = current_app.config["CALRECALL"].base_url
    where = f" at {configured}" if configured else " at the address `flask run` serves"
    click.echo(f"sign in{where} with any of these (password: {DEMO_PASSWORD}):")
    for org_name, email, role in logins:
        click.echo(f"  {email:<32} {role:<11} {org_name}")
