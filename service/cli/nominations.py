"""``nominations``: award nominations, and the evidence dossier they rest on."""

from __future__ import annotations

import json
import sys
from datetime import date

import click
from flask.cli import AppGroup

from service.cli.common import org_by_slug, sessions
from service.clock import today_in
from service.db import unit_of_work
from service.nominations import dossier
from service.nominations.schemas import EARLIEST_DAY, DossierOut


@click.group("nominations", cls=AppGroup)
def nominations_group():
    """Award nominations and their evidence."""


@nominations_group.command("dossier")
@click.option("--org", "org_slug", required=True)
@click.option("--as-of", "as_of", help="YYYY-MM-DD (default: today in the firm's time zone).")
def nominations_dossier(org_slug: str, as_of: str | None):
    """Print the evidence dossier as one JSON object: counts, and rates with their parts."""
    with unit_of_work(sessions()) as session:
        org = org_by_slug(session, org_slug)
        today = today_in(org.timezone)
        day = _day(as_of) if as_of else today
        if day < EARLIEST_DAY:
            click.echo(f"error: --as-of must be {EARLIEST_DAY.isoformat()} or later", err=True)
            sys.exit(2)
        if day > today:
            click.echo(f"error: --as-of {day.isoformat()} is after today ({today.isoformat()})", err=True)
            sys.exit(2)
        found = dossier.compute(session, org, day)
        figures = DossierOut(exclude=("self_check",)).dump(found.as_dict())
        click.echo(json.dumps({"org": org.slug} | figures, ensure_ascii=False))


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        click.echo(f"error: --as-of must look like 2026-06-30, not {text!r}", err=True)
        sys.exit(2)
