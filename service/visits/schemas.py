"""What technicians and visit plans accept and show (web forms and API alike)."""

from __future__ import annotations

from datetime import date

from marshmallow import ValidationError, fields, validate, validates

from service.i18n import N_
from service.schemas import StrictSchema, Text, WholeNumber, int_range
from service.visits.disciplines import DISCIPLINES

#: The longest plan one asks for (a quarter).
MAX_PLAN_DAYS = 92


class TechnicianIn(StrictSchema):
    """A technician of the institute."""

    name = Text(100, required=True)
    user_id = WholeNumber(allow_none=True, validate=int_range(1, 2**31 - 1))
    disciplines = fields.List(
        fields.String(), required=True, validate=validate.Length(min=1, max=len(DISCIPLINES))
    )
    daily_capacity = fields.Integer(required=True, validate=int_range(1, 500))
    is_active = fields.Boolean(load_default=True)

    @validates("disciplines")
    def _known(self, value, **_kwargs):
        unknown = [d for d in value if d not in DISCIPLINES]
        if unknown:
            raise ValidationError(N_("Unknown discipline: %(codes)s.", codes=", ".join(unknown)))


class DayOffIn(StrictSchema):
    """A day a technician is away."""

    day = fields.Date(required=True)
    reason = Text(200)


#: The days a plan may start on: any later and the window would run off the calendar.
FIRST_PLAN_DAY, LAST_PLAN_DAY = date(2000, 1, 1), date(2100, 12, 31)


def _plannable(value: date) -> None:
    if not FIRST_PLAN_DAY <= value <= LAST_PLAN_DAY:
        raise ValidationError(
            N_("Give a date between %(first)s and %(last)s.", first="2000-01-01", last="2100-12-31")
        )


class PlanIn(StrictSchema):
    """The window a visit plan covers."""

    start = fields.Date(required=True, data_key="from", validate=_plannable)
    days = WholeNumber(required=True, validate=int_range(1, MAX_PLAN_DAYS))
