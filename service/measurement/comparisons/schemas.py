"""What a comparison or proficiency-test result accepts and shows (web forms and API alike)."""

from __future__ import annotations

from marshmallow import fields, validate

from models.comparisons import COMPARISON_KINDS, ORGANISER_KINDS, POINT_VERDICTS
from service.i18n import N_
from service.schemas import Choice, StrictSchema, Text
from service.traceability.schemas import Number

#: Points one result may carry.
MAX_POINTS = 50
DECIMAL_STRING = {"type": "string", "format": "decimal"}


class ComparisonPointIn(StrictSchema):
    """One point: reference value and uncertainties (comparison), or assigned value and sd_pt (PT)."""

    nominal = Number()
    reference_value = Number()
    reference_uncertainty = Number()
    lab_value = Number()
    lab_uncertainty = Number()
    assigned_value = Number()
    sd_pt = Number()
    #: The reference is a weighted mean that includes this lab's value: En uses sqrt(U_lab² - U_ref²).
    is_lab_in_reference = fields.Boolean(load_default=False)


class ComparisonIn(StrictSchema):
    """A comparison or proficiency-test result being recorded."""

    kind = Choice(COMPARISON_KINDS, required=True)
    scheme = Text(200, required=True)
    organiser_kind = Choice(ORGANISER_KINDS, load_default="other")
    organiser_name = Text(200)
    quantity = Text(100)
    performed_on = fields.Date(required=True)
    note = Text(2000, multiline=True)
    points = fields.List(
        fields.Nested(ComparisonPointIn),
        required=True,
        validate=validate.Length(
            min=1, max=MAX_POINTS, error=N_("Give between %(min)s and %(max)s points.", min=1, max=MAX_POINTS)
        ),
    )


class ComparisonPointOut(StrictSchema):
    """One point with its En (comparison) or z (proficiency test), rounded to 2 decimals, and verdict."""

    position = fields.Integer()
    nominal = fields.Decimal(as_string=True, allow_none=True, metadata=DECIMAL_STRING)
    reference_value = fields.Decimal(as_string=True, allow_none=True, metadata=DECIMAL_STRING)
    reference_uncertainty = fields.Decimal(as_string=True, allow_none=True, metadata=DECIMAL_STRING)
    lab_value = fields.Decimal(as_string=True, metadata=DECIMAL_STRING)
    lab_uncertainty = fields.Decimal(as_string=True, allow_none=True, metadata=DECIMAL_STRING)
    assigned_value = fields.Decimal(as_string=True, allow_none=True, metadata=DECIMAL_STRING)
    sd_pt = fields.Decimal(as_string=True, allow_none=True, metadata=DECIMAL_STRING)
    is_lab_in_reference = fields.Boolean()
    en = fields.Float(allow_none=True)
    z = fields.Float(allow_none=True)
    verdict = Choice(POINT_VERDICTS)


class ComparisonOut(StrictSchema):
    """A recorded result: its points, overall verdict and the nonconformity case it opened or joined."""

    id = fields.Integer()
    instrument_id = fields.Integer()
    kind = Choice(COMPARISON_KINDS)
    scheme = fields.String()
    organiser_kind = Choice(ORGANISER_KINDS)
    organiser_name = fields.String(allow_none=True)
    quantity = fields.String(allow_none=True)
    performed_on = fields.Date()
    note = fields.String(allow_none=True)
    verdict = Choice(POINT_VERDICTS)
    case_id = fields.Integer(allow_none=True)
    recorded_by_name = fields.String(allow_none=True)
    points = fields.List(fields.Nested(ComparisonPointOut))


def comparison_out(comparison) -> dict:
    """Return the JSON of a result: En or z of each point rounded to 2 decimals for output."""
    from service.measurement.comparisons.rules import shown

    points = []
    for p in comparison.points:
        row = {
            name: getattr(p, name) for name in ComparisonPointOut._declared_fields if name not in ("en", "z")
        }
        score = float(shown(p.score))
        row["en"] = score if comparison.kind == "comparison" else None
        row["z"] = score if comparison.kind == "proficiency" else None
        points.append(row)
    data = {name: getattr(comparison, name) for name in ComparisonOut._declared_fields if name != "points"}
    data["points"] = points
    return ComparisonOut().dump(data)
