"""Email over SMTP (``SMTP_URL`` = smtp[s]://user:password@host:port[?starttls=1])."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import parse_qs, unquote, urlparse

from notifications.message import Message, SendResult


class SmtpChannel:
    """Send HTML and plain-text email; 4yz replies are transient, 5yz permanent (RFC 5321)."""

    def __init__(self, smtp_url: str, mail_from: str, timeout: float = 20.0, **_settings):
        url = urlparse(smtp_url)
        self.host = url.hostname or "localhost"
        self.implicit_tls = url.scheme == "smtps"
        self.port = url.port or (465 if self.implicit_tls else 25)
        self.username = unquote(url.username) if url.username else None
        self.password = unquote(url.password) if url.password else None
        self.starttls = parse_qs(url.query).get("starttls", ["0"])[0] in ("1", "true", "yes")
        self.mail_from = mail_from
        self.timeout = timeout

    def _compose(self, message: Message) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.mail_from
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Message-ID"] = make_msgid(idstring=message.idempotency_key[:32], domain="calrecall")
        email.set_content(message.body)
        if message.html:
            email.add_alternative(message.html, subtype="html")
        return email

    def _connect(self) -> smtplib.SMTP:
        # Certificates are verified on both TLS paths; smtplib's own default context does not.
        if self.implicit_tls:
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def send(self, message: Message) -> SendResult:
        """Deliver one email; report whether a failure is worth retrying."""
        if self.username and not (self.implicit_tls or self.starttls):
            return SendResult(
                ok=False, error="refusing to send SMTP credentials without TLS", retryable=False
            )
        try:
            email = self._compose(message)
        except (ValueError, TypeError) as exc:  # e.g. a header with a line break
            return SendResult(ok=False, error=f"cannot compose: {exc}", retryable=False)
        try:
            with self._connect() as client:
                if self.starttls:
                    client.starttls(context=ssl.create_default_context())
                if self.username:
                    client.login(self.username, self.password or "")
                client.send_message(email)
        except smtplib.SMTPResponseException as exc:
            return SendResult(
                ok=False, error=f"{exc.smtp_code} {exc.smtp_error!r}", retryable=400 <= exc.smtp_code < 500
            )
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _msg in exc.recipients.values()]
            return SendResult(
                ok=False, error=f"recipients refused {codes}", retryable=all(400 <= c < 500 for c in codes)
            )
        except (OSError, smtplib.SMTPException) as exc:
            return SendResult(ok=False, error=f"{type(exc).__name__}: {exc}", retryable=True)
        return SendResult(ok=True, provider_id=email["Message-ID"])
