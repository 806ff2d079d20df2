"""``history``: the hash-chained history."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from service.cli.common import org_by_slug, sessions
from service.db import unit_of_work
from service.history.chain import verify_chain


@click.group("history", cls=AppGroup)
def history_group():
    """The hash-chained history."""


@history_group.command("verify")
@click.option("--org", "org_slug", required=True)
def history_verify(org_slug: str):
    """Check an organisation's hash chain; exit 1 and name the first broken event."""
    with unit_of_work(sessions()) as session:
        report = verify_chain(session, org_by_slug(session, org_slug).id)
    click.echo(
        json.dumps(
            {
                "ok": report.ok,
                "checked": report.checked,
                "broken_seq": report.broken_seq,
                "reason": report.reason,
            },
            ensure_ascii=False,
        )
    )
    if not report.ok:
        sys.exit(1)
