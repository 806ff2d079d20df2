"""Input and output schemas of organisations, users and departments."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import ValidationError, fields

from models.tenancy import LOCALES, ORG_KINDS, ROLES
from service.i18n import N_
from service.schemas import Choice, Mobile, StrictSchema, Text, WithGiven, given, int_range
from service.validation import (
    henan_regions,
    is_valid_credit_code,
    is_valid_slug,
    normalise_credit_code,
    region_name,
)


class CreditCode(fields.String):
    """A unified social credit code (统一社会信用代码) with its check character verified."""

    def _deserialize(self, value, attr, data, **kwargs):
        code = normalise_credit_code(super()._deserialize(value, attr, data, **kwargs))
        if not is_valid_credit_code(code):
            raise ValidationError(N_("Not a valid unified social credit code (18 characters, check digit)."))
        return code


class RegionCode(fields.String):
    """A GB/T 2260 code of a Henan city or directly administered county."""

    def _deserialize(self, value, attr, data, **kwargs):
        code = super()._deserialize(value, attr, data, **kwargs).strip()
        if code not in {r.code for r in henan_regions()}:
            raise ValidationError(N_("Choose a city of Henan."))
        return code


def non_negative_revenue(value: Decimal) -> None:
    """Refuse a revenue below zero or beyond what the column holds."""
    if value < 0 or value >= Decimal("1e12"):
        raise ValidationError(N_("Must be between %(low)s and %(high)s.", low=0, high="999999999999"))


class OrgProfileIn(StrictSchema):
    """The editable profile of an organisation."""

    name = Text(200, required=True)
    credit_code = CreditCode(allow_none=True)
    region_code = RegionCode(allow_none=True)
    industry = Text(100)
    employees = fields.Integer(allow_none=True, validate=int_range(0, 10_000_000))
    annual_revenue_wan = fields.Decimal(allow_none=True, places=2, validate=non_negative_revenue)


class OrgCreateIn(OrgProfileIn):
    """A new organisation."""

    slug = fields.String(required=True)
    kind = Choice(ORG_KINDS, required=True)

    def load(self, data, **kwargs):  # noqa: D102
        result = super().load(data, **kwargs)
        if not is_valid_slug(result["slug"]):
            raise ValidationError({"slug": [N_("Use lower-case letters, digits and dashes.")]})
        return result


class OrgOut(StrictSchema):
    """An organisation as the API shows it."""

    id = fields.Integer()
    slug = fields.String()
    name = fields.String()
    kind = fields.String()
    credit_code = fields.String(allow_none=True)
    region_code = fields.String(allow_none=True)
    region = fields.Function(lambda o: region_name(o.region_code))
    industry = fields.String(allow_none=True)
    employees = fields.Integer(allow_none=True)
    annual_revenue_wan = fields.Decimal(
        allow_none=True,
        as_string=True,
        metadata={
            "type": "string",
            "format": "decimal",
            "description": 'Ten thousand yuan, an exact decimal sent as a string (e.g. "1250.50").',
        },
    )
    size_class = fields.String(allow_none=True)


class UserIn(StrictSchema):
    """A new user's details (CLI, invitation acceptance)."""

    email = fields.Email(required=True, validate=lambda v: len(v) <= 254)
    name = Text(100, required=True)
    role = Choice(ROLES, required=True)
    mobile = Mobile()
    locale = Choice(LOCALES, load_default="zh_Hans_CN")


class UserUpdateIn(StrictSchema):
    """What an admin may change on a user of their organisation."""

    name = Text(100, allow_none=False)
    role = Choice(ROLES, allow_none=False)
    mobile = Mobile()
    is_active = fields.Boolean()


class ProfileIn(StrictSchema):
    """What users may change on themselves."""

    name = Text(100, required=True)
    mobile = Mobile()
    locale = Choice(LOCALES, required=True)


class UserOut(StrictSchema):
    """A user as the API shows it."""

    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    mobile = fields.String(allow_none=True)
    role = fields.String()
    locale = fields.String()
    is_active = fields.Boolean()


class DepartmentIn(StrictSchema):
    """A department's name and optional head."""

    name = Text(100, required=True)
    head_user_id = fields.Integer(allow_none=True)


class DepartmentOut(StrictSchema):
    """A department as the API shows it."""

    id = fields.Integer()
    name = fields.String()
    head_user_id = fields.Integer(allow_none=True)


class InvitationIn(StrictSchema):
    """An invitation: who, and with which role."""

    email = fields.Email(required=True, validate=lambda v: len(v) <= 254)
    role = Choice(ROLES, required=True)


class InvitationOut(WithGiven, StrictSchema):
    """An invitation that was sent; its secret link goes only to the invited address."""

    id = fields.Integer()
    email = fields.String()
    role = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    #: Given: the invitation row does not keep the outcome of sending.
    email_sent = given(
        fields.Boolean,
        metadata={"description": "Whether the invitation email was handed to the mail server."},
    )
