"""What a nonconformity case accepts and shows (web forms and API alike)."""

from __future__ import annotations

from marshmallow import fields, validate

from models.nonconformity import DISPOSITIONS
from service.i18n import N_
from service.schemas import Choice, StrictSchema, Text, WithGiven, given


class OpeningIn(StrictSchema):
    """A case reported by hand: what happened."""

    description = Text(2000, required=True, multiline=True)


class AssessmentIn(StrictSchema):
    """The impact assessment (追溯) of the suspect window."""

    impact_assessment = Text(5000, required=True, multiline=True)


class ClosingIn(StrictSchema):
    """The approved disposition that closes a case."""

    disposition = Choice(DISPOSITIONS, required=True)
    disposition_note = Text(2000, multiline=True)
    #: For a downgrade: the limits of use written on the yellow label.
    use_limits = Text(200)


class ExposureOut(StrictSchema):
    """Where the instrument was, and with whom, during part of the suspect window."""

    start = fields.Date(allow_none=True)
    end = fields.Date(allow_none=True)
    department = fields.String(allow_none=True)
    location = fields.String(allow_none=True)
    custodian = fields.String(allow_none=True)


class CaseOut(StrictSchema):
    """A nonconformity case."""

    id = fields.Integer()
    instrument_id = fields.Integer()
    state = fields.String()
    source = fields.String()
    record_id = fields.Integer(allow_none=True)
    description = fields.String()
    opened_on = fields.Date()
    opened_by_name = fields.String(allow_none=True)
    suspect_from = fields.Date(allow_none=True)
    suspect_to = fields.Date()
    impact_assessment = fields.String(allow_none=True)
    assessed_by_name = fields.String(allow_none=True)
    assessed_at = fields.DateTime(allow_none=True)
    disposition = fields.String(allow_none=True)
    disposition_note = fields.String(allow_none=True)
    use_limits = fields.String(allow_none=True)
    approved_by_name = fields.String(allow_none=True)
    closed_on = fields.Date(allow_none=True)


class CaseDetailOut(WithGiven, CaseOut):
    """A nonconformity case with where the instrument was, and with whom, during the suspect window."""

    #: Given: worked out from the instrument's history (``queries.exposure``).
    exposure = given(fields.List, fields.Nested(ExposureOut))


class CaseQuery(StrictSchema):
    """The query string of the list of cases: which state."""

    state = fields.String(
        load_default="open",
        validate=validate.OneOf(("open", "closed", "all"), error=N_("Must be open, closed or all.")),
        metadata={"enum": ["open", "closed", "all"]},
    )
