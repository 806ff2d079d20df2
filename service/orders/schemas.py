"""What service orders accept (web forms and API alike)."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate

from models.orders import ORDER_METHODS, ORDER_STATES
from service.i18n import N_
from service.schemas import (
    Choice,
    ClientItemOut,
    SharedWithClientOut,
    StrictSchema,
    Text,
    WholeNumber,
    int_range,
)
from service.scoping import MAX_ID

#: The most instruments one order may carry.
MAX_ITEMS = 200
#: The most lines an order form may have, blank ones included (they keep the lines' numbers).
MAX_LINES = 5 * MAX_ITEMS
_TOO_MANY = N_("At most %(max)s instruments.", max=MAX_ITEMS)


def _at_most_instruments(lines: list) -> None:
    """Refuse more than :data:`MAX_ITEMS` management numbers; blank lines do not count."""
    if len(lines) > MAX_LINES or sum(1 for line in lines if line and line.strip()) > MAX_ITEMS:
        raise ValidationError(_TOO_MANY)


#: What each side may do to an order (see ``service.orders.operations.TRANSITIONS``).
ACTIONS = ("accept", "decline", "receive", "start", "complete", "return", "cancel")


class OrderIn(StrictSchema):
    """A client's order: the institute, how the instruments get there, and which instruments.

    Instruments are given by id (``instrument_ids``, e.g. the ledger's selection) or by management
    number (``management_nos``, one per line of the order form; the messages name the line). A
    mail-in order needs the ``courier`` and the ``tracking_no``.
    """

    institute_id = WholeNumber(required=True, validate=int_range(1, MAX_ID))
    method = Choice(
        ORDER_METHODS,
        required=True,
        error_messages={
            "required": N_("Choose how the instruments get to the institute."),
            "null": N_("Choose how the instruments get to the institute."),
        },
    )
    courier = Text(50)
    tracking_no = Text(50)
    note = Text(1000, multiline=True)
    instrument_ids = fields.List(
        WholeNumber(validate=int_range(1, MAX_ID)),
        load_default=list,
        validate=validate.Length(max=MAX_ITEMS, error=_TOO_MANY),
    )
    management_nos = fields.List(
        fields.String(allow_none=True), load_default=list, validate=_at_most_instruments
    )


class TransitionIn(StrictSchema):
    """A change of an order's state: the action, and what it needs (a reason, the return parcel)."""

    action = Choice(ACTIONS, required=True)
    reason = Text(500)
    courier = Text(50)
    tracking_no = Text(50)


class OrderSkipIn(StrictSchema):
    """Why an instrument of an order got no result."""

    reason = Text(500, required=True)


class OrderFilterIn(StrictSchema):
    """The institute's list of orders: one state, or the open ones (default), or all."""

    state = Choice(
        (*ORDER_STATES, "open", "all"),
        load_default="open",
        metadata={
            "enum": [*ORDER_STATES, "open", "all"],
            "description": "Institutes: one state, `open` (default) or `all`.",
        },
    )


class OrderItemOut(ClientItemOut):
    """An instrument of an order and its outcome."""

    status = fields.String(attribute="instrument.status")


class OrderStepOut(StrictSchema):
    """One change of an order's state: by which side and person, when, and why."""

    state = fields.String()
    side = fields.String()
    actor_name = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    at = fields.DateTime()


class OrderOut(SharedWithClientOut):
    """A client's service order to an institute."""

    method = fields.String()
    state = fields.String()
    courier = fields.String(allow_none=True)
    tracking_no = fields.String(allow_none=True)
    return_courier = fields.String(allow_none=True)
    return_tracking_no = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    submitted_by_name = fields.String(allow_none=True)
    created_at = fields.DateTime()
    is_green_channel = fields.Boolean(metadata={"description": "Handled through the SME green channel."})
    items = fields.List(fields.Nested(OrderItemOut))
    steps = fields.List(fields.Nested(OrderStepOut))
