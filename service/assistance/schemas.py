"""Input and output of SME assistance: the yearly plan per region, records, progress (also the API's)."""

from __future__ import annotations

from marshmallow import fields

from models.assistance import ASSISTANCE_KINDS
from service.schemas import Choice, StrictSchema, Text, WholeNumber, int_range
from service.validation import henan_regions

#: The years a plan or a record may be of.
YEARS = (2000, 2100)
#: A region's quota is a count of firms; no region has this many.
MAX_QUOTA = 100_000


def region_codes() -> tuple[str, ...]:
    """Return the codes of the regions a plan has a line for (Henan's cities and direct counties)."""
    return tuple(r.code for r in henan_regions())


class AssistanceYearIn(StrictSchema):
    """The year of a plan, a list or the progress."""

    year = WholeNumber(required=True, validate=int_range(*YEARS))


class AssistancePlanLineIn(StrictSchema):
    """One region's quota for the year."""

    region_code = Choice(region_codes(), required=True, metadata={"description": "GB/T 2260 code."})
    smes_to_help = WholeNumber(required=True, validate=int_range(0, MAX_QUOTA))
    smes_for_mms_training = WholeNumber(required=True, validate=int_range(0, MAX_QUOTA))


class AssistancePlanIn(StrictSchema):
    """The whole plan of a year: it replaces the year's plan (regions left out have no quota)."""

    lines = fields.List(fields.Nested(AssistancePlanLineIn), required=True)


class AssistancePlanLineOut(StrictSchema):
    """One region's quota."""

    region_code = fields.String()
    region = fields.String()
    smes_to_help = fields.Integer()
    smes_for_mms_training = fields.Integer()


class AssistancePlanOut(StrictSchema):
    """A year's plan, a line per region with a quota."""

    year = fields.Integer()
    lines = fields.List(fields.Nested(AssistancePlanLineOut))


class AssistanceRecordIn(StrictSchema):
    """A piece of help given to a client firm; ``person`` defaults to the user's name."""

    firm_id = fields.Integer(required=True, metadata={"description": "A client firm of your institute."})
    done_on = fields.Date(required=True)
    kind = Choice(ASSISTANCE_KINDS, required=True)
    person = Text(100)
    note = Text(2000, multiline=True)


class AssistanceRecordFilterIn(StrictSchema):
    """Filters of the assistance records: year, region, kind, client."""

    year = WholeNumber(validate=int_range(*YEARS), allow_none=True)
    region = Choice(region_codes(), metadata={"description": "GB/T 2260 code of the client's region."})
    kind = Choice(ASSISTANCE_KINDS)
    client = fields.Integer(allow_none=True, metadata={"description": "A client firm's id."})


class AssistanceRecordOut(StrictSchema):
    """A piece of help given to a client firm (dumps a ``queries.RecordRow``: the record and its firm)."""

    id = fields.Integer(attribute="record.id")
    firm_id = fields.Integer(attribute="record.firm_id")
    firm = fields.String(attribute="firm_name")
    region_code = fields.String(allow_none=True)
    size_class = fields.String(allow_none=True, metadata={"enum": ["small_medium", "large", None]})
    done_on = fields.Date(attribute="record.done_on")
    kind = fields.String(attribute="record.kind", metadata={"enum": list(ASSISTANCE_KINDS)})
    person = fields.String(attribute="record.person")
    note = fields.String(attribute="record.note", allow_none=True)
    created_by_name = fields.String(attribute="record.created_by_name", allow_none=True)
    created_at = fields.DateTime(attribute="record.created_at")


class AssistanceRateOut(StrictSchema):
    """A share with what it was computed from (``rate`` is null without a quota; may pass 1)."""

    rate = fields.Float(allow_none=True)
    numerator = fields.Integer()
    denominator = fields.Integer()


class AssistanceProgressRowOut(StrictSchema):
    """One region's quota and progress in the year (``region_code`` empty: clients of no plan region)."""

    region_code = fields.String()
    region = fields.String(allow_none=True)
    smes_to_help = fields.Integer()
    helped = fields.Integer()
    helped_size_unknown = fields.Integer(metadata={"description": "Helped firms of unknown size (counted)."})
    help_rate = fields.Nested(AssistanceRateOut)
    smes_for_mms_training = fields.Integer()
    trained = fields.Integer()
    training_rate = fields.Nested(AssistanceRateOut)
    kinds = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "Records by kind."}
    )
    green_channel_work = fields.Integer(
        metadata={"description": "Visits and orders handled as green channel."}
    )


class AssistanceProgressOut(StrictSchema):
    """The year's progress per region, and the totals."""

    year = fields.Integer()
    rows = fields.List(fields.Nested(AssistanceProgressRowOut))
    total = fields.Nested(AssistanceProgressRowOut)


class AssistanceGreenChannelIn(StrictSchema):
    """Whether a visit or an order is handled through the SME green channel."""

    is_green_channel = fields.Boolean(required=True)


class AssistanceGreenChannelOut(StrictSchema):
    """A visit's or an order's green-channel mark."""

    id = fields.Integer()
    firm_id = fields.Integer()
    is_green_channel = fields.Boolean()
