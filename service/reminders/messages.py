"""The words of reminders: digests rendered per channel and language from ``templates/reminders/messages``.

Subject and body of each message live in templates; the rendered results are snapshot-tested in
both languages (``tests/snapshots``). An SMS must stay within two segments (``notifications.sms_text``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import render_template
from flask_babel import force_locale

from notifications.sms_text import fits

#: Instruments listed in a robot's markdown digest; the rest are counted.
ROBOT_ITEMS = 30
#: Characters of the firm's name kept in an SMS, so that a digest fits two segments.
SMS_ORG_CHARS = 16
SMS_MAX_SEGMENTS = 2


@dataclass(frozen=True)
class DigestItem:
    """One instrument in a digest."""

    management_no: str
    name: str
    department: str | None
    due_on: date
    #: ``due`` or ``overdue``, and the days before or after the due date.
    stage: str
    days: int


@dataclass(frozen=True)
class Digest:
    """Everything one recipient is told in one day's message."""

    org_name: str
    recipient_name: str | None
    day: date
    link: str
    items: list[DigestItem] = field(default_factory=list)

    @property
    def due(self) -> list[DigestItem]:
        """Return the items not yet due, soonest first."""
        return [i for i in self.items if i.stage == "due"]

    @property
    def overdue(self) -> list[DigestItem]:
        """Return the overdue items, longest overdue first."""
        return sorted((i for i in self.items if i.stage == "overdue"), key=lambda i: -i.days)

    @property
    def within_days(self) -> int:
        """Return the horizon of the due items ("due within N days")."""
        return max((i.days for i in self.due), default=0)

    def summary(self) -> dict:
        """Return the counts kept with the message for the pages."""
        return {"due": len(self.due), "overdue": len(self.overdue), "within_days": self.within_days}


@dataclass(frozen=True)
class Rendered:
    """A message's words."""

    subject: str
    body: str
    html: str | None = None


def _render(template: str, locale: str, **context) -> str:
    with force_locale(locale):
        return render_template(f"reminders/messages/{template}", **context).strip()


def render_digest(digest: Digest, channel: str, locale: str) -> Rendered:
    """Render ``digest`` for ``channel`` in ``locale``."""
    context = {"d": digest, "org_short": digest.org_name[:SMS_ORG_CHARS], "robot_items": ROBOT_ITEMS}
    subject = _render("digest.subject.txt", locale, **context)
    if channel == "sms":
        # The firm's name is shortened until the SMS fits two segments (Chinese text is UCS-2).
        for chars in (SMS_ORG_CHARS, 8, 4, 0):
            body = _render("digest.sms.txt", locale, **{**context, "org_short": digest.org_name[:chars]})
            if fits(body, SMS_MAX_SEGMENTS):
                break
        return Rendered(subject, body)
    if channel in ("wecom", "dingtalk"):
        return Rendered(subject, _render("digest.robot.md", locale, **context))
    body = _render("digest.email.txt", locale, **context)
    html = _render("digest.email.html", locale, **context) if channel == "email" else None
    return Rendered(subject, body, html)


def render_notice(template: str, channel: str, locale: str, **context) -> Rendered:
    """Render a short notice (``test``, ``sms_ceiling``) for ``channel`` in ``locale``."""
    subject = _render(f"{template}.subject.txt", locale, **context)
    return Rendered(subject, _render(f"{template}.txt", locale, **context))
