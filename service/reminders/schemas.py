"""The reminder API's input and output: outbox messages, the instruments they list, one's channels."""

from __future__ import annotations

from marshmallow import fields

from models.reminders import CHANNELS, NOTIFICATION_STATES
from service.schemas import Choice, StrictSchema, WithGiven, given, int_range
from service.scoping import MAX_ID


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


class _ReminderOut(StrictSchema):
    """What a message said of an instrument: due or overdue, by how many days, since when."""

    stage = fields.String(metadata={"enum": ["due", "overdue"]})
    days = fields.Integer()
    due_on = fields.Date()


class NotificationItemOut(_ReminderOut):
    """An instrument listed in a message."""

    instrument_id = fields.Integer()


class NotificationDetailOut(WithGiven, NotificationOut):
    """A message of the outbox with the instruments it listed."""

    #: Given: the message has no relationship to its items.
    items = given(fields.List, fields.Nested(NotificationItemOut))


class InstrumentReminderOut(NotificationOut, _ReminderOut):
    """A message that reminded someone of one instrument, with what it said of that instrument.

    Dumps ``(message, item)`` rows: the fields of :class:`_ReminderOut` come from the item.
    """

    def get_attribute(self, obj, attr, default):  # noqa: D102
        message, item = obj
        return super().get_attribute(
            item if attr in _ReminderOut._declared_fields else message, attr, default
        )


class OutboxQuery(StrictSchema):
    """The query string of the outbox: filters, and the page to continue from."""

    state = Choice(NOTIFICATION_STATES)
    channel = Choice(CHANNELS)
    before = fields.Integer(
        validate=int_range(1, MAX_ID), metadata={"description": "The previous page's `next_cursor`."}
    )


class ReleasedOut(StrictSchema):
    """How many held messages were released."""

    released = fields.Integer()


class ChannelsOut(WithGiven, StrictSchema):
    """The channels a user receives reminders on."""

    notify_sms = fields.Boolean()
    notify_email = fields.Boolean()
    notify_in_app = fields.Boolean()
    #: Given: opt-outs are kept by number, not on the user.
    sms_opted_out = given(fields.Boolean)


class TestMessageIn(StrictSchema):
    """Which channel to test."""

    channel = fields.String(required=True, metadata={"enum": ["sms", "email"]})
