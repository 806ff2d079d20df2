"""Reads of the reports: the periodic plan of the organisation worked on, from its own ledger only."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Department, Instrument, Organization
from service import figures
from service.actors import Actor
from service.reports import plan
from service.scoping import get_in_org

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """A period's plan of one organisation, executed as of a day."""

    org_name: str
    period: plan.Period
    today: date
    #: The department the plan was narrowed to, if any.
    department: Department | None
    lines: list[plan.Line]
    months: dict[int, plan.Tally]
    total: plan.Tally

    def groups(self, key: str) -> list[plan.Group]:
        """Return the lines by department or by laboratory, each with its subtotal."""
        return plan.grouped(self.lines, key)


def periodic_plan(
    session: Session,
    actor: Actor,
    year: int,
    month: int | None,
    today: date,
    department_id: int | None = None,
) -> Plan:
    """Return the periodic verification and calibration plan of the actor's organisation.

    ``department_id`` narrows it to one of its departments (another organisation's is 404).
    """
    actor.require("ledger.read")
    org = session.get(Organization, actor.org_id)
    department = get_in_org(session, Department, department_id, actor) if department_id is not None else None
    period = plan.Period(year, month)
    facts = figures.read_facts(session, org.id, org.timezone)
    if department is not None:
        facts = [fact for fact in facts if fact.department_id == department.id]
    entries = plan.plan_entries(facts, period, today)
    rows = ledger_rows(session, actor, {entry.instrument_id for entry in entries})
    log.debug("plan of org %s for %s: %d lines", org.id, period, len(entries))
    return Plan(
        org.name,
        period,
        today,
        department,
        plan.lines_of(entries, rows),
        plan.by_month(entries, period),
        plan.tally(entries),
    )


def ledger_rows(session: Session, actor: Actor, ids: set[int]) -> dict[int, plan.LedgerRow]:
    """Return what the plan shows of the actor's instruments ``ids``, by id."""
    if not ids:
        return {}
    stmt = (
        select(
            Instrument.id,
            Instrument.management_no,
            Instrument.name,
            Instrument.model,
            Instrument.measuring_range,
            Instrument.accuracy,
            Department.name.label("department"),
            Instrument.lab,
            Instrument.control_method,
            Instrument.is_mandatory,
        )
        .outerjoin(Department, Department.id == Instrument.department_id)
        .where(Instrument.org_id == actor.org_id)
    )
    found: dict[int, plan.LedgerRow] = {}
    wanted = sorted(ids)
    # In chunks: a firm's year may hold thousands of lines, more than a statement's parameters.
    for offset in range(0, len(wanted), 1000):
        chunk = wanted[offset : offset + 1000]
        for row in session.execute(stmt.where(Instrument.id.in_(chunk))):
            found[row.id] = plan.LedgerRow(
                row.id,
                row.management_no,
                row.name,
                row.model,
                row.measuring_range,
                row.accuracy,
                row.department,
                row.lab,
                row.control_method,
                bool(row.is_mandatory),
            )
    return found
