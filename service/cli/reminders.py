"""``reminders``: plan what is due and send the outbox, once, from the command line."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

from service.app import use_jobs_database
from service.cli.common import parse_local
from service.jobs.reminders import run_tick


@click.group("reminders", cls=AppGroup)
def reminders_group():
    """Reminders: plan what is due and send the outbox."""


@reminders_group.command("tick")
@click.option(
    "--now",
    "now_text",
    help="act as if it were this local time (YYYY-MM-DDTHH:MM, Asia/Shanghai); default: now",
)
def reminders_tick(now_text: str | None):
    """Plan each firm's day and dispatch the outbox once; print what happened as JSON.

    Safe to run from several processes at once: each day is planned once and each message
    sent once.
    """
    now = None
    if now_text:
        now = parse_local(now_text, current_app.config["CALRECALL"].default_timezone)
    app = current_app._get_current_object()
    use_jobs_database(app)
    click.echo(json.dumps(run_tick(app, now), ensure_ascii=False))
