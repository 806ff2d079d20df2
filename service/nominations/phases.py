"""A campaign's phases and what its dates allow: pure rules, enforced by the operations.

draft → open for nominations → in review → public notice → decided → closed. A campaign opens
while its nomination window has not ended, goes to review once it has, to its public notice (公示)
once the organisers have decided the winners, is decided once the notice has ended with every
objection handled, and is closed whenever the organisers like.
"""

from __future__ import annotations

from datetime import date, timedelta

from models.nominations import Campaign
from service.i18n import N_, Msg
from service.reminders.rules import is_working_day

#: The moves a campaign can make, each from one phase to the next.
MOVES = {"draft": "open", "open": "review", "review": "notice", "notice": "decided", "decided": "closed"}
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


def refusal_to_move(
    campaign: Campaign, to: str, today: date, *, winners: int = 0, unhandled: int = 0
) -> Msg | None:
    """Return why the campaign may not move to ``to`` today, or None when it may.

    ``winners`` counts the awards that stand, ``unhandled`` the objections without an outcome.
    """
    if MOVES.get(campaign.phase) != to:
        return N_("A campaign in this phase cannot move there.")
    if to == "notice" and winners < 1:
        return N_("Decide the winners before the public notice.")
    if to == "decided" and campaign.notice_ends_on is not None and today <= campaign.notice_ends_on:
        return N_("The public notice runs until %(day)s.", day=campaign.notice_ends_on)
    if to == "decided" and unhandled:
        return N_(
            "Handle every objection first: %(count)s without an outcome.",
            count=unhandled,
        )
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


def notice_end(starts_on: date, days: int, in_working_days: bool) -> date:
    """Return the last day of a public notice that starts on ``starts_on`` and lasts ``days`` days.

    The rule: in calendar days the start day is day 1, so the notice ends ``days - 1`` days later.
    In working days (Chinese working days: weekends and statutory holidays skipped, make-up working
    weekends counted) the start day is day 1 only if it is a working day; otherwise day 1 is the
    next working day; the notice ends on the ``days``-th working day.
    """
    if not in_working_days:
        return starts_on + timedelta(days=days - 1)
    day, counted = starts_on, 0
    while True:
        if is_working_day(day):
            counted += 1
            if counted == days:
                return day
        day += timedelta(days=1)


def accepts_objections(campaign: Campaign, today: date) -> bool:
    """Whether an objection may be lodged today: the notice is on and today is within its period."""
    return (
        campaign.phase == "notice"
        and campaign.notice_starts_on is not None
        and campaign.notice_ends_on is not None
        and campaign.notice_starts_on <= today <= campaign.notice_ends_on
    )


#: Phases whose public notice page exists: during the notice, and the final list afterwards.
PUBLIC_PHASES = ("notice", "decided", "closed")
