"""The message, the result of sending it, and the channel interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

#: What a provider's answer means for the dispatcher:
#: ``sent`` — accepted (``provider_id`` names it);
#: ``retry`` — documented as never processed (Twilio 429, SMTP 4yz, a refused connection): send again later;
#: ``unknown`` — the request may have gone (a 5xx, a timeout after sending): reconcile before re-sending;
#: ``permanent`` — will never succeed (invalid number, opted out, SMTP 5yz): stop.
OUTCOMES = ("sent", "retry", "unknown", "permanent")


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
    """What a provider said about one message, classified as in :data:`OUTCOMES`."""

    outcome: str
    provider_id: str | None = None
    error: str | None = None
    #: The provider's own error code (Twilio ``21211``, SMTP ``550``, DingTalk ``130101``).
    code: str | None = None
    #: Seconds the provider asked us to wait before trying again, when it said.
    retry_after: float | None = None
    #: The recipient has opted out at the provider (Twilio 21610): stop sending to this address.
    opted_out: bool = False

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r}")

    @property
    def ok(self) -> bool:
        """Whether the provider accepted the message."""
        return self.outcome == "sent"

    @property
    def retryable(self) -> bool:
        """Whether sending again is known to be safe and may succeed."""
        return self.outcome == "retry"

    @classmethod
    def sent(cls, provider_id: str | None) -> SendResult:
        """Return an accepted result."""
        return cls("sent", provider_id=provider_id)

    @classmethod
    def retry(cls, error: str, code: str | None = None, retry_after: float | None = None) -> SendResult:
        """Return a failure that was never processed and may be retried."""
        return cls("retry", error=error, code=code, retry_after=retry_after)

    @classmethod
    def unknown(cls, error: str, code: str | None = None) -> SendResult:
        """Return an ambiguous failure: the message may have gone."""
        return cls("unknown", error=error, code=code)

    @classmethod
    def permanent(cls, error: str, code: str | None = None, *, opted_out: bool = False) -> SendResult:
        """Return a failure that no retry will fix."""
        return cls("permanent", error=error, code=code, opted_out=opted_out)


class Channel(Protocol):
    """A way to deliver messages; adapters report failures and never retry on their own."""

    def send(self, message: Message) -> SendResult:
        """Deliver ``message`` once."""
        ...


@runtime_checkable
class Reconcilable(Protocol):
    """A channel whose provider can say whether an ambiguous send went out after all."""

    def reconcile(self, message: Message, since: datetime) -> SendResult | None:
        """Return the provider's record of ``message`` sent since ``since`` (``sent``), or None if none."""
        ...
