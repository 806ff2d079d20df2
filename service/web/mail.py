"""Transactional email of the web front end (password resets, invitations).

These are sent at once, after the request's data is committed, because the user is waiting for
them; reminder messages go through the outbox instead.
"""

from __future__ import annotations

import logging

from flask import current_app, render_template, url_for
from flask_babel import force_locale

from notifications import Message
from service.reminders.channels import Channels
from service.tenancy.queries import has_account
from service.web.context import base_url, db

log = logging.getLogger(__name__)


def send_email(to: str, template: str, locale: str, key: str, org_slug: str | None = None, **context) -> bool:
    """Render ``templates/email/<template>.{txt,html}`` in ``locale`` and send it; report success."""
    config = current_app.config["CALRECALL"]
    with force_locale(locale):
        subject = render_template(f"email/{template}.subject.txt", **context).strip()
        body = render_template(f"email/{template}.txt", **context)
        html = render_template(f"email/{template}.html", **context)
    channel = Channels(config).get("email", policy=None)
    result = channel.send(Message("email", to, subject, body, key, html=html, org=org_slug))
    if not result.ok:
        log.error("email %s to %s failed: %s", template, to, result.error)
    return result.ok


def external_url(path: str) -> str:
    """Return the public address of ``path`` for links in emails."""
    return base_url().rstrip("/") + path


def send_account_exists(invitation, inviter: str, org) -> bool:
    """Tell someone invited who already has an account (in another organisation) why no link came."""
    return send_email(
        invitation.email,
        "account_exists",
        "zh_Hans_CN",
        f"invite-{invitation.id}",
        org_slug=org.slug,
        org=org,
        inviter=inviter,
    )


def send_invitation(invitation, token: str, inviter: str, org) -> bool:
    """Email an invitation link (in Chinese: the invitee has chosen no language yet).

    Someone who has an account already (in another organisation) gets no link but word of that
    account: the inviting firm is answered as for any address and learns nothing of other firms.
    """
    if has_account(db(), invitation.email):
        return send_account_exists(invitation, inviter, org)
    config = current_app.config["CALRECALL"]
    return send_email(
        invitation.email,
        "invitation",
        "zh_Hans_CN",
        f"invite-{invitation.id}",
        org_slug=org.slug,
        org=org,
        inviter=inviter,
        role=invitation.role,
        days=config.invitation_days,
        link=external_url(url_for("auth.accept_invitation", token=token)),
    )
