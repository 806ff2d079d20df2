"""The dashboard's figures, computed once per change of the ledger and kept.

The inspection rate and the on-time rate per month come from every instrument's results and
approvals (:func:`service.figures.read_facts`): about a second per 20,000 instruments. The ledger's
counts, the due and overdue charts and the status and ABC counts read the firm's whole ledger
too: a quarter of a second for 50,000 instruments on PostgreSQL, for a page opened all day by
everyone. All of it is kept in ``figure_snapshots`` with the sequence number of the
organisation's history: every change to the ledger (an instrument, a result, an approval, an
import) appends to that history, so a snapshot is reused only while nothing changed since, on the
same day. What changes without history (status requests awaiting a decision) is read live by the
caller. Nothing is kept in process memory.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import FigureSnapshot, HistoryHead, Organization
from service import figures
from service.actors import Actor
from service.bulk import upsert_insert
from service.figures import Rate
from service.ledger.queries import LedgerCounts, instrument_counts
from service.nominations.dossier import FigureSets
from service.reports import dashboard
from service.reports.dashboard import DueByMonth, OnTimeMonth, months_from, months_up_to, on_time_by_month

#: The inspection figures a snapshot keeps.
INSPECTION_FIGURES = ("inspection", "household", "other_mandatory")
#: The layout of a snapshot's figures; a snapshot kept in another layout is computed again.
LAYOUT = 2
#: How the due chart may stack its bars (each kept).
DUE_GROUPS = ("label", "department")


@dataclass(frozen=True)
class DashboardRates:
    """The inspection rates today and the on-time rate of each of the last 12 months."""

    inspection: dict[str, Rate]
    on_time: list[OnTimeMonth]

    def as_json(self) -> dict:
        """Return the figures as JSON-able data (numerators and denominators)."""
        return {
            "inspection": {key: [rate.numerator, rate.denominator] for key, rate in self.inspection.items()},
            "on_time": {
                month.month.key: [month.rate.numerator, month.rate.denominator] for month in self.on_time
            },
        }

    @classmethod
    def from_json(cls, data: dict, today: date) -> DashboardRates:
        """Return the figures kept by :meth:`as_json`."""
        return cls(
            inspection={key: Rate(*data["inspection"][key]) for key in INSPECTION_FIGURES},
            on_time=[
                OnTimeMonth(month, Rate(*data["on_time"].get(month.key, (0, 0))))
                for month in months_up_to(today, figures.ON_TIME_MONTHS)
            ],
        )


@dataclass(frozen=True)
class KeptFigures:
    """Everything the firm's dashboard draws from its ledger, as of one day."""

    #: The ledger's counts; ``pending_requests`` is 0 here (read live: it changes no history).
    counts: LedgerCounts
    #: The due chart by label and by department.
    due: dict[str, DueByMonth]
    overdue: list[tuple[int, int]]
    statuses: dict[str | None, int]
    abc: dict[str | None, int]
    rates: DashboardRates

    def as_json(self) -> dict:
        """Return the figures as JSON-able data (pairs where a key may be a number or null)."""
        return self.rates.as_json() | {
            "layout": LAYOUT,
            "counts": list(astuple(self.counts)),
            "due": {
                by: [[group, chart.counts[group]] for group in chart.groups] for by, chart in self.due.items()
            },
            "overdue": [list(pair) for pair in self.overdue],
            "statuses": list(self.statuses.items()),
            "abc": list(self.abc.items()),
        }

    @classmethod
    def from_json(cls, data: dict, today: date) -> KeptFigures:
        """Return the figures kept by :meth:`as_json` (whose months start with ``today``'s)."""
        months = months_from(today, dashboard.MONTHS_AHEAD)
        return cls(
            counts=LedgerCounts(*data["counts"]),
            due={
                by: DueByMonth(months, [group for group, _ in pairs], dict(pairs))
                for by, pairs in data["due"].items()
            },
            overdue=[(dept, count) for dept, count in data["overdue"]],
            statuses=dict(data["statuses"]),
            abc=dict(data["abc"]),
            rates=DashboardRates.from_json(data, today),
        )


def compute(session: Session, actor: Actor, today: date) -> KeptFigures:
    """Read the dashboard's figures as of ``today`` from the ledger and every instrument's history."""
    org = session.get(Organization, actor.org_id)
    found = FigureSets.of(figures.read_facts(session, org.id, org.timezone), today)
    return KeptFigures(
        counts=instrument_counts(session, actor, today),
        due={by: dashboard.due_by_month(session, actor, today, by) for by in DUE_GROUPS},
        overdue=dashboard.overdue_by_department(session, actor, today),
        statuses=dashboard.count_by(session, actor, "status"),
        abc=dashboard.count_by(session, actor, "abc_class"),
        rates=DashboardRates(
            inspection={key: getattr(found, key).rate for key in INSPECTION_FIGURES},
            on_time=on_time_by_month(found.due_dates, today),
        ),
    )


def dashboard_figures(session: Session, actor: Actor, today: date) -> KeptFigures:
    """Return today's figures from the snapshot when the history has not moved since; else compute them."""
    actor.require("ledger.read")
    head = session.scalar(select(HistoryHead.last_seq).where(HistoryHead.org_id == actor.org_id)) or 0
    snapshot = session.scalar(
        select(FigureSnapshot).where(FigureSnapshot.org_id == actor.org_id, FigureSnapshot.as_of == today)
    )
    if snapshot is not None and snapshot.history_seq == head and snapshot.figures.get("layout") == LAYOUT:
        return KeptFigures.from_json(snapshot.figures, today)
    kept = compute(session, actor, today)
    _keep(session, actor.org_id, today, head, kept.as_json())
    return kept


def _keep(session: Session, org_id: int, today: date, head: int, data: dict) -> None:
    """Insert or replace the day's snapshot (and drop the days before); two requests at once both succeed."""
    session.execute(
        delete(FigureSnapshot).where(FigureSnapshot.org_id == org_id, FigureSnapshot.as_of < today)
    )
    dialect_insert = upsert_insert(session.get_bind().dialect.name)
    values = {"org_id": org_id, "as_of": today, "history_seq": head, "figures": data}
    statement = dialect_insert(FigureSnapshot).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["org_id", "as_of"],
            set_={"history_seq": head, "figures": data, "computed_at": statement.excluded.computed_at},
        )
    )
