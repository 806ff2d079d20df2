"""The message, the result of sending it, and the channel interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Message:
    """One message to one recipient on one channel."""

    channel: str
    to: str
    subject: str
    body: str
    idempotency_key: str
    html: str | None = None
    #: The slug of the organisation the message is sent for, when there is one.
    org: str | None = None
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    """What a provider said: accepted (with its id), or failed and whether retrying may help."""

    ok: bool
    provider_id: str | None = None
    error: str | None = None
    #: True when the failure is known to be transient (retry); False when it is permanent.
    retryable: bool = False


class Channel(Protocol):
    """A way to deliver messages; adapters report failures and never retry on their own."""

    def send(self, message: Message) -> SendResult:
        """Deliver ``message`` once."""
        ...
