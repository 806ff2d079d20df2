"""``campaigns``: an institute's award campaigns: the summary table of its recommenders' lists."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from models import Campaign
from service.cli.common import sessions
from service.db import unit_of_work
from service.nominations import queries, summary
from service.scoping import parse_id


@click.group("campaigns", cls=AppGroup)
def campaigns_group():
    """Award campaigns of an institute."""


@campaigns_group.command("summary")
@click.option("--campaign", "campaign_id", required=True, help="id of the campaign")
@click.option("--out", "out", required=True, help="file to write: .xlsx, or .docx for Word")
@click.option("--recommender", "recommender_id", help="id of one recommender (default: all, by name)")
def campaigns_summary(campaign_id: str, out: str, recommender_id: str | None):
    """Write the summary table (推荐汇总表) of the accepted nominations, in rank order per recommender."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".docx"):
        _fail(f"--out must end in .xlsx or .docx, not {path.name!r}")
    with unit_of_work(sessions()) as session:
        campaign = _campaign(session, campaign_id)
        recommenders = queries.recommenders_of(session, campaign.org_id)
        if recommender_id is not None:
            wanted = parse_id(recommender_id)
            recommenders = [r for r in recommenders if r.id == wanted]
            if not recommenders:
                _fail(f"no recommender {recommender_id!r} in the institute of campaign {campaign.id}")
        table = summary.summary_of(session, campaign, recommenders)
    write = summary.write_docx if suffix == ".docx" else summary.write_xlsx
    try:
        with path.open("wb") as file:
            count = write(table, file)
    except OSError as exc:
        _fail(f"cannot write {out!r}: {exc.strerror}")
    click.echo(f"{count} nominations of {len(table.blocks)} recommenders written to {path}")


def _campaign(session, text: str) -> Campaign:
    campaign_id = parse_id(text)
    campaign = None
    if campaign_id is not None:
        campaign = session.scalar(select(Campaign).where(Campaign.id == campaign_id))
    if campaign is None:
        _fail(f"no campaign {text!r}")
    return campaign


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)
