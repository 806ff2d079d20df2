"""``scheduler`` and ``housekeeping``: the background jobs, run from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from service.app import use_jobs_database
from service.cli.common import sessions
from service.clock import now_utc
from service.jobs.housekeeping import run_housekeeping


@click.command("scheduler")
@with_appcontext
def scheduler():
    """Run the background jobs in the foreground (one process; never inside web workers)."""
    # Imported here: web workers load the CLI with the app and have no use for APScheduler.
    from service.jobs.schedule import build_scheduler
    from service.observability.metrics import clear_dead_processes

    clear_dead_processes()
    app = current_app._get_current_object()
    use_jobs_database(app)
    runner = build_scheduler(app)
    config = current_app.config["CALRECALL"]
    if not config.base_url:
        click.echo(
            f"BASE_URL is not set: links in reminders will point at {config.fixed_base_url};"
            " set BASE_URL to the site's address",
            err=True,
        )
    for job in runner.get_jobs():
        click.echo(f"scheduled {job.id}: {job.trigger}")
    try:
        runner.start()
    except (KeyboardInterrupt, SystemExit):
        click.echo("scheduler stopped")


@click.command("housekeeping")
@with_appcontext
def housekeeping():
    """Delete old sign-in records, long-dead links, abandoned uploads and orphan attachment files now."""
    attachments = Path(current_app.config["CALRECALL"].attachments_dir)
    click.echo(json.dumps(run_housekeeping(sessions(), now_utc(), attachments)))
