"""What changes nominations' state: an institute's campaigns and recommenders, a firm's nominations."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models import Organization, User
from models.nominations import (
    REQUIRED_FILE_KINDS,
    Award,
    Campaign,
    Nomination,
    NominationFile,
    Objection,
    RecommendationList,
    Recommender,
    RecommenderMember,
    ReviewAssignment,
)
from service.actors import Actor
from service.clock import now_utc
from service.errors import Conflict, Invalid, NotFound, Throttled, invalid_field
from service.history.chain import append_event, record_event
from service.i18n import N_, Msg
from service.names import NOMINATION_FILE_KIND_NAMES, SIZE_NAMES
from service.nominations import dossier, phases, queries, self_check
from service.nominations.queries import get_campaign, get_recommender
from service.nominations.schemas import (
    AssignIn,
    CampaignIn,
    HandleIn,
    NominationFileIn,
    NominationIn,
    NominationStartIn,
    ObjectionIn,
    PhaseIn,
    RankIn,
    RecommenderIn,
    ReturnIn,
    ReviewIn,
    WinnersIn,
)
from service.reminders.notices import notify_people, notify_users
from service.schemas import load_or_invalid
from service.scoping import get_in_org
from service.tenancy.queries import active_link
from service.traceability import files
from service.validation import benchmark_industries


def _require_organiser(actor: Actor) -> None:
    """Only an institute's administrators organise its campaigns."""
    actor.require_institute("org.manage")


def create_campaign(session: Session, actor: Actor, payload: Mapping) -> Campaign:
    """Create a campaign as a draft, from the institute's notice."""
    _require_organiser(actor)
    data = load_or_invalid(CampaignIn(), payload)
    campaign = Campaign(org_id=actor.org_id, created_by_id=actor.user_id, **data)
    session.add(campaign)
    session.flush()
    record_event(session, actor, "campaign.created", ("campaign", campaign.id), {"title": campaign.title})
    return campaign


def update_campaign(session: Session, actor: Actor, campaign_id: int, payload: Mapping) -> Campaign:
    """Change the fields sent: any while a draft, only the texts once open, nothing once decided."""
    _require_organiser(actor)
    campaign = get_campaign(session, actor, campaign_id)
    current = {name: getattr(campaign, name) for name in CampaignIn().fields}
    data = load_or_invalid(CampaignIn(), current | dict(payload))
    changed = {name: value for name, value in data.items() if getattr(campaign, name) != value}
    refusal = phases.refusal_to_edit(campaign, set(changed))
    if refusal is not None:
        raise Conflict(refusal)
    for name, value in changed.items():
        setattr(campaign, name, value)
    if changed:
        changes = {name: [_plain(current[name]), _plain(value)] for name, value in changed.items()}
        record_event(session, actor, "campaign.updated", ("campaign", campaign.id), {"changes": changes})
    return campaign


def move_campaign(
    session: Session,
    actor: Actor,
    campaign_id: int,
    payload: Mapping,
    today: date,
    base_url: str = "",
    now: datetime | None = None,
) -> Campaign:
    """Move a campaign to its next phase, when its dates, winners and objections allow it.

    The public notice starts on the institute's ``today``; deciding numbers the certificates. The
    linked firms hear when it opens; the winners' firms when the notice starts and when it is decided.
    """
    _require_organiser(actor)
    campaign = get_campaign(session, actor, campaign_id)
    to = load_or_invalid(PhaseIn(), payload)["to"]
    now = now or now_utc()
    standing = queries.awards_of(session, campaign, standing_only=True)
    refusal = phases.refusal_to_move(
        campaign,
        to,
        today,
        winners=len(standing),
        unhandled=queries.unhandled_count(session, campaign) if to == "decided" else 0,
    )
    if refusal is not None:
        raise Conflict(refusal)
    before, campaign.phase = campaign.phase, to
    data: dict = {"phase": [before, to]}
    if to == "notice":
        campaign.notice_starts_on = today
        campaign.notice_ends_on = phases.notice_end(
            today, campaign.notice_days, campaign.notice_in_working_days
        )
        data["notice"] = [campaign.notice_starts_on.isoformat(), campaign.notice_ends_on.isoformat()]
        data["winners"] = [award.nomination_id for award in standing]
    if to == "decided":
        campaign.decided_on = today
        _number_certificates(session, campaign, standing)
        data["certificates"] = {award.nomination_id: award.certificate_no for award in standing}
    if to == "review":
        # Only the accepted nominations of submitted lists go forward; the history says which lists were not.
        states = queries.list_states_of(session, campaign)
        data["forwarded"] = sum(state.accepted for state in states if state.listed is not None)
        data["unlisted"] = [state.recommender.name for state in states if state.listed is None]
    record_event(session, actor, "campaign.moved", ("campaign", campaign.id), data)
    if to in ("notice", "decided"):
        for award in standing:
            _tell_winner(session, campaign, award, to, today, now, base_url)
    if to == "open":
        _announce(session, campaign, today, now, base_url)
    return campaign


def _announce(session: Session, campaign: Campaign, today: date, now: datetime, base_url: str) -> None:
    """Tell the administrators and metrology engineers of every linked firm that nominations are open."""
    for firm_id in queries.linked_firm_ids(session, campaign.org_id):
        notify_people(
            session,
            firm_id,
            FIRM_ROLES,
            "nomination",
            "campaign_opened",
            f"campaign:{campaign.id}:open",
            today,
            now,
            campaign=campaign.title,
            opens_on=campaign.nomination_opens_on.isoformat(),
            closes_on=campaign.nomination_closes_on.isoformat(),
            link=f"{base_url.rstrip('/')}/nominations",
        )


def _plain(value):
    """Return a value as the history stores it (dates as ISO text)."""
    return value.isoformat() if isinstance(value, date) else value


def save_recommender(
    session: Session, actor: Actor, recommender_id: int | None, payload: Mapping
) -> Recommender:
    """Create a recommender (``recommender_id`` None) or change one, with its members."""
    _require_organiser(actor)
    # Another institute's id is 404 whatever the body says.
    recommender = None if recommender_id is None else get_recommender(session, actor, recommender_id)
    data = load_or_invalid(RecommenderIn(), payload)
    same_name = select(Recommender.id).where(
        Recommender.org_id == actor.org_id, Recommender.name == data["name"]
    )
    if recommender is not None:
        same_name = same_name.where(Recommender.id != recommender.id)
    if session.scalar(same_name) is not None:
        raise invalid_field("name", N_("Another recommender has this name."))
    member_ids = sorted(set(data.pop("member_ids")))
    found = set(
        session.scalars(
            select(User.id).where(
                User.org_id == actor.org_id, User.id.in_(member_ids), User.is_active.is_(True)
            )
        )
    )
    if found != set(member_ids):
        raise invalid_field("member_ids", N_("Members must be active users of the institute."))
    if recommender is None:
        recommender = Recommender(org_id=actor.org_id)
        session.add(recommender)
    for name, value in data.items():
        setattr(recommender, name, value)
    session.flush()
    session.execute(
        delete(RecommenderMember).where(
            RecommenderMember.org_id == actor.org_id, RecommenderMember.recommender_id == recommender.id
        )
    )
    session.add_all(
        RecommenderMember(org_id=actor.org_id, recommender_id=recommender.id, user_id=user_id)
        for user_id in member_ids
    )
    session.flush()
    session.expire(recommender, ["members"])
    kind = "recommender.created" if recommender_id is None else "recommender.updated"
    record_event(
        session,
        actor,
        kind,
        ("recommender", recommender.id),
        {"name": recommender.name, "members": member_ids},
    )
    return recommender


# Nominations, by a client firm


def _require_nominator(actor: Actor) -> None:
    """A firm's administrators and metrology engineers prepare its nominations."""
    if actor.home_org_kind != "firm" or actor.via_client_link:
        raise NotFound(N_("Not found."))
    actor.require("ledger.write")


#: Why a submitted nomination refuses changes.
FROZEN = N_("A submitted nomination is frozen: withdraw it to change it.")
#: At most this many scans per nomination: four kinds, evidence often several pages.
MAX_FILES = 30


def _changeable(
    session: Session, actor: Actor, nomination_id: int, state: str, otherwise: Msg, today: date
) -> Nomination:
    """Return the firm's nomination if it is in ``state``, still linked and inside its window."""
    _require_nominator(actor)
    nomination = queries.get_nomination(session, actor, nomination_id)
    # Every change of the firm's and the submission take the recommender's row first (as its
    # decisions do) and read the nomination and its scans again under it: a scan removed while the
    # nomination is submitted is never frozen, and nothing changes a nomination once submitted.
    _lock_its_recommender(session, nomination)
    session.expire(nomination, ["files"])
    if active_link(session, nomination.institute_id, nomination.firm_id) is None:
        raise Conflict(N_("Your firm is no longer linked to this institute."))
    if nomination.state != state:
        raise Conflict(otherwise)
    _window_open(nomination.campaign, today)
    return nomination


def _window_open(campaign: Campaign, today: date) -> None:
    if not phases.accepts_nominations(campaign, today):
        raise Conflict(N_("The campaign is not open for nominations today."))


def start_nomination(session: Session, actor: Actor, payload: Mapping, today: date) -> Nomination:
    """Start the firm's nomination in an open campaign of an institute it is linked to."""
    _require_nominator(actor)
    data = load_or_invalid(NominationStartIn(), payload)
    campaign = queries.campaign_open_to(session, actor, data["campaign_id"])
    _window_open(campaign, today)
    if queries.nomination_in(session, actor, campaign.id) is not None:
        raise Conflict(N_("Your firm has already started a nomination in this campaign."))
    recommender = queries.recommender_of(session, campaign.org_id, data["recommender_id"])
    firm = session.get(Organization, actor.org_id)
    nomination = Nomination(
        institute_id=campaign.org_id,
        firm_id=firm.id,
        campaign_id=campaign.id,
        recommender_id=recommender.id,
        unit_name=firm.name,
        credit_code=firm.credit_code,
        employees=firm.employees,
        annual_revenue_wan=firm.annual_revenue_wan,
        industry=firm.industry,
        narratives=["" for _ in campaign.categories],
        declarations=[False for _ in campaign.conditions],
        created_by_name=actor.name,
    )
    session.add(nomination)
    session.flush()
    record_event(
        session, actor, "nomination.started", ("nomination", nomination.id), {"campaign": campaign.title}
    )
    return nomination


def update_nomination(
    session: Session, actor: Actor, nomination_id: int, payload: Mapping, today: date
) -> Nomination:
    """Change the fields sent of a draft nomination while the window is open."""
    nomination = _changeable(session, actor, nomination_id, "draft", FROZEN, today)
    data = load_or_invalid(NominationIn(), payload)
    campaign = nomination.campaign
    if "recommender_id" in data:
        recommender_id = queries.recommender_of(session, campaign.org_id, data.pop("recommender_id")).id
        if recommender_id != nomination.recommender_id:
            # A reason one recommender gave does not follow the nomination to another.
            _clear_recommendation(nomination)
        nomination.recommender_id = recommender_id
    if "narratives" in data and len(data["narratives"]) != len(campaign.categories):
        raise invalid_field("narratives", N_("Give one narrative per achievement category."))
    if "declarations" in data and len(data["declarations"]) != len(campaign.conditions):
        raise invalid_field("declarations", N_("Declare each basic condition."))
    if "self_check" in data:
        # Item by item and key by key: what is sent replaces, a blank value clears, the rest stays.
        merged = dict(nomination.self_check)
        for seq, answer in data["self_check"].items():
            entry = merged.get(seq, {}) | answer
            merged[seq] = {key: value for key, value in entry.items() if value not in (None, "")}
        data["self_check"] = merged
    for name, value in data.items():
        setattr(nomination, name, value)
    session.flush()
    session.expire(nomination, ["recommender"])  # the recommender's row is read again with its name
    return nomination


def submit_nomination(
    session: Session, actor: Actor, nomination_id: int, today: date, base_url: str = ""
) -> Nomination:
    """Submit a complete nomination: the dossier, the data's answers and the history's head are frozen.

    The recommender's members hear of it (in the app and by email), with a link under ``base_url``.
    """
    nomination = _changeable(
        session, actor, nomination_id, "draft", N_("This nomination has already been submitted."), today
    )
    if queries.list_of(session, nomination.institute_id, nomination.campaign_id, nomination.recommender_id):
        raise Conflict(
            N_("Its recommender has already submitted its list: address the nomination to another one.")
        )
    found = dossier.compute(session, session.get(Organization, actor.org_id), today)
    prefill = self_check.prefill(found)
    errors = _incomplete(nomination, prefill)
    if errors:
        raise Invalid(N_("The nomination is not complete yet."), errors)
    nomination.frozen_dossier = queries.dossier_figures(found)
    nomination.frozen_prefill = {
        str(seq): {
            "answer": answer.answer,
            "evidence": answer.evidence,
            "params": _jsonable(answer.evidence.params),
        }
        for seq, answer in prefill.items()
    }
    nomination.frozen_head_hash = found.history["head_hash"]
    nomination.frozen_files = [scan.frozen() for scan in nomination.files]
    nomination.state, nomination.submitted_at = "submitted", now_utc()
    # A nomination sent back is decided on afresh; the firm no longer sees the reason.
    _clear_recommendation(nomination)
    record_event(
        session,
        actor,
        "nomination.submitted",
        ("nomination", nomination.id),
        {"campaign": nomination.campaign.title, "head_hash": nomination.frozen_head_hash},
    )
    notify_users(
        session,
        nomination.institute_id,
        queries.members_of(session, nomination.institute_id, nomination.recommender_id),
        "nomination",
        "nomination_submitted",
        f"nomination:{nomination.id}:{nomination.submitted_at.isoformat()}",
        today,
        nomination.submitted_at,
        campaign=nomination.campaign.title,
        recommender=nomination.recommender.name,
        unit=nomination.unit_name,
        link=f"{base_url.rstrip('/')}/recommending/campaigns/{nomination.campaign_id}"
        f"/recommenders/{nomination.recommender_id}/nominations/{nomination.id}",
    )
    return nomination


def withdraw_nomination(session: Session, actor: Actor, nomination_id: int, today: date) -> Nomination:
    """Take a submitted nomination back to a draft while the window is open; the frozen dossier goes."""
    nomination = _changeable(
        session, actor, nomination_id, "submitted", N_("Only a submitted nomination can be withdrawn."), today
    )
    if nomination.recommendation == "accepted" and queries.list_of(
        session, nomination.institute_id, nomination.campaign_id, nomination.recommender_id
    ):
        raise Conflict(
            N_("Its recommender has put it forward on a submitted list: it can no longer be withdrawn.")
        )
    _unfreeze(nomination)
    # Its place on the recommender's list goes; the others keep their order (ranks close up at submission).
    _clear_recommendation(nomination)
    record_event(session, actor, "nomination.withdrawn", ("nomination", nomination.id), {})
    return nomination


def _lock_its_recommender(session: Session, nomination: Nomination) -> None:
    """Wait for any change to the recommender's list to end, then read the nomination as it is now."""
    queries.lock_recommender(session, nomination.institute_id, nomination.recommender_id)
    _reread(session, nomination)


def _reread(session: Session, nomination: Nomination) -> None:
    """Read the nomination's columns again; its campaign and recommender stay as loaded (across tenants)."""
    session.refresh(nomination, [column.key for column in Nomination.__mapper__.column_attrs])


def _unfreeze(nomination: Nomination) -> None:
    """Make the nomination a draft again: the frozen dossier goes."""
    nomination.state = "draft"
    nomination.frozen_dossier = nomination.frozen_prefill = nomination.frozen_head_hash = None
    nomination.frozen_files = None
    nomination.submitted_at = None


def _clear_recommendation(nomination: Nomination) -> None:
    nomination.recommendation = nomination.returned_reason = None
    nomination.rank = nomination.recommended_at = None


def add_nomination_files(
    session: Session,
    actor: Actor,
    nomination_id: int,
    payload: Mapping,
    uploads: Iterable[files.Upload],
    storage: Path,
    today: date,
) -> list[NominationFile]:
    """Add scans of one kind to a draft nomination while its window is open (PDF, PNG or JPEG)."""
    nomination = _changeable(session, actor, nomination_id, "draft", FROZEN, today)
    kind = load_or_invalid(NominationFileIn(), payload)["kind"]
    stored = files.store_uploads(storage, uploads, "file")
    if not stored:
        raise invalid_field("file.0", N_("Choose a file."))
    if len(nomination.files) + len(stored) > MAX_FILES:
        raise invalid_field(
            "file.0", N_("A nomination carries at most %(count)s files: remove some first.", count=MAX_FILES)
        )
    added = [
        NominationFile(
            nomination_id=nomination.id,
            firm_id=nomination.firm_id,
            kind=kind,
            sha256=scan.sha256,
            size=scan.size,
            mime=scan.mime,
            filename=scan.filename,
            uploaded_by_name=actor.name,
        )
        for scan in stored
    ]
    session.add_all(added)
    session.flush()
    session.expire(nomination, ["files"])
    record_event(
        session,
        actor,
        "nomination.files_added",
        ("nomination", nomination.id),
        {"kind": kind, "files": [{"name": scan.filename, "sha256": scan.sha256} for scan in added]},
    )
    return added


def remove_nomination_file(
    session: Session, actor: Actor, nomination_id: int, file_id: int, today: date
) -> NominationFile:
    """Remove a scan from a draft nomination while its window is open; the stored file is swept later."""
    nomination = _changeable(session, actor, nomination_id, "draft", FROZEN, today)
    scan = queries.nomination_file(session, nomination, file_id)
    session.delete(scan)
    session.flush()
    session.expire(nomination, ["files"])
    record_event(
        session,
        actor,
        "nomination.file_removed",
        ("nomination", nomination.id),
        {"kind": scan.kind, "name": scan.filename, "sha256": scan.sha256},
    )
    return scan


#: The unit information the recommendation form requires, with how the form names each.
REQUIRED_UNIT_FIELDS = {
    "unit_name": N_("Unit name"),
    "credit_code": N_("Unified social credit code"),
    "address": N_("Address"),
    "employees": N_("Employees"),
    "annual_revenue_wan": N_("Annual revenue (10,000 yuan)"),
    "industry": N_("Industry"),
    "contact_name": N_("Contact"),
    "contact_mobile": N_("Mobile"),
    "contact_email": N_("Email"),
}


def _incomplete(nomination: Nomination, prefill: dict) -> dict[str, list]:
    """Return what the form still lacks, field by field."""
    errors: dict[str, list] = {}
    for name, label in REQUIRED_UNIT_FIELDS.items():
        if getattr(nomination, name) in (None, ""):
            errors[name] = [N_("Fill in: %(field)s.", field=label)]
    if nomination.industry and nomination.industry not in benchmark_industries():
        errors["industry"] = [N_("Choose the industry from the programme's list.")]
    if any(not (text or "").strip() for text in nomination.narratives):
        errors["narratives"] = [N_("Give one narrative per achievement category.")]
    if not all(nomination.declarations):
        errors["declarations"] = [N_("Declare each basic condition.")]
    uploaded = {scan.kind for scan in nomination.files}
    missing = [kind for kind in REQUIRED_FILE_KINDS if kind not in uploaded]
    if missing:
        errors["files"] = [N_("Upload: %(kind)s.", kind=NOMINATION_FILE_KIND_NAMES[kind]) for kind in missing]
    unanswered, unexplained = [], []
    for item in self_check.items():
        key = str(item.seq)
        given = nomination.self_check.get(key, {})
        data = prefill.get(item.seq)
        answer = given.get("answer") or (data.answer if data else None)
        if answer is None:
            unanswered.append(item.seq)
        elif data is not None and answer != data.answer and not given.get("reason"):
            unexplained.append(item.seq)
    if unanswered:
        errors["self_check"] = [
            N_("Answer every item of the self-check table (missing: %(items)s).", items=_seqs(unanswered))
        ]
    if unexplained:
        errors.setdefault("self_check", []).append(
            N_("Say why you changed the answer the data gives (items %(items)s).", items=_seqs(unexplained))
        )
    return errors


def _seqs(numbers: list[int]) -> str:
    return "、".join(str(n) for n in numbers)


def _jsonable(params: dict) -> dict:
    return {key: str(value) if isinstance(value, Msg) else value for key, value in params.items()}


# Recommending: a recommender's members, or the institute's administrators, accept or return the
# nominations addressed to it while the campaign is open, rank the accepted ones and submit the
# list once; the firm hears of each decision.

#: Who in a firm hears of its nomination's decisions: those who prepare nominations.
FIRM_ROLES = ("admin", "metrology")


def _open_list(
    session: Session, actor: Actor, campaign_id: int, recommender_id: int
) -> tuple[Campaign, Recommender]:
    """Return the campaign and recommender if the actor may still change the recommender's list."""
    campaign = get_campaign(session, actor, campaign_id)
    recommender = queries.recommender_for(session, actor, recommender_id)
    queries.lock_recommender(session, actor.org_id, recommender.id)
    if campaign.phase != "open":
        raise Conflict(N_("Recommending is possible only while the campaign is open for nominations."))
    if queries.list_of(session, actor.org_id, campaign.id, recommender.id) is not None:
        raise Conflict(N_("This recommender's list has been submitted: it no longer changes."))
    return campaign, recommender


def _decidable(
    session: Session, actor: Actor, campaign_id: int, recommender_id: int, nomination_id: int
) -> Nomination:
    """Return a submitted nomination addressed to a recommender whose list the actor may still change."""
    nomination = queries.addressed_nomination(session, actor, campaign_id, recommender_id, nomination_id)
    _open_list(session, actor, campaign_id, recommender_id)
    _reread(session, nomination)  # as it is now that the recommender is locked
    if nomination.state != "submitted":
        raise Conflict(N_("Only a submitted nomination can be accepted or returned."))
    return nomination


def accept_nomination(
    session: Session,
    actor: Actor,
    campaign_id: int,
    recommender_id: int,
    nomination_id: int,
    today: date,
    base_url: str,
    now: datetime,
) -> Nomination:
    """Put a submitted nomination on the recommender's list, last in rank."""
    nomination = _decidable(session, actor, campaign_id, recommender_id, nomination_id)
    if nomination.recommendation == "accepted":
        return nomination
    ranks = [n.rank or 0 for n in queries.addressed_to(session, actor.org_id, campaign_id, recommender_id)]
    nomination.recommendation, nomination.returned_reason = "accepted", None
    nomination.rank = max(ranks, default=0) + 1
    nomination.recommended_at = now
    record_event(
        session,
        actor,
        "nomination.accepted",
        ("nomination", nomination.id),
        {"unit": nomination.unit_name, "recommender": nomination.recommender.name, "rank": nomination.rank},
    )
    _tell_firm(session, nomination, "accepted", today, now, base_url)
    return nomination


def return_nomination(
    session: Session,
    actor: Actor,
    campaign_id: int,
    recommender_id: int,
    nomination_id: int,
    payload: Mapping,
    today: date,
    base_url: str,
    now: datetime,
) -> Nomination:
    """Send a submitted nomination back to the firm as a draft, with the reason it reads."""
    nomination = _decidable(session, actor, campaign_id, recommender_id, nomination_id)
    reason = load_or_invalid(ReturnIn(), payload)["reason"]
    _unfreeze(nomination)
    nomination.recommendation, nomination.returned_reason = "returned", reason
    nomination.rank, nomination.recommended_at = None, now
    record_event(
        session,
        actor,
        "nomination.returned",
        ("nomination", nomination.id),
        {"unit": nomination.unit_name, "recommender": nomination.recommender.name, "reason": reason},
    )
    _tell_firm(session, nomination, "returned", today, now, base_url)
    return nomination


def rank_nominations(
    session: Session, actor: Actor, campaign_id: int, recommender_id: int, payload: Mapping
) -> list[Nomination]:
    """Put the accepted nominations in the order given: every accepted one once, nothing else."""
    campaign, recommender = _open_list(session, actor, campaign_id, recommender_id)
    ids = load_or_invalid(RankIn(), payload)["ids"]
    accepted = {
        n.id: n
        for n in queries.addressed_to(session, actor.org_id, campaign.id, recommender.id)
        if n.recommendation == "accepted"
    }
    if len(ids) != len(set(ids)) or set(ids) != set(accepted):
        raise invalid_field("ids", N_("Give every accepted nomination exactly once, and no other."))
    for place, nomination_id in enumerate(ids, start=1):
        accepted[nomination_id].rank = place
    record_event(
        session,
        actor,
        "recommendation.ranked",
        ("recommender", recommender.id),
        {"campaign": campaign.title, "ids": ids},
    )
    return [accepted[nomination_id] for nomination_id in ids]


def submit_list(
    session: Session,
    actor: Actor,
    campaign_id: int,
    recommender_id: int,
    today: date,
    base_url: str,
    now: datetime,
) -> RecommendationList:
    """Submit the recommender's list once: everything decided, something accepted, within the quotas."""
    campaign, recommender = _open_list(session, actor, campaign_id, recommender_id)
    found = queries.addressed(session, actor, campaign.id, recommender.id)
    if found.undecided:
        raise Conflict(
            N_(
                "Accept or return every submitted nomination first: %(count)s still to decide.",
                count=len(found.undecided),
            )
        )
    accepted = found.accepted
    if not accepted:
        raise Conflict(N_("Accept at least one nomination before submitting the list."))
    refusal = quota_refusal(found.counts)
    if refusal is not None:
        raise Conflict(refusal)
    for place, nomination in enumerate(accepted, start=1):
        nomination.rank = place  # ranks close up over any withdrawn in between
    listed = RecommendationList(
        org_id=actor.org_id,
        campaign_id=campaign.id,
        recommender_id=recommender.id,
        submitted_at=now,
        submitted_by_name=actor.name,
    )
    session.add(listed)
    session.flush()
    record_event(
        session,
        actor,
        "recommendation.submitted",
        ("recommender", recommender.id),
        {
            "campaign": campaign.title,
            "ranked": [{"id": n.id, "unit": n.unit_name, "size": n.size_class} for n in accepted],
        },
    )
    for nomination in accepted:
        _tell_firm(session, nomination, "listed", today, now, base_url)
    return listed


def quota_refusal(counts: Mapping[str, Mapping[str, int]]) -> Msg | None:
    """Return why accepted nominations by size class exceed the campaign's quotas, or None (pure rule)."""
    for size in ("large", "small_medium"):
        count, quota = counts[size]["accepted"], counts[size]["quota"]
        if count > quota:
            return N_(
                "%(size)s firms: %(count)s accepted, but the quota is %(quota)s.",
                size=SIZE_NAMES[size],
                count=count,
                quota=quota,
            )
    return None


def _tell_firm(
    session: Session, nomination: Nomination, state: str, today: date, now: datetime, base_url: str
) -> None:
    """Tell the firm's people (in the app and by email) what the recommender decided."""
    notify_people(
        session,
        nomination.firm_id,
        FIRM_ROLES,
        "nomination",
        "nomination_decided",
        f"{nomination.id}:{state}:{now.isoformat()}",
        today,
        now,
        campaign=nomination.campaign.title,
        recommender=nomination.recommender.name,
        unit=nomination.unit_name,
        state=state,
        reason=nomination.returned_reason,
        link=f"{base_url.rstrip('/')}/nominations/{nomination.id}",
    )


# Awards: the organisers decide the winners among the nominations that went forward while the
# campaign is in review; the public notice (公示) lists them and takes objections from anyone;
# an upheld objection removes a winner; deciding numbers the certificates (荣誉证书).

#: How many objections one sender may lodge on one campaign within :data:`OBJECTION_WINDOW`.
OBJECTIONS_PER_SENDER = 5
OBJECTION_WINDOW = timedelta(hours=1)
#: The name the history gives the anonymous sender of an objection.
PUBLIC_SENDER = "公示页访客"


def decide_winners(
    session: Session, actor: Actor, campaign_id: int, payload: Mapping, now: datetime
) -> list[Award]:
    """Replace the campaign's winners while it is in review: at least one, each a forwarded nomination."""
    _require_organiser(actor)
    campaign = get_campaign(session, actor, campaign_id)
    ids = load_or_invalid(WinnersIn(), payload)["nomination_ids"]
    if campaign.phase != "review":
        raise Conflict(N_("Winners are decided while the campaign is in review."))
    forwarded = {n.id: n for n in queries.forwarded(session, campaign)}
    if len(ids) != len(set(ids)) or not set(ids) <= set(forwarded):
        raise invalid_field(
            "nomination_ids", N_("Choose winners among the nominations that went forward, each once.")
        )
    existing = {award.nomination_id: award for award in queries.awards_of(session, campaign)}
    for nomination_id, award in existing.items():
        if nomination_id not in ids:
            session.delete(award)
    for nomination_id in ids:
        if nomination_id not in existing:
            session.add(
                Award(
                    org_id=actor.org_id,
                    campaign_id=campaign.id,
                    nomination_id=nomination_id,
                    decided_at=now,
                    decided_by_name=actor.name,
                )
            )
    session.flush()
    record_event(
        session,
        actor,
        "award.winners_decided",
        ("campaign", campaign.id),
        {"winners": [{"id": i, "unit": forwarded[i].unit_name} for i in ids]},
    )
    return queries.awards_of(session, campaign)


def lodge_objection(
    session: Session,
    campaign: Campaign,
    payload: Mapping,
    sender_hash: str,
    today: date,
    now: datetime,
    base_url: str = "",
) -> Objection:
    """Take an objection from anyone on the public notice, while it runs; a sender lodges a few an hour.

    ``sender_hash`` stands for the sender's address (never stored itself). The count is read under
    a lock of the sender on PostgreSQL, so parallel requests cannot all pass it. The institute's
    administrators hear of it: the campaign is decided only once every objection is handled.
    """
    if not phases.accepts_objections(campaign, today):
        raise Conflict(N_("The public notice is not taking objections."))
    data = load_or_invalid(ObjectionIn(), payload)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"objection:{sender_hash}"))))
    recent = session.scalar(
        select(func.count(Objection.id)).where(
            Objection.org_id == campaign.org_id,
            Objection.campaign_id == campaign.id,
            Objection.sender_hash == sender_hash,
            Objection.lodged_at >= now - OBJECTION_WINDOW,
        )
    )
    if recent >= OBJECTIONS_PER_SENDER:
        raise Throttled(N_("Too many objections from your address. Please try again in an hour."))
    award_id = data.pop("award_id", None)
    if award_id is not None and award_id not in {
        award.id for award in queries.awards_of(session, campaign, standing_only=True)
    }:
        raise invalid_field("award_id", N_("Choose one of the winners listed, or none."))
    objection = Objection(
        org_id=campaign.org_id,
        campaign_id=campaign.id,
        award_id=award_id,
        sender_hash=sender_hash,
        lodged_at=now,
        **data,
    )
    session.add(objection)
    session.flush()
    # The history names the objection, not the sender's contact details.
    append_event(
        session,
        campaign.org_id,
        "objection.lodged",
        ("campaign", campaign.id),
        {"objection": objection.id, "award": award_id},
        None,
        PUBLIC_SENDER,
    )
    notify_people(
        session,
        campaign.org_id,
        ("admin",),
        "nomination",
        "objection_lodged",
        f"objection:{objection.id}",
        today,
        now,
        campaign=campaign.title,
        link=f"{base_url.rstrip('/')}/institute/campaigns/{campaign.id}/awards",
    )
    return objection


def handle_objection(
    session: Session,
    actor: Actor,
    objection_id: int,
    payload: Mapping,
    today: date,
    now: datetime,
    base_url: str = "",
) -> Objection:
    """Record the outcome of an objection once, during the notice: upheld removes the winner it names."""
    _require_organiser(actor)
    objection = queries.get_objection(session, actor, objection_id)
    data = load_or_invalid(HandleIn(), payload)
    # Two organisers handling it at once: the second waits here, then finds it handled (PostgreSQL).
    session.refresh(objection, with_for_update=True)
    campaign = get_campaign(session, actor, objection.campaign_id)
    if campaign.phase != "notice":
        raise Conflict(N_("Objections are handled during the public notice."))
    if objection.outcome is not None:
        raise Conflict(N_("This objection has already been handled."))
    objection.outcome, objection.outcome_reason = data["outcome"], data["reason"]
    objection.handled_at, objection.handled_by_name = now, actor.name
    removed = None
    if objection.outcome == "upheld" and objection.award_id is not None:
        award = session.get(Award, objection.award_id)
        if award is not None and not award.is_removed:
            award.removed_at, award.removed_reason = now, data["reason"]
            removed = award
    session.flush()
    record_event(
        session,
        actor,
        "objection.handled",
        ("campaign", campaign.id),
        {
            "objection": objection.id,
            "outcome": objection.outcome,
            "reason": objection.outcome_reason,
            "removed": removed.nomination_id if removed else None,
        },
    )
    if removed is not None:
        _tell_winner(session, campaign, removed, "removed", today, now, base_url)
    return objection


def _number_certificates(session: Session, campaign: Campaign, standing: list[Award]) -> None:
    """Number the standing awards' certificates ``{year}-{seq:03d}``, after the institute's last that year."""
    prefix = f"{campaign.year}-"
    taken = session.scalars(
        select(Award.certificate_no).where(
            Award.org_id == campaign.org_id, Award.certificate_no.like(f"{prefix}%")
        )
    )
    seq = max((int(no[len(prefix) :]) for no in taken if no[len(prefix) :].isdigit()), default=0)
    for award in standing:
        seq += 1
        award.certificate_no = f"{prefix}{seq:03d}"
    session.flush()


def _tell_winner(
    session: Session, campaign: Campaign, award: Award, state: str, today: date, now: datetime, base_url: str
) -> None:
    """Tell a winner's firm (in the app and by email) that the notice started, it was decided, or removed."""
    nomination = award.nomination
    notify_people(
        session,
        nomination.firm_id,
        FIRM_ROLES,
        "nomination",
        "award_decided",
        f"award:{award.id}:{state}",
        today,
        now,
        campaign=campaign.title,
        unit=nomination.unit_name,
        state=state,
        reason=award.removed_reason,
        notice_ends_on=campaign.notice_ends_on.isoformat() if campaign.notice_ends_on else None,
        link=f"{base_url.rstrip('/')}/nominations/{nomination.id}",
    )


# Reviewing: the organiser gives reviewers the nominations that went forward; each reviewer scores
# them per category and submits once.


@dataclass(frozen=True)
class Assigned:
    """What an assignment did: the assignments made, and the pairs the conflict rule kept apart."""

    added: list[ReviewAssignment]
    #: ``(reviewer, nomination)`` pairs not made: the reviewer is a member of the nominating recommender.
    conflicts: list[tuple[User, Nomination]]


def _in_review(campaign: Campaign) -> None:
    if campaign.phase != "review":
        raise Conflict(N_("Reviews take place while the campaign is in review."))


def assign_reviewers(
    session: Session, actor: Actor, campaign_id: int, payload: Mapping, today: date, base_url: str
) -> Assigned:
    """Give each reviewer each nomination asked for (every forwarded one by default), but their own.

    A reviewer who is a member of a nomination's recommender is not given it (the conflict rule);
    pairs already made stay as they are. Each reviewer given new work hears of it.
    """
    _require_organiser(actor)
    campaign = get_campaign(session, actor, campaign_id)  # another institute's campaign is 404 first
    data = load_or_invalid(AssignIn(), payload)
    _in_review(campaign)
    forwarded = {n.id: n for n in queries.forwarded(session, campaign)}
    wanted = data["nomination_ids"] if data["nomination_ids"] is not None else list(forwarded)
    if any(nomination_id not in forwarded for nomination_id in wanted):
        raise invalid_field("nomination_ids", N_("Only the nominations that went forward are reviewed."))
    possible = {user.id: user for user in queries.possible_reviewers(session, actor)}
    if any(reviewer_id not in possible for reviewer_id in data["reviewer_ids"]):
        raise invalid_field(
            "reviewer_ids", N_("Reviewers are the institute's administrators, staff and outside experts.")
        )
    members = queries.members_by_recommender(session, actor.org_id)
    made = {(a.reviewer_id, a.nomination_id) for a in queries.assignments_in(session, campaign)}
    added, conflicts = [], []
    for reviewer_id in dict.fromkeys(data["reviewer_ids"]):
        for nomination_id in dict.fromkeys(wanted):
            nomination = forwarded[nomination_id]
            if reviewer_id in members.get(nomination.recommender_id, set()):
                conflicts.append((possible[reviewer_id], nomination))
            elif (reviewer_id, nomination_id) not in made:
                added.append(
                    ReviewAssignment(
                        org_id=actor.org_id,
                        campaign_id=campaign.id,
                        nomination_id=nomination_id,
                        reviewer_id=reviewer_id,
                        scores=[None for _ in campaign.categories],
                        comments=[None for _ in campaign.categories],
                        assigned_by_name=actor.name,
                    )
                )
    if not added and conflicts:
        reviewer, nomination = conflicts[0]
        raise Conflict(
            N_(
                "%(reviewer)s is a member of %(recommender)s, which put %(unit)s forward: "
                "a reviewer does not review their own recommender's nominations.",
                reviewer=reviewer.name,
                recommender=nomination.recommender.name,
                unit=nomination.unit_name,
            )
        )
    session.add_all(added)
    session.flush()
    record_event(
        session,
        actor,
        "review.assigned",
        ("campaign", campaign.id),
        {
            "assigned": [[a.reviewer_id, a.nomination_id] for a in added],
            "kept_apart": [[reviewer.id, nomination.id] for reviewer, nomination in conflicts],
        },
    )
    _tell_reviewers(session, campaign, added, possible, today, base_url)
    return Assigned(added, conflicts)


def _tell_reviewers(
    session: Session,
    campaign: Campaign,
    added: list[ReviewAssignment],
    reviewers: dict[int, User],
    today: date,
    base_url: str,
) -> None:
    """Tell each reviewer given new work how many nominations await them (in the app and by email)."""
    now = now_utc()
    for reviewer_id, count in Counter(assignment.reviewer_id for assignment in added).items():
        notify_users(
            session,
            campaign.org_id,
            [reviewers[reviewer_id]],
            "nomination",
            "review_assigned",
            f"{campaign.id}:{reviewer_id}:{now.isoformat()}",
            today,
            now,
            campaign=campaign.title,
            count=count,
            closes_on=campaign.review_closes_on.isoformat(),
            link=f"{base_url.rstrip('/')}/reviews",
        )


def unassign_reviewer(
    session: Session, actor: Actor, campaign_id: int, assignment_id: int
) -> ReviewAssignment:
    """Take a nomination from a reviewer who has not submitted its review yet."""
    _require_organiser(actor)
    campaign = get_campaign(session, actor, campaign_id)
    _in_review(campaign)
    assignment = get_in_org(session, ReviewAssignment, assignment_id, actor)
    if assignment.campaign_id != campaign.id:
        raise NotFound(N_("Not found."))
    if assignment.submitted_at is not None:
        raise Conflict(N_("A submitted review stays: it counts in the ranking."))
    session.delete(assignment)
    session.flush()
    record_event(
        session,
        actor,
        "review.unassigned",
        ("campaign", campaign.id),
        {"reviewer_id": assignment.reviewer_id, "nomination_id": assignment.nomination_id},
    )
    return assignment


def _reviewable(session: Session, actor: Actor, assignment_id: int, today: date) -> ReviewAssignment:
    """Return the actor's review if it may still be changed today: in review, from its first day, a draft."""
    assignment = queries.my_assignment(session, actor, assignment_id)
    campaign = assignment.campaign
    _in_review(campaign)
    if today < campaign.review_opens_on:
        raise Conflict(N_("The review opens on %(day)s.", day=campaign.review_opens_on))
    if today > campaign.review_closes_on:
        raise Conflict(N_("The review closed on %(day)s.", day=campaign.review_closes_on))
    if assignment.submitted_at is not None:
        raise Conflict(N_("Your review is submitted: it is final."))
    if queries.is_member(session, actor, assignment.nomination.recommender_id):
        # Joined the recommender after being assigned: the conflict rule holds all along.
        raise Conflict(N_("You are a member of the recommender of this nomination: you cannot review it."))
    return assignment


def save_review(
    session: Session, actor: Actor, assignment_id: int, payload: Mapping, today: date
) -> ReviewAssignment:
    """Save the reviewer's scores, comments and opinion as a draft (the fields sent)."""
    assignment = _reviewable(session, actor, assignment_id, today)
    data = load_or_invalid(ReviewIn(), payload)
    categories = len(assignment.campaign.categories)
    for name in ("scores", "comments"):
        if name in data and len(data[name]) != categories:
            raise invalid_field(name, N_("Give one per achievement category."))
    for name, value in data.items():
        setattr(assignment, name, value)
    session.flush()
    return assignment


def submit_review(session: Session, actor: Actor, assignment_id: int, today: date) -> ReviewAssignment:
    """Submit a complete review: a score for every category. It is final, and the others' become visible."""
    assignment = _reviewable(session, actor, assignment_id, today)
    if not assignment.scores or any(score is None for score in assignment.scores):
        raise invalid_field("scores", N_("Score every category before submitting."))
    assignment.submitted_at = now_utc()
    record_event(
        session,
        actor,
        "review.submitted",
        ("campaign", assignment.campaign_id),
        {"nomination_id": assignment.nomination_id, "scores": assignment.scores},
    )
    return assignment
