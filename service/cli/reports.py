"""``reports``: an organisation's reports from the command line."""

from __future__ import annotations

import json
import sys
from datetime import date

import click
from flask.cli import AppGroup

from service.actors import Actor
from service.cli.common import org_by_slug, sessions
from service.clock import today_in
from service.db import unit_of_work
from service.nominations.schemas import EARLIEST_DAY
from service.reports import queries
from service.reports.schemas import KpiReportOut


@click.group("reports", cls=AppGroup)
def reports_group():
    """Reports of an organisation."""


@reports_group.command("kpis")
@click.option("--org", "org_slug", required=True)
@click.option("--as-of", "as_of", help="YYYY-MM-DD (default: today in the organisation's time zone).")
def reports_kpis(org_slug: str, as_of: str | None):
    """Print the KPI report as one JSON object: every figure with its numerator and denominator."""
    with unit_of_work(sessions()) as session:
        org = org_by_slug(session, org_slug)
        today = today_in(org.timezone)
        day = _day(as_of) if as_of else today
        if day < EARLIEST_DAY:
            _fail(f"--as-of must be {EARLIEST_DAY.isoformat()} or later")
        if day > today:
            _fail(f"--as-of {day.isoformat()} is after today ({today.isoformat()})")
        who = Actor.system(org.id, org.kind, "reports kpis")
        report = queries.kpi_report(session, who, day, today)
        click.echo(json.dumps(KpiReportOut().dump({"org": org.slug} | report.as_dict()), ensure_ascii=False))


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        _fail(f"--as-of must look like 2026-06-30, not {text!r}")


def _fail(message: str):
    click.echo(f"error: {message}", err=True)
    sys.exit(2)
