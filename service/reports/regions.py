"""The institute's region dashboard: its linked clients per Henan city or directly administered county.

For each region (``service.validation.henan_regions``; clients without a known region code go to
"region unknown"), the institute's clients with an active link, their instruments in use, the
mandatory ones, the inspection rate (受检率) against the provincial targets, the overdue ones, and
the visits and service orders the institute completed for them in the year.

**Speed.** A 1M-instrument institute must get its answer in under a second, so the instrument
figures are one aggregate statement grouped by client (never :func:`service.figures.read_facts`
per client). The inspection rate is TODAY's, read from each instrument row's current state, which
is what :func:`service.figures.inspection` computes for today when the row stands on its newest
result: a mandatory instrument in use counts; it is within a verification's validity when its
control method is verification, its conclusion is not a fail and its due date is today or later.
``tests/integration/test_region_dashboard.py`` checks both give the same answer on a built ledger.

**Targets.** Household meters (98%) and the other mandatory instruments (95%) are separate rates,
each against its own target; the combined rate (every mandatory instrument) ranks the regions in
the chart against the 95% line, and a region meets its targets only when both rates do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select, text
from sqlalchemy.orm import Session

from models import Instrument, Organization, ServiceOrder, Visit
from service.actors import Actor
from service.errors import Forbidden, NotFound, invalid_field
from service.figures import (
    HOUSEHOLD_METER_TARGET,
    HOUSEHOLD_METER_WORDS,
    IN_USE_STATUSES,
    INSPECTION_TARGET,
    Rate,
)
from service.i18n import N_
from service.tenancy.queries import active_client_ids
from service.validation import henan_regions

#: The code of the row for clients whose region is not a known Henan region.
UNKNOWN = "unknown"
#: Roles of the institute that read its reports.
REPORT_ROLES = ("admin", "staff")
#: Years a report may ask for.
FIRST_YEAR, LAST_YEAR = 2000, 2100
#: An order is done when returned (mail-in, drop-off) or completed on site (nothing to return).
DONE_ORDER = or_(
    ServiceOrder.state == "returned",
    and_(ServiceOrder.state == "completed", ServiceOrder.method == "on_site"),
)


# -- Pure rules ----------------------------------------------------------------------------------


def require_reports(actor: Actor) -> None:
    """Refuse anyone but the institute's own staff and administrators (404 for everyone else)."""
    actor.require_institute("clients.view")
    if actor.role not in REPORT_ROLES:
        raise Forbidden(N_("Your role does not allow this."))


def parse_year(value, today: date) -> int:
    """Return the year asked for (this year when none); raise :class:`Invalid` for anything else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return today.year
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        raise invalid_field(
            "year", N_("Give a year from %(first)s to %(last)s.", first=FIRST_YEAR, last=LAST_YEAR)
        )
    return int(text)


def region_key(code: str | None) -> str:
    """Return the dashboard row a client's region code falls in: a known region's code, or ``unknown``."""
    return code if code in region_codes() else UNKNOWN


def region_codes() -> tuple[str, ...]:
    """Return the codes of the regions, cities first, in the reference list's order."""
    return tuple(r.code for r in henan_regions())


def check_region(code: str) -> str:
    """Return ``code`` when it names a dashboard row; raise :class:`NotFound` otherwise."""
    if code != UNKNOWN and code not in region_codes():
        raise NotFound(N_("Not found."))
    return code


def year_bounds(year: int, timezone: str) -> tuple[datetime, datetime]:
    """Return the first moment of the local year and of the next one (aware, for stored moments)."""
    zone = ZoneInfo(timezone)
    return datetime.combine(date(year, 1, 1), time(), zone), datetime.combine(
        date(year + 1, 1, 1), time(), zone
    )


@dataclass(frozen=True)
class Figures:
    """The dashboard's figures for one client or summed over a region."""

    instruments: int = 0
    mandatory: int = 0
    household: Rate = Rate(0, 0)
    other: Rate = Rate(0, 0)
    overdue: int = 0
    visits: int = 0
    orders: int = 0

    @property
    def inspection(self) -> Rate:
        """Return the inspection rate of every mandatory instrument, household meters included."""
        return Rate(
            self.household.numerator + self.other.numerator,
            self.household.denominator + self.other.denominator,
        )

    @property
    def meets_targets(self) -> bool | None:
        """Whether both rates reach their targets (a rate with nothing to count does not decide)."""
        verdicts = [
            verdict
            for verdict in (self.household.meets(HOUSEHOLD_METER_TARGET), self.other.meets(INSPECTION_TARGET))
            if verdict is not None
        ]
        return all(verdicts) if verdicts else None

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.instruments + other.instruments,
            self.mandatory + other.mandatory,
            _add(self.household, other.household),
            _add(self.other, other.other),
            self.overdue + other.overdue,
            self.visits + other.visits,
            self.orders + other.orders,
        )

    def as_dict(self) -> dict:
        """Return the figures with each rate, its numerator and its denominator."""
        return {
            "instruments": self.instruments,
            "mandatory": self.mandatory,
            "inspection": self.inspection.as_dict(),
            "household": self.household.as_dict(),
            "other": self.other.as_dict(),
            "meets_targets": self.meets_targets,
            "overdue": self.overdue,
            "visits_completed": self.visits,
            "orders_completed": self.orders,
        }


def _add(a: Rate, b: Rate) -> Rate:
    return Rate(a.numerator + b.numerator, a.denominator + b.denominator)


@dataclass(frozen=True)
class Client:
    """A linked client of the dashboard."""

    id: int
    slug: str
    name: str
    region_code: str | None
    figures: Figures


@dataclass
class RegionRow:
    """A region of the dashboard: its code (or ``unknown``), name, clients and summed figures."""

    code: str
    name: str | None
    clients: list[Client] = field(default_factory=list)

    @property
    def figures(self) -> Figures:
        """Return the sum of its clients' figures."""
        total = Figures()
        for client in self.clients:
            total = total + client.figures
        return total


def group_by_region(clients: Iterable[Client]) -> list[RegionRow]:
    """Return every region in the reference order, then "region unknown", each with its clients.

    Every region has its row, with or without clients, so a region the institute has not reached
    shows as such; the unknown row only when a client has no known region.
    """
    rows = {r.code: RegionRow(r.code, r.name) for r in henan_regions()}
    unknown = RegionRow(UNKNOWN, None)
    for client in sorted(clients, key=lambda c: (c.name, c.id)):
        rows.get(region_key(client.region_code), unknown).clients.append(client)
    return [*rows.values(), *([unknown] if unknown.clients else [])]


def ranked(rows: Iterable[RegionRow]) -> list[RegionRow]:
    """Return the regions with mandatory instruments in use, best inspection rate first (then by name)."""
    measured = [row for row in rows if row.figures.inspection.rate is not None]
    return sorted(measured, key=lambda row: (-(row.figures.inspection.rate or 0), row.code))


# -- Reading -------------------------------------------------------------------------------------


def is_household_meter():
    """SQL: the instrument's name or catalogue item names a household meter (figures' very pattern).

    The pattern is a plain alternation of words, read alike by Python, PostgreSQL (``~``) and
    SQLite (SQLAlchemy gives pysqlite a ``REGEXP`` function); one match per row.
    """
    text = Instrument.name + " " + func.coalesce(Instrument.catalog_item, "")
    return text.regexp_match(HOUSEHOLD_METER_WORDS.pattern)


#: The class an instrument counts in (see :func:`instrument_figures_statement`): not in use; in use
#: and not mandatory (on time or overdue); a mandatory household meter or another mandatory
#: instrument in use, plus VERIFIED (within a verification's validity) or OVERDUE (neither).
RETIRED, IN_USE, IN_USE_OVERDUE = 0, 1, 2
HOUSEHOLD, OTHER_MANDATORY = 4, 8
VERIFIED, OVERDUE = 1, 2


def instrument_figures_statement(firm_ids, today: date):
    """Return the one statement counting every client's instruments by class.

    Each row gets one small number (a CASE evaluates in order, so the household pattern is
    matched only for mandatory instruments in use), and the rows are counted per client and
    number: a dozen rows per client at most, folded by :func:`fold_figures`. One number rather than
    several flags keeps the grouping cheap (PostgreSQL aggregates it in parallel workers).
    ``firm_ids``: a subquery or list of the clients (the caller scopes it by active link).
    """
    overdue = Instrument.next_due_on < today
    verified = and_(
        Instrument.control_method == "verification",
        or_(Instrument.conclusion.is_(None), Instrument.conclusion != "fail"),
        Instrument.next_due_on >= today,
    )
    standing = case((verified, VERIFIED), (overdue, OVERDUE), else_=0)
    kind = case(
        (~Instrument.status.in_(IN_USE_STATUSES), RETIRED),
        (Instrument.is_mandatory.is_not(True), case((overdue, IN_USE_OVERDUE), else_=IN_USE)),
        (is_household_meter(), HOUSEHOLD + standing),
        else_=OTHER_MANDATORY + standing,
    ).label("kind")
    return (
        select(Instrument.org_id, kind, func.count())
        .where(Instrument.org_id.in_(firm_ids))
        .group_by(Instrument.org_id, kind)
        .execution_options(all_tenants=True)  # the institute's linked firms only, named above
    )


def fold_figures(rows: Iterable[tuple[int, int, int]]) -> dict[int, Figures]:
    """Return each client's figures from (client, class, count) rows."""
    counts: dict[int, dict[str, int]] = {}
    for org_id, kind, count in rows:
        c = counts.setdefault(org_id, dict.fromkeys(("use", "hh", "hh_ok", "oth", "oth_ok", "late"), 0))
        if kind == RETIRED:
            continue
        c["use"] += count
        if kind == IN_USE_OVERDUE or (kind >= HOUSEHOLD and kind % 4 == OVERDUE):
            c["late"] += count
        if kind >= HOUSEHOLD:
            group = "hh" if kind < OTHER_MANDATORY else "oth"
            c[group] += count
            c[f"{group}_ok"] += count if kind % 4 == VERIFIED else 0
    return {
        org_id: Figures(
            c["use"],
            c["hh"] + c["oth"],
            Rate(c["hh_ok"], c["hh"]),
            Rate(c["oth_ok"], c["oth"]),
            c["late"],
        )
        for org_id, c in counts.items()
    }


def instrument_figures(session: Session, firm_ids, today: date) -> dict[int, Figures]:
    """Return each client's instrument figures for today (one aggregate statement)."""
    if session.get_bind().dialect.name == "postgresql":
        # Compiling this scan to machine code costs more than it saves (half a second at 1M rows).
        session.execute(text("SET LOCAL jit = off"))
    return fold_figures(session.execute(instrument_figures_statement(firm_ids, today)).all())


def work_done(session: Session, institute_id: int, firm_ids, first: datetime, last: datetime):
    """Return the visits and the service orders the institute completed for each client in [first, last)."""
    visits = dict(
        session.execute(
            select(Visit.firm_id, func.count(Visit.id))
            .where(
                Visit.institute_id == institute_id,
                Visit.firm_id.in_(firm_ids),
                Visit.state == "completed",
                Visit.completed_at >= first,
                Visit.completed_at < last,
            )
            .group_by(Visit.firm_id)
        ).all()
    )
    orders = dict(
        session.execute(
            select(ServiceOrder.firm_id, func.count(ServiceOrder.id))
            .where(
                ServiceOrder.institute_id == institute_id,
                ServiceOrder.firm_id.in_(firm_ids),
                DONE_ORDER,
                ServiceOrder.changed_at >= first,
                ServiceOrder.changed_at < last,
            )
            .group_by(ServiceOrder.firm_id)
        ).all()
    )
    return visits, orders


@dataclass(frozen=True)
class Dashboard:
    """The region dashboard of a year: the regions (every one, reference order), and the day of the rates."""

    year: int
    today: date
    regions: list[RegionRow]

    @property
    def total(self) -> Figures:
        """Return the figures over every linked client."""
        total = Figures()
        for row in self.regions:
            total = total + row.figures
        return total

    @property
    def ranking(self) -> list[RegionRow]:
        """Return the regions with mandatory instruments, best inspection rate first."""
        return ranked(self.regions)


def region_dashboard(session: Session, actor: Actor, today: date, year: int, timezone: str) -> Dashboard:
    """Return the institute's dashboard: its actively linked clients by region, with their figures."""
    require_reports(actor)
    institute_id = actor.home_org_id
    linked = active_client_ids(institute_id)
    firms = session.execute(
        select(Organization.id, Organization.slug, Organization.name, Organization.region_code).where(
            Organization.id.in_(linked)
        )
    ).all()
    figures = instrument_figures(session, linked, today)
    visits, orders = work_done(session, institute_id, linked, *year_bounds(year, timezone))
    clients = [
        Client(
            firm.id,
            firm.slug,
            firm.name,
            firm.region_code,
            figures.get(firm.id, Figures())
            + Figures(visits=visits.get(firm.id, 0), orders=orders.get(firm.id, 0)),
        )
        for firm in firms
    ]
    return Dashboard(year, today, group_by_region(clients))


def region_detail(
    session: Session, actor: Actor, code: str, today: date, year: int, timezone: str
) -> RegionRow:
    """Return one region of the dashboard with its clients; an unknown code is a 404."""
    require_reports(actor)
    check_region(code)
    # The dashboard reads every client at once in a handful of statements: one region reuses it.
    dashboard = region_dashboard(session, actor, today, year, timezone)
    return next(
        (row for row in dashboard.regions if row.code == code),
        RegionRow(code, None),
    )


def region_names() -> Mapping[str, str]:
    """Return the names of the regions by code."""
    return {r.code: r.name for r in henan_regions()}
