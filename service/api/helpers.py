"""Request parsing and responses shared by the API resources."""

from __future__ import annotations

from flask import request

from service.api.docs import check_body
from service.errors import Invalid
from service.i18n import N_


def json_body() -> dict:
    """Return the request's JSON object, or raise :class:`Invalid` when it is not one."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid(N_("The body must be a JSON object."))
    check_body(data)
    return data


def optional_json_body() -> dict:
    """Return the request's JSON object, or an empty one when the request has no body."""
    if not request.get_data(cache=True).strip():
        return {}
    return json_body()
