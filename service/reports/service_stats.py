"""The institute's service statistics of a year: calibrations, orders' turnaround, visits on time.

- **Instruments calibrated** are the results the institute entered into its clients' ledgers
  through its visits and service orders: items done with a record, counted in the month of the
  record's date (``performed_on``). The **discipline** is the instrument's, read from its name and
  catalogue item as the due board does (:func:`service.visits.disciplines.discipline_of`): a
  technician's ``disciplines`` say what they may do, not what an instrument is. The **technician**
  is the one the visit assigned to the item; otherwise (service orders, unassigned items) the
  technician whose account entered the record; otherwise the work is "not attributed".
- **Turnaround** of a service order runs from the day it was received to the day it was returned
  (local days of its ``received`` and ``returned`` steps), counted in the month of its return:
  mail-in and drop-off orders only (an on-site order is neither received nor returned).
- **Visits on time**: completed visits with an earliest due date, counted in the month of
  completion; on time when completed (local day) on or before that date.

Only clients with an active link count, as everywhere in the institute's cross-client reads.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from models import (
    CalibrationRecord,
    Instrument,
    Organization,
    ServiceOrder,
    ServiceOrderItem,
    ServiceOrderStep,
    Technician,
    User,
    Visit,
    VisitItem,
)
from service.actors import Actor
from service.figures import Rate
from service.i18n import N_
from service.reports.regions import require_reports, year_bounds
from service.tenancy.queries import active_client_ids
from service.visits.disciplines import DISCIPLINES, discipline_of

MONTHS = tuple(range(1, 13))
#: The name of the work no technician is known for (its technician key is None).
NOT_ATTRIBUTED = N_("Not attributed")


# -- Pure rules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    """One instrument the institute calibrated: the month, the discipline, the technician (or None)."""

    month: int
    discipline: str
    technician_id: int | None


@dataclass(frozen=True)
class Counts:
    """Calibrations counted per month by one key (a discipline or a technician)."""

    key: str | int | None
    per_month: tuple[int, ...]

    @property
    def total(self) -> int:
        """Return the year's count."""
        return sum(self.per_month)


def count_by(calibrations: Iterable[Calibration], key: str) -> list[Counts]:
    """Return per-month counts by ``discipline`` or ``technician_id``, keys with work only."""
    found: dict = defaultdict(Counter)
    for calibration in calibrations:
        found[getattr(calibration, key)][calibration.month] += 1
    return [Counts(k, tuple(months[m] for m in MONTHS)) for k, months in found.items()]


def technician_of(assigned: int | None, recorded_by: str | None, by_name: dict[str, int]) -> int | None:
    """Return who did the work: the technician assigned, else the one who entered it by name, else None."""
    if assigned is not None:
        return assigned
    return by_name.get(recorded_by) if recorded_by else None


def recorder_names(rows: Iterable[tuple[int, str, str | None]], institute_name: str) -> dict[str, int]:
    """Return technician ids by the name a record written by them carries: "name（institute）".

    ``rows``: (technician id, technician's name, their account's name or None); the account's
    name wins over a technician's own name where two would read the same.
    """
    found: dict[str, int] = {}
    for technician_id, name, _account in rows:
        found.setdefault(f"{name}（{institute_name}）", technician_id)
    for technician_id, _name, account in rows:
        if account:
            found[f"{account}（{institute_name}）"] = technician_id
    return found


@dataclass(frozen=True)
class Turnaround:
    """Turnaround days of the orders returned in a month (or the year, ``month`` None)."""

    month: int | None
    days: tuple[int, ...]

    @property
    def count(self) -> int:
        """Return how many orders were returned."""
        return len(self.days)

    @property
    def median(self) -> float | None:
        """Return the median days, or None with no order."""
        return float(statistics.median(self.days)) if self.days else None

    @property
    def mean(self) -> float | None:
        """Return the mean days with one decimal, or None with no order."""
        return round(statistics.fmean(self.days), 1) if self.days else None

    def as_dict(self) -> dict:
        """Return the month, count, median and mean."""
        return {"month": self.month, "orders": self.count, "median_days": self.median, "mean_days": self.mean}


def turnaround(pairs: Iterable[tuple[date, date]], year: int) -> tuple[list[Turnaround], Turnaround]:
    """Return the turnaround per month of the year and over the year, from (received, returned) days."""
    by_month: dict[int, list[int]] = defaultdict(list)
    for received, returned in pairs:
        if returned.year == year:
            by_month[returned.month].append((returned - received).days)
    months = [Turnaround(m, tuple(by_month[m])) for m in MONTHS]
    return months, Turnaround(None, tuple(d for m in MONTHS for d in by_month[m]))


def on_time(visits: Iterable[tuple[date, date | None]], year: int) -> tuple[list[Rate], Rate]:
    """Return the on-time share of completed visits per month and over the year.

    ``visits``: (local day of completion, earliest due date); a visit without a due date is not counted.
    """
    done: Counter = Counter()
    counted: Counter = Counter()
    for completed_on, due_on in visits:
        if due_on is None or completed_on.year != year:
            continue
        counted[completed_on.month] += 1
        done[completed_on.month] += completed_on <= due_on
    months = [Rate(done[m], counted[m]) for m in MONTHS]
    return months, Rate(sum(done.values()), sum(counted.values()))


# -- Reading -------------------------------------------------------------------------------------


def calibrations(session: Session, institute_id: int, first: date, last: date) -> list[Calibration]:
    """Return the instruments the institute calibrated from ``first`` to ``last`` for its linked clients."""
    linked = active_client_ids(institute_id)
    institute_name = session.get(Organization, institute_id).name
    technicians = session.execute(
        select(Technician.id, Technician.name, User.name)
        .outerjoin(User, and_(User.org_id == Technician.org_id, User.id == Technician.user_id))
        .where(Technician.org_id == institute_id)
        .order_by(Technician.id)
    ).all()
    by_name = recorder_names([tuple(row) for row in technicians], institute_name)
    found = []
    for item, technician in ((VisitItem, VisitItem.technician_id), (ServiceOrderItem, None)):
        rows = session.execute(
            select(
                CalibrationRecord.performed_on,
                CalibrationRecord.recorded_by_name,
                Instrument.name,
                Instrument.catalog_item,
                *([technician] if technician is not None else []),
            )
            .select_from(item)
            .join(
                CalibrationRecord,
                and_(CalibrationRecord.org_id == item.firm_id, CalibrationRecord.id == item.record_id),
            )
            .join(Instrument, and_(Instrument.org_id == item.firm_id, Instrument.id == item.instrument_id))
            .where(
                item.institute_id == institute_id,
                item.firm_id.in_(linked),
                item.state == "done",
                CalibrationRecord.lab_org_id == institute_id,
                CalibrationRecord.performed_on.between(first, last),
            )
            .execution_options(all_tenants=True)  # the institute's own items in its linked firms
        )
        for row in rows:
            assigned = row[4] if technician is not None else None
            found.append(
                Calibration(
                    row.performed_on.month,
                    discipline_of(row.name, row.catalog_item),
                    technician_of(assigned, row.recorded_by_name, by_name),
                )
            )
    return found


def order_pairs(session: Session, institute_id: int, year: int, timezone: str) -> list[tuple[date, date]]:
    """Return (received, returned) local days of the institute's orders returned in the year."""
    zone = ZoneInfo(timezone)
    first, last = year_bounds(year, timezone)
    returned = (
        select(ServiceOrderStep.order_id)
        .join(ServiceOrder, ServiceOrder.id == ServiceOrderStep.order_id)
        .where(
            ServiceOrder.institute_id == institute_id,
            ServiceOrder.firm_id.in_(active_client_ids(institute_id)),
            ServiceOrderStep.state == "returned",
            ServiceOrderStep.at >= first,
            ServiceOrderStep.at < last,
        )
    )
    steps: dict[int, dict[str, datetime]] = defaultdict(dict)
    for order_id, state, at in session.execute(
        select(ServiceOrderStep.order_id, ServiceOrderStep.state, ServiceOrderStep.at)
        .where(ServiceOrderStep.order_id.in_(returned), ServiceOrderStep.state.in_(("received", "returned")))
        .order_by(ServiceOrderStep.id)
    ):
        steps[order_id].setdefault(state, at)  # the first time it reached each state
    return [
        (s["received"].astimezone(zone).date(), s["returned"].astimezone(zone).date())
        for s in steps.values()
        if "received" in s and "returned" in s
    ]


def visit_days(
    session: Session, institute_id: int, year: int, timezone: str
) -> list[tuple[date, date | None]]:
    """Return (local day completed, earliest due date) of the institute's visits completed in the year."""
    zone = ZoneInfo(timezone)
    first, last = year_bounds(year, timezone)
    rows = session.execute(
        select(Visit.completed_at, Visit.earliest_due_on).where(
            Visit.institute_id == institute_id,
            Visit.firm_id.in_(active_client_ids(institute_id)),
            Visit.state == "completed",
            Visit.completed_at >= first,
            Visit.completed_at < last,
        )
    )
    return [(completed_at.astimezone(zone).date(), due_on) for completed_at, due_on in rows]


@dataclass(frozen=True)
class ServiceStats:
    """The service statistics of a year."""

    year: int
    by_discipline: list[Counts]
    by_technician: list[Counts]
    technicians: dict[int, str]
    turnaround: list[Turnaround]
    turnaround_year: Turnaround
    on_time: list[Rate]
    on_time_year: Rate

    @property
    def per_month(self) -> tuple[int, ...]:
        """Return the instruments calibrated per month, every discipline."""
        return tuple(sum(c.per_month[m - 1] for c in self.by_discipline) for m in MONTHS)

    @property
    def total(self) -> int:
        """Return the instruments calibrated in the year."""
        return sum(self.per_month)


def service_stats(session: Session, actor: Actor, year: int, timezone: str) -> ServiceStats:
    """Return the institute's service statistics of ``year``."""
    require_reports(actor)
    institute_id = actor.home_org_id
    done = calibrations(session, institute_id, date(year, 1, 1), date(year, 12, 31))
    order = {code: i for i, code in enumerate(DISCIPLINES)}
    by_discipline = sorted(count_by(done, "discipline"), key=lambda c: order.get(c.key, len(order)))
    names = dict(
        session.execute(select(Technician.id, Technician.name).where(Technician.org_id == institute_id)).all()
    )
    by_technician = sorted(
        count_by(done, "technician_id"),
        key=lambda c: (c.key is None, -c.total, names.get(c.key, "")),
    )
    months, year_turnaround = turnaround(order_pairs(session, institute_id, year, timezone), year)
    visits, visits_year = on_time(visit_days(session, institute_id, year, timezone), year)
    return ServiceStats(
        year, by_discipline, by_technician, names, months, year_turnaround, visits, visits_year
    )
