"""API: the reminder policy, the outbox, an instrument's reminders, one's channels and a test message."""

from __future__ import annotations

from flask import jsonify, request

from service.api import bp
from service.api.docs import doc, items_of
from service.api.helpers import json_body
from service.clock import now_utc
from service.reminders import operations as ops
from service.reminders import queries
from service.reminders.operations import ChannelsIn
from service.reminders.policy import PolicyIn, PolicyOut, get_policy, policy_view, update_policy
from service.reminders.schemas import (
    ChannelsOut,
    InstrumentReminderOut,
    NotificationDetailOut,
    NotificationOut,
    OutboxQuery,
    ReleasedOut,
    TestMessageIn,
)
from service.schemas import load_or_invalid
from service.web.background import send_after_commit
from service.web.context import actor, db, signed_in_user


def _channels(user) -> dict:
    return ChannelsOut(sms_opted_out=ops.sms_opted_out(db(), user.mobile)).dump(user)


@bp.get("/reminders/policy")
@doc(tags=["reminders"], responses={200: PolicyOut}, errors=(403,))
def get_reminder_policy():
    """Return the firm's reminder policy (robot addresses masked unless you may change them)."""
    actor().require("ledger.write")
    return jsonify(policy_view(get_policy(db(), actor().org_id), actor()))


@bp.put("/reminders/policy")
@doc(tags=["reminders"], body=PolicyIn, responses={200: PolicyOut}, errors=(400, 403))
def put_reminder_policy():
    """Change the firm's reminder policy (administrators); fields left out stay as they are."""
    policy = update_policy(db(), actor(), json_body())
    return jsonify(policy_view(policy, actor()))


@bp.get("/notifications")
@doc(
    tags=["reminders"],
    query=OutboxQuery,
    responses={200: items_of(NotificationOut, cursor=True)},
    errors=(400, 403),
)
def list_notifications():
    """List the firm's outbox, newest first; filter by ``state`` and ``channel``, page with ``before``."""
    query = load_or_invalid(OutboxQuery(), request.args)
    rows, next_before = queries.list_outbox(
        db(), actor(), query.get("state"), query.get("channel"), query.get("before")
    )
    return jsonify({"items": NotificationOut(many=True).dump(rows), "next_cursor": next_before})


@bp.get("/notifications/<int:notification_id>")
@doc(tags=["reminders"], responses={200: NotificationDetailOut}, errors=(404,))
def get_notification(notification_id: int):
    """Return one message with the instruments it listed."""
    message = queries.get_message(db(), actor(), notification_id)
    items = [item for item, _instrument in queries.items_of(db(), actor(), message.id)]
    return jsonify(NotificationDetailOut(items=items).dump(message))


@bp.post("/notifications/<int:notification_id>/retry")
@doc(tags=["reminders"], responses={200: NotificationOut}, errors=(403, 404, 409))
def retry_notification(notification_id: int):
    """Queue a dead, failed or undelivered message again (administrators)."""
    queries.get_message(db(), actor(), notification_id)  # another firm's id is 404 whatever the role
    return jsonify(NotificationOut().dump(ops.retry_message(db(), actor(), notification_id, now_utc())))


@bp.post("/notifications/release-held")
@doc(tags=["reminders"], responses={200: ReleasedOut}, errors=(403,))
def release_held_notifications():
    """Send the SMS held by today's ceiling after all (administrators)."""
    return jsonify(ReleasedOut().dump({"released": ops.release_held(db(), actor(), now_utc())}))


@bp.get("/instruments/<int:instrument_id>/reminders")
@doc(tags=["reminders"], responses={200: items_of(InstrumentReminderOut)}, errors=(404,))
def instrument_reminders(instrument_id: int):
    """List the messages that reminded someone of this instrument, newest first."""
    rows = queries.reminders_for_instrument(db(), actor(), instrument_id)
    return jsonify({"items": InstrumentReminderOut(many=True).dump(rows)})


@bp.get("/me/channels")
@doc(tags=["reminders"], responses={200: ChannelsOut})
def get_my_channels():
    """Return the channels your reminders come by, and whether your number replied STOP."""
    return jsonify(_channels(signed_in_user()))


@bp.put("/me/channels")
@doc(tags=["reminders"], body=ChannelsIn, responses={200: ChannelsOut}, errors=(400,))
def put_my_channels():
    """Choose the channels your reminders come by; switching one off opts out of it."""
    user = signed_in_user()
    ops.set_channels(db(), user, json_body())
    return jsonify(_channels(user))


@bp.post("/me/test-message")
@doc(tags=["reminders"], body=TestMessageIn, responses={202: NotificationOut}, errors=(400, 409))
def post_test_message():
    """Send yourself a test message on ``sms`` or ``email`` at once; poll the message for its outcome."""
    data = load_or_invalid(TestMessageIn(), json_body())
    message = ops.send_test_message(db(), actor(), signed_in_user(), data["channel"], now_utc())
    send_after_commit(message.id)
    return jsonify(NotificationOut().dump(message)), 202
