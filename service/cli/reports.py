"""``reports``: an organisation's reports from the command line: the periodic plan as xlsx."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from service.actors import Actor
from service.cli.common import org_by_slug, sessions
from service.clock import today_in
from service.db import unit_of_work
from service.reports import plan, plan_xlsx, queries


@click.group("reports", cls=AppGroup)
def reports_group():
    """Reports of an organisation."""


@reports_group.command("plan")
@click.option("--org", "org_slug", required=True)
@click.option("--year", type=int, required=True, help="The plan's year.")
@click.option("--month", type=int, help="One month (1-12) of the year; default: the whole year.")
@click.option("--out", "out", required=True, help="The .xlsx file to write.")
def reports_plan(org_slug: str, year: int, month: int | None, out: str):
    """Write the periodic verification and calibration plan (周期检定与校准计划) as xlsx."""
    if not plan.FIRST_YEAR <= year <= plan.LAST_YEAR:
        _fail(f"--year must be between {plan.FIRST_YEAR} and {plan.LAST_YEAR}, not {year}")
    if month is not None and not 1 <= month <= 12:
        _fail(f"--month must be between 1 and 12, not {month}")
    path = Path(out)
    if path.suffix.lower() != ".xlsx":
        _fail(f"--out must end in .xlsx, not {path.name!r}")
    with unit_of_work(sessions()) as session:
        org = org_by_slug(session, org_slug)
        who = Actor.system(org.id, org.kind, "reports plan")
        found = queries.periodic_plan(session, who, year, month, today_in(org.timezone))
    try:
        with path.open("wb") as file:
            count = plan_xlsx.write_xlsx(found, file)
    except OSError as exc:
        _fail(f"cannot write {out!r}: {exc.strerror}")
    click.echo(f"{count} lines of {plan_xlsx.title_of(found.period)} written to {path}")


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)
