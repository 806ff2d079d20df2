"""What technicians and visit plans accept and show (web forms and API alike)."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates

from service.i18n import N_
from service.schemas import StrictSchema, Text, WholeNumber, int_range
from service.visits.disciplines import DISCIPLINES

#: The longest plan one asks for (a quarter).
MAX_PLAN_DAYS = 92


class TechnicianIn(StrictSchema):
    """A technician of the institute."""

    name = Text(100, required=True)
    user_id = fields.Integer(allow_none=True, validate=int_range(1, 2**31 - 1))
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


class PlanIn(StrictSchema):
    """The window a visit plan covers."""

    start = fields.Date(required=True, data_key="from")
    days = WholeNumber(required=True, validate=int_range(1, MAX_PLAN_DAYS))
