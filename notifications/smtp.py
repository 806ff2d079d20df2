"""Email over SMTP (``SMTP_URL`` = smtp[s]://user:password@host:port[?starttls=1])."""

from __future__ import annotations

import hashlib
import io
import smtplib
import ssl
from email.generator import BytesGenerator
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlparse

from notifications.message import Message, SendResult


def _by_code(code: int, reply: bytes | str) -> SendResult:
    """Classify an SMTP reply: 4yz transient, 5yz permanent (RFC 5321 §4.2.1)."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    error = f"{code} {text}"
    if 400 <= code < 500:
        return SendResult.retry(error, code=str(code))
    return SendResult.permanent(error, code=str(code))


class SmtpChannel:
    """Send HTML and plain-text email, telling transient, permanent and ambiguous failures apart."""

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
        # Derived from the idempotency key, so a re-send after an ambiguous failure carries the same
        # Message-ID and receivers that de-duplicate on it show the mail once.
        email["Message-ID"] = _message_id(message.idempotency_key)
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
        """Deliver one email and classify the outcome."""
        if self.username and not (self.implicit_tls or self.starttls):
            return SendResult.permanent("refusing to send SMTP credentials without TLS")
        try:
            email = self._compose(message)
            sender = email["From"].addresses[0].addr_spec
            recipients = [address.addr_spec for address in email["To"].addresses]
        except (ValueError, TypeError, IndexError) as exc:  # e.g. a header with a line break
            return SendResult.permanent(f"cannot compose: {exc}")
        if not recipients:
            return SendResult.permanent(f"cannot compose: no recipient in {message.to!r}")
        try:
            client = self._connect()
        except smtplib.SMTPResponseException as exc:  # a 4yz/5yz greeting
            return _by_code(exc.smtp_code, exc.smtp_error)
        except (OSError, smtplib.SMTPException) as exc:  # refused, DNS, timeout before any mail
            return SendResult.retry(f"{type(exc).__name__}: {exc}")
        data_sent = False
        try:
            if self.starttls:
                client.starttls(context=ssl.create_default_context())
            if self.username:
                client.login(self.username, self.password or "")
            client.ehlo_or_helo_if_needed()
            payload, options = _wire(client, email, [sender, *recipients])
            code, reply = client.mail(sender, options)
            if code != 250:
                return _by_code(code, reply)
            for recipient in recipients:
                code, reply = client.rcpt(recipient)
                if code not in (250, 251):
                    return _by_code(code, reply)
            # From here on the server may have taken the mail even if we never read its answer.
            data_sent = True
            code, reply = client.data(payload)
            if code != 250:
                return _by_code(code, reply)
        except smtplib.SMTPResponseException as exc:
            return _by_code(exc.smtp_code, exc.smtp_error)
        except smtplib.SMTPServerDisconnected as exc:
            return _lost(client, exc, data_sent)
        except smtplib.SMTPException as exc:  # no STARTTLS, no SMTPUTF8, no usable AUTH: configuration
            return SendResult.permanent(f"{type(exc).__name__}: {exc}")
        except OSError as exc:  # a timeout or reset; SMTPException subclasses OSError, so it comes last
            return _lost(client, exc, data_sent)
        finally:
            _close(client)
        return SendResult.sent(email["Message-ID"])


def _wire(client: smtplib.SMTP, email: EmailMessage, addresses: list[str]) -> tuple[bytes, list[str]]:
    """Return the mail's bytes and MAIL options, as ``SMTP.send_message`` would choose them."""
    options = []
    try:
        "".join(addresses).encode("ascii")
        policy = email.policy
    except UnicodeEncodeError:
        if not client.has_extn("smtputf8"):
            raise smtplib.SMTPNotSupportedError("the server does not support SMTPUTF8") from None
        policy = email.policy.clone(utf8=True)
        options.append("SMTPUTF8")
    if client.has_extn("8bitmime"):
        # The default policy writes non-ASCII text parts as 8bit.
        options.append("BODY=8BITMIME")
    with io.BytesIO() as buffer:
        BytesGenerator(buffer, policy=policy).flatten(email, linesep="\r\n")
        return buffer.getvalue(), options


def _lost(client: smtplib.SMTP, exc: BaseException, data_sent: bool) -> SendResult:
    """Classify a lost connection: ambiguous once the mail data may have reached the server."""
    # Closed at once so that QUIT does not wait out a second timeout on a dead connection.
    client.close()
    error = f"{type(exc).__name__}: {exc}"
    return SendResult.unknown(error) if data_sent else SendResult.retry(error)


def _message_id(idempotency_key: str) -> str:
    """Return a Message-ID that is the same for every send of one idempotency key."""
    # Hashed because a key may hold characters a msg-id may not (RFC 5322 §3.6.4).
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@calrecall>"


def _close(client: smtplib.SMTP) -> None:
    """Say QUIT if the server still listens; its answer cannot change the outcome any more."""
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()
