"""Group-chat robots: WeCom (企业微信) and DingTalk (钉钉) webhooks posting markdown."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse

import requests

from notifications._http import transport_result
from notifications.message import Message, SendResult

#: WeCom's markdown content limit, in UTF-8 bytes.
WECOM_MAX_BYTES = 4096
#: WeCom errcode 45009: over 20 messages a minute.
WECOM_THROTTLED = 45009
#: DingTalk errcode 130101: over 20 messages a minute; the robot is then muted for 10 minutes.
DINGTALK_THROTTLED = 130101


def truncate_utf8(text: str, max_bytes: int, marker: str = "…") -> str:
    """Return ``text`` cut to at most ``max_bytes`` UTF-8 bytes, never inside a character, marked if cut."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    room = max_bytes - len(marker.encode("utf-8"))
    # "ignore" only drops the partial character at the cut: the rest came from a valid str.
    return encoded[:room].decode("utf-8", "ignore") + marker


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """Return the URL-encoded DingTalk ``sign``: base64 HMAC-SHA256 of timestamp, newline and secret."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def _post(url: str, payload: dict, timeout: float, throttled: int, throttle_seconds: float) -> SendResult:
    """POST ``payload`` to a robot webhook and classify the answer."""
    try:
        response = requests.post(url, json=payload, timeout=timeout)
    except requests.RequestException as exc:
        return transport_result(exc)
    if response.status_code == 429:
        return SendResult.retry(f"HTTP 429: {response.text[:200]}", code="429")
    if response.status_code >= 500:
        return SendResult.unknown(
            f"HTTP {response.status_code}: {response.text[:200]}", code=str(response.status_code)
        )
    if response.status_code != 200:
        return SendResult.permanent(
            f"HTTP {response.status_code}: {response.text[:200]}", code=str(response.status_code)
        )
    try:
        answer = response.json()
        errcode = int(answer.get("errcode", -1))
    except (ValueError, AttributeError, TypeError):
        # A 200 that is not the robot's JSON (a proxy page?): whether the robot posted is unknown.
        return SendResult.unknown(f"unexpected answer: {response.text[:200]}")
    errmsg = str(answer.get("errmsg", ""))
    if errcode == 0:
        return SendResult.sent(None)
    if errcode == throttled:
        return SendResult.retry(errmsg, code=str(errcode), retry_after=throttle_seconds)
    return SendResult.permanent(errmsg, code=str(errcode))


class WeComRobotChannel:
    """Post markdown to a WeCom group robot (``.../cgi-bin/webhook/send?key=KEY``)."""

    def __init__(self, url: str, timeout: float = 10, **_settings):
        self.url = url
        self.timeout = timeout

    def send(self, message: Message) -> SendResult:
        """Post the message body as markdown."""
        payload = {
            "msgtype": "markdown",
            "markdown": {"content": truncate_utf8(message.body, WECOM_MAX_BYTES)},
        }
        return _post(self.url, payload, self.timeout, WECOM_THROTTLED, 60)


class DingTalkRobotChannel:
    """Post markdown to a DingTalk group robot (``.../robot/send?access_token=T``), signed with a secret."""

    def __init__(self, url: str, secret: str | None = None, timeout: float = 10, **_settings):
        self.url = url
        self.secret = secret
        self.timeout = timeout

    def signed_url(self, timestamp_ms: int | None = None) -> str:
        """Return the webhook URL with ``timestamp`` and ``sign`` added when a secret is set."""
        if not self.secret:
            return self.url
        timestamp_ms = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
        separator = "&" if "?" in self.url else "?"
        return (
            f"{self.url}{separator}timestamp={timestamp_ms}&sign={dingtalk_sign(self.secret, timestamp_ms)}"
        )

    def send(self, message: Message) -> SendResult:
        """Post the subject as title and the body as markdown text."""
        payload = {"msgtype": "markdown", "markdown": {"title": message.subject, "text": message.body}}
        return _post(self.signed_url(), payload, self.timeout, DINGTALK_THROTTLED, 600)
