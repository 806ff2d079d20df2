"""Messages other than digests: a test message to oneself, the SMS-ceiling notice, notices of changes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Notification, Organization, User
from service.bulk import insert_ignoring_conflicts
from service.db import across_tenants
from service.reminders.messages import Rendered, render_notice
from service.reminders.outbox import e164, idempotency_key, outbox_row


def notice_row(
    org_id: int,
    user: User,
    channel: str,
    kind: str,
    rendered: Rendered,
    day: date,
    now: datetime,
    key: str,
    send_at: datetime | None = None,
) -> dict:
    """Return an outbox row for a notice to ``user`` on ``channel``, due at ``send_at`` (default: at once)."""
    return outbox_row(
        org_id=org_id,
        kind=kind,
        channel=channel,
        recipient_user_id=user.id,
        to_address=e164(user.mobile) if channel == "sms" else user.email,
        locale=user.locale,
        rendered=rendered,
        key=key,
        day=day,
        now=now,
        send_at=send_at or now,
    )


def notice_rows(
    org_id: int,
    people: Iterable[User],
    channels: Iterable[str],
    kind: str,
    template: str,
    day: date,
    now: datetime,
    key_for: Callable[[User, str], str],
    /,  # positional only: the template's context may well name a ``day`` or a ``kind`` of its own
    *,
    send_at: datetime | None = None,
    fit: Callable[[Rendered], Rendered] | None = None,
    **context,
) -> list[dict]:
    """Return one outbox row per person and channel, rendered in the person's language.

    ``key_for(person, channel)`` is the row's idempotency key; ``fit`` may shorten what was rendered.
    """
    rows = []
    for person in people:
        for channel in channels:
            rendered = render_notice(template, channel, person.locale, **context)
            if fit is not None:
                rendered = fit(rendered)
            key = key_for(person, channel)
            rows.append(notice_row(org_id, person, channel, kind, rendered, day, now, key, send_at))
    return rows


def hold_notice_rows(
    session: Session, org_id: int, day: date, now: datetime, limit: int, held: int, base_url: str
) -> None:
    """Tell the firm's admins (in the app and by email, once a day) that SMS are being held."""
    org = session.get(Organization, org_id)
    admins = session.scalars(
        select(User).where(User.org_id == org_id, User.role == "admin", User.is_active.is_(True))
    ).all()
    link = base_url.rstrip("/") + "/reminders/outbox?state=held"
    rows = notice_rows(
        org_id,
        admins,
        ("in_app", "email"),
        "sms_ceiling",
        "sms_ceiling",
        day,
        now,
        lambda admin, channel: idempotency_key(org_id, f"user:{admin.id}", channel, day, "sms_ceiling", ""),
        org_name=org.name,
        limit=limit,
        held=held,
        link=link,
    )
    insert_ignoring_conflicts(session.connection(), Notification.__table__, rows)


def insert_notices(session: Session, rows: list[dict], **options):
    """Put notice ``rows`` in the outbox, whichever organisation they are addressed to.

    A notice often goes to the other side of a piece of work: the institute hears of a client's
    order, a client firm of its visit or of a standard found out of tolerance. Those rows belong to
    another organisation than the session's, so they are written across tenants, on purpose and
    visibly (on PostgreSQL row-level security refuses them otherwise). The session's own pending
    writes are flushed first, under its own scope.
    """
    if not rows:
        return []
    session.flush()
    with across_tenants(session):
        return insert_ignoring_conflicts(session.connection(), Notification.__table__, rows, **options)


def people_with_roles(session: Session, org_id: int, roles: tuple[str, ...]) -> list[User]:
    """Return the active users of ``org_id`` who hold one of ``roles`` (whatever the session's tenant)."""
    return list(
        session.scalars(
            select(User)
            .where(User.org_id == org_id, User.role.in_(roles), User.is_active.is_(True))
            .order_by(User.id)
            .execution_options(all_tenants=True)
        )
    )


def notify_people(
    session: Session,
    org_id: int,
    roles: tuple[str, ...],
    kind: str,
    template: str,
    contents: str,
    today: date,
    now: datetime,
    **context,
) -> None:
    """Write an in-app and an email notice to each active user of ``org_id`` holding one of ``roles``.

    Each person hears once per ``contents`` (the change told of).
    """
    people = people_with_roles(session, org_id, roles)
    notify_users(session, org_id, people, kind, template, contents, today, now, **context)


def notify_users(
    session: Session,
    org_id: int,
    people: list[User],
    kind: str,
    template: str,
    contents: str,
    today: date,
    now: datetime,
    **context,
) -> None:
    """Write an in-app and an email notice to each of ``people`` (of ``org_id``), once per ``contents``."""
    rows = notice_rows(
        org_id,
        people,
        ("in_app", "email"),
        kind,
        template,
        today,
        now,
        lambda person, channel: idempotency_key(
            org_id, f"user:{person.id}", channel, today, template, contents
        ),
        **context,
    )
    insert_notices(session, rows)
