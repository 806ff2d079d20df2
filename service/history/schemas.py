"""The history's output: one entry of an instrument's history."""

from __future__ import annotations

from marshmallow import fields

from service.schemas import StrictSchema


class EventOut(StrictSchema):
    """One entry of an instrument's history."""

    seq = fields.Integer()
    kind = fields.String(metadata={"description": "e.g. instrument.created, status.requested"})
    occurred_at = fields.DateTime()
    actor_name = fields.String(allow_none=True)
    data = fields.Dict()
