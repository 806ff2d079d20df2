"""Backend names (``console``, ``file``, ``smtp``) mapped to channel classes."""

from __future__ import annotations

from notifications.console import ConsoleChannel
from notifications.file import FileChannel
from notifications.message import Channel
from notifications.smtp import SmtpChannel

EMAIL_BACKENDS = {"console": ConsoleChannel, "file": FileChannel, "smtp": SmtpChannel}
SMS_BACKENDS = {"console": ConsoleChannel, "file": FileChannel}


def channel_for(kind: str, backend: str, **settings) -> Channel:
    """Return the channel of ``kind`` (``email`` or ``sms``) for a backend name."""
    table = EMAIL_BACKENDS if kind == "email" else SMS_BACKENDS
    if backend not in table:
        raise ValueError(f"no {kind} backend named {backend!r}")
    return table[backend](**settings)
