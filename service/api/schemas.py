"""The API's own schemas: the body of every error, and the empty body some actions take.

Every resource's input, output and query schemas live in its domain's ``schemas.py``.
"""

from __future__ import annotations

from marshmallow import fields

from service.schemas import StrictSchema


class ErrorOut(StrictSchema):
    """An error: a message, and for invalid input the messages of each field."""

    message = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class EmptyIn(StrictSchema):
    """A body with no fields: only ``{}`` (or no body at all) is accepted."""
