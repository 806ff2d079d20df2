"""The reports' query strings and outputs: they validate pages' and API input and document the API."""

from __future__ import annotations

from marshmallow import fields, validate

from models.ledger import CONTROL_METHODS
from service.i18n import N_
from service.nominations.schemas import EARLIEST_DAY, RateOut, TargetRateOut, WindowOut
from service.reports import plan
from service.schemas import StrictSchema, WholeNumber, int_range
from service.scoping import MAX_ID
from service.visits.disciplines import DISCIPLINES

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


# The periodic verification and calibration plan.


class PeriodicPlanQuery(StrictSchema):
    """The query string of the periodic plan: its year, optionally a month, a department, a grouping."""

    year = WholeNumber(
        allow_none=True,
        validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR, error=N_("Pick a year from 2000 to 2100.")),
        metadata={"description": "The plan's year (default: this year)."},
    )
    month = WholeNumber(
        allow_none=True,
        validate=int_range(1, 12),
        metadata={"description": "One month (1-12) of the year; default: the whole year."},
    )
    department = WholeNumber(
        allow_none=True,
        validate=int_range(1, MAX_ID),
        metadata={"description": "Only the instruments of this department (its id)."},
    )
    group = fields.String(
        load_default="department",
        # Its own message: the codes' names elsewhere (本院部门) would mislead here.
        validate=validate.OneOf(plan.GROUPINGS, error=N_("Group by department or by laboratory.")),
        metadata={
            "enum": list(plan.GROUPINGS),
            "description": "How the page groups the lines (the API lists them by month).",
        },
    )


class PlanTallyOut(StrictSchema):
    """Counts of plan lines by execution state, with the completion rates.

    ``completion`` (计划完成率) is lines done, on time or late, ÷ lines planned; ``on_time_completion``
    (按期完成率) is lines done on or before their due date ÷ lines planned. ``not_done`` is
    ``overdue`` (past the due date) plus ``pending`` (not yet due).
    """

    planned = fields.Integer()
    on_time = fields.Integer()
    late = fields.Integer()
    done = fields.Integer()
    overdue = fields.Integer()
    pending = fields.Integer()
    not_done = fields.Integer()
    completion = fields.Nested(RateOut)
    on_time_completion = fields.Nested(RateOut)


class PeriodicPlanMonthOut(PlanTallyOut):
    """One month of the plan: the lines planned in it and how they went."""

    month = fields.Integer(metadata={"description": "1-12"})


class PeriodicPlanLineOut(StrictSchema):
    """A plan line: an instrument's due date, the month it is planned in, and its execution so far."""

    instrument_id = fields.Integer()
    management_no = fields.String()
    name = fields.String()
    model = fields.String(allow_none=True)
    measuring_range = fields.String(allow_none=True)
    accuracy = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    lab = fields.String(allow_none=True)
    control_method = fields.String(allow_none=True, metadata={"enum": list(CONTROL_METHODS)})
    is_mandatory = fields.Boolean()
    due_on = fields.Date()
    planned_month = fields.Integer()
    overdue_at_start = fields.Boolean(
        metadata={
            "description": "Already past its due date at the period's start (planned in its first month)."
        }
    )
    state = fields.String(
        metadata={
            "enum": list(plan.STATES),
            "description": "on_time: renewed on or before the due date; late: renewed after it; "
            "overdue: not renewed and the due date has passed; pending: not renewed, not yet due.",
        }
    )
    done_on = fields.Date(allow_none=True, metadata={"description": "The renewing result's day."})


class PeriodicPlanCheckOut(StrictSchema):
    """An intermediate check (期间核查) due in the period: its plan, its date, who does it, how it went."""

    check_plan_id = fields.Integer()
    instrument_id = fields.Integer()
    management_no = fields.String()
    name = fields.String()
    department = fields.String(allow_none=True)
    check_object = fields.String(metadata={"description": "The check standard or object used."})
    performer = fields.String(
        allow_none=True,
        metadata={"description": "The plan's person by name; null: the firm's metrology staff."},
    )
    due_on = fields.Date()
    planned_month = fields.Integer()
    overdue_at_start = fields.Boolean(
        metadata={
            "description": "Already past its due date at the period's start (planned in its first month)."
        }
    )
    projected = fields.Boolean(
        metadata={
            "description": "Counted forward from the open due date by the plan's interval (when that "
            "date is overdue, from today); false: set by a check done."
        }
    )
    state = fields.String(
        metadata={
            "enum": list(plan.STATES),
            "description": "on_time: checked on or before the due date; late: checked after it; "
            "overdue: not checked and the due date has passed; pending: not checked, not yet due.",
        }
    )
    done_on = fields.Date(allow_none=True, metadata={"description": "The day of the check that did it."})
    done_by = fields.String(allow_none=True, metadata={"description": "Who recorded that check."})


class PeriodicPlanOut(StrictSchema):
    """The periodic verification and calibration plan of your organisation, executed as of today."""

    org = fields.String(metadata={"description": "Your organisation's name."})
    year = fields.Integer()
    month = fields.Integer(allow_none=True)
    department_id = fields.Integer(allow_none=True)
    as_of = fields.Date(metadata={"description": "Today, the day the execution is read."})
    summary = fields.Nested(PlanTallyOut)
    months = fields.List(fields.Nested(PeriodicPlanMonthOut))
    lines = fields.List(fields.Nested(PeriodicPlanLineOut))
    checks_summary = fields.Nested(
        PlanTallyOut,
        metadata={"description": "The intermediate checks counted as the lines are (apart from them)."},
    )
    checks = fields.List(
        fields.Nested(PeriodicPlanCheckOut),
        metadata={
            "description": "The intermediate checks due in the period, of active check plans of "
            "instruments in use (not suspended, sealed or scrapped)."
        },
    )


def plan_payload(found) -> dict:
    """Return a :class:`~service.reports.queries.Plan` as :class:`PeriodicPlanOut` dumps it."""
    return {
        "org": found.org_name,
        "year": found.period.year,
        "month": found.period.month,
        "department_id": found.department.id if found.department else None,
        "as_of": found.today,
        "summary": found.total.as_dict(),
        "months": [{"month": month} | tally.as_dict() for month, tally in found.months.items()],
        "lines": [
            {
                "instrument_id": line.entry.instrument_id,
                "management_no": line.row.management_no,
                "name": line.row.name,
                "model": line.row.model,
                "measuring_range": line.row.measuring_range,
                "accuracy": line.row.accuracy,
                "department": line.row.department,
                "lab": line.row.lab,
                "control_method": line.row.control_method,
                "is_mandatory": line.row.is_mandatory,
                "due_on": line.entry.due_on,
                "planned_month": line.entry.planned_month,
                "overdue_at_start": line.entry.overdue_at_start,
                "state": line.entry.state,
                "done_on": line.entry.done_on,
            }
            for line in found.lines
        ],
        "checks_summary": found.check_total.as_dict(),
        "checks": [
            {
                "check_plan_id": check.due.plan_id,
                "instrument_id": check.due.instrument_id,
                "management_no": check.management_no,
                "name": check.name,
                "department": check.department,
                "check_object": check.check_object,
                "performer": check.performer,
                "due_on": check.due.due_on,
                "planned_month": check.due.planned_month,
                "overdue_at_start": check.due.overdue_at_start,
                "projected": check.due.projected,
                "state": check.due.state,
                "done_on": check.due.done_on,
                "done_by": check.due.done_by,
            }
            for check in found.checks
        ],
    }


# -- The institute's reports: the region dashboard and the service statistics ------------------------


class InstituteReportYear(StrictSchema):
    """The year of a report (this year when absent)."""

    year = WholeNumber(
        validate=int_range(FIRST_YEAR, LAST_YEAR),
        metadata={"description": "The calendar year; this year when absent."},
    )


class RegionRateOut(StrictSchema):
    """A share with what it was computed from."""

    rate = fields.Float(
        allow_none=True, metadata={"description": "A fraction (0.9512), null with nothing counted."}
    )
    numerator = fields.Integer()
    denominator = fields.Integer()


class RegionFiguresOut(StrictSchema):
    """The region dashboard's figures of a client or a region."""

    instruments = fields.Integer(metadata={"description": "Instruments in use."})
    mandatory = fields.Integer(metadata={"description": "Mandatory (强检) instruments in use."})
    inspection = fields.Nested(
        RegionRateOut, metadata={"description": "Inspection rate of every mandatory instrument."}
    )
    household = fields.Nested(
        RegionRateOut, metadata={"description": "Inspection rate of household meters (target 98%)."}
    )
    other = fields.Nested(
        RegionRateOut, metadata={"description": "Inspection rate of the other mandatory ones (target 95%)."}
    )
    meets_targets = fields.Boolean(
        allow_none=True, metadata={"description": "Both rates reach their targets."}
    )
    overdue = fields.Integer(metadata={"description": "Instruments in use past their due date."})
    visits_completed = fields.Integer(
        metadata={"description": "Visits of the institute completed in the year."}
    )
    orders_completed = fields.Integer(
        metadata={"description": "Service orders returned (or completed on site) in the year."}
    )


class RegionOut(StrictSchema):
    """A region of the dashboard: a Henan city or directly administered county, or `unknown`."""

    code = fields.String(metadata={"description": "A GB/T 2260 code, or `unknown`."})
    name = fields.String(allow_none=True)
    clients = fields.Integer(metadata={"description": "Actively linked clients in the region."})
    figures = fields.Nested(RegionFiguresOut)


class RegionTargetsOut(StrictSchema):
    """The provincial targets of the inspection rate."""

    household = fields.Float()
    other = fields.Float()


class RegionDashboardOut(StrictSchema):
    """The region dashboard of a year."""

    year = fields.Integer()
    today = fields.Date(metadata={"description": "The day of the instrument figures and rates."})
    targets = fields.Nested(RegionTargetsOut)
    regions = fields.List(fields.Nested(RegionOut))
    ranking = fields.List(fields.String(), metadata={"description": "Codes by inspection rate, best first."})
    total = fields.Nested(RegionFiguresOut)


class RegionClientOut(StrictSchema):
    """A linked client of a region, with its figures."""

    id = fields.Integer()
    slug = fields.String()
    name = fields.String()
    region_code = fields.String(allow_none=True)
    figures = fields.Nested(RegionFiguresOut)


class RegionDetailOut(StrictSchema):
    """One region of the dashboard with its clients."""

    year = fields.Integer()
    today = fields.Date()
    code = fields.String()
    name = fields.String(allow_none=True)
    figures = fields.Nested(RegionFiguresOut)
    clients = fields.List(fields.Nested(RegionClientOut))


class ServiceMonthlyCountsOut(StrictSchema):
    """Instruments calibrated per month (January first) by one discipline or technician."""

    key = fields.String(allow_none=True)
    name = fields.String()
    per_month = fields.List(fields.Integer())
    total = fields.Integer()


class ServiceTurnaroundOut(StrictSchema):
    """Turnaround of the service orders returned in a month (or the year: month null)."""

    month = fields.Integer(allow_none=True)
    orders = fields.Integer()
    median_days = fields.Float(allow_none=True)
    mean_days = fields.Float(allow_none=True)


class ServiceOnTimeOut(StrictSchema):
    """Visits completed in a month (or the year: month null), and those on time."""

    month = fields.Integer(allow_none=True)
    rate = fields.Float(allow_none=True)
    numerator = fields.Integer()
    denominator = fields.Integer()


class ServiceStatsOut(StrictSchema):
    """The institute's service statistics of a year."""

    year = fields.Integer()
    total = fields.Integer(metadata={"description": "Instruments calibrated in the year."})
    per_month = fields.List(fields.Integer())
    by_discipline = fields.List(
        fields.Nested(ServiceMonthlyCountsOut), metadata={"description": f"Keys: {', '.join(DISCIPLINES)}."}
    )
    by_technician = fields.List(
        fields.Nested(ServiceMonthlyCountsOut),
        metadata={"description": "Keys: technician ids; null: not attributed."},
    )
    turnaround = fields.List(fields.Nested(ServiceTurnaroundOut))
    turnaround_year = fields.Nested(ServiceTurnaroundOut)
    visits_on_time = fields.List(fields.Nested(ServiceOnTimeOut))
    visits_on_time_year = fields.Nested(ServiceOnTimeOut)
