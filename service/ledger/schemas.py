"""Input and output schemas of the instrument resource (field names of DESIGN.md §5)."""

from __future__ import annotations

from datetime import date

from marshmallow import fields

from models.ledger import (
    ABC_CLASSES,
    CERTIFICATE_TYPES,
    CONCLUSIONS,
    CONTROL_METHODS,
    LABELS,
    MANDATORY_USES,
    STATUSES,
)
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
