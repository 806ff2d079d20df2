"""What a calibration record accepts and shows (web forms and API alike)."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from models.ledger import CONCLUSIONS
from models.traceability import CONFIRMATIONS, PHASES, RECORD_CERTIFICATE_TYPES, RECORD_KINDS
from service.i18n import N_
from service.schemas import Choice, Flag, StrictSchema, Text
from service.scoping import MAX_ID
from service.traceability.check_links import check_url

#: Kinds of work a laboratory does and certifies: they need the laboratory and the certificate no.
LAB_KINDS = ("verification", "calibration")
#: Points of results and standards one record may carry.
MAX_READINGS = 200
MAX_STANDARDS = 20


class Number(fields.Decimal):
    """A decimal reading: finite, at most 12 digits before the point and 6 after it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_none", True)
        super().__init__(places=None, allow_nan=False, as_string=False, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.strip().replace("，", ".").replace("＋", "+").replace("－", "-").replace("−", "-")
        number = super()._deserialize(value, attr, data, **kwargs)
        sign, digits, exponent = number.as_tuple()
        if -exponent > 6 or len(digits) + exponent > 12:
            raise ValidationError(N_("Give at most 12 digits before the decimal point and 6 after it."))
        return number


def _an_id(message):
    """Return a validator refusing numbers that cannot be ids (the database would not take them)."""

    def validate(value: int) -> None:
        if not 0 < value <= MAX_ID:
            raise ValidationError(message)

    return validate


def _not_negative(value) -> None:
    if value < 0:
        raise ValidationError(N_("The permissible error cannot be negative."))


class ReadingIn(StrictSchema):
    """One point of the results."""

    phase = Choice(PHASES, load_default="as_found")
    point = Text(100)
    unit = Text(20)
    nominal = Number()
    reading = Number()
    error = Number()
    mpe = Number(validate=_not_negative)
    within_tolerance = Flag(allow_none=True)


class StandardIn(StrictSchema):
    """A standard used: an instrument of the ledger (``instrument_id``), or one described by name."""

    instrument_id = fields.Integer(allow_none=True, validate=_an_id(N_("No such standard in your ledger.")))
    name = Text(200)
    management_no = Text(64)
    certificate_no = Text(100)
    valid_until = fields.Date(allow_none=True)
    lab_name = Text(200)

    @validates_schema
    def _named(self, data, **_kwargs):
        if data.get("instrument_id") is None and not data.get("name") and not data.get("management_no"):
            raise ValidationError(N_("Choose a standard of the ledger or give its name."), "name")


class RecordIn(StrictSchema):
    """A verification, calibration, self-check or intermediate check being recorded."""

    kind = Choice(RECORD_KINDS, required=True)
    performed_on = fields.Date(required=True)
    lab_org_id = fields.Integer(
        allow_none=True,
        validate=_an_id(N_("Choose an institute linked to your firm, or give the laboratory's name.")),
    )
    lab_name = Text(200)
    lab_cnas_no = Text(32)
    certificate_no = Text(100)
    certificate_type = Choice(RECORD_CERTIFICATE_TYPES)
    conclusion = Choice(CONCLUSIONS)
    valid_until = fields.Date(allow_none=True)
    performed_by = Text(100)
    temperature = Text(40)
    humidity = Text(40)
    uncertainty = Text(200)
    notes = Text(2000, multiline=True)
    confirmation = Choice(CONFIRMATIONS)
    confirmation_note = Text(2000, multiline=True)
    readings = fields.List(
        fields.Nested(ReadingIn),
        load_default=list,
        validate=validate.Length(max=MAX_READINGS, error=N_("At most %(max)s points.", max=MAX_READINGS)),
    )
    standards = fields.List(
        fields.Nested(StandardIn),
        load_default=list,
        validate=validate.Length(
            max=MAX_STANDARDS, error=N_("At most %(max)s standards.", max=MAX_STANDARDS)
        ),
    )

    @validates_schema
    def _consistent(self, data, **_kwargs):
        errors: dict[str, list] = {}
        kind = data.get("kind")
        if kind == "verification" and not data.get("conclusion"):
            errors["conclusion"] = [N_("A verification needs its conclusion (pass, limited or fail).")]
        if kind == "calibration" and data.get("conclusion"):
            errors["conclusion"] = [
                N_("A calibration has no legal conclusion: record the metrological confirmation instead.")
            ]
        if kind in LAB_KINDS:
            # The work of a laboratory: its certificate is what renews the instrument.
            if not data.get("certificate_no"):
                errors["certificate_no"] = [N_("Give the certificate number.")]
            if not data.get("lab_name") and data.get("lab_org_id") is None:
                errors["lab_name"] = [N_("Give the laboratory that did the work.")]
        if kind != "calibration" and data.get("confirmation"):
            errors["confirmation"] = [N_("Only a calibration is confirmed against the firm's requirement.")]
        performed, valid = data.get("performed_on"), data.get("valid_until")
        if performed and valid and valid < performed:
            errors["valid_until"] = [N_("The valid-until date is before the date of the work.")]
        if errors:
            raise ValidationError(errors)


class CorrectionIn(RecordIn):
    """A corrected record: the whole record again, and why it is corrected."""

    correction_reason = Text(1000, required=True)


class ConfirmationIn(StrictSchema):
    """The metrological confirmation of a calibration (计量确认)."""

    confirmation = Choice(CONFIRMATIONS, required=True)
    confirmation_note = Text(2000, multiline=True)


class ReadingOut(StrictSchema):
    """One point of a record's results."""

    phase = fields.String()
    point = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    nominal = fields.Decimal(as_string=True, allow_none=True)
    reading = fields.Decimal(as_string=True, allow_none=True)
    error = fields.Decimal(as_string=True, allow_none=True)
    mpe = fields.Decimal(as_string=True, allow_none=True)
    within_tolerance = fields.Boolean(allow_none=True)


class StandardOut(StrictSchema):
    """A standard used, as it stood on the day of the work."""

    instrument_id = fields.Integer(attribute="standard_instrument_id", allow_none=True)
    management_no = fields.String(allow_none=True)
    name = fields.String()
    certificate_no = fields.String(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    lab_name = fields.String(allow_none=True)
    expired_when_used = fields.Boolean()


class AttachmentOut(StrictSchema):
    """A file of a record; ``GET /attachments/{id}`` downloads it."""

    id = fields.Integer()
    filename = fields.String()
    mime = fields.String()
    size = fields.Integer()
    uploaded_at = fields.DateTime()


class RecordOut(StrictSchema):
    """A verification, calibration, self-check or intermediate check, as recorded."""

    id = fields.Integer()
    instrument_id = fields.Integer()
    kind = fields.String()
    performed_on = fields.Date()
    lab_org_id = fields.Integer(
        allow_none=True,
        validate=_an_id(N_("Choose an institute linked to your firm, or give the laboratory's name.")),
    )
    lab_name = fields.String(allow_none=True)
    lab_cnas_no = fields.String(allow_none=True)
    certificate_no = fields.String(allow_none=True)
    certificate_type = fields.String(allow_none=True)
    conclusion = fields.String(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    next_due_on = fields.Date(allow_none=True)
    performed_by = fields.String(allow_none=True)
    temperature = fields.String(allow_none=True)
    humidity = fields.String(allow_none=True)
    uncertainty = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    confirmation = fields.String(allow_none=True)
    confirmation_note = fields.String(allow_none=True)
    confirmed_by_name = fields.String(allow_none=True)
    confirmed_at = fields.DateTime(allow_none=True)
    supersedes_id = fields.Integer(allow_none=True)
    superseded_by_id = fields.Integer(allow_none=True)
    recorded_by_name = fields.String(allow_none=True)
    created_at = fields.DateTime()
    readings = fields.List(fields.Nested(ReadingOut))
    standards = fields.List(fields.Nested(StandardOut))
    attachments = fields.List(fields.Nested(AttachmentOut))
    check_url = fields.Method(
        "_check_url",
        allow_none=True,
        metadata={
            "type": "string",
            "format": "uri",
            "description": "The public certificate-check page the record's QR label opens (no sign-in).",
        },
    )

    def __init__(self, *, base_url: str = "", **kwargs):
        super().__init__(**kwargs)
        #: The site's public address, so that ``check_url`` is absolute.
        self.base_url = base_url

    def _check_url(self, record) -> str | None:
        return check_url(self.base_url, record.check_token) if record.check_token else None


class AttachmentUploadIn(StrictSchema):
    """The multipart form adding files to a record: ``file``, once per file."""

    file = fields.List(fields.Raw(metadata={"type": "string", "format": "binary"}), required=True)
