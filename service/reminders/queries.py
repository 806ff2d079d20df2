"""Reading reminders: the outbox, a user's in-app reminders, the reminders an instrument caused."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Instrument, Notification, NotificationItem, User
from models.reminders import CHANNELS, NOTIFICATION_STATES
from service.actors import Actor
from service.errors import Invalid
from service.i18n import N_
from service.scoping import get_in_org, parse_id

PAGE = 50


def list_outbox(
    session: Session,
    actor: Actor,
    state: str | None = None,
    channel: str | None = None,
    before: str | None = None,
) -> tuple[list[Notification], int | None]:
    """Return a page of the firm's outbox, newest first, and the id to continue before (or None)."""
    actor.require("ledger.write")
    if state and state not in NOTIFICATION_STATES:
        raise Invalid(N_("Unknown state."), {"state": [N_("Unknown state.")]})
    if channel and channel not in CHANNELS:
        raise Invalid(N_("Unknown channel."), {"channel": [N_("Unknown channel.")]})
    stmt = select(Notification).where(Notification.org_id == actor.org_id)
    if state:
        stmt = stmt.where(Notification.state == state)
    if channel:
        stmt = stmt.where(Notification.channel == channel)
    if before is not None:
        cursor = parse_id(before)
        if cursor is None:
            raise Invalid(N_("Not a valid cursor."), {"before": [N_("Not a valid cursor.")]})
        stmt = stmt.where(Notification.id < cursor)
    rows = list(session.scalars(stmt.order_by(Notification.id.desc()).limit(PAGE + 1)))
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return rows, (rows[-1].id if more else None)


def recipient_names(session: Session, actor: Actor, rows: list[Notification]) -> dict[int, str]:
    """Return the name of each message's recipient: the user's, or the custodian's the digest was for."""
    names: dict[int, str] = {}
    user_ids = {m.recipient_user_id for m in rows if m.recipient_user_id}
    if user_ids:
        users = dict(
            session.execute(
                select(User.id, User.name).where(User.org_id == actor.org_id, User.id.in_(user_ids))
            ).all()
        )
        names.update({m.id: users[m.recipient_user_id] for m in rows if users.get(m.recipient_user_id)})
    # A custodian known only by mobile number: every instrument in the digest carries the same name.
    unnamed = [m.id for m in rows if not m.recipient_user_id and m.channel == "sms"]
    if unnamed:
        found = session.execute(
            select(NotificationItem.notification_id, func.min(Instrument.custodian_name))
            .join(
                Instrument,
                (Instrument.id == NotificationItem.instrument_id)
                & (Instrument.org_id == NotificationItem.org_id),
            )
            .where(
                NotificationItem.org_id == actor.org_id,
                NotificationItem.notification_id.in_(unnamed),
                Instrument.custodian_name.is_not(None),
            )
            .group_by(NotificationItem.notification_id)
        ).all()
        names.update({notification_id: name for notification_id, name in found if name})
    return names


def outbox_counts(session: Session, actor: Actor) -> dict[str, int]:
    """Return how many of the firm's messages are in each state."""
    return dict(
        session.execute(
            select(Notification.state, func.count())
            .where(Notification.org_id == actor.org_id)
            .group_by(Notification.state)
        ).all()
    )


def get_message(session: Session, actor: Actor, notification_id) -> Notification:
    """Return one message of the firm's outbox."""
    actor.require("ledger.write")
    return get_in_org(session, Notification, notification_id, actor)


def my_reminders(session: Session, user: User, limit: int = PAGE) -> list[Notification]:
    """Return the user's in-app reminders, newest first."""
    return list(
        session.scalars(
            select(Notification)
            .where(
                Notification.org_id == user.org_id,
                Notification.recipient_user_id == user.id,
                Notification.channel == "in_app",
            )
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


def unread_count(session: Session, user: User) -> int:
    """Return how many of the user's in-app reminders are unread."""
    return session.scalar(
        select(func.count()).where(
            Notification.org_id == user.org_id,
            Notification.recipient_user_id == user.id,
            Notification.channel == "in_app",
            Notification.read_at.is_(None),
        )
    )


def items_of(
    session: Session, actor: Actor, notification_id: int
) -> list[tuple[NotificationItem, Instrument]]:
    """Return the instruments a digest listed."""
    return list(
        session.execute(
            select(NotificationItem, Instrument)
            .join(
                Instrument,
                (Instrument.id == NotificationItem.instrument_id)
                & (Instrument.org_id == NotificationItem.org_id),
            )
            .where(
                NotificationItem.org_id == actor.org_id, NotificationItem.notification_id == notification_id
            )
            .order_by(NotificationItem.due_on, Instrument.id)
        ).all()
    )


def reminders_for_instrument(
    session: Session, actor: Actor, instrument_id, limit: int = 100
) -> list[tuple[Notification, NotificationItem]]:
    """Return the messages that listed an instrument, newest first."""
    get_in_org(session, Instrument, instrument_id, actor)
    return list(
        session.execute(
            select(Notification, NotificationItem)
            .join(NotificationItem, NotificationItem.notification_id == Notification.id)
            .where(NotificationItem.org_id == actor.org_id, NotificationItem.instrument_id == instrument_id)
            .order_by(Notification.id.desc())
            .limit(limit)
        ).all()
    )
