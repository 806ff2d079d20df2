"""Twilio's callbacks: delivery status reports and inbound SMS (STOP/退订, START).

Each request must carry a valid ``X-Twilio-Signature`` over the exact public URL Twilio called
(``TRUSTED_PROXIES`` makes ``request.url`` that URL behind a proxy) and the posted form; anything
else is refused with 403 before it is read. Without Twilio configured these addresses do not exist.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request

from notifications.twilio_sms import valid_signature
from service.clock import now_utc
from service.db import allow_all_tenants
from service.reminders import operations as ops
from service.validation import is_valid_mobile, normalise_mobile
from service.web.context import db

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
_EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _verified_form() -> dict:
    config = current_app.config["CALRECALL"]
    if config.sms_backend != "twilio" or not config.twilio_auth_token:
        abort(404)
    form = request.form.to_dict()
    if not valid_signature(
        config.twilio_auth_token, request.url, form, request.headers.get("X-Twilio-Signature")
    ):
        log.warning(
            "refused a Twilio callback with a missing or wrong signature from %s", request.remote_addr
        )
        abort(403)
    allow_all_tenants(db())  # a provider's callback belongs to whichever firm sent the message
    return form


@bp.post("/twilio/status")
def twilio_status():
    """Record a delivery status report (queued → sent → delivered / undelivered / failed)."""
    form = _verified_form()
    sid, status = form.get("MessageSid", ""), (form.get("MessageStatus") or "").lower()
    if sid and status:
        ops.record_delivery_status(db(), sid[:100], status, (form.get("ErrorCode") or None), now_utc())
    return Response(status=204)


@bp.post("/twilio/inbound")
def twilio_inbound():
    """Handle STOP/退订 and START replies; Twilio itself answers STOP with its own confirmation."""
    form = _verified_form()
    sender = form.get("From", "")
    digits = normalise_mobile(sender)
    phone = f"+86{digits}" if is_valid_mobile(digits) else sender[:20]
    if phone:
        result = ops.handle_inbound_sms(db(), phone, form.get("Body", ""), now_utc())
        if result:
            log.info("SMS %s from %s", result, phone[:6] + "…")
    return Response(_EMPTY_TWIML, mimetype="application/xml")
