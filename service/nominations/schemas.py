"""The evidence dossier in the API: its query string and its figures, each rate with its parts."""

from __future__ import annotations

from marshmallow import fields

from service.nominations.dossier import INSTRUMENT_FIGURES
from service.schemas import Choice, Flag, StrictSchema


class DossierQuery(StrictSchema):
    """The query string of the dossier: as of which day."""

    as_of = fields.Date(allow_none=True, metadata={"description": "Default: today in the firm's time zone."})


class BehindQuery(DossierQuery):
    """The query string of the instruments behind a figure."""

    figure = Choice(INSTRUMENT_FIGURES, load_default="coverage")
    short = Flag(metadata={"description": "Only the instruments that fall short of the figure."})


class RateOut(StrictSchema):
    """A share as a fraction with 4 decimals (null when nothing was counted), with its parts."""

    rate = fields.Float(allow_none=True)
    numerator = fields.Integer()
    denominator = fields.Integer()


class TargetRateOut(RateOut):
    """A share against its provincial target."""

    target = fields.Float()
    meets_target = fields.Boolean(allow_none=True)


class InspectionOut(TargetRateOut):
    """The inspection rate (受检率) of mandatory instruments, and its split by target."""

    household = fields.Nested(TargetRateOut, metadata={"description": "Household meters: target 98%."})
    other = fields.Nested(TargetRateOut, metadata={"description": "Other mandatory instruments: target 95%."})


class WindowOut(StrictSchema):
    """The 12 months up to the date: the window of the period figures."""

    from_ = fields.Date(data_key="from")
    to = fields.Date()


class InstrumentCountsOut(StrictSchema):
    """Instruments in the ledger on the date, in use, by ABC class, under periodic control."""

    total = fields.Integer()
    in_use = fields.Integer()
    by_abc = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "A, B, C, none."}
    )
    periodic = fields.Integer()
    scheduled = fields.Integer(metadata={"description": "In use under periodic control with a due date."})
    mandatory = fields.Integer()
    complete = fields.Integer(metadata={"description": "In use with department and (if periodic) interval."})


class LabCountOut(StrictSchema):
    """Certificates of one laboratory."""

    lab = fields.String(allow_none=True)
    count = fields.Integer()


class CertificatesOut(StrictSchema):
    """Certificates of the window, by laboratory."""

    total = fields.Integer()
    by_lab = fields.List(fields.Nested(LabCountOut))


class NonconformityOut(StrictSchema):
    """Nonconformity cases of the window."""

    opened = fields.Integer()
    assessed = fields.Integer(metadata={"description": "Of those opened, with their impact assessed."})
    closed = fields.Integer()
    dispositions = fields.Dict(keys=fields.String(), values=fields.Integer())
    median_days_to_close = fields.Float(allow_none=True)


class IntervalReviewsOut(StrictSchema):
    """Interval reviews decided in the window."""

    decided = fields.Integer()
    accepted = fields.Integer()
    rejected = fields.Integer()


class StatusChangesOut(StrictSchema):
    """Status changes approved in the window, and the share approved by someone other than the requester."""

    approved = fields.Integer()
    approved_by_other = fields.Nested(RateOut)


class RemindersOut(StrictSchema):
    """Due-date reminders delivered in the window."""

    sent = fields.Integer()
    recipients = fields.Integer()


class HistoryOut(StrictSchema):
    """The hash-chained history, verified when the dossier was computed."""

    events = fields.Integer()
    verified = fields.Boolean()
    head_hash = fields.String(allow_none=True)


class SelfCheckOut(StrictSchema):
    """One item of the self-check table, with the answer the data gives (null: the firm answers)."""

    seq = fields.Integer()
    category = fields.String()
    item = fields.String()
    question = fields.String()
    answer = fields.String(allow_none=True, metadata={"enum": ["yes", "no", "na", None]})
    evidence = fields.String(allow_none=True)


class DossierOut(StrictSchema):
    """Every figure of the evidence dossier as of a date."""

    as_of = fields.Date()
    window = fields.Nested(WindowOut)
    instruments = fields.Nested(InstrumentCountsOut)
    coverage = fields.Nested(RateOut)
    on_time = fields.Nested(RateOut)
    inspection = fields.Nested(InspectionOut)
    certificates = fields.Nested(CertificatesOut)
    as_found = fields.Nested(
        RateOut, metadata={"description": "Results of the window recorded with as-found data."}
    )
    standards = fields.Nested(
        RateOut,
        metadata={"description": "Standards used in the window: identified and valid on the day of use."},
    )
    complete_records = fields.Nested(
        RateOut,
        metadata={"description": "Verifications and calibrations with certificate number and standards."},
    )
    confirmations = fields.Nested(RateOut, metadata={"description": "Calibrations given their confirmation."})
    nonconformity = fields.Nested(NonconformityOut)
    interval_reviews = fields.Nested(IntervalReviewsOut)
    status_changes = fields.Nested(StatusChangesOut)
    reminders = fields.Nested(RemindersOut)
    history = fields.Nested(HistoryOut)
    self_check = fields.List(fields.Nested(SelfCheckOut))


class BehindOut(StrictSchema):
    """The instruments behind a figure (the first 100)."""

    figure = fields.String()
    counted = fields.Integer()
    short = fields.Integer(metadata={"description": "How many of them fall short of the figure."})
    items = fields.List(
        fields.Dict(), metadata={"description": "Instruments: id, management_no, name, missed."}
    )
