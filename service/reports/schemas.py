"""What the reports take and show; the API's document is built from these schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from models.ledger import CONTROL_METHODS
from service.i18n import N_
from service.nominations.schemas import RateOut
from service.reports import plan
from service.schemas import StrictSchema, WholeNumber, int_range
from service.scoping import MAX_ID


class PeriodicPlanQuery(StrictSchema):
    """The query string of the periodic plan: its year, optionally a month, a department, a grouping."""

    year = WholeNumber(
        allow_none=True,
        validate=int_range(plan.FIRST_YEAR, plan.LAST_YEAR),
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
    }
