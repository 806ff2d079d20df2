"""What repeatability tests and stability assessments accept and show (web forms and API alike)."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import ValidationError, fields

from models.stability import ALLOWED_BASES
from service.i18n import N_
from service.measurement.stability import rules
from service.schemas import Choice, StrictSchema, Text


def _reading_error(error: rules.ReadingError) -> ValidationError:
    return ValidationError(
        N_("Reading %(position)s is not a number: “%(token)s”.", position=error.position, token=error.token)
    )


class Readings(fields.Field):
    """Readings as a text (one per line, or separated by spaces, commas or semicolons) or a list.

    Parsed strictly: the first token that is not a decimal number is named with its place.
    """

    def _deserialize(self, value, attr, data, **kwargs) -> list[Decimal]:
        try:
            if isinstance(value, str):
                return rules.parse_readings(value)
            if isinstance(value, list | tuple):
                parsed = []
                for position, item in enumerate(value, start=1):
                    if isinstance(item, bool) or not isinstance(item, str | int | float):
                        raise rules.ReadingError(str(item), position)
                    parsed.append(rules.parse_reading(str(item), position))
                return parsed
        except rules.ReadingError as error:
            raise _reading_error(error) from error
        raise ValidationError(N_("Give the readings as a text or a list of numbers."))

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else [str(v) for v in value]


class Figure(fields.Field):
    """A finite, non-negative decimal number given as text or a number (a criterion)."""

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValidationError(N_("Not a number."))
        try:
            number = rules.parse_reading(str(value))
        except rules.ReadingError as error:
            raise ValidationError(N_("Not a number: “%(token)s”.", token=error.token)) from error
        if number < 0:
            raise ValidationError(N_("Must not be negative."))
        return number

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)


class RepeatabilityIn(StrictSchema):
    """A repeatability test as performed: what was measured, the readings, the claimed value."""

    performed_on = fields.Date(required=True)
    quantity = Text(200, required=True)
    unit = Text(32)
    readings = Readings(required=True)
    claimed = Figure(required=True)
    conditions = Text(2000, multiline=True)
    performed_by_name = Text(100)


class StabilityAssessmentIn(StrictSchema):
    """A stability assessment opened on a check object, with its criterion."""

    check_object = Text(200, required=True)
    unit = Text(32)
    allowed = Figure(required=True)
    allowed_basis = Choice(ALLOWED_BASES, required=True)
    started_on = fields.Date(required=True)
    note = Text(2000, multiline=True)


class StabilityGroupIn(StrictSchema):
    """One group of repeated readings, on one day; ``close`` ends the assessment with its verdict."""

    measured_on = fields.Date(required=True)
    readings = Readings(required=True)


class StabilityCloseIn(StrictSchema):
    """The closing of an assessment: on which day."""

    closed_on = fields.Date(required=True)


class RepeatabilityTestOut(StrictSchema):
    """A repeatability test with its computed figures (decimal strings)."""

    id = fields.Integer()
    instrument_id = fields.Integer()
    performed_on = fields.Date()
    quantity = fields.String()
    unit = fields.String()
    readings = fields.List(fields.String())
    claimed = fields.String()
    conditions = fields.String(allow_none=True)
    performed_by_name = fields.String()
    mean = fields.String()
    s = fields.String(metadata={"description": "Experimental standard deviation √(Σ(xᵢ−x̄)²/(n−1))."})
    passed = fields.Boolean()


class StabilityGroupOut(StrictSchema):
    """One group of a stability assessment."""

    id = fields.Integer()
    measured_on = fields.Date()
    readings = fields.List(fields.String())
    mean = fields.String()
    recorded_by_name = fields.String()


class StabilityWarningOut(StrictSchema):
    """A warning: ``few_groups`` (groups, needed) or ``short_interval`` (from, to)."""

    code = fields.String()
    groups = fields.Integer()
    needed = fields.Integer()
    start = fields.String(data_key="from", metadata={"format": "date"})
    end = fields.String(data_key="to", metadata={"format": "date"})


class StabilityAssessmentOut(StrictSchema):
    """A stability assessment with its groups and its figures as of the last change."""

    id = fields.Integer()
    instrument_id = fields.Integer()
    check_object = fields.String()
    unit = fields.String()
    allowed = fields.String()
    allowed_basis = fields.String()
    state = fields.String()
    started_on = fields.Date()
    closed_on = fields.Date(allow_none=True)
    stability = fields.String(allow_none=True, metadata={"description": "Largest − smallest group mean."})
    passed = fields.Boolean(allow_none=True)
    provisional = fields.Boolean()
    warnings = fields.List(fields.Nested(StabilityWarningOut))
    note = fields.String(allow_none=True)
    groups = fields.List(fields.Nested(StabilityGroupOut))
