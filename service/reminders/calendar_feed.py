"""A personal iCalendar feed of due dates, served at a secret, revocable address.

Calendar clients send no cookies, so the address itself is the credential: only its SHA-256 is
stored (in ``User.calendar_token_hash``), issuing a new one replaces the old, and revoking clears it.
"""

from __future__ import annotations

from datetime import date, timedelta

from icalendar import Alarm, Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import Instrument, User
from models.ledger import RECALLED_STATUSES
from service.auth.secrets import new_token, token_digest
from service.clock import now_utc
from service.db import scope_to_org
from service.i18n import N_, Gettext

#: Roles of a firm whose feed holds every instrument of the firm, not only their own.
WHOLE_FIRM_ROLES = ("admin", "metrology")
#: Due dates this far back still appear, so that overdue instruments stay visible.
PAST_DAYS = 90
#: Due dates up to this far ahead appear (a year and a bit: the next annual round).
AHEAD_DAYS = 400
#: The most events one feed carries, soonest first; calendar clients choke on more.
MAX_EVENTS = 5000
#: How long before the due date the calendar alerts.
ALARM_BEFORE = timedelta(days=7)
TOKEN_PREFIX = "ics"
PRODID = "-//CalRecall//Due date feed//EN"


def issue_feed(session: Session, user: User) -> str:
    """Give ``user`` a new feed address and return its secret; any previous address stops working."""
    token = new_token(TOKEN_PREFIX)
    user.calendar_token_hash = token_digest(token)
    session.flush()
    return token


def revoke_feed(session: Session, user: User) -> None:
    """End ``user``'s feed: its address stops working."""
    user.calendar_token_hash = None
    session.flush()


def user_for_token(session: Session, token: str | None) -> User | None:
    """Return the active user whose feed address carries ``token``, else ``None``."""
    if not token or len(token) > 200:
        return None
    # Looked up by digest, so timing reveals nothing about the secrets that exist.
    return session.scalar(
        select(User)
        .where(User.calendar_token_hash == token_digest(token), User.is_active.is_(True))
        .execution_options(all_tenants=True)
    )


def covers_whole_firm(user: User) -> bool:
    """Whether ``user``'s feed lists every instrument of the firm rather than those in their custody."""
    return user.org.kind == "firm" and user.role in WHOLE_FIRM_ROLES


def feed_instruments(session: Session, user: User, today: date) -> list[Instrument]:
    """Return the instruments of ``user``'s feed, soonest due first, at most :data:`MAX_EVENTS`."""
    scope_to_org(session, user.org_id)
    stmt = (
        select(Instrument)
        .where(
            Instrument.org_id == user.org_id,
            Instrument.status.in_(RECALLED_STATUSES),
            Instrument.next_due_on.between(
                today - timedelta(days=PAST_DAYS), today + timedelta(days=AHEAD_DAYS)
            ),
        )
        .options(selectinload(Instrument.department))
        .order_by(Instrument.next_due_on, Instrument.id)
        .limit(MAX_EVENTS)
    )
    if not covers_whole_firm(user):
        stmt = stmt.where(Instrument.custodian_user_id == user.id)
    return list(session.scalars(stmt))


def _event(instrument: Instrument, stamp, gettext: Gettext) -> Event:
    due = instrument.next_due_on
    summary = N_("Due: %(no)s %(name)s", no=instrument.management_no, name=instrument.name).render(gettext)
    lines = []
    if instrument.department is not None:
        lines.append(f"{gettext('Department')}: {instrument.department.name}")
    if instrument.location:
        lines.append(f"{gettext('Location')}: {instrument.location}")
    event = Event()
    event.add("uid", f"instrument-{instrument.id}-{due.isoformat()}@calrecall")
    event.add("dtstamp", stamp)
    event.add("dtstart", due)
    event.add("dtend", due + timedelta(days=1))
    event.add("summary", summary)
    if lines:
        event.add("description", "\n".join(lines))
    event.add("transp", "TRANSPARENT")
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", -ALARM_BEFORE)
    alarm.add("description", summary)
    event.add_component(alarm)
    return event


def feed_ics(session: Session, user: User, today: date, gettext: Gettext) -> bytes:
    """Return ``user``'s feed as an iCalendar document, in the language of ``gettext`` (theirs)."""
    instruments = feed_instruments(session, user, today)
    stamp = now_utc().replace(microsecond=0)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-timezone", user.org.timezone or "Asia/Shanghai")
    # Ask subscribing clients to look again a few times a day.
    calendar.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT6H")
    calendar.add("x-wr-calname", N_("Due dates of %(org)s", org=user.org.name).render(gettext))
    for instrument in instruments:
        calendar.add_component(_event(instrument, stamp, gettext))
    return calendar.to_ical()
