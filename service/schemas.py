"""Shared marshmallow building blocks: strict schemas and fields with translatable messages."""

from __future__ import annotations

import re
from datetime import date
from functools import cache

from marshmallow import RAISE, Schema, ValidationError, fields, missing, pre_load

from service.errors import Invalid
from service.i18n import N_, CodeList
from service.validation import is_valid_mobile, normalise_mobile


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
            # The choices by their names (在用、送检中 …): codes mean nothing to the reader.
            raise ValidationError(N_("Must be one of: %(choices)s.", choices=CodeList(choices)))

    return validate


def int_range(low: int, high: int):
    """Return a validator refusing integers outside ``[low, high]``."""

    def validate(value: int) -> None:
        if not low <= value <= high:
            raise ValidationError(N_("Must be between %(low)s and %(high)s.", low=low, high=high))

    validate.bounds = (low, high)
    return validate


class Text(fields.String):
    """A stripped string with a length limit; ``None`` allowed unless ``required``.

    Control characters are refused (they end up in email headers, spreadsheets and labels);
    ``multiline`` fields such as notes may contain line breaks and tabs.
    """

    def __init__(self, limit: int, multiline: bool = False, **kwargs):
        kwargs.setdefault("allow_none", not kwargs.get("required", False))
        self.limit = limit
        self.multiline = multiline
        super().__init__(validate=max_length(limit), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs).strip()
        allowed = "\n\r\t" if self.multiline else ""
        if any((ord(c) < 32 or ord(c) == 127) and c not in allowed for c in result):
            raise ValidationError(
                N_("Contains control characters (such as line breaks) that are not allowed here.")
            )
        if any(_noncharacter(c) for c in result):
            # U+FFFE, U+FFFF and U+FDD0–U+FDEF are not text: XML (Word documents) cannot hold them.
            raise ValidationError(N_("Contains characters that are not text."))
        return result


def _noncharacter(char: str) -> bool:
    code = ord(char)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


class Choice(fields.String):
    """A string restricted to ``choices`` (published as an enum in the OpenAPI document)."""

    def __init__(self, choices: tuple[str, ...], **kwargs):
        self.choices = frozenset(choices)
        kwargs.setdefault("allow_none", not kwargs.get("required", False) and "load_default" not in kwargs)
        kwargs["metadata"] = {"enum": list(choices)} | kwargs.get("metadata", {})
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


class _FromMethod:
    """A field whose value is what a method of its schema returns for the object (see :func:`from_method`)."""

    method: str

    def get_value(self, obj, attr, accessor=None, default=missing):
        return getattr(self.parent, self.method)(obj)


class _Given:
    """A field whose value the schema was handed (see :func:`given`)."""

    def get_value(self, obj, attr, accessor=None, default=missing):
        return self.parent.given[self.name]


@cache
def _with(mixin: type, field_class: type[fields.Field]) -> type[fields.Field]:
    return type(f"{field_class.__name__}{mixin.__name__}", (mixin, field_class), {})


def from_method(method: str, field_class: type[fields.Field], *args, **kwargs) -> fields.Field:
    """Return a ``field_class(*args, **kwargs)`` taking its value from ``schema.<method>(obj)``.

    For what the object does not hold itself (a translated message, a value from another query).
    Unlike ``fields.Method`` the field keeps its kind: the value is dumped by it (dates, nested
    schemas) and the OpenAPI document describes it as it describes a ``field_class``.
    """
    field = _with(_FromMethod, field_class)(*args, **kwargs)
    field.method = method
    return field


def given(field_class: type[fields.Field], *args, **kwargs) -> fields.Field:
    """Return a ``field_class(*args, **kwargs)`` whose value the :class:`WithGiven` schema is handed.

    ``SomeOut(name=value).dump(obj)`` dumps ``value`` as the field ``name`` (the object does not
    hold it: the outcome of sending a mail, rows of another query); as with :func:`from_method`
    the field keeps its kind.
    """
    return _with(_Given, field_class)(*args, **kwargs)


class SharedWithClientOut(StrictSchema):
    """A visit or service order: the output of ``models.base.SharedWithClient``, which both share."""

    id = fields.Integer()
    institute_id = fields.Integer()
    firm_id = fields.Integer()


class ClientItemOut(StrictSchema):
    """A client's instrument in an institute's visit or service order, and its outcome.

    The output of ``models.visits.ClientItem``, which visit items and order items share.
    """

    id = fields.Integer()
    instrument_id = fields.Integer()
    management_no = fields.String(attribute="instrument.management_no")
    name = fields.String(attribute="instrument.name")
    state = fields.String()
    record_id = fields.Integer(allow_none=True)
    skip_reason = fields.String(allow_none=True)


class WithGiven(Schema):
    """An output schema handed, as keyword arguments, the values of its :func:`given` fields."""

    def __init__(self, **kwargs):
        names = [name for name, field in self._declared_fields.items() if isinstance(field, _Given)]
        #: The values of the given fields, by name.
        self.given = {name: kwargs.pop(name) for name in names if name in kwargs}
        super().__init__(**kwargs)


#: Control characters (line breaks included): refused in single-line text.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _accepts(field: fields.Field):
    """Return a test of whether ``field`` loads a value, already of the field's type, unchanged.

    ``None`` when the field's kind is not known here: such values always go through the schema.
    """
    nullable = field.allow_none
    if isinstance(field, Text):
        control = _CONTROL_BUT_LINES if field.multiline else CONTROL_CHARACTERS
        limit = field.limit
        return lambda v: (
            (v is None and nullable)
            or (type(v) is str and 0 < len(v) <= limit and v == v.strip() and not control.search(v))
        )
    if isinstance(field, Choice):
        choices = field.choices
        return lambda v: (v is None and nullable) or (type(v) is str and v in choices)
    if isinstance(field, Mobile):
        return lambda v: (v is None and nullable) or (type(v) is str and is_valid_mobile(v))
    if isinstance(field, Flag):
        return lambda v: type(v) is bool
    if type(field) in (fields.Integer, WholeNumber):
        bounds = [v.bounds for v in field.validators if hasattr(v, "bounds")]
        if len(bounds) != len(field.validators):
            return None
        low, high = bounds[0] if bounds else (-(2**31), 2**31 - 1)
        return lambda v: (v is None and nullable) or (type(v) is int and low <= v <= high)
    if type(field) is fields.Date:
        return lambda v: (v is None and nullable) or type(v) is date
    return None


def plain_loader(schema: Schema, partial: bool = False):
    """Return ``load(data) -> dict | None``, a fast ``schema.load`` for data whose values are typed.

    For bulk work (an import checks 100,000 rows): when every value is one the schema would take
    unchanged, ``load`` returns the data with the schema's defaults added, as ``schema.load``
    would; otherwise it returns None, and the caller loads the data with the schema for the real
    outcome and its messages. It never accepts what the schema would refuse or change
    (tests/unit/test_schemas.py compares the two). ``partial`` is ``schema.load(partial=True)``:
    nothing required, no defaults.
    """
    tests = {name: _accepts(field) for name, field in schema.fields.items() if not field.dump_only}
    required = frozenset(name for name, field in schema.fields.items() if field.required and not partial)
    defaults = {
        name: field.load_default
        for name, field in schema.fields.items()
        if field.load_default is not missing and not field.dump_only and not partial
    }

    def load(data: dict) -> dict | None:
        if not required <= data.keys():
            return None
        for name, value in data.items():
            test = tests.get(name)
            if test is None or not test(value):
                return None
        loaded = {name: default() if callable(default) else default for name, default in defaults.items()}
        loaded.update(data)
        return loaded

    return load


def _converter(field: fields.Field):
    """Return ``convert(value)`` doing what ``field._serialize`` does, or None when not known here."""
    method = type(field)._serialize
    if method is fields.Field._serialize:  # Boolean, Raw and the plain Field: the value as it is
        return lambda v: v
    if method is fields.String._serialize:
        return lambda v: None if v is None else (v if type(v) is str else str(v))
    if method is fields.Number._serialize and not field.as_string and field.num_type is int:
        return lambda v: None if v is None else int(v)
    if method is fields.DateTime._serialize:  # Date and DateTime (and Time) share it
        format_value = field.SERIALIZATION_FUNCS.get(field.format or field.DEFAULT_FORMAT)
        if format_value is not None:
            return lambda v: None if v is None else format_value(v)
    return None


def plain_dumper(schema: Schema):
    """Return ``dump(obj) -> dict``, what ``schema.dump(obj)`` returns for one object, faster.

    For hot lists (the API's pages of 50 instruments): marshmallow's dump walks accessors and
    checks per field and value; this resolves each field's conversion once. Fields of a kind not
    known here (nested, lists, custom) are serialised by the field itself, so the result is always
    the schema's (tests/unit/test_schemas.py compares the two). Schemas with pre/post-dump hooks are
    dumped by the schema.
    """
    if any(hooks for key, hooks in schema._hooks.items() if "dump" in str(key)):
        return schema.dump
    plan = []
    for name, field in schema.dump_fields.items():
        key = field.data_key or name
        attribute = field.attribute or name
        if isinstance(field, fields.Function) and field.serialize_func is not None:
            plan.append((key, None, field.serialize_func))
        elif isinstance(field, fields.Method) and type(field)._serialize is fields.Method._serialize:
            plan.append((key, None, getattr(schema, field.serialize_method_name)))
        elif "." not in attribute and field.dump_default is missing and (convert := _converter(field)):
            plan.append((key, attribute, convert))
        else:
            plan.append((key, None, _serialized_by(field, name, schema)))

    def dump(obj) -> dict:
        out = {}
        for key, attribute, convert in plan:
            if attribute is None:
                value = convert(obj)
                if value is not missing:
                    out[key] = value
            else:
                value = getattr(obj, attribute, missing)
                if value is not missing:
                    out[key] = convert(value)
        return out

    return dump


def _serialized_by(field: fields.Field, name: str, schema: Schema):
    return lambda obj: field.serialize(name, obj, accessor=schema.get_attribute)


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
