"""What the nominations domain takes and shows: the dossier's query and figures, campaigns."""

from __future__ import annotations

from datetime import date

from marshmallow import ValidationError, fields, validate, validates_schema

from models.nominations import (
    CAMPAIGN_KINDS,
    CAMPAIGN_PHASES,
    FILE_KINDS,
    NOMINATION_STATES,
    OBJECTION_OUTCOMES,
    RECOMMENDATIONS,
    RECOMMENDER_KINDS,
)
from service.i18n import N_
from service.nominations.dossier import INSTRUMENT_FIGURES
from service.nominations.self_check import ANSWERS
from service.schemas import Choice, Flag, Mobile, StrictSchema, Text, WholeNumber, from_method, int_range
from service.scoping import MAX_ID
from service.tenancy.schemas import CreditCode, non_negative_revenue

#: The earliest day a dossier looks back to (the figures look a year further back).
EARLIEST_DAY = date(2000, 1, 1)


class DossierQuery(StrictSchema):
    """The query string of the dossier: as of which day."""

    as_of = fields.Date(
        allow_none=True,
        validate=validate.Range(min=EARLIEST_DAY, error=N_("Pick a day from 2000 on.")),
        metadata={"description": "Default: today in the firm's time zone; from 2000-01-01."},
    )


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


class StabilityCountOut(StrictSchema):
    """Checks of one kind done in the window, and how many passed."""

    done = fields.Integer()
    passed = fields.Integer()


class StabilityChecksOut(StrictSchema):
    """Repeatability tests and closed stability assessments (JJF 1033) of the window."""

    repeatability = fields.Nested(StabilityCountOut)
    stability = fields.Nested(
        StabilityCountOut, metadata={"description": "Assessments closed in the window; passed: a final pass."}
    )


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
    stability_checks = fields.Nested(StabilityChecksOut)
    self_check = fields.List(fields.Nested(SelfCheckOut))


class BehindOut(StrictSchema):
    """The instruments behind a figure (the first 100)."""

    figure = fields.String()
    counted = fields.Integer()
    short = fields.Integer(metadata={"description": "How many of them fall short of the figure."})
    items = fields.List(
        fields.Dict(), metadata={"description": "Instruments: id, management_no, name, missed."}
    )


class Lines(fields.List):
    """A list of short texts: a JSON array, or a form's text area with one per line (blank lines dropped)."""

    def __init__(self, limit: int, **kwargs):
        super().__init__(Text(limit, required=True), **kwargs)

    def deserialize(self, value, attr=None, data=None, **kwargs):  # noqa: D102
        if value is None and self.allow_none:  # a blank text area: no lines
            return []
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = [line.strip() for line in value.splitlines() if line.strip()]
        return super()._deserialize(value, attr, data, **kwargs)


class CampaignIn(StrictSchema):
    """A campaign as the institute announces it; every window is a range of local days, ends included."""

    kind = Choice(CAMPAIGN_KINDS, required=True)
    title = Text(200, required=True)
    year = fields.Integer(required=True, validate=int_range(2000, 2100))
    co_organisers = Text(1000, multiline=True)
    notice_text = Text(20000, multiline=True)
    conditions = Lines(500, allow_none=True, validate=validate.Length(max=30))
    categories = Lines(100, required=True, validate=validate.Length(min=1, max=20))
    objection_contacts = Text(1000, multiline=True)
    no_fee_statement = Text(500, multiline=True)
    nomination_opens_on = fields.Date(required=True)
    nomination_closes_on = fields.Date(required=True)
    review_opens_on = fields.Date(required=True)
    review_closes_on = fields.Date(required=True)
    notice_days = fields.Integer(load_default=3, validate=int_range(1, 30))
    notice_in_working_days = Flag(load_default=True)
    large_quota = fields.Integer(load_default=5, validate=int_range(0, 100))
    sme_quota = fields.Integer(load_default=5, validate=int_range(0, 100))

    @validates_schema
    def _windows_in_order(self, data, partial=False, **_kwargs):
        opens, closes = data.get("nomination_opens_on"), data.get("nomination_closes_on")
        review_opens, review_closes = data.get("review_opens_on"), data.get("review_closes_on")
        if opens and closes and closes < opens:
            raise ValidationError(N_("The window must not end before it opens."), "nomination_closes_on")
        if closes and review_opens and review_opens <= closes:
            raise ValidationError(
                N_("The review starts after the nomination window has closed."), "review_opens_on"
            )
        if review_opens and review_closes and review_closes < review_opens:
            raise ValidationError(N_("The window must not end before it opens."), "review_closes_on")


class PhaseIn(StrictSchema):
    """Move a campaign to its next phase; ``to`` names it, so that a stale page cannot move it twice."""

    to = Choice(CAMPAIGN_PHASES, required=True)


class CampaignOut(StrictSchema):
    """A campaign, with what it allows today."""

    id = fields.Integer()
    kind = fields.String(metadata={"enum": list(CAMPAIGN_KINDS)})
    title = fields.String()
    year = fields.Integer()
    co_organisers = fields.String(allow_none=True)
    notice_text = fields.String(allow_none=True)
    conditions = fields.List(fields.String())
    categories = fields.List(fields.String())
    objection_contacts = fields.String(allow_none=True)
    no_fee_statement = fields.String(allow_none=True)
    nomination_opens_on = fields.Date()
    nomination_closes_on = fields.Date()
    review_opens_on = fields.Date()
    review_closes_on = fields.Date()
    notice_days = fields.Integer()
    notice_in_working_days = fields.Boolean()
    large_quota = fields.Integer()
    sme_quota = fields.Integer()
    phase = fields.String(metadata={"enum": list(CAMPAIGN_PHASES)})
    notice_starts_on = fields.Date(
        allow_none=True, metadata={"description": "The public notice's first day; null until it starts."}
    )
    notice_ends_on = fields.Date(allow_none=True, metadata={"description": "The public notice's last day."})
    decided_on = fields.Date(allow_none=True, metadata={"description": "The day the winners were decided."})
    created_at = fields.DateTime()


class CampaignPage(StrictSchema):
    """The institute's campaigns, newest year first."""

    items = fields.List(fields.Nested(CampaignOut))


class RecommenderIn(StrictSchema):
    """A recommender (推荐单位) and the institute's users who act for it."""

    name = Text(200, required=True)
    kind = Choice(RECOMMENDER_KINDS, required=True)
    contact = Text(200)
    member_ids = fields.List(
        WholeNumber(validate=int_range(1, MAX_ID)), load_default=list, validate=validate.Length(max=100)
    )


class MemberOut(StrictSchema):
    """A user acting for a recommender."""

    id = fields.Integer(attribute="user.id")
    name = fields.String(attribute="user.name")
    email = fields.String(attribute="user.email")


class RecommenderOut(StrictSchema):
    """A recommender with its members."""

    id = fields.Integer()
    name = fields.String()
    kind = fields.String(metadata={"enum": list(RECOMMENDER_KINDS)})
    contact = fields.String(allow_none=True)
    members = fields.List(fields.Nested(MemberOut))


class RecommenderPage(StrictSchema):
    """The institute's recommenders, by name."""

    items = fields.List(fields.Nested(RecommenderOut))


class NominationStartIn(StrictSchema):
    """Start a nomination in an open campaign of the firm's institute, addressed to a recommender."""

    campaign_id = WholeNumber(required=True, validate=int_range(1, MAX_ID))
    recommender_id = WholeNumber(required=True, validate=int_range(1, MAX_ID))


class NominationFileIn(StrictSchema):
    """Which scan the uploaded files are (``multipart/form-data``: ``kind``, and ``file`` repeated)."""

    kind = Choice(FILE_KINDS, required=True)


class NominationFileUploadIn(NominationFileIn):
    """The multipart form adding scans of one kind to a nomination: ``kind``, and ``file`` once per file."""

    file = fields.List(fields.Raw(metadata={"type": "string", "format": "binary"}), required=True)


class NominationFileOut(StrictSchema):
    """A scan of a nomination; ``GET /nominations/{nomination_id}/files/{file_id}`` downloads it."""

    id = fields.Integer()
    kind = fields.String(metadata={"enum": list(FILE_KINDS)})
    filename = fields.String()
    mime = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_by_name = fields.String(allow_none=True)
    uploaded_at = fields.DateTime()


class FrozenFileOut(StrictSchema):
    """A scan as the submission froze it: its hash is what reviewers check the file against."""

    id = fields.Integer()
    kind = fields.String(metadata={"enum": list(FILE_KINDS)})
    filename = fields.String()
    sha256 = fields.String()
    size = fields.Integer()


class SelfCheckAnswerIn(StrictSchema):
    """The firm's answer to one self-check item; ``reason`` when it differs from the data's."""

    answer = Choice(ANSWERS, allow_none=True)
    note = Text(500, multiline=True)
    reason = Text(500, multiline=True)


class NominationIn(StrictSchema):
    """The recommendation form: unit information, narratives, declarations, self-check answers."""

    recommender_id = WholeNumber(validate=int_range(1, MAX_ID))
    unit_name = Text(200)
    credit_code = CreditCode(allow_none=True)
    address = Text(300)
    employees = fields.Integer(allow_none=True, validate=int_range(0, 10_000_000))
    annual_revenue_wan = fields.Decimal(
        allow_none=True, places=2, validate=non_negative_revenue, as_string=True
    )
    industry = Text(100)
    contact_name = Text(100)
    contact_mobile = Mobile(allow_none=True)
    contact_email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    narratives = fields.List(Text(5000, multiline=True, required=True), validate=validate.Length(max=20))
    declarations = fields.List(fields.Boolean(), validate=validate.Length(max=30))
    self_check = fields.Dict(
        keys=fields.String(
            validate=validate.Regexp(
                r"^([1-9]|[12][0-9]|3[0-3])$", error=N_("The items are numbered 1 to 33.")
            )
        ),
        values=fields.Nested(SelfCheckAnswerIn),
        metadata={"description": "By item number (1–33)."},
    )


class NominationOut(StrictSchema):
    """A nomination, with its frozen dossier once submitted."""

    id = fields.Integer()
    campaign_id = fields.Integer()
    campaign = fields.String(attribute="campaign.title")
    firm_id = fields.Integer()
    recommender_id = fields.Integer()
    recommender = fields.String(attribute="recommender.name")
    state = fields.String(metadata={"enum": list(NOMINATION_STATES)})
    unit_name = fields.String(allow_none=True)
    credit_code = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    employees = fields.Integer(allow_none=True)
    annual_revenue_wan = fields.Decimal(allow_none=True, as_string=True, metadata={"format": "decimal"})
    size_class = fields.String(allow_none=True, metadata={"enum": ["small_medium", "large", None]})
    industry = fields.String(allow_none=True)
    contact_name = fields.String(allow_none=True)
    contact_mobile = fields.String(allow_none=True)
    contact_email = fields.String(allow_none=True)
    narratives = fields.List(fields.String(allow_none=True))
    declarations = fields.List(fields.Boolean())
    self_check = fields.Dict(keys=fields.String(), values=fields.Dict())
    frozen_dossier = fields.Dict(allow_none=True)
    frozen_prefill = fields.Dict(allow_none=True)
    frozen_head_hash = fields.String(allow_none=True)
    files = fields.List(fields.Nested(NominationFileOut))
    frozen_files = fields.List(fields.Nested(FrozenFileOut), allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    recommendation = fields.String(allow_none=True, metadata={"enum": [*RECOMMENDATIONS, None]})
    returned_reason = fields.String(
        allow_none=True,
        metadata={"description": "Why the recommender sent it back, until it is resubmitted."},
    )


class NominationPage(StrictSchema):
    """The firm's nominations, newest first."""

    items = fields.List(fields.Nested(NominationOut))


# Recommending: a recommender's decisions on the nominations addressed to it


class ReturnIn(StrictSchema):
    """Send a submitted nomination back to the firm, saying why (the firm reads it)."""

    reason = Text(1000, multiline=True, required=True)


class RankIn(StrictSchema):
    """The accepted nominations in the order the recommender puts them forward, first first."""

    ids = fields.List(
        WholeNumber(validate=int_range(1, MAX_ID)),
        required=True,
        validate=validate.Length(max=500),
        metadata={"description": "Every accepted nomination's id, once each."},
    )


class AddressedOut(StrictSchema):
    """A nomination as its recommender sees it: the unit, its size with the figures, the decision."""

    id = fields.Integer()
    firm_id = fields.Integer()
    state = fields.String(metadata={"enum": list(NOMINATION_STATES)})
    unit_name = fields.String(allow_none=True)
    credit_code = fields.String(allow_none=True)
    employees = fields.Integer(allow_none=True)
    annual_revenue_wan = fields.Decimal(allow_none=True, as_string=True, metadata={"format": "decimal"})
    size_class = fields.String(allow_none=True, metadata={"enum": ["small_medium", "large", None]})
    industry = fields.String(allow_none=True)
    contact_name = fields.String(allow_none=True)
    contact_mobile = fields.String(allow_none=True)
    contact_email = fields.String(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    recommendation = fields.String(allow_none=True, metadata={"enum": [*RECOMMENDATIONS, None]})
    returned_reason = fields.String(allow_none=True)
    rank = fields.Integer(allow_none=True)
    recommended_at = fields.DateTime(allow_none=True)


class SizeCountOut(StrictSchema):
    """How many nominations of one size class are accepted, against the campaign's quota."""

    accepted = fields.Integer()
    quota = fields.Integer()


class AddressedPage(StrictSchema):
    """The nominations addressed to a recommender in a campaign, accepted ones first in their rank."""

    campaign_id = fields.Integer()
    recommender_id = fields.Integer()
    recommender = fields.String()
    submitted_at = fields.DateTime(
        allow_none=True, metadata={"description": "When the list was submitted; null while it is open."}
    )
    submitted_by_name = fields.String(allow_none=True)
    counts = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(SizeCountOut),
        metadata={"description": "large, small_medium."},
    )
    items = fields.List(fields.Nested(AddressedOut))


class ListStateOut(StrictSchema):
    """A recommender's list in a campaign: submitted or not, and how many it puts forward."""

    recommender_id = fields.Integer()
    recommender = fields.String()
    submitted_at = fields.DateTime(allow_none=True)
    submitted_by_name = fields.String(allow_none=True)
    accepted = fields.Integer()
    undecided = fields.Integer()


class ListStatePage(StrictSchema):
    """Every recommender's list in a campaign, by the recommender's name."""

    items = fields.List(fields.Nested(ListStateOut))


class WinnersIn(StrictSchema):
    """The winners, replacing any decided before: nominations that went forward to the review."""

    nomination_ids = fields.List(
        WholeNumber(validate=int_range(1, MAX_ID)),
        required=True,
        validate=validate.Length(min=1, max=500, error=N_("Choose at least one winner.")),
        metadata={"description": "The winning nominations' ids, at least one."},
    )


class AwardOut(StrictSchema):
    """A winner: the nomination decided on, and whether an upheld objection removed it."""

    id = fields.Integer()
    campaign_id = fields.Integer()
    nomination_id = fields.Integer()
    firm_id = fields.Integer(attribute="nomination.firm_id")
    unit_name = fields.String(attribute="nomination.unit_name", allow_none=True)
    recommender = fields.String(attribute="nomination.recommender.name")
    size_class = fields.String(
        attribute="nomination.size_class", allow_none=True, metadata={"enum": ["small_medium", "large", None]}
    )
    decided_at = fields.DateTime()
    decided_by_name = fields.String(allow_none=True)
    removed_at = fields.DateTime(allow_none=True)
    removed_reason = fields.String(allow_none=True)
    certificate_no = fields.String(
        allow_none=True, metadata={"description": "Assigned when the campaign is decided."}
    )


class AwardPage(StrictSchema):
    """A campaign's winners in the order decided, removed ones included."""

    items = fields.List(fields.Nested(AwardOut))


class ObjectionIn(StrictSchema):
    """An objection to the public notice (异议): who lodges it, how to reach them, what it says."""

    name = Text(100, required=True)
    contact = Text(200, required=True)
    text = Text(4000, multiline=True, required=True)
    award_id = WholeNumber(
        allow_none=True,
        validate=int_range(1, MAX_ID),
        metadata={"description": "The winner objected to, if one."},
    )


class ObjectionOut(StrictSchema):
    """An objection and what the organisers decided on it."""

    id = fields.Integer()
    campaign_id = fields.Integer()
    award_id = fields.Integer(allow_none=True)
    name = fields.String()
    contact = fields.String()
    text = fields.String()
    lodged_at = fields.DateTime()
    outcome = fields.String(allow_none=True, metadata={"enum": [*OBJECTION_OUTCOMES, None]})
    outcome_reason = fields.String(allow_none=True)
    handled_at = fields.DateTime(allow_none=True)
    handled_by_name = fields.String(allow_none=True)


class ObjectionPage(StrictSchema):
    """A campaign's objections, those without an outcome first."""

    items = fields.List(fields.Nested(ObjectionOut))


class HandleIn(StrictSchema):
    """The outcome of an objection: upheld removes the winner it names; either way, with the reason."""

    outcome = Choice(OBJECTION_OUTCOMES, required=True)
    reason = Text(1000, multiline=True, required=True)


# Reviewing


#: A category's score runs from 0 to this.
SCORE_MAX = 100


class AssignIn(StrictSchema):
    """Give reviewers nominations to review; without ``nomination_ids``, every one that went forward.

    A reviewer who is a member of a nomination's recommender is never given it.
    """

    reviewer_ids = fields.List(
        WholeNumber(validate=int_range(1, MAX_ID)), required=True, validate=validate.Length(min=1, max=100)
    )
    nomination_ids = fields.List(
        WholeNumber(validate=int_range(1, MAX_ID)), load_default=None, validate=validate.Length(max=1000)
    )


class ReviewIn(StrictSchema):
    """A reviewer's scores (one per category of the campaign, 0–100, null while not scored) and comments."""

    scores = fields.List(
        fields.Integer(allow_none=True, strict=True, validate=int_range(0, SCORE_MAX)),
        validate=validate.Length(max=20),
    )
    comments = fields.List(Text(2000, multiline=True, allow_none=True), validate=validate.Length(max=20))
    opinion = Text(4000, multiline=True, allow_none=True)


class AssignmentOut(StrictSchema):
    """A reviewer's assignment: the nomination, the scores per category and the reviewer's opinion."""

    id = fields.Integer()
    campaign_id = fields.Integer()
    campaign = fields.String(attribute="campaign.title")
    nomination_id = fields.Integer()
    unit_name = fields.String(attribute="nomination.unit_name", allow_none=True)
    reviewer_id = fields.Integer()
    reviewer = fields.String(attribute="reviewer.name")
    scores = fields.List(fields.Integer(allow_none=True))
    comments = fields.List(fields.String(allow_none=True))
    opinion = fields.String(allow_none=True)
    total = fields.Float(allow_none=True, metadata={"description": "The mean of the category scores."})
    submitted_at = fields.DateTime(allow_none=True)


class ReviewPage(StrictSchema):
    """A reviewer's assignments, with the other reviewers' submitted reviews of each once one's own is in."""

    items = fields.List(fields.Nested(AssignmentOut))


class AssignedOut(StrictSchema):
    """What an assignment did: the assignments made, and the pairs the conflict rule kept apart."""

    added = fields.List(fields.Nested(AssignmentOut))
    conflicts = fields.List(
        fields.Dict(),
        metadata={"description": "``{reviewer_id, nomination_id, recommender}``: pairs kept apart."},
    )


class StandingOut(StrictSchema):
    """A forwarded nomination in the ranking: mean score, spread (highest less lowest), reviewers."""

    nomination_id = fields.Integer(attribute="nomination.id")
    unit_name = fields.String(attribute="nomination.unit_name", allow_none=True)
    recommender = fields.String(attribute="nomination.recommender.name")
    size_class = fields.String(attribute="nomination.size_class", allow_none=True)
    mean = fields.Float(allow_none=True)
    spread = fields.Float(allow_none=True)
    submitted = from_method("submitted_count", fields.Integer)
    assigned = from_method("assigned_count", fields.Integer)

    def submitted_count(self, standing) -> int:
        """Return how many reviewers have submitted."""
        return len(standing.totals)

    def assigned_count(self, standing) -> int:
        """Return how many reviewers were assigned."""
        return len(standing.assignments)


class RankingOut(StrictSchema):
    """The forwarded nominations, the best mean score first; those not scored yet last."""

    items = fields.List(fields.Nested(StandingOut))
