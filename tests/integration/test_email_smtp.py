"""Email through a real SMTP server running inside the test process (aiosmtpd)."""

from __future__ import annotations

import asyncio
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
    """Accept mail, except for recipients that say 'perm' (550) or 'temp' (451) at RCPT, or at DATA:
    'reject' (554), 'later' (452), 'drop' (hang up) and 'slow' (no answer for 3 s).
    """

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
        [rcpt] = envelope.rcpt_tos
        if rcpt.startswith("reject"):
            return "554 5.6.0 message refused"
        if rcpt.startswith("later"):
            return "452 4.3.1 insufficient storage"
        if rcpt.startswith("drop"):
            # The data has arrived; the connection is lost before the server answers.
            server.transport.close()
            return "250 never heard"
        if rcpt.startswith("slow"):
            await asyncio.sleep(3)
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


def _message(to: str, key: str = "key-1") -> Message:
    return Message(
        "email", to, "到期提醒", "您有3台计量器具将于30天内到期。", key, html="<p>您有<b>3</b>台</p>"
    )


def test_delivers_html_and_text(smtp_server):
    mailbox, url = smtp_server
    result = SmtpChannel(url, "台账 <noreply@example.cn>").send(_message("li@example.cn"))
    assert result.outcome == "sent"
    [mail] = mailbox.messages
    assert result.provider_id == mail["Message-ID"]
    assert mail["Subject"] == "到期提醒"
    assert mail["To"] == "li@example.cn"
    assert mail.get_body(("plain",)).get_content().strip() == "您有3台计量器具将于30天内到期。"
    assert "<b>3</b>" in mail.get_body(("html",)).get_content()


@pytest.mark.parametrize(
    ("address", "outcome", "code", "said"),
    [
        # Refused at RCPT: the permanent and the transient failure told apart.
        ("perm@example.cn", "permanent", "550", "no such mailbox"),
        ("temp@example.cn", "retry", "451", "try again later"),
        # Refused after the data: classified by the code all the same.
        ("reject@example.cn", "permanent", "554", "message refused"),
        ("later@example.cn", "retry", "452", "insufficient storage"),
    ],
)
def test_refusals_are_classified_by_code(smtp_server, address, outcome, code, said):
    mailbox, url = smtp_server
    result = SmtpChannel(url, "noreply@example.cn").send(_message(address))
    assert (result.outcome, result.code) == (outcome, code)
    assert said in result.error
    assert mailbox.messages == []


def test_unreachable_server_is_transient():
    result = SmtpChannel(f"smtp://127.0.0.1:{_free_port()}", "noreply@example.cn", timeout=2).send(
        _message("a@b.cn")
    )
    assert result.outcome == "retry"
    assert "ConnectionRefusedError" in result.error


def test_unresolvable_host_is_transient(monkeypatch):
    def no_dns(*_args, **_kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr("socket.getaddrinfo", no_dns)
    result = SmtpChannel("smtp://mail.invalid", "noreply@example.cn", timeout=2).send(_message("a@b.cn"))
    assert result.outcome == "retry"


def test_connection_lost_after_the_data_is_unknown(smtp_server):
    mailbox, url = smtp_server
    result = SmtpChannel(url, "noreply@example.cn", timeout=5).send(_message("drop@example.cn"))
    assert result.outcome == "unknown"
    assert "SMTPServerDisconnected" in result.error


def test_timeout_after_the_data_is_unknown(smtp_server):
    _mailbox, url = smtp_server
    result = SmtpChannel(url, "noreply@example.cn", timeout=0.5).send(_message("slow@example.cn"))
    assert result.outcome == "unknown"


def test_message_id_is_stable_per_idempotency_key(smtp_server):
    mailbox, url = smtp_server
    channel = SmtpChannel(url, "noreply@example.cn")
    first = channel.send(_message("a@example.cn", key="digest:org-1:2024-05-01 <x@y>"))
    again = channel.send(_message("a@example.cn", key="digest:org-1:2024-05-01 <x@y>"))
    other = channel.send(_message("a@example.cn", key="digest:org-1:2024-05-02"))
    assert first.provider_id == again.provider_id != other.provider_id
    assert [mail["Message-ID"] for mail in mailbox.messages] == [
        first.provider_id,
        again.provider_id,
        other.provider_id,
    ]
    assert first.provider_id.startswith("<")
    assert first.provider_id.endswith("@calrecall>")


def test_header_injection_is_permanent(smtp_server):
    mailbox, url = smtp_server
    result = SmtpChannel(url, "noreply@example.cn").send(_message("a@example.cn\nBcc: evil@example.cn"))
    assert result.outcome == "permanent"
    assert mailbox.messages == []


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
    assert result.outcome == "permanent"
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
    assert result.outcome == "retry"
    assert seen == {"verify": ssl.CERT_REQUIRED, "hostname": True}
