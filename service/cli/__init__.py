"""The command line, all through ``flask --app wsgi``: one module per domain, each a click group or command.

- ``common``: what the commands share (sessions, finding an organisation, acting for it, errors, times).
- ``db``: ``db upgrade``, the schema.
- ``demo``: ``demo``, the demo institute and firms.
- ``tenancy``: ``org create``, ``org link``, ``user create``.
- ``auth``: ``token create``, API tokens.
- ``ledger``: ``ledger import`` and ``ledger export``.
- ``history``: ``history verify``, the hash chain.
- ``visits``: ``visits plan``, proposed visits of an institute.
- ``nominations``: ``nominations dossier``, the evidence dossier of a firm.
- ``reports``: ``reports kpis``, the KPI report as JSON.
- ``assistance``: ``assistance import-plan`` and ``assistance statistics``, the SME campaign's plan and table.
- ``campaigns``: ``campaigns summary``, the summary table (推荐汇总表) of a campaign's recommenders.
- ``reminders``: ``reminders tick``, plan and dispatch once.
- ``reports``: ``reports plan``, the periodic verification and calibration plan as xlsx.
- ``jobs``: ``scheduler`` and ``housekeeping``, the background jobs in the foreground.
- ``backup``: ``backup create`` and ``backup restore``, the database and the attachment files in one archive.
"""

from __future__ import annotations

from flask import Flask

from service.cli.assistance import assistance_group
from service.cli.auth import token_group
from service.cli.backup import backup_group
from service.cli.campaigns import campaigns_group
from service.cli.db import db_group
from service.cli.demo import demo
from service.cli.history import history_group
from service.cli.jobs import housekeeping, scheduler
from service.cli.ledger import ledger_group
from service.cli.nominations import nominations_group
from service.cli.reminders import reminders_group
from service.cli.reports import reports_group
from service.cli.tenancy import org_group, user_group
from service.cli.visits import visits_group

COMMANDS = (
    db_group,
    demo,
    scheduler,
    housekeeping,
    org_group,
    user_group,
    token_group,
    visits_group,
    history_group,
    ledger_group,
    reminders_group,
    nominations_group,
    campaigns_group,
    reports_group,
    assistance_group,
    backup_group,
)


def register_cli(app: Flask) -> None:
    """Attach the command groups to ``app``."""
    for command in COMMANDS:
        app.cli.add_command(command)
