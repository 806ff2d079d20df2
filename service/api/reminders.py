"""API: the reminder policy, the outbox, an instrument's reminders, one's channels and a test message."""

from __future__ import annotations

from flask import jsonify, request
from marshmallow import fields

from service.api import bp
from service.api.helpers import json_body
from service.clock import now_utc
from service.reminders import operations as ops
from service.reminders import queries
from service.reminders.policy import get_policy, policy_view, update_policy
from service.schemas import StrictSchema, load_or_invalid
from service.web.background import send_after_commit
from service.web.context import actor, db, signed_in_user


class NotificationOut(StrictSchema):
    """A message of the outbox."""

    id = fields.Integer()
    kind = fields.String()
    channel = fields.String()
    recipient_user_id = fields.Integer(allow_none=True)
    to = fields.String(attribute="to_address")
    locale = fields.String()
    subject = fields.String()
    body = fields.String()
    local_day = fields.Date()
    state = fields.String()
    attempts = fields.Integer()
    not_before = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    provider_id = fields.String(allow_none=True)
    provider_status = fields.String(allow_none=True)
    error_code = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)
    summary = fields.Dict()


class NotificationItemOut(StrictSchema):
    """An instrument listed in a message."""

    instrument_id = fields.Integer()
    stage = fields.String(metadata={"enum": ["due", "overdue"]})
    days = fields.Integer()
    due_on = fields.Date()


class ChannelsOut(StrictSchema):
    """The channels a user receives reminders on."""

    notify_sms = fields.Boolean()
    notify_email = fields.Boolean()
    notify_in_app = fields.Boolean()
    sms_opted_out = fields.Boolean()


def _channels(user) -> dict:
    data = {key: getattr(user, key) for key in ("notify_sms", "notify_email", "notify_in_app")}
    return ChannelsOut().dump({**data, "sms_opted_out": ops.sms_opted_out(db(), user.mobile)})


@bp.get("/reminders/policy")
def get_reminder_policy():
    """Return the firm's reminder policy (robot addresses masked unless you may change them).

    ---
    get:
      tags: [reminders]
      responses:
        200:
          content:
            application/json:
              schema: PolicyOut
        403: Forbidden
    """
    actor().require("ledger.write")
    return jsonify(policy_view(get_policy(db(), actor().org_id), actor()))


@bp.put("/reminders/policy")
def put_reminder_policy():
    """Change the firm's reminder policy (administrators); fields left out stay as they are.

    ---
    put:
      tags: [reminders]
      requestBody:
        required: true
        content:
          application/json:
            schema: PolicyIn
      responses:
        200:
          content:
            application/json:
              schema: PolicyOut
        400: Invalid
        403: Forbidden
    """
    policy = update_policy(db(), actor(), json_body())
    return jsonify(policy_view(policy, actor()))


@bp.get("/notifications")
def list_notifications():
    """List the firm's outbox, newest first; filter by ``state`` and ``channel``, page with ``before``.

    ---
    get:
      tags: [reminders]
      parameters:
        - {name: state, in: query, schema: {type: string}}
        - {name: channel, in: query, schema: {type: string}}
        - {name: before, in: query, schema: {type: integer}, description: the previous next_cursor}
      responses:
        200:
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: NotificationOut}
                  next_cursor: {type: integer, nullable: true}
        400: Invalid
        403: Forbidden
    """
    args = request.args
    rows, next_before = queries.list_outbox(
        db(), actor(), args.get("state") or None, args.get("channel") or None, args.get("before")
    )
    return jsonify({"items": NotificationOut(many=True).dump(rows), "next_cursor": next_before})


@bp.get("/notifications/<int:notification_id>")
def get_notification(notification_id: int):
    """Return one message with the instruments it listed.

    ---
    get:
      tags: [reminders]
      parameters: [notification_id]
      responses:
        200:
          content:
            application/json:
              schema: NotificationOut
        404: NotFound
    """
    message = queries.get_message(db(), actor(), notification_id)
    items = [item for item, _instrument in queries.items_of(db(), actor(), message.id)]
    return jsonify({**NotificationOut().dump(message), "items": NotificationItemOut(many=True).dump(items)})


@bp.post("/notifications/<int:notification_id>/retry")
def retry_notification(notification_id: int):
    """Queue a dead, failed or undelivered message again (administrators).

    ---
    post:
      tags: [reminders]
      parameters: [notification_id]
      responses:
        200:
          content:
            application/json:
              schema: NotificationOut
        403: Forbidden
        404: NotFound
        409: Conflict
    """
    queries.get_message(db(), actor(), notification_id)  # another firm's id is 404 whatever the role
    return jsonify(NotificationOut().dump(ops.retry_message(db(), actor(), notification_id, now_utc())))


@bp.post("/notifications/release-held")
def release_held_notifications():
    """Send the SMS held by today's ceiling after all (administrators).

    ---
    post:
      tags: [reminders]
      responses:
        200:
          content:
            application/json:
              schema: {type: object, properties: {released: {type: integer}}}
        403: Forbidden
    """
    return jsonify({"released": ops.release_held(db(), actor(), now_utc())})


@bp.get("/instruments/<int:instrument_id>/reminders")
def instrument_reminders(instrument_id: int):
    """List the messages that reminded someone of this instrument, newest first.

    ---
    get:
      tags: [reminders]
      parameters: [instrument_id]
      responses:
        200:
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: NotificationOut}
        404: NotFound
    """
    rows = queries.reminders_for_instrument(db(), actor(), instrument_id)
    items = [
        {
            **NotificationOut().dump(message),
            "stage": item.stage,
            "days": item.days,
            "due_on": item.due_on.isoformat(),
        }
        for message, item in rows
    ]
    return jsonify({"items": items})


@bp.get("/me/channels")
def get_my_channels():
    """Return the channels your reminders come by, and whether your number replied STOP.

    ---
    get:
      tags: [reminders]
      responses:
        200:
          content:
            application/json:
              schema: ChannelsOut
    """
    return jsonify(_channels(signed_in_user()))


@bp.put("/me/channels")
def put_my_channels():
    """Choose the channels your reminders come by; switching one off opts out of it.

    ---
    put:
      tags: [reminders]
      requestBody:
        required: true
        content:
          application/json:
            schema: ChannelsIn
      responses:
        200:
          content:
            application/json:
              schema: ChannelsOut
        400: Invalid
    """
    user = signed_in_user()
    ops.set_channels(db(), user, json_body())
    return jsonify(_channels(user))


class TestMessageIn(StrictSchema):
    """Which channel to test."""

    channel = fields.String(required=True, metadata={"enum": ["sms", "email"]})


@bp.post("/me/test-message")
def post_test_message():
    """Send yourself a test message on ``sms`` or ``email`` at once; poll the message for its outcome.

    ---
    post:
      tags: [reminders]
      requestBody:
        required: true
        content:
          application/json:
            schema: TestMessageIn
      responses:
        202:
          content:
            application/json:
              schema: NotificationOut
        400: Invalid
        409: Conflict
    """
    data = load_or_invalid(TestMessageIn(), json_body())
    message = ops.send_test_message(db(), actor(), signed_in_user(), data["channel"], now_utc())
    send_after_commit(message.id)
    return jsonify(NotificationOut().dump(message)), 202
