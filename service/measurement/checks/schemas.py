"""What intermediate-check plans and checks accept and show (web forms and API alike)."""

from __future__ import annotations

import math

from marshmallow import ValidationError, fields, validate, validates_schema

from models.checks import BASELINE_MODES
from service.i18n import N_
from service.schemas import Choice, Flag, StrictSchema, Text, WholeNumber


class FiniteNumber(fields.Float):
    """A finite number (no NaN, no infinity)."""

    def _validated(self, value):
        number = super()._validated(value)
        if number is not None and not math.isfinite(number):
            raise ValidationError(N_("Not a valid number."))
        return number


class CheckPointIn(StrictSchema):
    """A check point: what is checked, its nominal value and MPE, and an entered baseline."""

    id = WholeNumber(allow_none=True)
    label = Text(100, required=True)
    nominal = FiniteNumber(required=True)
    unit = Text(20)
    mpe = FiniteNumber(allow_none=True, validate=validate.Range(min=0, min_inclusive=False))
    centre = FiniteNumber(allow_none=True)
    sigma = FiniteNumber(allow_none=True, validate=validate.Range(min=0, min_inclusive=False))


class CheckPlanIn(StrictSchema):
    """A plan: what checks the instrument, how often, by whom, against which baseline."""

    check_object = Text(200, required=True)
    check_instrument_id = WholeNumber(allow_none=True)
    interval_months = WholeNumber(allow_none=True, validate=validate.Range(min=1, max=120))
    interval_days = WholeNumber(allow_none=True, validate=validate.Range(min=1, max=3650))
    performer_user_id = WholeNumber(allow_none=True)
    baseline_mode = Choice(BASELINE_MODES, load_default="first_n")
    baseline_n = WholeNumber(load_default=10, validate=validate.Range(min=10, max=100))
    next_due_on = fields.Date(allow_none=True)
    note = Text(2000, multiline=True)
    points = fields.List(fields.Nested(CheckPointIn), required=True, validate=validate.Length(min=1, max=20))

    @validates_schema
    def _one_interval(self, data, partial=None, **_kwargs):
        if partial:
            return  # a change: the operation checks the interval against the plan's
        months, days = data.get("interval_months"), data.get("interval_days")
        if (months is None) == (days is None):
            raise ValidationError(N_("Give the interval in months or in days."), "interval_months")


class CheckPlanPatch(CheckPlanIn):
    """A change to a plan: any field; ``active`` false deactivates it."""

    active = Flag()


class CheckReadingIn(StrictSchema):
    """One reading: the check point, the value read and the reference value."""

    point_id = WholeNumber(required=True)
    value = FiniteNumber(required=True)
    reference = FiniteNumber(required=True)


class CheckRecordIn(StrictSchema):
    """A check done: when, its readings (one per point), a note."""

    performed_on = fields.Date(required=True)
    readings = fields.List(fields.Nested(CheckReadingIn), required=True, validate=validate.Length(min=1))
    note = Text(2000, multiline=True)


class CheckPointOut(StrictSchema):
    """A check point as shown."""

    id = fields.Integer()
    label = fields.String()
    nominal = fields.Float()
    unit = fields.String(allow_none=True)
    mpe = fields.Float(allow_none=True)
    centre = fields.Float(allow_none=True)
    sigma = fields.Float(allow_none=True)


class CheckPlanOut(StrictSchema):
    """A plan as shown."""

    id = fields.Integer()
    instrument_id = fields.Integer()
    check_object = fields.String()
    check_instrument_id = fields.Integer(allow_none=True)
    interval_months = fields.Integer(allow_none=True)
    interval_days = fields.Integer(allow_none=True)
    performer_user_id = fields.Integer(allow_none=True)
    baseline_mode = fields.String()
    baseline_n = fields.Integer()
    baseline_fixed_on = fields.Date(allow_none=True)
    next_due_on = fields.Date(allow_none=True)
    active = fields.Boolean()
    note = fields.String(allow_none=True)
    points = fields.List(fields.Nested(CheckPointOut))


class CheckReadingOut(StrictSchema):
    """A reading as shown."""

    point_id = fields.Integer()
    value = fields.Float()
    reference = fields.Float()
    deviation = fields.Float()


class CheckRecordOut(StrictSchema):
    """A check as shown, with what it set off."""

    id = fields.Integer()
    plan_id = fields.Integer()
    performed_on = fields.Date()
    performed_by_name = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    readings = fields.List(fields.Nested(CheckReadingOut))


class CheckSignalOut(StrictSchema):
    """A Western Electric rule fired on a point's chart."""

    rule = fields.Integer()
    index = fields.Integer()
    side = fields.Integer()
    points = fields.List(fields.Integer())
    description = fields.String()


class CheckSeriesOut(StrictSchema):
    """One check point's chart: the dates, the deviations, the limits, the signals."""

    point_id = fields.Integer()
    label = fields.String()
    dates = fields.List(fields.Date())
    deviations = fields.List(fields.Float())
    limits = fields.Dict(keys=fields.String(), values=fields.Float(), allow_none=True)
    mpe = fields.Float(allow_none=True)
    out_of_tolerance = fields.List(fields.Integer())
    signals = fields.List(fields.Nested(CheckSignalOut))


class CheckChartOut(StrictSchema):
    """A plan's control charts, one per check point."""

    plan_id = fields.Integer()
    points = fields.List(fields.Nested(CheckSeriesOut))
