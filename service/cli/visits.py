"""``visits``: the institute's calibration visits."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from service.cli.common import admin_actor, fail, org_by_slug, sessions
from service.db import unit_of_work
from service.errors import DomainError
from service.schemas import load_or_invalid
from service.visits.proposals import propose
from service.visits.schemas import PlanIn


@click.group("visits", cls=AppGroup)
def visits_group():
    """The institute's calibration visits."""


@visits_group.command("plan")
@click.option("--org", "org_slug", required=True, help="slug of the institute")
@click.option("--from", "start", required=True, help="first day, YYYY-MM-DD")
@click.option("--days", required=True, help="how many days the plan covers")
def visits_plan(org_slug: str, start: str, days: str):
    """Propose visits to the linked clients as JSON (writes nothing)."""
    with unit_of_work(sessions()) as session:
        org = org_by_slug(session, org_slug)
        if org.kind != "institute":
            click.echo(f"error: {org_slug!r} is not an institute", err=True)
            sys.exit(2)
        try:
            window = load_or_invalid(PlanIn(), {"from": start, "days": days})
            proposal = propose(session, admin_actor(session, org), window["start"], window["days"])
        except DomainError as exc:
            fail(exc)
        click.echo(json.dumps(proposal.as_json(), ensure_ascii=False))
