"""Development backend: log each message instead of sending it."""

from __future__ import annotations

import logging

from notifications.message import Message, SendResult

log = logging.getLogger(__name__)


class ConsoleChannel:
    """Write messages to the log (the terminal of ``make run``)."""

    def __init__(self, **_settings):
        pass

    def send(self, message: Message) -> SendResult:
        """Log the message and report success."""
        log.info("[%s to %s] %s\n%s", message.channel, message.to, message.subject, message.body)
        return SendResult.sent(f"console-{message.idempotency_key}")
