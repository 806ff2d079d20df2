"""The reports' query strings and outputs: they validate pages' and API input and document the API."""

from __future__ import annotations

from marshmallow import fields, validate

from service.i18n import N_
from service.nominations.schemas import EARLIEST_DAY, RateOut, TargetRateOut, WindowOut
from service.schemas import StrictSchema

#: The years a report may ask for.
FIRST_YEAR, LAST_YEAR = 2000, 2100


class AsOfQuery(StrictSchema):
    """As of which day (the KPI report)."""

    as_of = fields.Date(
        allow_none=True,
        validate=validate.Range(min=EARLIEST_DAY, error=N_("Pick a day from 2000 on.")),
        metadata={"description": "Default: today in the organisation's time zone; from 2000-01-01."},
    )


class DepartmentQuery(StrictSchema):
    """One department or all (the overdue report)."""

    department = fields.Integer(
        allow_none=True, metadata={"description": "A department's id; default: every department."}
    )


class YearQuery(StrictSchema):
    """A calendar year (the nonconformity report)."""

    year = fields.Integer(
        allow_none=True,
        validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR, error=N_("Pick a year from 2000 to 2100.")),
        metadata={"description": "Default: this year."},
    )


class KpiLineOut(StrictSchema):
    """The figures of a group of instruments (rates as fractions, each with its parts)."""

    in_use = fields.Integer(metadata={"description": "Instruments in use (在用) on the day."})
    periodic = fields.Integer(metadata={"description": "Of them, under periodic control."})
    mandatory = fields.Integer(metadata={"description": "Of them, mandatory (强检)."})
    coverage = fields.Nested(
        RateOut, metadata={"description": "Periodic instruments in use within validity."}
    )
    on_time = fields.Nested(
        RateOut, metadata={"description": "Due dates of the 12 months up to the day met."}
    )
    inspection = fields.Nested(
        TargetRateOut, metadata={"description": "Inspection rate (受检率), all mandatory."}
    )
    household = fields.Nested(TargetRateOut, metadata={"description": "Household meters (98% target)."})
    other_mandatory = fields.Nested(TargetRateOut, metadata={"description": "Other mandatory (95% target)."})


class DepartmentKpiOut(KpiLineOut):
    """A department's figures (department null: instruments kept by no department)."""

    department_id = fields.Integer(allow_none=True)
    department = fields.String(allow_none=True)


class AbcKpiOut(KpiLineOut):
    """An ABC class's figures (abc_class null: unclassified instruments)."""

    abc_class = fields.String(allow_none=True)


class KpiReportOut(StrictSchema):
    """The KPI report: the award dossier's figures for the whole organisation, by department and ABC class."""

    org = fields.String()
    as_of = fields.Date()
    window = fields.Nested(WindowOut)
    overall = fields.Nested(KpiLineOut)
    by_department = fields.List(fields.Nested(DepartmentKpiOut))
    by_abc = fields.List(fields.Nested(AbcKpiOut))


class OverdueLineOut(StrictSchema):
    """An instrument in use past its due date."""

    id = fields.Integer()
    management_no = fields.String()
    name = fields.String()
    model = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    custodian = fields.String(allow_none=True)
    lab = fields.String(allow_none=True)
    is_mandatory = fields.Boolean()
    next_due_on = fields.Date()
    days_overdue = fields.Integer()


class OverdueReportOut(StrictSchema):
    """The instruments overdue today, by department name, the longest overdue first."""

    as_of = fields.Date()
    total = fields.Integer()
    by_department = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "Instruments overdue per department name ('' for none)."},
    )
    items = fields.List(fields.Nested(OverdueLineOut))


class CaseLineOut(StrictSchema):
    """A nonconformity case opened in the year."""

    id = fields.Integer()
    instrument_id = fields.Integer()
    management_no = fields.String()
    name = fields.String()
    opened_on = fields.Date()
    source = fields.String()
    state = fields.String()
    disposition = fields.String(allow_none=True)
    closed_on = fields.Date(allow_none=True)
    outcome = fields.String(metadata={"description": "The disposition, or 'open' while the case awaits one."})


class NonconformityReportOut(StrictSchema):
    """Nonconformity cases opened per month of a year, by outcome (disposition or open)."""

    year = fields.Integer()
    months = fields.List(fields.String(), metadata={"description": "The months, as 2026-01 … 2026-12."})
    by_month = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Integer()),
        metadata={"description": "Per outcome, the cases opened in each month."},
    )
    cases = fields.List(fields.Nested(CaseLineOut))


class DashboardQuery(StrictSchema):
    """How the due chart is split."""

    due_by = fields.String(
        load_default="label",
        validate=validate.OneOf(("label", "department")),
        metadata={"description": "Split the instruments due per month by label (default) or department."},
    )


class DueGroupOut(StrictSchema):
    """One group of the due chart: a label, or a department (0: none; -1: the other departments)."""

    group = fields.String(
        metadata={"description": "green|yellow|red, or a department id (0 none, -1 the rest)."}
    )
    name = fields.String(
        allow_none=True, metadata={"description": "The department's name, when by department."}
    )
    counts = fields.List(fields.Integer(), metadata={"description": "Instruments due in each month."})


class DepartmentCountOut(StrictSchema):
    """Instruments of one department (department_id null: kept by none)."""

    department_id = fields.Integer(allow_none=True)
    department = fields.String(allow_none=True)
    count = fields.Integer()


class MonthRateOut(RateOut):
    """A month's on-time rate."""

    month = fields.String(metadata={"description": "2026-12"})


class InspectionRatesOut(StrictSchema):
    """The inspection rate today, all mandatory instruments and split by target."""

    inspection = fields.Nested(TargetRateOut)
    household = fields.Nested(TargetRateOut)
    other_mandatory = fields.Nested(TargetRateOut)


class DashboardOut(StrictSchema):
    """The firm dashboard's figures (what its charts draw)."""

    today = fields.Date()
    due_by = fields.String()
    months = fields.List(fields.String(), metadata={"description": "The 12 months ahead, this one first."})
    due = fields.List(fields.Nested(DueGroupOut))
    overdue_by_department = fields.List(fields.Nested(DepartmentCountOut))
    statuses = fields.Dict(keys=fields.String(), values=fields.Integer())
    abc = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "Instruments in use by ABC class ('none': unclassified)."},
    )
    inspection = fields.Nested(InspectionRatesOut)
    on_time_by_month = fields.List(fields.Nested(MonthRateOut))
