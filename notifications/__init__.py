"""Channel adapters behind one interface; nothing here knows about instruments."""

from notifications.message import Channel, Message, Reconcilable, SendResult
from notifications.registry import channel_for

__all__ = ["Channel", "Message", "Reconcilable", "SendResult", "channel_for"]
