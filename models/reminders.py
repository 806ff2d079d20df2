"""Reminders: each firm's policy, the notifications outbox, and what planning and sending keep."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from models.base import Base, TenantScoped, org_fk, sql_in, utcnow

#: Where a message goes: a person's phone, mailbox or in-app inbox, or a firm's group robot.
CHANNELS = ("sms", "email", "in_app", "wecom", "dingtalk")
PERSONAL_CHANNELS = ("sms", "email", "in_app")
ROBOT_CHANNELS = ("wecom", "dingtalk")
#: What a message is about.
#: ``open_cases`` reminds of open nonconformity cases; ``standard_notice`` is the institute's notice
#: that a standard used on the firm's instruments was found out of tolerance.
#: ``visit`` tells a client of a proposed or moved visit, and the institute of the client's answer.
#: ``order`` tells a client of each change of its service order, and the institute of new orders.
#: ``nomination`` tells a firm what its nomination's recommender decided.
#: ``check_signal`` tells metrology staff of a control-chart signal of an intermediate check;
#: ``check_due`` reminds of an intermediate check falling due.
NOTIFICATION_KINDS = (
    "due_digest",
    "test",
    "sms_ceiling",
    "open_cases",
    "standard_notice",
    "visit",
    "order",
    "nomination",
    "comparison",
    "check_signal",
    "check_due",
)
#: ``pending`` waits for ``not_before``; ``sending`` is claimed under a lease; ``unknown`` may have
#: gone and is reconciled with the provider before any re-send; ``sent`` was accepted, and SMS
#: status callbacks move it on to ``delivered`` or ``undelivered``; ``failed`` stopped at a
#: permanent error; ``dead`` ran out of attempts; ``held`` is over the firm's daily SMS ceiling;
#: ``skipped`` was not sent because the recipient opted out meanwhile.
NOTIFICATION_STATES = (
    "pending",
    "sending",
    "unknown",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "dead",
    "held",
    "skipped",
)
#: States a dispatcher may claim.
CLAIMABLE_STATES = ("pending", "sending", "unknown")


class ReminderPolicy(TenantScoped, Base):
    """A firm's reminder policy; a firm without a row uses the defaults below."""

    __tablename__ = "reminder_policies"
    __table_args__ = (
        CheckConstraint("overdue_every_days >= 0", name="overdue_every_days"),
        CheckConstraint("escalate_from >= 0", name="escalate_from"),
        CheckConstraint("sms_daily_limit >= 0", name="sms_daily_limit"),
    )

    org_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    #: Days before the due date on which to remind, e.g. ``[30, 15, 7, 0]``.
    offsets_days: Mapped[list] = mapped_column(JSON)
    #: An earlier ladder for mandatory (强检) instruments; ``None`` uses ``offsets_days``.
    mandatory_offsets_days: Mapped[list | None] = mapped_column(JSON)
    #: While overdue, remind every this many days (0: never after the due date).
    overdue_every_days: Mapped[int] = mapped_column(Integer, default=7)
    #: From this overdue reminder on (1 = the first), the firm's admins are told too (0: never).
    escalate_from: Mapped[int] = mapped_column(Integer, default=2)
    to_custodian: Mapped[bool] = mapped_column(Boolean, default=True)
    to_metrology: Mapped[bool] = mapped_column(Boolean, default=True)
    to_department_head: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Messages go out only between these local times.
    window_start: Mapped[time] = mapped_column(Time, default=time(9, 0))
    window_end: Mapped[time] = mapped_column(Time, default=time(18, 0))
    #: Only on Chinese working days (adjusted working weekends included).
    working_days_only: Mapped[bool] = mapped_column(Boolean, default=False)
    #: SMS a firm may send a day; beyond it messages are held and the admins told.
    sms_daily_limit: Mapped[int] = mapped_column(Integer, default=200)
    #: Group robots; the addresses carry their keys, so they are shown to admins only.
    wecom_url: Mapped[str | None] = mapped_column(String(500))
    dingtalk_url: Mapped[str | None] = mapped_column(String(500))
    dingtalk_secret: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(Integer)


class Notification(TenantScoped, Base):
    """One message in the outbox: planned in the same transaction as its cause, sent at most once."""

    __tablename__ = "notifications"
    __table_args__ = (
        org_fk("recipient_user_id", "users"),
        # The key hashes the firm with the rest; the firm leads so that the key stays within a tenant.
        UniqueConstraint("org_id", "idempotency_key"),
        CheckConstraint(sql_in("channel", CHANNELS), name="channel"),
        CheckConstraint(sql_in("state", NOTIFICATION_STATES), name="state"),
        CheckConstraint(sql_in("kind", NOTIFICATION_KINDS), name="kind"),
        # The dispatcher's claim reads only messages that still have work to do.
        Index(
            "ix_notifications_claimable",
            "not_before",
            "id",
            postgresql_where=text(sql_in("state", CLAIMABLE_STATES)),
            sqlite_where=text(sql_in("state", CLAIMABLE_STATES)),
        ),
        Index("ix_notifications_org_id_id", "org_id", "id"),
        Index("ix_notifications_org_id_recipient", "org_id", "recipient_user_id", "channel", "id"),
        Index("ix_notifications_provider_id", "provider_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    #: The user it is for; ``None`` for a custodian known only by mobile number, or a group robot.
    recipient_user_id: Mapped[int | None] = mapped_column(Integer)
    #: A mobile number (+86…), an email address, or the robot's name; never a robot's secret URL.
    to_address: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = deferred(mapped_column(Text))
    #: SHA-256 of (firm, recipient, channel, day, contents): planning the same digest twice adds nothing.
    idempotency_key: Mapped[str] = mapped_column(String(64))
    #: The firm's calendar day the message was planned for.
    local_day: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Not to be sent before: the opening of the firm's sending window, or a retry's backoff.
    not_before: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    #: The dispatcher holding the claim; its updates name it, so a stale worker changes nothing.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    #: The day whose SMS ceiling this message was counted against (counted once, whatever the retries).
    quota_day: Mapped[date | None] = mapped_column(Date)
    #: An admin released it from the ceiling.
    is_ceiling_exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    provider_id: Mapped[str | None] = mapped_column(String(100))
    #: The provider's delivery status (Twilio: queued, sent, delivered, undelivered, failed).
    provider_status: Mapped[str | None] = mapped_column(String(24))
    error_code: Mapped[str | None] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(String(500))
    #: Counts and instrument ids for the pages, e.g. ``{"due": 12, "overdue": 3}``.
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: In-app messages: when the user read it.
    read_at: Mapped[datetime | None]


class NotificationItem(TenantScoped, Base):
    """An instrument listed in a digest, and at which step of the ladder."""

    __tablename__ = "notification_items"
    __table_args__ = (
        org_fk("instrument_id", "instruments"),
        Index("ix_notification_items_org_id_instrument", "org_id", "instrument_id"),
    )

    #: No foreign key or index of its own: the composite key to the instrument already ties the row
    #: to a firm that exists, it goes with its notification (which goes with the firm), and the
    #: (org_id, instrument_id) index serves the firm's reads. The two cost a third of writing a
    #: planned day's quarter of a million items (``bench/reminders.py``, docs/benchmarks.md).
    org_id: Mapped[int] = mapped_column(Integer)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), primary_key=True
    )
    instrument_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: ``due`` (``days`` before the due date) or ``overdue`` (``days`` after it, reminder ``round``).
    stage: Mapped[str] = mapped_column(String(8))
    days: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)


class ReminderRun(TenantScoped, Base):
    """A firm's day that has been planned; written with its messages, so a day is planned once."""

    __tablename__ = "reminder_runs"

    org_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    local_day: Mapped[date] = mapped_column(Date, primary_key=True)
    planned_at: Mapped[datetime] = mapped_column(default=utcnow)
    instruments: Mapped[int] = mapped_column(Integer, default=0)
    messages: Mapped[int] = mapped_column(Integer, default=0)


class SmsUsage(TenantScoped, Base):
    """SMS counted against a firm's daily ceiling; one row a firm and day, raised atomically."""

    __tablename__ = "sms_usage"

    org_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    local_day: Mapped[date] = mapped_column(Date, primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)


class SmsOptOut(Base):
    """A mobile number that asked for no more SMS (STOP/退订, or the provider's 21610).

    Not tenant-scoped: the number opted out of our sender, whichever firm's message it answered.
    """

    __tablename__ = "sms_opt_outs"

    #: E.164, e.g. ``+8613812345678``.
    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    #: ``keyword`` (the person replied STOP) or ``provider`` (the provider refused: 21610).
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
