"""The figures a firm's metrology is measured by, computed one way for every page that shows them.

The award dossier defines them and the reports reuse them:

- **coverage**: instruments in use with periodic control that are within validity ÷ all
  instruments in use with periodic control;
- **on-time rate**: over the 12 months up to a date, each due date of an instrument with periodic
  control counts once, and was met when the next renewing result after the one that set it was
  performed on or before it; a due date after the instrument was scrapped or sealed does not count,
  nor one falling on the date itself that is still open (it can still be met that day);
- **inspection rate** (受检率): mandatory (强检) instruments in use within the validity of a
  verification ÷ all mandatory instruments in use, against the provincial targets (98% for
  household electricity, water, gas and heat meters, 95% for the others).

"In use" (在用) means in service, out for calibration or under repair on the day: the statuses
whose instruments are recalled at their due date. A status on a past day is read back from the
approved status requests (停用、封存、报废 and their reversals).

The rules are pure functions over :class:`InstrumentFacts`, tested against worked examples;
:func:`read_facts` reads an organisation's facts in three statements.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import CalibrationRecord, Instrument, StatusRequest
from models.ledger import RECALLED_STATUSES
from service.ledger.dates import add_months
from service.ledger.renewal import RENEWING_KINDS, renews
from service.ledger.status import action_target

#: 在用: the statuses whose instruments are still expected back at their due date.
IN_USE_STATUSES = RECALLED_STATUSES
#: Statuses after which an instrument's due dates no longer count for the on-time rate.
RETIRED_STATUSES = ("sealed", "scrapped")
#: The status an approved action starts from, where only one is possible (the others start in use).
STATUS_BEFORE = {"resume": "suspended", "unseal": "sealed"}
#: Provincial targets of the inspection rate.
INSPECTION_TARGET = 0.95
HOUSEHOLD_METER_TARGET = 0.98
#: Household meters (民用四表): a word of the instrument's name or catalogue item.
HOUSEHOLD_METER_WORDS = re.compile("电能表|电表|水表|燃气表|煤气表|热能表|热量表")
#: How far back the on-time rate looks.
ON_TIME_MONTHS = 12


@dataclass(frozen=True)
class Rate:
    """A share with what it was computed from; ``rate`` is None when nothing was counted."""

    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        """Return the share as a fraction with four decimals."""
        return round(self.numerator / self.denominator, 4) if self.denominator else None

    def meets(self, target: float) -> bool | None:
        """Whether the share reaches ``target``; None when there is nothing to measure."""
        return None if self.rate is None else self.numerator >= target * self.denominator

    def as_dict(self) -> dict:
        """Return the rate, its numerator and its denominator."""
        return {"rate": self.rate, "numerator": self.numerator, "denominator": self.denominator}


def percent(rate: float | None) -> str:
    """Return a fraction as a percentage with one decimal (0.9512 → 95.1%), or — when there is none."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


@dataclass(frozen=True)
class Result:
    """A result that renewed an instrument's validity: when, of what kind, with what outcome."""

    performed_on: date
    kind: str
    conclusion: str | None
    next_due_on: date | None

    @property
    def is_good(self) -> bool:
        """Whether the instrument may be used on it (a failed result gives no validity)."""
        return self.conclusion != "fail"


@dataclass(frozen=True)
class StatusChange:
    """An approved status request, on the local day it was decided."""

    on: date
    action: str


@dataclass(slots=True)
class InstrumentFacts:
    """What the figures need of one instrument: its ledger row, renewing results and approvals."""

    id: int
    name: str
    catalog_item: str | None
    department_id: int | None
    abc_class: str | None
    is_mandatory: bool
    control_method: str | None
    interval_months: int | None
    status: str
    #: The local day the instrument entered the ledger: it counts for no day before.
    entered_on: date
    last_done_on: date | None
    next_due_on: date | None
    conclusion: str | None
    #: Current (not superseded) results that renew this instrument, oldest first.
    results: tuple[Result, ...] = ()
    #: Approved status changes, oldest first.
    changes: tuple[StatusChange, ...] = ()
    #: The results that set its due dates (see :meth:`_timeline`), worked out once.
    timeline: tuple[Result, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.timeline = tuple(self._timeline())

    @property
    def is_periodic(self) -> bool:
        """Whether the instrument is under periodic control (not one-off, interval not 0)."""
        return self.control_method != "one_off" and self.interval_months != 0

    @property
    def is_household_meter(self) -> bool:
        """Whether it is a household electricity, water, gas or heat meter (the 98% target)."""
        return bool(HOUSEHOLD_METER_WORDS.search(f"{self.name} {self.catalog_item or ''}"))

    def status_on(self, day: date) -> str:
        """Return the status at the end of ``day``, read back from the approved changes."""
        if not self.changes:
            return self.status
        done = [change for change in self.changes if change.on <= day]
        if done:
            return action_target(done[-1].action)
        # Every recorded change came later: before them, the status the first one starts from.
        return STATUS_BEFORE.get(self.changes[0].action, "in_service")

    def in_use_on(self, day: date) -> bool:
        """Whether the instrument was in the ledger and in use on ``day``."""
        return self.entered_on <= day and self.status_on(day) in IN_USE_STATUSES

    def _timeline(self) -> list[Result]:
        """Return the results that set its due dates, oldest first, with the ledger's own baseline.

        An imported ledger states a last date and a due date that no record in the system made:
        they count as a result of the instrument's control method. Where the ledger's last date is
        the newest result's, the ledger's due date wins (an accepted interval change moves it).
        """
        results = list(self.results)
        if self.last_done_on is None and self.next_due_on is None:
            return results
        on = self.last_done_on or self.entered_on
        ledger = Result(on, self.control_method or "verification", self.conclusion, self.next_due_on)
        same_day = [index for index, result in enumerate(results) if result.performed_on == on]
        if same_day:
            newest = results[same_day[-1]]
            if same_day[-1] == len(results) - 1:
                results[-1] = Result(on, newest.kind, newest.conclusion, self.next_due_on)
            return results
        if results and results[-1].performed_on > on:
            # Results newer than the ledger's last date exist (entered with older dates): they set
            # the due dates, and the ledger's row adds nothing.
            return results
        return [*results, ledger]

    def standing_on(self, day: date) -> Result | None:
        """Return the result the instrument stands on at the end of ``day``: its newest up to then."""
        standing = None
        for result in self.timeline:
            if result.performed_on > day:
                break
            standing = result
        return standing

    def valid_on(self, day: date, *, by_verification: bool = False) -> bool:
        """Whether a good result (a verification, if asked) keeps it within validity on ``day``."""
        standing = self.standing_on(day)
        return (
            standing is not None
            and standing.is_good
            and standing.next_due_on is not None
            and standing.next_due_on >= day
            and (not by_verification or standing.kind == "verification")
        )


@dataclass(frozen=True)
class DueDate:
    """One due date counted by the on-time rate, and whether it was met."""

    instrument_id: int
    due_on: date
    met: bool
    #: The renewing result that followed, if any was performed by the date of the figure.
    renewed_on: date | None


@dataclass
class InstrumentSet:
    """A rate over instruments: the ones counted and, of them, the ones that meet the rule."""

    counted: list[int] = field(default_factory=list)
    meeting: list[int] = field(default_factory=list)

    def add(self, instrument_id: int, meets: bool) -> None:
        """Count an instrument, and note whether it meets the rule."""
        self.counted.append(instrument_id)
        if meets:
            self.meeting.append(instrument_id)

    @property
    def rate(self) -> Rate:
        """Return the rate."""
        return Rate(len(self.meeting), len(self.counted))

    @property
    def failing(self) -> list[int]:
        """Return the instruments counted that do not meet the rule."""
        meeting = set(self.meeting)
        return [instrument_id for instrument_id in self.counted if instrument_id not in meeting]


def in_use(facts: Iterable[InstrumentFacts], day: date) -> list[InstrumentFacts]:
    """Return the instruments in use on ``day``."""
    return [fact for fact in facts if fact.in_use_on(day)]


def coverage(facts: Iterable[InstrumentFacts], day: date) -> InstrumentSet:
    """Return the instruments in use with periodic control on ``day``, and those within validity."""
    found = InstrumentSet()
    for fact in facts:
        if fact.is_periodic and fact.in_use_on(day):
            found.add(fact.id, fact.valid_on(day))
    return found


def inspection(
    facts: Iterable[InstrumentFacts], day: date, *, household: bool | None = None
) -> InstrumentSet:
    """Return the mandatory instruments in use on ``day``, and those within a verification's validity.

    ``household`` picks household meters (True), the other mandatory instruments (False) or all.
    """
    found = InstrumentSet()
    for fact in facts:
        if not fact.is_mandatory or not fact.in_use_on(day):
            continue
        if household is not None and fact.is_household_meter != household:
            continue
        found.add(fact.id, fact.valid_on(day, by_verification=True))
    return found


def on_time_window(day: date) -> tuple[date, date]:
    """Return the first and last day of the 12 months up to ``day`` (2026-06-30 → 2025-07-01…2026-06-30)."""
    return add_months(day, -ON_TIME_MONTHS) + timedelta(days=1), day


def due_setters(timeline: Sequence[Result]) -> list[tuple[date | None, int]]:
    """Return each due date a timeline sets, with the index of the result that sets it, oldest first.

    Of two results on one day the later stands; a due date set twice counts once, from its last setter.
    The on-time rate and the periodic plan read due dates this one way.
    """
    setters = {
        result.next_due_on: index
        for index, result in enumerate(timeline)
        if index + 1 == len(timeline) or timeline[index + 1].performed_on != result.performed_on
    }
    return sorted(setters.items(), key=lambda item: item[1])


def due_dates(facts: Iterable[InstrumentFacts], day: date) -> list[DueDate]:
    """Return every due date the on-time rate counts over the 12 months up to ``day``."""
    first, last = on_time_window(day)
    found: list[DueDate] = []
    for fact in facts:
        if not fact.is_periodic:
            continue
        timeline = [result for result in fact.timeline if result.performed_on <= day]
        for due, index in due_setters(timeline):
            if due is None or not first <= due <= last:
                continue
            if fact.status_on(due - timedelta(days=1)) in RETIRED_STATUSES:
                continue
            setter = timeline[index]
            renewal = next((r for r in timeline[index + 1 :] if r.performed_on > setter.performed_on), None)
            if renewal is None and due == day:
                continue  # still open: it can be met today
            met = renewal is not None and renewal.performed_on <= due
            found.append(DueDate(fact.id, due, met, renewal.performed_on if renewal else None))
    return found


def on_time(facts: Iterable[InstrumentFacts], day: date) -> Rate:
    """Return the on-time rate over the 12 months up to ``day``."""
    counted = due_dates(facts, day)
    return Rate(sum(1 for due in counted if due.met), len(counted))


def read_facts(session: Session, org_id: int, timezone: str) -> list[InstrumentFacts]:
    """Return the facts of every instrument of an organisation, results and approvals included."""
    zone = ZoneInfo(timezone)
    results: dict[int, list[tuple[date, str, str | None, date | None]]] = defaultdict(list)
    for row in session.execute(
        select(
            CalibrationRecord.instrument_id,
            CalibrationRecord.performed_on,
            CalibrationRecord.kind,
            CalibrationRecord.conclusion,
            CalibrationRecord.next_due_on,
        )
        .where(
            CalibrationRecord.org_id == org_id,
            CalibrationRecord.superseded_by_id.is_(None),
            CalibrationRecord.kind.in_(RENEWING_KINDS),
        )
        .order_by(CalibrationRecord.performed_on, CalibrationRecord.id)
    ):
        results[row.instrument_id].append((row.performed_on, row.kind, row.conclusion, row.next_due_on))
    changes: dict[int, list[StatusChange]] = defaultdict(list)
    # An approval always has its moment; rows loaded by other means may lack it (then: when asked).
    decided_at = func.coalesce(StatusRequest.decided_at, StatusRequest.requested_at).label("decided_at")
    for row in session.execute(
        select(StatusRequest.instrument_id, StatusRequest.action, decided_at)
        .where(StatusRequest.org_id == org_id, StatusRequest.state == "approved")
        .order_by(decided_at, StatusRequest.id)
    ):
        changes[row.instrument_id].append(StatusChange(_local_day(row.decided_at, zone), row.action))
    facts = []
    for row in session.execute(
        select(*_FACT_COLUMNS).where(Instrument.org_id == org_id).order_by(Instrument.id)
    ):
        renewing = tuple(
            Result(performed_on, kind, conclusion, due)
            for performed_on, kind, conclusion, due in results.get(row.id, ())
            if renews(row, kind)
        )
        facts.append(
            InstrumentFacts(
                id=row.id,
                name=row.name,
                catalog_item=row.catalog_item,
                department_id=row.department_id,
                abc_class=row.abc_class,
                is_mandatory=bool(row.is_mandatory),
                control_method=row.control_method,
                interval_months=row.interval_months,
                status=row.status,
                entered_on=_local_day(row.created_at, zone),
                last_done_on=row.last_done_on,
                next_due_on=row.next_due_on,
                conclusion=row.conclusion,
                results=renewing,
                changes=tuple(changes.get(row.id, ())),
            )
        )
    return facts


_FACT_COLUMNS: Sequence = (
    Instrument.id,
    Instrument.name,
    Instrument.catalog_item,
    Instrument.department_id,
    Instrument.abc_class,
    Instrument.is_mandatory,
    Instrument.control_method,
    Instrument.interval_months,
    Instrument.status,
    Instrument.created_at,
    Instrument.last_done_on,
    Instrument.next_due_on,
    Instrument.conclusion,
)


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    """Return the local day of a stored (aware) moment."""
    return moment.astimezone(zone).date()
