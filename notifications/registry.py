"""Channel kinds and backend names mapped to channel classes."""

from __future__ import annotations

from notifications.console import ConsoleChannel
from notifications.file import FileChannel
from notifications.message import Channel
from notifications.robots import DingTalkRobotChannel, WeComRobotChannel
from notifications.smtp import SmtpChannel
from notifications.twilio_sms import TwilioSmsChannel

BACKENDS: dict[str, dict[str, type]] = {
    "email": {"console": ConsoleChannel, "file": FileChannel, "smtp": SmtpChannel},
    "sms": {"console": ConsoleChannel, "file": FileChannel, "twilio": TwilioSmsChannel},
    "wecom": {"console": ConsoleChannel, "file": FileChannel, "webhook": WeComRobotChannel},
    "dingtalk": {"console": ConsoleChannel, "file": FileChannel, "webhook": DingTalkRobotChannel},
}


def channel_for(kind: str, backend: str, **settings) -> Channel:
    """Return the channel of ``kind`` (email, sms, wecom, dingtalk) for a backend name, given settings."""
    table = BACKENDS.get(kind)
    if table is None:
        raise ValueError(f"no channel kind named {kind!r}")
    if backend not in table:
        raise ValueError(f"no {kind} backend named {backend!r}")
    return table[backend](**settings)
