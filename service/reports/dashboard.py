"""The firm's dashboard figures: what falls due when, what is overdue where, and how the ledger stands.

Counts come from aggregate statements over the ledger's current rows; the rates (inspection rate,
on-time rate) come from :mod:`service.figures`, the rules the award dossier uses, so the dashboard
and the dossier can never disagree.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from models import Department, Instrument
from models.ledger import RECALLED_STATUSES
from service import figures
from service.actors import Actor
from service.ledger.dates import add_months

#: How many months ahead the due chart looks, this month included.
MONTHS_AHEAD = 12
#: Departments drawn one by one in a stacked chart; the rest are summed as "other departments".
TOP_DEPARTMENTS = 8
#: The group of instruments kept by no department.
NO_DEPARTMENT = 0
#: The group of the departments beyond :data:`TOP_DEPARTMENTS`.
OTHER_DEPARTMENTS = -1


@dataclass(frozen=True)
class Month:
    """A calendar month, with its first and last day."""

    first: date

    @property
    def last(self) -> date:
        """Return the month's last day."""
        return add_months(self.first, 1) - timedelta(days=1)

    @property
    def key(self) -> str:
        """Return the month as 2026-12."""
        return self.first.strftime("%Y-%m")


def months_from(day: date, count: int) -> list[Month]:
    """Return ``count`` months starting with ``day``'s (2026-12-03, 3 → 2026-12, 2027-01, 2027-02)."""
    first = day.replace(day=1)
    return [Month(add_months(first, offset)) for offset in range(count)]


def months_up_to(day: date, count: int) -> list[Month]:
    """Return the ``count`` months ending with ``day``'s, oldest first."""
    return months_from(add_months(day.replace(day=1), 1 - count), count)


@dataclass(frozen=True)
class DueByMonth:
    """Instruments in use falling due per month, split by a group (a label, or a department id)."""

    months: list[Month]
    groups: list
    #: counts[group][month index]
    counts: dict[object, list[int]]


def _label_of(today: date):
    """Return the SQL expression of an instrument's label today (see ``Instrument.label``)."""
    return case(
        (Instrument.label_is("red", today), "red"),
        (Instrument.label_is("yellow", today), "yellow"),
        else_="green",
    )


def due_by_month(session: Session, actor: Actor, today: date, by: str) -> DueByMonth:
    """Count the instruments in use due in each of the next 12 months, by ``label`` or ``department``."""
    actor.require("ledger.read")
    months = months_from(today, MONTHS_AHEAD)
    group = _label_of(today) if by == "label" else func.coalesce(Instrument.department_id, NO_DEPARTMENT)
    rows = session.execute(
        select(Instrument.next_due_on, group.label("grp"), func.count(Instrument.id))
        .where(
            Instrument.org_id == actor.org_id,
            Instrument.status.in_(RECALLED_STATUSES),
            Instrument.next_due_on.between(months[0].first, months[-1].last),
        )
        .group_by(Instrument.next_due_on, group)
    ).all()
    index = {month.key: position for position, month in enumerate(months)}
    counts: dict[object, list[int]] = defaultdict(lambda: [0] * len(months))
    for due_on, grp, count in rows:
        counts[grp][index[due_on.strftime("%Y-%m")]] += count
    if by == "label":
        groups = [label for label in ("green", "yellow", "red") if label in counts]
    else:
        groups = _top_groups(counts)
        counts = _fold_other(counts, groups)
    return DueByMonth(months, groups, {group: counts[group] for group in groups})


def _top_groups(counts: dict[object, list[int]]) -> list:
    """Return the departments with the most instruments due, then the rest folded into one group."""
    ranked = sorted(counts, key=lambda group: (-sum(counts[group]), group))
    if len(ranked) <= TOP_DEPARTMENTS:
        return ranked
    return [*ranked[: TOP_DEPARTMENTS - 1], OTHER_DEPARTMENTS]


def _fold_other(counts: dict[object, list[int]], groups: list) -> dict[object, list[int]]:
    if OTHER_DEPARTMENTS not in groups:
        return counts
    kept = set(groups)
    folded = dict(counts)
    folded[OTHER_DEPARTMENTS] = [
        sum(values) for values in zip(*(counts[group] for group in counts if group not in kept), strict=True)
    ]
    return folded


def overdue_by_department(session: Session, actor: Actor, today: date) -> list[tuple[int, int]]:
    """Return (department id or 0, instruments overdue today), most overdue first."""
    actor.require("ledger.read")
    department = func.coalesce(Instrument.department_id, NO_DEPARTMENT)
    rows = session.execute(
        select(department, func.count(Instrument.id))
        .where(
            Instrument.org_id == actor.org_id,
            Instrument.status.in_(RECALLED_STATUSES),
            Instrument.next_due_on < today,
        )
        .group_by(department)
    ).all()
    return sorted(((int(dept), int(count)) for dept, count in rows), key=lambda row: (-row[1], row[0]))


def count_by(session: Session, actor: Actor, column: str) -> dict[str | None, int]:
    """Count the ledger's instruments by ``status`` or by ``abc_class`` (of those in use)."""
    actor.require("ledger.read")
    attribute = getattr(Instrument, column)
    stmt = select(attribute, func.count(Instrument.id)).where(Instrument.org_id == actor.org_id)
    if column == "abc_class":
        stmt = stmt.where(Instrument.status.in_(RECALLED_STATUSES))
    return {value: int(count) for value, count in session.execute(stmt.group_by(attribute))}


def department_names(session: Session, actor: Actor) -> dict[int, str]:
    """Return the organisation's department names by id."""
    return dict(
        session.execute(select(Department.id, Department.name).where(Department.org_id == actor.org_id)).all()
    )


@dataclass(frozen=True)
class OnTimeMonth:
    """The due dates of one month and how many of them were met."""

    month: Month
    rate: figures.Rate


def on_time_by_month(due_dates: list[figures.DueDate], today: date) -> list[OnTimeMonth]:
    """Return the on-time rate of each of the 12 months up to ``today`` (by the month of each due date)."""
    counted: Counter[str] = Counter()
    met: Counter[str] = Counter()
    for due in due_dates:
        key = due.due_on.strftime("%Y-%m")
        counted[key] += 1
        met[key] += due.met
    return [
        OnTimeMonth(month, figures.Rate(met[month.key], counted[month.key]))
        for month in months_up_to(today, figures.ON_TIME_MONTHS)
    ]
