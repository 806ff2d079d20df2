"""A campaign's phases and what its dates allow: pure rules, enforced by the operations.

draft → open for nominations → in review → public notice → decided → closed. This part of the
product moves a campaign from draft to open (while its nomination window has not ended) and from
open to review (once the window has ended); the later moves come with reviews and the notice.
"""

from __future__ import annotations

from datetime import date

from models.nominations import Campaign
from service.i18n import N_, Msg

#: The moves a campaign can make now, each from one phase to the next.
MOVES = {"draft": "open", "open": "review"}
#: Fields that fix the rules of the game: changed only while the campaign is a draft.
RULE_FIELDS = frozenset(
    {
        "kind",
        "year",
        "conditions",
        "categories",
        "nomination_opens_on",
        "nomination_closes_on",
        "review_opens_on",
        "review_closes_on",
        "notice_days",
        "notice_in_working_days",
        "large_quota",
        "sme_quota",
    }
)
#: Phases in which the texts (title, notice, contacts, co-organisers, fee statement) may be corrected.
TEXT_PHASES = ("draft", "open", "review", "notice")


def refusal_to_move(campaign: Campaign, to: str, today: date) -> Msg | None:
    """Return why the campaign may not move to ``to`` today, or None when it may."""
    if MOVES.get(campaign.phase) != to:
        return N_("A campaign in this phase cannot move there.")
    if to == "open" and today > campaign.nomination_closes_on:
        return N_(
            "The nomination window ended on %(day)s: move it before opening.",
            day=campaign.nomination_closes_on,
        )
    if to == "review" and today <= campaign.nomination_closes_on:
        return N_("Nominations are open until %(day)s.", day=campaign.nomination_closes_on)
    return None


def accepts_nominations(campaign: Campaign, today: date) -> bool:
    """Whether a firm may nominate itself today: the campaign is open and today is in its window."""
    return campaign.phase == "open" and campaign.nomination_opens_on <= today <= campaign.nomination_closes_on


def refusal_to_edit(campaign: Campaign, fields: set[str]) -> Msg | None:
    """Return why these fields may not change in the campaign's phase, or None when they may."""
    if campaign.phase not in TEXT_PHASES:
        return N_("A decided campaign cannot be changed.")
    if campaign.phase != "draft" and fields & RULE_FIELDS:
        return N_(
            "Once open, a campaign's rules, categories, windows and quotas are fixed; only its texts change."
        )
    return None
