"""What changes nominations' state: an institute's campaigns and recommenders."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import User
from models.nominations import Campaign, Recommender, RecommenderMember
from service.actors import Actor
from service.errors import Conflict, invalid_field
from service.history.chain import record_event
from service.i18n import N_
from service.nominations import phases
from service.nominations.queries import get_campaign, get_recommender
from service.nominations.schemas import CampaignIn, PhaseIn, RecommenderIn
from service.schemas import load_or_invalid


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
    session: Session, actor: Actor, campaign_id: int, payload: Mapping, today: date
) -> Campaign:
    """Move a campaign to its next phase, when its dates allow it."""
    _require_organiser(actor)
    campaign = get_campaign(session, actor, campaign_id)
    to = load_or_invalid(PhaseIn(), payload)["to"]
    refusal = phases.refusal_to_move(campaign, to, today)
    if refusal is not None:
        raise Conflict(refusal)
    before, campaign.phase = campaign.phase, to
    record_event(session, actor, "campaign.moved", ("campaign", campaign.id), {"phase": [before, to]})
    return campaign


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
