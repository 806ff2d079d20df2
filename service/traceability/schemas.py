"""What a calibration record accepts and shows (web forms and API alike)."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from models.ledger import CONCLUSIONS
from models.traceability import CONFIRMATIONS, PHASES, RECORD_CERTIFICATE_TYPES, RECORD_KINDS
from service.i18n import N_
from service.schemas import Choice, Flag, StrictSchema, Text, from_method
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


#: How exact decimals are documented: strings, so that no digit is lost to floating point.
DECIMAL_STRING = {"type": "string", "format": "decimal", "description": "An exact decimal, sent as a string."}


class ReadingOut(StrictSchema):
    """One point of a record's results."""

    phase = fields.String()
    point = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    nominal = fields.Decimal(as_string=True, allow_none=True)
    reading = fields.Decimal(as_string=True, allow_none=True)
    error = fields.Decimal(as_string=True, allow_none=True, metadata=DECIMAL_STRING)
    mpe = fields.Decimal(as_string=True, allow_none=True, metadata=DECIMAL_STRING)
    within_tolerance = fields.Boolean(allow_none=True)


class _CertificateOut(StrictSchema):
    """A standard's certificate: its number, until when it is valid, the laboratory that issued it."""

    certificate_no = fields.String(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    lab_name = fields.String(allow_none=True)


class StandardOut(_CertificateOut):
    """A standard used, as it stood on the day of the work."""

    instrument_id = fields.Integer(attribute="standard_instrument_id", allow_none=True)
    management_no = fields.String(allow_none=True)
    name = fields.String()
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


class CheckFindingOut(StrictSchema):
    """What an intermediate check done since the last calibration found."""

    checked_on = fields.Date()
    kind = fields.String(
        metadata={
            "enum": ["signal", "out_of_mpe"],
            "description": "signal: a control-chart signal (Western Electric rule) completed by this check; "
            "out_of_mpe: a reading outside its check point's MPE.",
        }
    )
    description = fields.String(
        metadata={"description": "In words: the day, the check standard, the point and what was found."}
    )


class IntervalSuggestionOut(StrictSchema):
    """The interval an instrument's as-found history suggests, with the reasons in the reader's language.

    Intermediate checks count too: a control-chart signal or a reading outside the MPE in a check done
    after the last calibration sets ``calibrate_early`` and is listed in ``check_findings``; while
    there is one, no longer interval is suggested.
    """

    current_months = fields.Integer()
    suggested_months = fields.Integer()
    direction = fields.String(metadata={"enum": ["shorten", "lengthen", "keep"]})
    reasons = from_method("_reasons", fields.List, fields.String())
    calibrate_early = fields.Boolean(
        metadata={
            "description": "Intermediate checks since the last calibration have unresolved findings "
            "(control-chart signals or readings outside the MPE): calibrate before the due date."
        }
    )
    check_findings = from_method(
        "_findings",
        fields.List,
        fields.Nested(CheckFindingOut),
        metadata={"description": "The findings behind ``calibrate_early``, oldest first (empty without)."},
    )

    def __init__(self, *, translate=str, **kwargs):
        super().__init__(**kwargs)
        #: Renders a reason's message in the reader's language.
        self.translate = translate

    def _reasons(self, suggestion) -> list[str]:
        return [self.translate(reason.message) for reason in suggestion.reasons]

    def _findings(self, suggestion) -> list[dict]:
        return [
            {"checked_on": f.checked_on, "kind": f.kind, "description": self.translate(f.words)}
            for f in suggestion.check_findings
        ]


class AffectedQuery(StrictSchema):
    """The query string of what a standard affected: since which day."""

    since = fields.Date(
        allow_none=True, metadata={"description": "Default: the day of the standard's last good result."}
    )


class ChainNodeOut(_CertificateOut):
    """A node of the chain: the instrument, a standard of some ledger, or an outside standard.

    Of a standard in another organisation's ledger only what the chain needs is shown, and no id.
    """

    key = fields.String()
    name = fields.String()
    management_no = fields.String(allow_none=True)
    organization = fields.String(allow_none=True)
    is_root = fields.Boolean()
    is_external = fields.Boolean()
    instrument_id = fields.Integer(
        allow_none=True, metadata={"description": "Only for your own instruments."}
    )


class ChainLinkOut(_CertificateOut):
    """A record of ``child`` that used the standard ``parent``, with the standard's certificate on the day."""

    child = fields.String()
    parent = fields.String()
    kind = fields.String()
    used_on = fields.Date()
    expired = fields.Boolean(metadata={"description": "The certificate had run out on the day of use."})


class ChainOut(StrictSchema):
    """The chain of standards above an instrument; ``root`` is the instrument's node."""

    root = fields.String()
    truncated = fields.Boolean()
    nodes = fields.List(fields.Nested(ChainNodeOut))
    links = fields.List(fields.Nested(ChainLinkOut))


class AffectedRecordOut(StrictSchema):
    """A current record that used the standard."""

    record_id = fields.Integer()
    kind = fields.String()
    performed_on = fields.Date()
    certificate_no = fields.String(allow_none=True)


class AffectedInstrumentOut(StrictSchema):
    """An instrument verified or calibrated with the standard."""

    id = fields.Integer()
    management_no = fields.String()
    name = fields.String()
    records = fields.List(fields.Nested(AffectedRecordOut))


class AffectedFirmOut(StrictSchema):
    """A linked client firm, or the institute's own ledger (``is_own``)."""

    org_id = fields.Integer()
    name = fields.String()
    is_own = fields.Boolean()
    instruments = fields.List(fields.Nested(AffectedInstrumentOut))


class AffectedOut(StrictSchema):
    """What one of the institute's standards verified or calibrated since a day, by firm."""

    standard_id = fields.Integer(attribute="standard.id")
    management_no = fields.String(attribute="standard.management_no")
    name = fields.String(attribute="standard.name")
    since = fields.Date(allow_none=True)
    last_good_on = fields.Date(allow_none=True)
    failed_on = fields.Date(allow_none=True)
    firms = fields.List(fields.Nested(AffectedFirmOut))


class FirmNoticeOut(StrictSchema):
    """What one firm was told."""

    org_id = fields.Integer()
    name = fields.String()
    instruments = fields.Integer()
    recipients = fields.Integer()
    created = fields.Integer(metadata={"description": "Messages added now (0 when sent before)."})


class NoticeSummaryOut(StrictSchema):
    """The notices sent about an out-of-tolerance standard."""

    standard_id = fields.Integer()
    since = fields.Date(allow_none=True)
    created = fields.Integer()
    recorded = fields.Boolean(
        metadata={"description": "The finding was written to the standard's history now."}
    )
    firms = fields.List(fields.Nested(FirmNoticeOut))
