"""What the report pages, the API and the CLI read: each report's figures for the actor's organisation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from service.actors import Actor
from service.nominations import queries as nomination_queries
from service.nominations.dossier import FigureSets
from service.reports import dashboard, kpis, lists
from service.reports.dashboard import DueByMonth, OnTimeMonth
from service.reports.kpis import KpiReport
from service.reports.lists import NonconformityReport, OverdueLine

#: How the due chart may stack its bars.
DUE_GROUPS = ("label", "department")


@dataclass(frozen=True)
class FirmDashboard:
    """Everything the firm's dashboard draws."""

    today: date
    due: DueByMonth
    overdue: list[tuple[int, int]]
    statuses: dict[str | None, int]
    abc: dict[str | None, int]
    figures: FigureSets
    on_time: list[OnTimeMonth]
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
            "inspection": {
                "inspection": kpis.rate_dict("inspection", self.figures.inspection.rate),
                "household": kpis.rate_dict("household", self.figures.household.rate),
                "other_mandatory": kpis.rate_dict("other_mandatory", self.figures.other_mandatory.rate),
            },
            "on_time_by_month": [{"month": month.month.key} | month.rate.as_dict() for month in self.on_time],
        }


def firm_dashboard(session: Session, actor: Actor, today: date, due_by: str = "label") -> FirmDashboard:
    """Return the dashboard's figures as of ``today``; the due chart is stacked by ``due_by``."""
    found = nomination_queries.figure_sets(session, actor, today, today)
    return FirmDashboard(
        today=today,
        due=dashboard.due_by_month(session, actor, today, due_by),
        overdue=dashboard.overdue_by_department(session, actor, today),
        statuses=dashboard.count_by(session, actor, "status"),
        abc=dashboard.count_by(session, actor, "abc_class"),
        figures=found,
        on_time=dashboard.on_time_by_month(found.due_dates, today),
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
