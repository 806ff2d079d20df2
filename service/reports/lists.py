"""The overdue report and the nonconformity report.

Overdue: instruments in use past their due date, by department. Nonconformity: the cases opened
per month, with their dispositions.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Department, Instrument, NonconformityCase
from models.ledger import RECALLED_STATUSES
from models.nonconformity import DISPOSITIONS
from service.actors import Actor
from service.reports.dashboard import Month, months_from
from service.scoping import get_in_org

#: The group of a case that still awaits its disposition.
OPEN = "open"


@dataclass(frozen=True)
class OverdueLine:
    """An instrument in use past its due date, and by how many days."""

    id: int
    management_no: str
    name: str
    model: str | None
    department: str | None
    custodian: str | None
    lab: str | None
    is_mandatory: bool
    next_due_on: date
    days_overdue: int


def overdue(
    session: Session, actor: Actor, today: date, department_id: int | None = None
) -> list[OverdueLine]:
    """Return the instruments in use overdue today, by department name, the longest overdue first."""
    actor.require("ledger.read")
    stmt = (
        select(
            Instrument.id,
            Instrument.management_no,
            Instrument.name,
            Instrument.model,
            Department.name.label("department"),
            Instrument.custodian_name,
            Instrument.lab,
            Instrument.is_mandatory,
            Instrument.next_due_on,
        )
        .outerjoin(Department, Department.id == Instrument.department_id)
        .where(
            Instrument.org_id == actor.org_id,
            Instrument.status.in_(RECALLED_STATUSES),
            Instrument.next_due_on < today,
        )
    )
    if department_id is not None:
        # Another organisation's department (or none at all) is a 404, as any foreign id.
        stmt = stmt.where(
            Instrument.department_id == get_in_org(session, Department, department_id, actor).id
        )
    lines = [
        OverdueLine(
            id=row.id,
            management_no=row.management_no,
            name=row.name,
            model=row.model,
            department=row.department,
            custodian=row.custodian_name,
            lab=row.lab,
            is_mandatory=bool(row.is_mandatory),
            next_due_on=row.next_due_on,
            days_overdue=(today - row.next_due_on).days,
        )
        for row in session.execute(stmt)
    ]
    # Departments by name (instruments of none last), then the longest overdue first.
    return sorted(
        lines, key=lambda line: (line.department is None, line.department or "", line.next_due_on, line.id)
    )


@dataclass(frozen=True)
class CaseLine:
    """A nonconformity case as the report lists it."""

    id: int
    instrument_id: int
    management_no: str
    name: str
    opened_on: date
    source: str
    state: str
    disposition: str | None
    closed_on: date | None

    @property
    def outcome(self) -> str:
        """Return the case's disposition, or ``open`` while it awaits one."""
        return self.disposition if self.state == "closed" and self.disposition else OPEN


@dataclass(frozen=True)
class NonconformityReport:
    """The cases opened in a year, and per month how many ended in each disposition (or are open)."""

    year: int
    months: list[Month]
    cases: list[CaseLine]

    @property
    def outcomes(self) -> list[str]:
        """Return the dispositions found, in their order, then ``open`` when a case still is."""
        found = {case.outcome for case in self.cases}
        return [outcome for outcome in (*DISPOSITIONS, OPEN) if outcome in found]

    def by_month(self) -> dict[str, list[int]]:
        """Return, per outcome, the cases opened in each month of the year."""
        counts = Counter((case.outcome, case.opened_on.month) for case in self.cases)
        return {
            outcome: [counts[outcome, month.first.month] for month in self.months]
            for outcome in self.outcomes
        }


def nonconformity(session: Session, actor: Actor, year: int) -> NonconformityReport:
    """Return the nonconformity cases opened in ``year``, oldest first."""
    actor.require("ledger.read")
    first, last = date(year, 1, 1), date(year, 12, 31)
    rows = session.execute(
        select(
            NonconformityCase.id,
            NonconformityCase.instrument_id,
            Instrument.management_no,
            Instrument.name,
            NonconformityCase.opened_on,
            NonconformityCase.source,
            NonconformityCase.state,
            NonconformityCase.disposition,
            NonconformityCase.closed_on,
        )
        .join(Instrument, Instrument.id == NonconformityCase.instrument_id)
        .where(NonconformityCase.org_id == actor.org_id, NonconformityCase.opened_on.between(first, last))
        .order_by(NonconformityCase.opened_on, NonconformityCase.id)
    )
    return NonconformityReport(year, months_from(first, 12), [CaseLine(*row) for row in rows])
