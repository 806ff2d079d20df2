"""Request parsing and responses shared by the API resources."""

from __future__ import annotations

from collections.abc import Mapping

from flask import request
from marshmallow import Schema, ValidationError

from service.errors import Invalid
from service.i18n import N_
from service.schemas import field_errors


def json_body() -> dict:
    """Return the request's JSON object, or raise :class:`Invalid` when it is not one."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid(N_("The body must be a JSON object."))
    return data


def optional_json_body() -> dict:
    """Return the request's JSON object, or an empty one when the request has no body."""
    if not request.get_data(cache=True).strip():
        return {}
    return json_body()


def load(schema: Schema, data: Mapping) -> dict:
    """Validate API input with ``schema``; raise :class:`Invalid` with a message per field."""
    try:
        return schema.load(dict(data))
    except ValidationError as exc:
        raise Invalid(N_("Please correct the marked fields."), field_errors(exc)) from exc
