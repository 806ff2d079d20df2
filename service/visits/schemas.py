"""What technicians and visit plans accept and show (web forms and API alike)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from marshmallow import ValidationError, fields, validate, validates

from service.i18n import N_
from service.schemas import (
    ClientItemOut,
    SharedWithClientOut,
    StrictSchema,
    Text,
    WholeNumber,
    from_method,
    int_range,
)
from service.scoping import MAX_ID
from service.visits.disciplines import DISCIPLINES

#: The longest plan one asks for (a quarter).
MAX_PLAN_DAYS = 92


class TechnicianIn(StrictSchema):
    """A technician of the institute."""

    name = Text(100, required=True)
    user_id = WholeNumber(allow_none=True, validate=int_range(1, 2**31 - 1))
    disciplines = fields.List(
        fields.String(metadata={"enum": list(DISCIPLINES)}),
        required=True,
        validate=validate.Length(min=1, max=len(DISCIPLINES)),
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


class VisitItemOut(ClientItemOut):
    """An instrument of a visit and its outcome."""

    technician_id = fields.Integer(allow_none=True)
    due_on = fields.Date(allow_none=True)


class VisitOut(SharedWithClientOut):
    """A calibration visit of an institute to a client firm."""

    planned_on = fields.Date()
    state = fields.String()
    earliest_due_on = fields.Date(allow_none=True)
    requested_on = fields.Date(allow_none=True)
    client_note = fields.String(allow_none=True)
    answered_by_name = fields.String(allow_none=True)
    is_green_channel = fields.Boolean(metadata={"description": "Handled through the SME green channel."})
    items = fields.List(fields.Nested(VisitItemOut))


class VisitItemIn(StrictSchema):
    """An instrument to put on a visit, and who calibrates it."""

    instrument_id = fields.Integer(required=True, validate=int_range(1, MAX_ID))
    technician_id = fields.Integer(allow_none=True, validate=int_range(1, MAX_ID))


class VisitIn(StrictSchema):
    """A visit to propose to a linked client."""

    firm_id = fields.Integer(required=True, validate=int_range(1, MAX_ID))
    planned_on = fields.Date(required=True)
    items = fields.List(fields.Nested(VisitItemIn), required=True)


class VisitsIn(StrictSchema):
    """Visits to propose (for example those of ``GET /visits/plan`` you keep)."""

    visits = fields.List(fields.Nested(VisitIn), required=True)


class ClientCountsOut(StrictSchema):
    """A client's instrument counts; due and overdue count instruments still in use."""

    instruments = fields.Integer()
    due_30 = fields.Integer(metadata={"description": "Due from today to today + 30 days."})
    due_90 = fields.Integer(metadata={"description": "Due from today to today + 90 days."})
    overdue = fields.Integer()
    mandatory_overdue = fields.Integer(metadata={"description": "Overdue and under mandatory verification."})


class ContactOut(StrictSchema):
    """An active administrator of a client firm."""

    name = fields.String()
    mobile = fields.String(allow_none=True)
    email = fields.String()


class ClientOut(StrictSchema):
    """A linked client firm of the directory."""

    id = fields.Integer()
    slug = fields.String()
    name = fields.String()
    link_id = fields.Integer()
    linked_at = fields.DateTime()
    region_code = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    industry = fields.String(allow_none=True)
    size_class = fields.String(allow_none=True, metadata={"enum": ["small_medium", "large"]})
    is_sme = fields.Boolean(metadata={"description": "中小企业绿色通道: its work comes first in plans."})
    contacts = fields.List(fields.Nested(ContactOut))
    counts = fields.Nested(ClientCountsOut)


class BoardGroupOut(StrictSchema):
    """One group of the due board: a city, a client or a discipline, and its counts."""

    key = fields.Raw(
        allow_none=True, metadata={"description": "Region code, client id or discipline code (null: none)."}
    )
    name = fields.String(allow_none=True)
    count = fields.Integer()
    overdue = fields.Integer()
    mandatory = fields.Integer()


class BoardGroupsOut(StrictSchema):
    """The due board's counts by city (or directly administered county), client and discipline."""

    city = fields.List(fields.Nested(BoardGroupOut))
    client = fields.List(fields.Nested(BoardGroupOut))
    discipline = fields.List(fields.Nested(BoardGroupOut))


class BoardItemOut(StrictSchema):
    """A due instrument of a linked client."""

    id = fields.Integer()
    client_id = fields.Integer()
    client = fields.String(metadata={"description": "The client's slug."})
    client_name = fields.String()
    region_code = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    management_no = fields.String()
    name = fields.String()
    model = fields.String(allow_none=True)
    serial_no = fields.String(allow_none=True)
    location = fields.String(allow_none=True)
    discipline = fields.String(metadata={"enum": list(DISCIPLINES)})
    next_due_on = fields.Date()
    days_left = fields.Integer(metadata={"description": "Negative when overdue."})
    is_overdue = fields.Boolean()
    is_mandatory = fields.Boolean()
    status = fields.String()


class DueBoardOut(StrictSchema):
    """The due board: its window, the instruments and their counts by group."""

    today = fields.Date()
    last = fields.Date(metadata={"description": "The window's last day (today + within)."})
    within = fields.Integer()
    total = fields.Integer()
    overdue = fields.Integer()
    groups = fields.Nested(BoardGroupsOut)
    items = fields.List(fields.Nested(BoardItemOut))


class DayOffOut(StrictSchema):
    """A day a technician is away."""

    day = fields.Date()
    reason = fields.String(allow_none=True)


class TechnicianOut(StrictSchema):
    """A technician of the institute, with their days off from today up to a year ahead."""

    id = fields.Integer()
    name = fields.String()
    user_id = fields.Integer(allow_none=True)
    disciplines = fields.List(fields.String(metadata={"enum": list(DISCIPLINES)}))
    daily_capacity = fields.Integer()
    is_active = fields.Boolean()
    days_off = from_method("_days_off", fields.List, fields.Nested(DayOffOut))

    def __init__(self, *, days_off: Mapping[int, list] | None = None, **kwargs):
        super().__init__(**kwargs)
        #: The days off to show, by technician id (``board.upcoming_days_off``).
        self.days_off = days_off or {}

    def _days_off(self, technician) -> list:
        return self.days_off.get(technician.id, [])


class ProposedVisitOut(StrictSchema):
    """A visit the plan proposes: one client on one day."""

    client = fields.String(metadata={"description": "The client's slug."})
    date = fields.Date()
    technicians = fields.List(fields.String())
    instrument_ids = fields.List(fields.Integer())
    earliest_due_on = fields.Date()


class UnplacedOut(StrictSchema):
    """An instrument the plan leaves out, and why."""

    instrument_id = fields.Integer()
    reason = fields.String()


class PlanOut(StrictSchema):
    """A visit plan, as ``flask visits plan`` prints it."""

    visits = fields.List(fields.Nested(ProposedVisitOut))
    unplaced = fields.List(fields.Nested(UnplacedOut))
