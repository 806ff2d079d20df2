"""The KPI report: the dossier's instrument figures for the whole firm, by department and by ABC class.

Each group's figures are the award dossier's (:class:`service.nominations.dossier.FigureSets`)
over the group's instruments, so a department's rate is computed exactly as the firm's is, and the
inspection rate is split into household meters (98% target) and the other mandatory instruments
(95%).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from models.ledger import ABC_CLASSES
from service import figures
from service.figures import InstrumentFacts, Rate
from service.nominations.dossier import FigureSets

#: The figures of a KPI line, in the order pages and files show them.
FIGURES = ("coverage", "on_time", "inspection", "household", "other_mandatory")
#: The target each figure is held to, where the province sets one.
TARGETS = {
    "inspection": figures.INSPECTION_TARGET,
    "household": figures.HOUSEHOLD_METER_TARGET,
    "other_mandatory": figures.INSPECTION_TARGET,
}


@dataclass(frozen=True)
class KpiLine:
    """The figures of one group of instruments (the firm, a department, an ABC class)."""

    #: The department id, the ABC class, or None (the firm, or instruments with no group).
    key: int | str | None
    name: str | None
    in_use: int
    periodic: int
    mandatory: int
    rates: dict[str, Rate]

    def as_dict(self) -> dict:
        """Return the line as plain data, each rate with its parts and, where set, its target."""
        return {
            "in_use": self.in_use,
            "periodic": self.periodic,
            "mandatory": self.mandatory,
        } | {figure: rate_dict(figure, rate) for figure, rate in self.rates.items()}


def rate_dict(figure: str, rate: Rate) -> dict:
    """Return a figure's rate with its parts and, where the province sets one, its target."""
    target = TARGETS.get(figure)
    extra = {"target": target, "meets_target": rate.meets(target)} if target is not None else {}
    return rate.as_dict() | extra


def kpi_line(key, name: str | None, facts: list[InstrumentFacts], as_of: date) -> KpiLine:
    """Return the figures of ``facts`` as of ``as_of``."""
    found = FigureSets.of(facts, as_of)
    in_use = figures.in_use(facts, as_of)
    return KpiLine(
        key=key,
        name=name,
        in_use=len(in_use),
        periodic=sum(1 for fact in in_use if fact.is_periodic),
        mandatory=sum(1 for fact in in_use if fact.is_mandatory),
        rates={
            "coverage": found.coverage.rate,
            "on_time": found.on_time,
            "inspection": found.inspection.rate,
            "household": found.household.rate,
            "other_mandatory": found.other_mandatory.rate,
        },
    )


@dataclass(frozen=True)
class KpiReport:
    """The firm's figures as of a day, and the same by department and by ABC class."""

    as_of: date
    window: tuple[date, date]
    overall: KpiLine
    by_department: list[KpiLine]
    by_abc: list[KpiLine]

    def as_dict(self) -> dict:
        """Return the report as plain data (what the CLI prints and the API returns)."""
        return {
            "as_of": self.as_of,
            "window": {"from_": self.window[0], "to": self.window[1]},
            "overall": self.overall.as_dict(),
            "by_department": [
                {"department_id": line.key, "department": line.name} | line.as_dict()
                for line in self.by_department
            ],
            "by_abc": [{"abc_class": line.key} | line.as_dict() for line in self.by_abc],
        }


def kpi_report(facts: list[InstrumentFacts], departments: dict[int, str], as_of: date) -> KpiReport:
    """Return the KPI report of ``facts`` as of ``as_of``; ``departments`` names them by id.

    A group appears when it has an instrument in the ledger on the day; instruments with no
    department (or no ABC class) form a group of their own, last.
    """
    present = [fact for fact in facts if fact.entered_on <= as_of]
    by_department = _grouped(present, lambda fact: fact.department_id)
    by_abc = _grouped(present, lambda fact: fact.abc_class)
    department_order = sorted(
        (key for key in by_department if key is not None), key=lambda key: (departments.get(key, ""), key)
    )
    abc_order = [cls for cls in ABC_CLASSES if cls in by_abc]
    return KpiReport(
        as_of=as_of,
        window=figures.on_time_window(as_of),
        overall=kpi_line(None, None, present, as_of),
        by_department=[
            kpi_line(key, departments.get(key) if key is not None else None, by_department[key], as_of)
            for key in [*department_order, *([None] if None in by_department else [])]
        ],
        by_abc=[
            kpi_line(key, key, by_abc[key], as_of)
            for key in [*abc_order, *([None] if None in by_abc else [])]
        ],
    )


def _grouped(facts: list[InstrumentFacts], key) -> dict:
    groups: dict = {}
    for fact in facts:
        groups.setdefault(key(fact), []).append(fact)
    return groups
