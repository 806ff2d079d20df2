"""What the report pages, the API and the CLI read: each report's figures for the actor's organisation."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Department, Instrument, Organization
from service import figures
from service.actors import Actor
from service.ledger import queries as ledger_queries
from service.ledger.queries import LedgerCounts
from service.measurement.checks import queries as check_queries
from service.nominations import queries as nomination_queries
from service.reports import dashboard, kpis, lists, plan, snapshots
from service.reports.dashboard import DueByMonth
from service.reports.kpis import KpiReport
from service.reports.lists import NonconformityReport, OverdueLine
from service.reports.regions import (  # noqa: F401 (the reports' reads, in one place)
    UNKNOWN,
    Dashboard,
    Figures,
    RegionRow,
    check_region,
    parse_year,
    region_dashboard,
    region_detail,
    require_reports,
)
from service.reports.service_stats import NOT_ATTRIBUTED, ServiceStats, service_stats  # noqa: F401
from service.reports.snapshots import DashboardRates
from service.scoping import get_in_org

log = logging.getLogger(__name__)

#: How the due chart may stack its bars.
DUE_GROUPS = snapshots.DUE_GROUPS


@dataclass(frozen=True)
class FirmDashboard:
    """Everything the firm's dashboard draws."""

    today: date
    counts: LedgerCounts
    due: DueByMonth
    overdue: list[tuple[int, int]]
    statuses: dict[str | None, int]
    abc: dict[str | None, int]
    rates: DashboardRates
    departments: dict[int, str]
    due_by: str = "label"

    def as_dict(self) -> dict:
        """Return the figures as plain data (what the API returns)."""
        return {
            "today": self.today,
            "due_by": self.due_by,
            "months": [month.key for month in self.due.months],
            "due": [
                {
                    "group": str(group),
                    "name": self.departments.get(group) if self.due_by == "department" else None,
                    "counts": self.due.counts[group],
                }
                for group in self.due.groups
            ],
            "overdue_by_department": [
                {"department_id": dept or None, "department": self.departments.get(dept), "count": count}
                for dept, count in self.overdue
            ],
            "statuses": {status: count for status, count in self.statuses.items() if status},
            "abc": {cls or "none": count for cls, count in self.abc.items()},
            "inspection": {key: kpis.rate_dict(key, rate) for key, rate in self.rates.inspection.items()},
            "on_time_by_month": [
                {"month": month.month.key} | month.rate.as_dict() for month in self.rates.on_time
            ],
        }


def firm_dashboard(session: Session, actor: Actor, today: date, due_by: str = "label") -> FirmDashboard:
    """Return the dashboard's figures as of ``today``; the due chart is stacked by ``due_by``.

    The figures are kept until the ledger's history moves (:mod:`service.reports.snapshots`); the
    requests awaiting a decision and the department names are read live.
    """
    kept = snapshots.dashboard_figures(session, actor, today)
    return FirmDashboard(
        today=today,
        counts=replace(kept.counts, pending_requests=ledger_queries.pending_requests(session, actor)),
        due=kept.due[due_by],
        overdue=kept.overdue,
        statuses=kept.statuses,
        abc=kept.abc,
        rates=kept.rates,
        departments=dashboard.department_names(session, actor),
        due_by=due_by,
    )


def kpi_report(session: Session, actor: Actor, as_of: date, today: date) -> KpiReport:
    """Return the KPI report as of ``as_of`` (a day from the dossier's earliest up to ``today``)."""
    found = nomination_queries.figure_sets(session, actor, as_of, today)
    return kpis.kpi_report(found.facts, dashboard.department_names(session, actor), as_of)


def overdue_report(
    session: Session, actor: Actor, today: date, department_id: int | None = None
) -> list[OverdueLine]:
    """Return the instruments overdue today, by department."""
    return lists.overdue(session, actor, today, department_id)


def nonconformity_report(session: Session, actor: Actor, year: int) -> NonconformityReport:
    """Return the nonconformity cases opened in ``year`` with their dispositions."""
    return lists.nonconformity(session, actor, year)


# The periodic verification and calibration plan (周期检定与校准计划).


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
    #: The intermediate checks (期间核查) due in the period, counted apart from the calibrations.
    checks: list[check_queries.DueCheck] = field(default_factory=list)
    check_total: plan.Tally = field(default_factory=plan.Tally)

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

    ``department_id`` narrows it to one of its departments (another organisation's is 404). The
    instruments' intermediate checks due in the period come with it, tallied apart.
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
    checks = check_queries.due_in_period(session, actor, period.start, period.end, today, department_id)
    log.debug("plan of org %s for %s: %d lines, %d checks", org.id, period, len(entries), len(checks))
    return Plan(
        org.name,
        period,
        today,
        department,
        plan.lines_of(entries, rows),
        plan.by_month(entries, period),
        plan.tally(entries),
        checks,
        plan.tally(check.due for check in checks),
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
