"""Email through a real SMTP server running inside the test process (aiosmtpd)."""

from __future__ import annotations

import socket
import ssl
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from notifications import Message
from notifications.smtp import SmtpChannel
from service.app import create_app
from service.config import Config


class Mailbox:
    """Accept mail, except for recipients that say 'perm' (550) or 'temp' (451)."""

    def __init__(self):
        self.messages: list = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("perm"):
            return "550 5.1.1 no such mailbox"
        if address.startswith("temp"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, f"smtp://127.0.0.1:{port}"
    controller.stop()


def _message(to: str) -> Message:
    return Message(
        "email", to, "到期提醒", "您有3台计量器具将于30天内到期。", "key-1", html="<p>您有<b>3</b>台</p>"
    )


def test_delivers_html_and_text(smtp_server):
    mailbox, url = smtp_server
    result = SmtpChannel(url, "台账 <noreply@example.cn>").send(_message("li@example.cn"))
    assert result.ok
    assert result.provider_id
    [mail] = mailbox.messages
    assert mail["Subject"] == "到期提醒"
    assert mail["To"] == "li@example.cn"
    assert mail.get_body(("plain",)).get_content().strip() == "您有3台计量器具将于30天内到期。"
    assert "<b>3</b>" in mail.get_body(("html",)).get_content()


def test_permanent_and_transient_failures_are_told_apart(smtp_server):
    _mailbox, url = smtp_server
    channel = SmtpChannel(url, "noreply@example.cn")
    permanent = channel.send(_message("perm@example.cn"))
    transient = channel.send(_message("temp@example.cn"))
    assert (permanent.ok, permanent.retryable) == (False, False)
    assert (transient.ok, transient.retryable) == (False, True)


def test_unreachable_server_is_transient():
    result = SmtpChannel(f"smtp://127.0.0.1:{_free_port()}", "noreply@example.cn", timeout=2).send(
        _message("a@b.cn")
    )
    assert (result.ok, result.retryable) == (False, True)


def test_password_reset_goes_out_by_smtp(smtp_server, config, engine, sessions, world):
    mailbox, url = smtp_server
    app = create_app(Config(**{**config.__dict__, "email_backend": "smtp", "smtp_url": url}), engine=engine)
    app.extensions["calrecall.sessions"] = sessions
    response = app.test_client().post("/password/forgot", data={"email": world.a.viewer.email})
    assert response.status_code == 303
    [mail] = mailbox.messages
    assert mail["To"] == world.a.viewer.email
    assert "/password/reset/pwr_" in mail.get_body(("plain",)).get_content()


def test_credentials_are_never_sent_without_tls(smtp_server):
    _mailbox, url = smtp_server
    result = SmtpChannel(url.replace("smtp://", "smtp://user:secret@"), "noreply@example.cn").send(
        _message("a@b.cn")
    )
    assert (result.ok, result.retryable) == (False, False)
    assert "TLS" in result.error


def test_implicit_tls_verifies_the_certificate(monkeypatch):
    seen = {}

    class FakeSSL:
        def __init__(self, host, port, timeout, context):
            seen["verify"] = context.verify_mode
            seen["hostname"] = context.check_hostname
            raise OSError("no server here")

    monkeypatch.setattr("notifications.smtp.smtplib.SMTP_SSL", FakeSSL)
    result = SmtpChannel("smtps://mail.example.cn", "noreply@example.cn").send(_message("a@b.cn"))
    assert result.ok is False
    assert seen == {"verify": ssl.CERT_REQUIRED, "hostname": True}
