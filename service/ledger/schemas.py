"""Input and output schemas of the instrument resource (field names of DESIGN.md §5)."""

from __future__ import annotations

from datetime import date

from marshmallow import ValidationError, fields

from models.ledger import (
    ABC_CLASSES,
    CERTIFICATE_TYPES,
    CONCLUSIONS,
    CONTROL_METHODS,
    LABELS,
    MANDATORY_USES,
    REQUEST_STATES,
    STATUS_ACTIONS,
    STATUSES,
)
from service.i18n import N_
from service.schemas import Choice, Flag, Mobile, StrictSchema, Text, WholeNumber, int_range

MAX_INTERVAL_MONTHS = 240


class InstrumentIn(StrictSchema):
    """What a user may set on an instrument; department and custodian by id or by name."""

    management_no = Text(64, required=True)
    name = Text(200, required=True)
    model = Text(200)
    serial_no = Text(100)
    manufacturer = Text(200)
    measuring_range = Text(200)
    accuracy = Text(200)
    resolution = Text(100)
    department_id = fields.Integer(allow_none=True)
    department = Text(100)
    location = Text(200)
    custodian_user_id = fields.Integer(allow_none=True)
    custodian = Text(100)
    custodian_mobile = Mobile()
    abc_class = Choice(ABC_CLASSES)
    is_mandatory = Flag(load_default=False)
    mandatory_use = Choice(MANDATORY_USES)
    catalog_item = Text(100)
    control_method = Choice(CONTROL_METHODS, load_default="verification")
    interval_months = WholeNumber(
        load_default=12, allow_none=True, validate=int_range(0, MAX_INTERVAL_MONTHS)
    )
    last_done_on = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    lab = Text(200)
    certificate_no = Text(100)
    certificate_type = Choice(CERTIFICATE_TYPES)
    conclusion = Choice(CONCLUSIONS)
    status = Choice(STATUSES, load_default="in_service")
    in_service_on = fields.Date(allow_none=True)
    notes = Text(2000, multiline=True)


class InstrumentOut(StrictSchema):
    """The instrument as the API and exports show it."""

    id = fields.Integer()
    management_no = fields.String()
    name = fields.String()
    model = fields.String(allow_none=True)
    serial_no = fields.String(allow_none=True)
    manufacturer = fields.String(allow_none=True)
    measuring_range = fields.String(allow_none=True)
    accuracy = fields.String(allow_none=True)
    resolution = fields.String(allow_none=True)
    department_id = fields.Integer(allow_none=True)
    department = fields.Function(lambda i: i.department.name if i.department else None)
    location = fields.String(allow_none=True)
    custodian_user_id = fields.Integer(allow_none=True)
    custodian = fields.Function(lambda i: i.custodian_display)
    custodian_mobile = fields.Function(lambda i: i.custodian_contact)
    abc_class = fields.String(allow_none=True)
    is_mandatory = fields.Boolean()
    mandatory_use = fields.String(allow_none=True)
    catalog_item = fields.String(allow_none=True)
    control_method = fields.String()
    interval_months = fields.Integer(allow_none=True)
    last_done_on = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    next_due_on = fields.Date(allow_none=True)
    lab = fields.String(allow_none=True)
    certificate_no = fields.String(allow_none=True)
    certificate_type = fields.String(allow_none=True)
    conclusion = fields.String(allow_none=True)
    status = fields.String()
    label = fields.Method("_label", metadata={"enum": list(LABELS)})
    in_service_on = fields.Date(allow_none=True)
    notes = fields.String(allow_none=True)
    needs_attention = fields.Function(
        lambda i: i.attention_reasons(),
        metadata={
            "description": "What the ledger lacks to manage the instrument: mandatory_use (a 强检 "
            "instrument's use), interval (unknown), due_date (no last or valid-until date). Empty "
            "when complete; filter the list with needs_attention=true.",
            "type": "array",
            "items": {"type": "string", "enum": ["mandatory_use", "interval", "due_date"]},
        },
    )
    replaced_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()

    def __init__(self, today: date | None = None, **kwargs):
        super().__init__(**kwargs)
        #: The tenant's today, against which the label is derived.
        self.today = today or date.today()

    def _label(self, instrument) -> str:
        return instrument.label(self.today)


#: The most instruments one bulk edit changes.
MAX_BULK = 1000


def _bulk_size(ids: list) -> None:
    if len(ids) > MAX_BULK:
        raise ValidationError(N_("At most %(limit)s instruments at once.", limit=MAX_BULK))


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
