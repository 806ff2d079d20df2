"""Rows of the notifications outbox: their addresses, idempotency keys and initial state."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from service.reminders.messages import Rendered


def e164(mobile: str) -> str:
    """Return a mainland mobile number (11 digits) in E.164 form, as providers expect it."""
    return mobile if mobile.startswith("+") else f"+86{mobile}"


def idempotency_key(
    org_id: int, recipient_key: str, channel: str, day: date, kind: str, contents: str
) -> str:
    """Return the message's key: the same digest for the same person, channel and day is one message."""
    material = f"{org_id}|{recipient_key}|{channel}|{day.isoformat()}|{kind}|{contents}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def outbox_row(
    *,
    org_id: int,
    kind: str,
    channel: str,
    recipient_user_id: int | None,
    to_address: str,
    locale: str,
    rendered: Rendered,
    key: str,
    day: date,
    now: datetime,
    send_at: datetime,
    summary: dict | None = None,
) -> dict:
    """Return a new outbox row; in-app messages are delivered at once, the others wait for ``send_at``."""
    in_app = channel == "in_app"
    return {
        "org_id": org_id,
        "kind": kind,
        "channel": channel,
        "recipient_user_id": recipient_user_id,
        "to_address": to_address,
        "locale": locale,
        "subject": rendered.subject,
        "body": rendered.body,
        "html": rendered.html,
        "idempotency_key": key,
        "local_day": day,
        "state": "delivered" if in_app else "pending",
        "attempts": 0,
        "not_before": now if in_app else send_at,
        # A test message to oneself is not counted against the firm's SMS ceiling.
        "is_ceiling_exempt": kind == "test",
        "summary": summary or {},
        "created_at": now,
        "sent_at": now if in_app else None,
        "updated_at": now,
    }
