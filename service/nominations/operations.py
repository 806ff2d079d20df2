"""What changes nominations' state: an institute's campaigns, created, corrected and moved on."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy.orm import Session

from models.nominations import Campaign
from service.actors import Actor
from service.errors import Conflict
from service.history.chain import record_event
from service.nominations import phases
from service.nominations.queries import get_campaign
from service.nominations.schemas import CampaignIn, PhaseIn
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
