"""Schemas that only the API needs: request bodies and query strings of its own, and outputs.

Resources whose schemas the web pages share (instruments, organisations, users, departments) keep
them in their domain's ``schemas.py``.
"""

from __future__ import annotations

from marshmallow import ValidationError, fields

from models.ledger import REQUEST_STATES, STATUS_ACTIONS
from service.i18n import N_
from service.ledger import operations
from service.schemas import Choice, StrictSchema


def _bulk_size(ids: list) -> None:
    if len(ids) > operations.MAX_BULK:
        raise ValidationError(N_("At most %(limit)s instruments at once.", limit=operations.MAX_BULK))


class ErrorOut(StrictSchema):
    """An error: a message, and for invalid input the messages of each field."""

    message = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class BulkEditIn(StrictSchema):
    """The same changes for many instruments; ``changes`` takes the bulk-editable fields."""

    ids = fields.List(fields.Integer(strict=True), required=True, validate=_bulk_size)
    changes = fields.Dict(
        keys=fields.String(),
        required=True,
        metadata={
            "description": "Any of department_id, custodian_user_id, custodian, custodian_mobile, "
            "interval_months, status (direct changes only)."
        },
    )


class StatusRequestIn(StrictSchema):
    """A request to change an instrument's status, decided by an administrator."""

    action = fields.String(required=True, metadata={"enum": list(STATUS_ACTIONS)})
    reason = fields.String(allow_none=True, metadata={"description": "Required; at most 1000 characters."})
    replacement_id = fields.Integer(
        allow_none=True, strict=True, metadata={"description": "For replace: the replacing instrument."}
    )


class DecisionIn(StrictSchema):
    """An approval (reason optional) or a rejection (reason required)."""

    reason = fields.String(allow_none=True)


class StatusRequestQuery(StrictSchema):
    """The query string of the list of status requests."""

    state = Choice((*REQUEST_STATES, "all"), load_default="pending")


class StatusRequestOut(StrictSchema):
    """A status request as the API shows it."""

    id = fields.Integer()
    instrument_id = fields.Integer()
    management_no = fields.Function(
        lambda r: r.instrument.management_no if r.instrument else None, metadata={"type": "string"}
    )
    action = fields.String(metadata={"enum": list(STATUS_ACTIONS)})
    reason = fields.String()
    replacement_id = fields.Integer(allow_none=True)
    state = fields.String(metadata={"enum": list(REQUEST_STATES)})
    requested_by_id = fields.Integer()
    requested_by_name = fields.Function(
        lambda r: r.requested_by.name if r.requested_by else None, metadata={"type": "string"}
    )
    requested_at = fields.DateTime()
    decided_by_id = fields.Integer(allow_none=True)
    decided_by_name = fields.Function(
        lambda r: r.decided_by.name if r.decided_by else None,
        metadata={"type": "string", "nullable": True},
    )
    decided_at = fields.DateTime(allow_none=True)
    decision_reason = fields.String(allow_none=True)


class EventOut(StrictSchema):
    """One entry of an instrument's history."""

    seq = fields.Integer()
    kind = fields.String(metadata={"description": "e.g. instrument.created, status.requested"})
    occurred_at = fields.DateTime()
    actor_name = fields.String(allow_none=True)
    data = fields.Dict()


class InvitationOut(StrictSchema):
    """An invitation that was sent; its secret link goes only to the invited address."""

    id = fields.Integer()
    email = fields.String()
    role = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime()


class EmptyIn(StrictSchema):
    """A body with no fields: only ``{}`` (or no body at all) is accepted."""
