"""Builders shared by the reminder tests: a firm with custodians, heads and instruments due on chosen days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from models import Instrument, Notification, ReminderPolicy
from service.actors import Actor
from service.jobs.reminders import run_planning
from service.reminders.policy import defaults
from service.tenancy import operations as tenancy_ops
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: A Tuesday, inside the default sending window.
DAY = date(2026, 12, 1)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """Return a Shanghai wall-clock moment."""
    return datetime.combine(day, time(hour, minute), SHANGHAI)


def due_on(session, actor: Actor, days: int, **fields) -> Instrument:
    """Make an instrument whose certificate runs out ``days`` after DAY."""
    valid_until = (DAY + timedelta(days=days)).isoformat()
    return factories.make_instrument(session, actor, DAY, valid_until=valid_until, **fields)


def messages(session, org_id: int | None = None, **where) -> list[Notification]:
    """Return the outbox, oldest first, optionally filtered by column values."""
    stmt = select(Notification).order_by(Notification.id).execution_options(populate_existing=True)
    if org_id is not None:
        stmt = stmt.where(Notification.org_id == org_id)
    for key, value in where.items():
        stmt = stmt.where(getattr(Notification, key) == value)
    return list(session.scalars(stmt))


@dataclass
class Firm:
    """A firm with a custodian user and a department head besides the world's users."""

    tenant: factories.Tenant
    custodian: object
    head: object


def firm_with_people(session, tenant: factories.Tenant) -> Firm:
    """Give ``tenant`` a custodian with a mobile number and a department head; return both."""
    custodian = factories.make_user(session, tenant.org, "viewer", mobile="13800000001", name="王保管")
    head = factories.make_user(session, tenant.org, "viewer", mobile="13800000002", name="李部长")
    tenancy_ops.update_department(
        session,
        tenant.actor("admin"),
        tenant.department.id,
        {"name": tenant.department.name, "head_user_id": head.id},
    )
    tenant.metrology.mobile = "13800000003"
    tenant.admin.mobile = "13800000004"
    session.flush()
    return Firm(tenant, custodian, head)


def plan_a_due_reminder(app, session, tenant: factories.Tenant) -> Firm:
    """Give ``tenant`` its people and an instrument of the custodian due in 30 days; plan the day at 08:00."""
    firm = firm_with_people(session, tenant)
    due_on(session, tenant.actor("admin"), 30, custodian_user_id=firm.custodian.id)
    session.commit()
    run_planning(app, at(DAY, 8))
    return firm


def make_notification(session, user, **fields) -> Notification:
    """Add one pending email reminder to ``user``'s firm's outbox."""
    import uuid

    values = {
        "org_id": user.org_id,
        "kind": "due_digest",
        "channel": "email",
        "recipient_user_id": user.id,
        "to_address": user.email,
        "locale": "zh_Hans_CN",
        "subject": "到期提醒",
        "body": "您有1台计量器具将于30天内到期",
        "idempotency_key": uuid.uuid4().hex,
        "local_day": DAY,
        "not_before": at(DAY, 9),
    } | fields
    notification = Notification(**values)
    session.add(notification)
    session.flush()
    return notification


def set_policy(session, org_id: int, **changes) -> ReminderPolicy:
    """Give a firm the default reminder policy with ``changes`` (as stored, without the form's checks)."""
    policy = defaults(org_id)
    for key, value in changes.items():
        setattr(policy, key, value)
    session.add(policy)
    return policy
