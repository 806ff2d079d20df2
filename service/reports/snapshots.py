"""The dashboard's history-based figures, computed once per change of the ledger and kept.

The inspection rate and the on-time rate per month come from every instrument's results and
approvals (:func:`service.figures.read_facts`): about a second per 20,000 instruments, too slow
for a page opened all day. They are kept in ``figure_snapshots`` with the sequence number of the
organisation's history: every change to the ledger (an instrument, a result, an approval, an
import) appends to that history, so a snapshot is reused only while nothing changed since, on the
same day. Nothing is kept in process memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import FigureSnapshot, HistoryHead, Organization
from service import figures
from service.actors import Actor
from service.bulk import upsert_insert
from service.figures import Rate
from service.nominations.dossier import FigureSets
from service.reports.dashboard import OnTimeMonth, months_up_to, on_time_by_month

#: The inspection figures a snapshot keeps.
INSPECTION_FIGURES = ("inspection", "household", "other_mandatory")


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


def compute(found: FigureSets, today: date) -> DashboardRates:
    """Return the dashboard's rates from the dossier's figure sets as of ``today``."""
    return DashboardRates(
        inspection={key: getattr(found, key).rate for key in INSPECTION_FIGURES},
        on_time=on_time_by_month(found.due_dates, today),
    )


def dashboard_rates(session: Session, actor: Actor, today: date) -> DashboardRates:
    """Return today's rates from the snapshot when the history has not moved since; else compute them."""
    actor.require("ledger.read")
    head = session.scalar(select(HistoryHead.last_seq).where(HistoryHead.org_id == actor.org_id)) or 0
    snapshot = session.scalar(
        select(FigureSnapshot).where(FigureSnapshot.org_id == actor.org_id, FigureSnapshot.as_of == today)
    )
    if snapshot is not None and snapshot.history_seq == head:
        return DashboardRates.from_json(snapshot.figures, today)
    org = session.get(Organization, actor.org_id)
    rates = compute(FigureSets.of(figures.read_facts(session, org.id, org.timezone), today), today)
    _keep(session, actor.org_id, today, head, rates.as_json())
    return rates


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
