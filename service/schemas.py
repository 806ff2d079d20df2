"""Shared marshmallow building blocks: strict schemas and fields with translatable messages."""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load

from service.errors import Invalid
from service.i18n import N_
from service.tenancy.validation import is_valid_mobile, normalise_mobile


class StrictSchema(Schema):
    """A schema that rejects unknown fields and treats blank strings as absent values."""

    class Meta:
        unknown = RAISE

    @pre_load
    def _blank_to_none(self, data, **_kwargs):
        if not isinstance(data, dict):
            return data
        return {k: (None if isinstance(v, str) and not v.strip() else v) for k, v in data.items()}


def max_length(limit: int):
    """Return a validator refusing strings longer than ``limit`` characters."""

    def validate(value: str) -> None:
        if len(value) > limit:
            raise ValidationError(N_("At most %(limit)s characters.", limit=limit))

    return validate


def one_of(choices: tuple[str, ...]):
    """Return a validator refusing values outside ``choices``."""

    def validate(value: str) -> None:
        if value not in choices:
            raise ValidationError(N_("Must be one of: %(choices)s.", choices=", ".join(choices)))

    return validate


def int_range(low: int, high: int):
    """Return a validator refusing integers outside ``[low, high]``."""

    def validate(value: int) -> None:
        if not low <= value <= high:
            raise ValidationError(N_("Must be between %(low)s and %(high)s.", low=low, high=high))

    return validate


class Text(fields.String):
    """A stripped string with a length limit; ``None`` allowed unless ``required``.

    Control characters are refused (they end up in email headers, spreadsheets and labels);
    ``multiline`` fields such as notes may contain line breaks and tabs.
    """

    def __init__(self, limit: int, multiline: bool = False, **kwargs):
        kwargs.setdefault("allow_none", not kwargs.get("required", False))
        self.multiline = multiline
        super().__init__(validate=max_length(limit), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs).strip()
        allowed = "\n\r\t" if self.multiline else ""
        if any((ord(c) < 32 or ord(c) == 127) and c not in allowed for c in result):
            raise ValidationError(
                N_("Contains control characters (such as line breaks) that are not allowed here.")
            )
        return result


class Choice(fields.String):
    """A string restricted to ``choices`` (published as an enum in the OpenAPI document)."""

    def __init__(self, choices: tuple[str, ...], **kwargs):
        kwargs.setdefault("allow_none", not kwargs.get("required", False) and "load_default" not in kwargs)
        kwargs.setdefault("metadata", {"enum": list(choices)})
        super().__init__(validate=one_of(choices), **kwargs)


class WholeNumber(fields.Integer):
    """An integer that refuses fractions (1.5) instead of truncating them; digits in strings are fine."""

    def _validated(self, value):
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return super()._validated(value)


class Mobile(fields.String):
    """A mainland China mobile number, normalised to 11 digits."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_none", True)
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        number = normalise_mobile(super()._deserialize(value, attr, data, **kwargs))
        if not is_valid_mobile(number):
            raise ValidationError(N_("Not a valid mobile number (11 digits, starting with 1)."))
        return number


class Flag(fields.Boolean):
    """A boolean that also understands HTML checkboxes ("on") and Chinese yes/no."""

    truthy = fields.Boolean.truthy | {"on", "是", "√", "Y", "y"}
    falsy = fields.Boolean.falsy | {"off", "否", "×", "N", "n"}


def load_or_invalid(schema: Schema, payload, **kwargs) -> dict:
    """Validate ``payload`` with ``schema``; raise :class:`Invalid` with a message per field."""
    try:
        return schema.load(dict(payload), **kwargs)
    except ValidationError as exc:
        raise Invalid(N_("Please correct the marked fields."), field_errors(exc)) from exc


def field_errors(error: ValidationError) -> dict[str, list[str]]:
    """Flatten marshmallow's messages into ``{field: [message, ...]}``."""
    messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        if isinstance(value, dict):
            for sub, sub_messages in field_errors(ValidationError(value)).items():
                flat[f"{key}.{sub}"] = sub_messages
        else:
            flat[key] = list(value) if isinstance(value, list) else [value]
    return flat
