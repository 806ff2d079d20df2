"""``assistance``: the institute's SME assistance (计量服务中小企业行) from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup

from service.actors import Actor
from service.assistance import operations, queries, statistics
from service.assistance.operations import PlanFileInvalid
from service.cli.common import fail, org_by_slug, sessions
from service.db import unit_of_work
from service.errors import DomainError


@click.group("assistance", cls=AppGroup)
def assistance_group():
    """The institute's SME assistance: the yearly plan and the statistics table."""


def _institute(session, slug: str, command: str) -> Actor:
    org = org_by_slug(session, slug)
    return Actor.system(org.id, org.kind, f"assistance {command}")


@assistance_group.command("import-plan")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "org_slug", required=True, help="The institute.")
@click.option("--year", required=True, type=int)
def import_plan(file: Path, org_slug: str, year: int):
    """Replace the year's plan by a CSV file (seq,region,smes_to_help,smes_for_mms_training).

    Prints one JSON object: the regions saved, or the bad lines with their reasons (exit 2, nothing saved).
    """
    try:
        with unit_of_work(sessions()) as session:
            who = _institute(session, org_slug, "import-plan")
            lines = operations.import_plan(session, who, year, file.read_bytes())
            saved = sum(1 for line in lines if line.smes_to_help or line.smes_for_mms_training)
    except PlanFileInvalid as exc:
        problems = [
            {"line": p.line, "reason": p.message.render() if hasattr(p.message, "render") else str(p.message)}
            for p in exc.problems
        ]
        click.echo(json.dumps({"saved": 0, "problems": problems}, ensure_ascii=False))
        raise SystemExit(2) from exc
    except DomainError as exc:
        fail(exc)
    click.echo(json.dumps({"saved": saved, "problems": []}))


@assistance_group.command("statistics")
@click.option("--org", "org_slug", required=True, help="The institute.")
@click.option("--year", required=True, type=int)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def write_statistics(org_slug: str, year: int, out: Path):
    """Write the year's statistics table (活动情况统计表) per region as xlsx."""
    try:
        with unit_of_work(sessions()) as session:
            who = _institute(session, org_slug, "statistics")
            found = queries.year_progress(session, who, queries.parse_year(year, 0))
            with out.open("wb") as target:
                regions = statistics.write_xlsx(found, target)
    except DomainError as exc:
        fail(exc)
    click.echo(json.dumps({"out": str(out), "regions": regions, "helped": len(found.total.helped)}))
