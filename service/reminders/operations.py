"""What people and providers do to reminders: channel choices, opt-outs, delivery reports, the outbox."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from models import Notification, Organization, SmsOptOut, User
from models.reminders import PERSONAL_CHANNELS
from service.actors import Actor
from service.bulk import insert_ignoring_conflicts
from service.errors import Conflict, Invalid
from service.i18n import N_
from service.reminders.messages import render_notice
from service.reminders.notices import notice_row
from service.reminders.outbox import e164
from service.schemas import Flag, StrictSchema, load_or_invalid
from service.scoping import get_in_org

#: Inbound SMS keywords (Twilio's standard ones, and the Chinese 退订/TD that carriers expect).
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "TD", "T", "退订", "取消"}
START_WORDS = {"START", "YES", "UNSTOP", "订阅"}
#: Twilio's status callbacks can arrive out of order: a later status never goes back to an earlier one.
STATUS_RANK = {
    "accepted": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "read": 4,
}


class ChannelsIn(StrictSchema):
    """A user's choice of reminder channels."""

    notify_sms = Flag()
    notify_email = Flag()
    notify_in_app = Flag()


def set_channels(session: Session, user: User, payload: Mapping) -> User:
    """Change which channels ``user`` receives reminders on; switching one off opts out of it."""
    data = load_or_invalid(ChannelsIn(), payload)
    for key, value in data.items():
        setattr(user, key, value)
    session.flush()
    return user


def sms_opted_out(session: Session, mobile: str | None) -> bool:
    """Whether ``mobile`` replied STOP (or the provider says it did)."""
    return bool(mobile) and session.get(SmsOptOut, e164(mobile)) is not None


# Inbound SMS and delivery reports ------------------------------------------------------------------


def handle_inbound_sms(session: Session, phone: str, body: str, now: datetime) -> str | None:
    """Apply an inbound SMS keyword (STOP/退订 or START); return ``stop``, ``start`` or None."""
    word = (body or "").strip().upper()
    if word in STOP_WORDS:
        insert_ignoring_conflicts(
            session.connection(),
            SmsOptOut.__table__,
            [{"phone": phone, "source": "keyword", "created_at": now}],
        )
        _skip_pending_sms(session, phone, now)
        return "stop"
    if word in START_WORDS:
        session.execute(delete(SmsOptOut).where(SmsOptOut.phone == phone))
        return "start"
    return None


def _skip_pending_sms(session: Session, phone: str, now: datetime) -> None:
    n = Notification
    session.execute(
        update(n)
        .where(n.channel == "sms", n.to_address == phone, n.state.in_(("pending", "held")))
        .values(state="skipped", last_error="opted out (STOP)", updated_at=now)
        .execution_options(synchronize_session=False)
    )


def record_delivery_status(
    session: Session, provider_id: str, status: str, error_code: str | None, now: datetime
) -> bool:
    """Apply a provider's delivery report to its message, forward only; return whether it changed."""
    message = session.scalar(
        select(Notification).where(Notification.provider_id == provider_id, Notification.channel == "sms")
    )
    if message is None or status not in STATUS_RANK:
        return False
    if STATUS_RANK.get(message.provider_status or "", -1) >= STATUS_RANK[status]:
        return False
    message.provider_status = status
    message.updated_at = now
    if status == "delivered" and message.state in ("sent", "unknown", "sending"):
        message.state = "delivered"
    elif status in ("undelivered", "failed") and message.state in ("sent", "unknown", "sending", "delivered"):
        message.state = "undelivered"
        message.error_code = error_code
    elif status in ("sent", "queued") and message.state == "unknown":
        message.state = "sent"
    if error_code == "21610":
        insert_ignoring_conflicts(
            session.connection(),
            SmsOptOut.__table__,
            [{"phone": message.to_address, "source": "provider", "created_at": now}],
        )
    session.flush()
    return True


# The outbox ----------------------------------------------------------------------------------------


def send_test_message(
    session: Session, actor: Actor, user: User, channel: str, now: datetime
) -> Notification:
    """Queue a test message to oneself on ``channel``, to go out at once (window and ceiling aside)."""
    if channel not in PERSONAL_CHANNELS or channel == "in_app":
        raise Invalid(N_("Choose SMS or email."), {"channel": [N_("Choose SMS or email.")]})
    if channel == "sms" and not user.mobile:
        raise Invalid(N_("Add your mobile number first."), {"channel": [N_("Add your mobile number first.")]})
    if channel == "sms" and sms_opted_out(session, user.mobile):
        raise Conflict(N_("Your number replied STOP; text START to it to receive SMS again."))
    org = session.get(Organization, actor.org_id)
    day = now.astimezone(ZoneInfo(org.timezone)).date()
    rendered = render_notice("test", channel, user.locale, name=user.name)
    key = f"test-{user.id}-{channel}-{now.timestamp():.6f}"
    row = notice_row(actor.org_id, user, channel, "test", rendered, day, now, key)
    message = Notification(**row)
    session.add(message)
    session.flush()
    return message


def release_held(session: Session, actor: Actor, now: datetime) -> int:
    """Send today's held SMS after all (admins): they no longer count against the ceiling."""
    actor.require("org.manage")
    n = Notification
    return session.execute(
        update(n)
        .where(n.org_id == actor.org_id, n.state == "held")
        .values(state="pending", is_ceiling_exempt=True, not_before=now, updated_at=now, last_error=None)
        .execution_options(synchronize_session=False)
    ).rowcount


def retry_message(session: Session, actor: Actor, notification_id: int, now: datetime) -> Notification:
    """Queue a dead or failed message again (admins), with its attempts counted from zero."""
    actor.require("org.manage")
    message = get_in_org(session, Notification, notification_id, actor)
    if message.state not in ("dead", "failed", "undelivered"):
        raise Conflict(N_("Only dead, failed or undelivered messages can be sent again."))
    if message.channel == "sms" and session.get(SmsOptOut, message.to_address) is not None:
        raise Conflict(N_("This number replied STOP; it receives no SMS until it texts START."))
    message.state = "pending"
    message.attempts = 0
    message.not_before = now
    message.updated_at = now
    message.last_error = None
    message.error_code = None
    message.provider_status = None
    session.flush()
    return message


def mark_read(session: Session, user: User, now: datetime) -> int:
    """Mark the user's in-app reminders read; return how many were unread."""
    n = Notification
    return session.execute(
        update(n)
        .where(
            n.org_id == user.org_id,
            n.recipient_user_id == user.id,
            n.channel == "in_app",
            n.read_at.is_(None),
        )
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
