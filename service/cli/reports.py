"""``reports``: an organisation's reports from the command line: KPIs as JSON, the periodic plan as xlsx."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from service.actors import Actor
from service.cli.common import org_by_slug, sessions
from service.clock import today_in
from service.db import unit_of_work
from service.nominations.schemas import EARLIEST_DAY
from service.reports import plan_xlsx, queries
from service.reports.schemas import FIRST_YEAR, LAST_YEAR, KpiReportOut


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


@reports_group.command("plan")
@click.option("--org", "org_slug", required=True)
@click.option("--year", type=int, required=True, help="The plan's year.")
@click.option("--month", type=int, help="One month (1-12) of the year; default: the whole year.")
@click.option("--out", "out", required=True, help="The .xlsx file to write.")
def reports_plan(org_slug: str, year: int, month: int | None, out: str):
    """Write the periodic verification and calibration plan (周期检定与校准计划) as xlsx.

    A second sheet (期间核查计划) lists the intermediate checks due in the period.
    """
    if not FIRST_YEAR <= year <= LAST_YEAR:
        _fail(f"--year must be between {FIRST_YEAR} and {LAST_YEAR}, not {year}")
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
    click.echo(
        f"{count} lines of {plan_xlsx.title_of(found.period)} and {len(found.checks)} intermediate checks"
        f" ({plan_xlsx.CHECK_SHEET}) written to {path}"
    )


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        _fail(f"--as-of must look like 2026-06-30, not {text!r}")


def _fail(message: str):
    click.echo(f"error: {message}", err=True)
    sys.exit(2)
