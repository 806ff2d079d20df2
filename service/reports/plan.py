"""The periodic verification and calibration plan (周期检定与校准计划) and its execution.

Pure rules over :class:`~service.figures.InstrumentFacts` and ledger rows, tested against worked
examples. The plan covers a **period**: a calendar year, or one month of a year.

- **A plan line** is a due date of an instrument under periodic control (``is_periodic``) that is
  in use at the period's start (or, entered into the ledger during the period, on the day it
  entered), either

  - falling in the period (planned month: the due date's month), or
  - still open at the period's start although already past (overdue at the start: planned in the
    period's first month).

  The due dates are those the instrument's results set (``InstrumentFacts.timeline``, the same
  timeline the on-time rate reads), as known today. A due date after the instrument was sealed or
  scrapped is not planned (as for the on-time rate), nor are a scrapped instrument's.
- **Execution, as of today**: the next renewing result after the one that set the due date is
  the line's completion. Performed on or before the due date: **done on time** (a line done *on*
  its due date is on time); after it: **done late**; none yet: **not done**, and **overdue** once
  the due date has passed (on the due date itself it can still be met).
- **Completion rate** (计划完成率) of a month: lines of that month done (on time or late) ÷ lines
  planned in it; the **on-time completion rate** (按期完成率): lines done on time ÷ lines planned.
  Both are :class:`~service.figures.Rate` (None when nothing is planned).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from service import figures
from service.figures import RETIRED_STATUSES, InstrumentFacts, Rate

#: Execution states of a line.
ON_TIME = "on_time"
LATE = "late"
OVERDUE = "overdue"
PENDING = "pending"
STATES = (ON_TIME, LATE, OVERDUE, PENDING)
DONE_STATES = (ON_TIME, LATE)
#: How lines are grouped on the page.
GROUPINGS = ("department", "lab")


@dataclass(frozen=True)
class Period:
    """A plan's period: a year, or one month of it."""

    year: int
    month: int | None = None

    @property
    def start(self) -> date:
        """Return the period's first day."""
        return date(self.year, self.month or 1, 1)

    @property
    def end(self) -> date:
        """Return the period's last day."""
        month = self.month or 12
        return date(self.year, month, calendar.monthrange(self.year, month)[1])

    @property
    def months(self) -> list[int]:
        """Return the months the period covers, in order."""
        return [self.month] if self.month else list(range(1, 13))


@dataclass(frozen=True)
class Entry:
    """One line of the plan, before the ledger's details are added: what is due and what was done."""

    instrument_id: int
    due_on: date
    #: The month (1-12) the line is planned in.
    planned_month: int
    state: str
    #: The day of the renewing result that completed the line, if any.
    done_on: date | None
    #: Already past its due date at the period's start.
    overdue_at_start: bool

    @property
    def is_done(self) -> bool:
        """Whether the line was carried out (on time or late)."""
        return self.state in DONE_STATES


@dataclass(frozen=True)
class LedgerRow:
    """What the plan shows of an instrument's ledger row."""

    id: int
    management_no: str
    name: str
    model: str | None
    measuring_range: str | None
    accuracy: str | None
    department: str | None
    lab: str | None
    control_method: str | None
    is_mandatory: bool


@dataclass(frozen=True)
class Line:
    """A plan line with its instrument's ledger row."""

    entry: Entry
    row: LedgerRow


@dataclass
class Tally:
    """Counts of lines by execution state, with the completion rates."""

    planned: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    pending: int = 0

    def add(self, entry: Entry) -> None:
        """Count one line."""
        self.planned += 1
        setattr(self, entry.state, getattr(self, entry.state) + 1)

    @property
    def done(self) -> int:
        """Lines carried out, on time or late."""
        return self.on_time + self.late

    @property
    def not_done(self) -> int:
        """Lines not carried out yet, overdue or not."""
        return self.overdue + self.pending

    @property
    def completion(self) -> Rate:
        """计划完成率: lines done (on time or late) ÷ lines planned."""
        return Rate(self.done, self.planned)

    @property
    def on_time_completion(self) -> Rate:
        """按期完成率: lines done on or before their due date ÷ lines planned."""
        return Rate(self.on_time, self.planned)

    def as_dict(self) -> dict:
        """Return the counts and both rates with their parts."""
        return {
            "planned": self.planned,
            "on_time": self.on_time,
            "late": self.late,
            "done": self.done,
            "overdue": self.overdue,
            "pending": self.pending,
            "not_done": self.not_done,
            "completion": self.completion.as_dict(),
            "on_time_completion": self.on_time_completion.as_dict(),
        }


@dataclass
class Group:
    """The lines of one department or laboratory, with their subtotal."""

    name: str | None
    lines: list[Line] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)


def _execution(due: date, renewed_on: date | None, today: date) -> str:
    """Return a line's state: done on time, done late, overdue, or not yet due."""
    if renewed_on is not None:
        return ON_TIME if renewed_on <= due else LATE
    return OVERDUE if due < today else PENDING


def counts_in(fact: InstrumentFacts, period: Period) -> bool:
    """Whether the instrument belongs in the plan: periodic, in use at the period's start.

    An instrument entered into the ledger during the period counts when it was in use that day.
    """
    if not fact.is_periodic or fact.entered_on > period.end:
        return False
    return fact.in_use_on(max(period.start, fact.entered_on))


def entries_of(fact: InstrumentFacts, period: Period, today: date) -> list[Entry]:
    """Return the plan lines of one instrument for ``period``, executed as of ``today``."""
    if not counts_in(fact, period):
        return []
    timeline = [result for result in fact.timeline if result.performed_on <= today]
    found: list[Entry] = []
    for due, index in figures.due_setters(timeline):
        setter = timeline[index]
        if due is None or due > period.end:
            continue
        renewal = next((r for r in timeline[index + 1 :] if r.performed_on > setter.performed_on), None)
        renewed_on = renewal.performed_on if renewal else None
        if due < period.start:
            # Overdue at the start: not renewed by the day before the period began.
            if renewed_on is not None and renewed_on < period.start:
                continue
            overdue_at_start, month = True, period.months[0]
        else:
            if fact.status_on(due - timedelta(days=1)) in RETIRED_STATUSES:
                continue
            overdue_at_start, month = False, due.month
        found.append(
            Entry(fact.id, due, month, _execution(due, renewed_on, today), renewed_on, overdue_at_start)
        )
    return found


def plan_entries(facts: Iterable[InstrumentFacts], period: Period, today: date) -> list[Entry]:
    """Return every plan line of ``facts`` for ``period``, by planned month and due date."""
    found = [entry for fact in facts for entry in entries_of(fact, period, today)]
    return sorted(found, key=lambda e: (e.planned_month, e.due_on, e.instrument_id))


def lines_of(entries: Iterable[Entry], rows: Mapping[int, LedgerRow]) -> list[Line]:
    """Join each entry to its instrument's ledger row, by planned month, due date and number."""
    lines = [Line(entry, rows[entry.instrument_id]) for entry in entries]
    return sorted(
        lines, key=lambda line: (line.entry.planned_month, line.entry.due_on, line.row.management_no)
    )


def tally(entries: Iterable[Entry]) -> Tally:
    """Return the counts of ``entries`` by state, with their completion rates."""
    found = Tally()
    for entry in entries:
        found.add(entry)
    return found


def by_month(entries: Iterable[Entry], period: Period) -> dict[int, Tally]:
    """Return each month of the period with the tally of the lines planned in it (empty months too)."""
    months = {month: Tally() for month in period.months}
    for entry in entries:
        months[entry.planned_month].add(entry)
    return months


def grouped(lines: Iterable[Line], key: str) -> list[Group]:
    """Return the lines by department or by laboratory (``key``), named groups first, with subtotals."""
    if key not in GROUPINGS:
        raise ValueError(f"unknown grouping {key!r}")
    name_of: Callable[[Line], str | None] = (
        (lambda line: line.row.department) if key == "department" else (lambda line: line.row.lab)
    )
    groups: dict[str | None, Group] = {}
    for line in lines:
        name = name_of(line) or None
        group = groups.setdefault(name, Group(name))
        group.lines.append(line)
        group.tally.add(line.entry)
    return sorted(groups.values(), key=lambda g: (g.name is None, g.name or ""))
