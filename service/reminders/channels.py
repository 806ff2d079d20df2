"""The channel adapters a send needs, built once from the configuration (robots per firm).

Dispatch sends reminders through them; the web's transactional email uses the same email channel.
"""

from __future__ import annotations

from models import ReminderPolicy
from models.reminders import ROBOT_CHANNELS
from notifications import channel_for
from notifications.message import Channel


class Channels:
    """The channel adapters of a dispatch run, built from the configuration (robots per firm)."""

    def __init__(self, config, http_client=None, overrides: dict[str, Channel] | None = None):
        self.config = config
        self.http_client = http_client
        self.overrides = overrides or {}
        self._built: dict[tuple, Channel] = {}

    def get(self, channel: str, policy: ReminderPolicy | None) -> Channel:
        """Return the adapter for ``channel`` (for a robot: the firm's own robot, from its ``policy``)."""
        if channel in self.overrides:
            return self.overrides[channel]
        config = self.config
        if channel in ROBOT_CHANNELS:
            url = policy.wecom_url if channel == "wecom" else policy.dingtalk_url
            key = (channel, url, policy.dingtalk_secret)
            settings = {"url": url, "secret": policy.dingtalk_secret}
            backend = config.robot_backend
        else:
            key = (channel,)
            backend = config.sms_backend if channel == "sms" else config.email_backend
            settings = {
                "twilio_account_sid": config.twilio_account_sid,
                "twilio_auth_token": config.twilio_auth_token,
                "twilio_from": config.twilio_from,
                "status_callback": config.fixed_base_url.rstrip("/") + "/webhooks/twilio/status",
                "http_client": self.http_client,
                "smtp_url": config.smtp_url,
                "mail_from": config.mail_from,
            }
        if key not in self._built:
            self._built[key] = channel_for(channel, backend, notify_file=config.notify_file, **settings)
        return self._built[key]
