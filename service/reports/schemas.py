"""Inputs and outputs of the reports' API (they also document it)."""

from __future__ import annotations

from marshmallow import fields

from service.reports.regions import FIRST_YEAR, LAST_YEAR
from service.schemas import StrictSchema, WholeNumber, int_range
from service.visits.disciplines import DISCIPLINES


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
