"""Twilio SMS, WeCom and DingTalk robots, and the backend registry, against local stand-ins only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import urllib.parse
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator

from notifications import Message, Reconcilable, SendResult, channel_for
from notifications.console import ConsoleChannel
from notifications.file import FileChannel
from notifications.robots import DingTalkRobotChannel, WeComRobotChannel, dingtalk_sign, truncate_utf8
from notifications.smtp import SmtpChannel
from notifications.twilio_sms import TwilioSmsChannel, valid_signature
from tests.twilio_fake import SID, FakeTwilioHttp, error_json
from tests.twilio_fake import message_json as _twilio_json

TOKEN = "test-auth-token"
FROM = "+15005550006"
TO = "+8613800138000"
CALLBACK = "https://app.example.cn/hooks/twilio/status"
BODY = "【计量台账】您有12台仪器将在7天内到期：…详情请登录系统查看。"


def _sms(body: str = BODY) -> Message:
    return Message("sms", TO, "到期提醒", body, "key-1")


# --- Twilio -----------------------------------------------------------------------------------


def _twilio(*answers, status_callback=CALLBACK) -> tuple[TwilioSmsChannel, FakeTwilioHttp]:
    http = FakeTwilioHttp(*answers)
    channel = TwilioSmsChannel(
        twilio_account_sid=SID,
        twilio_auth_token=TOKEN,
        twilio_from=FROM,
        status_callback=status_callback,
        http_client=http,
        unrelated_setting="ignored",
    )
    return channel, http


def _message_json(sid: str, body: str = BODY, status: str = "queued") -> dict:
    return _twilio_json(sid, TO, body, status, sender=FROM)


def _page(messages: list[dict], next_page_uri: str | None = None, page: int = 0) -> tuple[int, dict]:
    uri = f"/2010-04-01/Accounts/{SID}/Messages.json?PageSize=50&Page={page}"
    return 200, {
        "messages": messages,
        "end": page * 50 + len(messages) - 1,
        "first_page_uri": f"/2010-04-01/Accounts/{SID}/Messages.json?PageSize=50&Page=0",
        "next_page_uri": next_page_uri,
        "page": page,
        "page_size": 50,
        "previous_page_uri": None,
        "start": page * 50,
        "uri": uri,
    }


def test_twilio_accepted_records_the_sid_and_sends_the_form():
    channel, http = _twilio((201, _message_json("SM" + "a" * 32)))
    result = channel.send(_sms())
    assert result == SendResult.sent("SM" + "a" * 32)
    [request] = http.requests
    assert request["method"] == "POST"
    assert request["url"] == f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
    assert request["auth"] == (SID, TOKEN)
    assert request["data"] == {"To": TO, "From": FROM, "Body": BODY, "StatusCallback": CALLBACK}


def test_twilio_without_status_callback_leaves_it_out():
    channel, http = _twilio((201, _message_json("SM1")), status_callback=None)
    assert channel.send(_sms()).ok
    assert "StatusCallback" not in http.requests[0]["data"]


def test_twilio_429_is_retry():
    channel, _http = _twilio(error_json(429, 20429, "Too Many Requests"))
    result = channel.send(_sms())
    assert (result.outcome, result.code, result.opted_out) == ("retry", "20429", False)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (21211, "The 'To' number +8613800138000 is not a valid phone number."),
        (21614, "'To' number is not a valid mobile number"),
        (21608, "The number is unverified. Trial accounts cannot send messages to unverified numbers"),
        (21602, "Message body is required."),
    ],
)
def test_twilio_4xx_is_permanent(code, message):
    channel, _http = _twilio(error_json(400, code, message))
    result = channel.send(_sms())
    assert (result.outcome, result.code, result.opted_out) == ("permanent", str(code), False)
    assert message in result.error


def test_twilio_21610_is_permanent_and_opted_out():
    channel, _http = _twilio(error_json(400, 21610, "Attempt to send to unsubscribed recipient"))
    result = channel.send(_sms())
    assert (result.outcome, result.code, result.opted_out) == ("permanent", "21610", True)


def test_twilio_500_is_unknown():
    channel, _http = _twilio(error_json(500, 20500, "Internal Server Error"))
    result = channel.send(_sms())
    assert (result.outcome, result.code) == ("unknown", "20500")


def test_twilio_5xx_without_json_is_unknown():
    channel, _http = _twilio((503, "<html>Service Unavailable</html>"))
    result = channel.send(_sms())
    assert (result.outcome, result.code) == ("unknown", "503")


def test_twilio_read_timeout_is_unknown():
    channel, _http = _twilio(requests.exceptions.ReadTimeout("read timed out"))
    assert channel.send(_sms()).outcome == "unknown"


def test_twilio_connect_timeout_is_retry():
    channel, _http = _twilio(requests.exceptions.ConnectTimeout("connect timed out"))
    assert channel.send(_sms()).outcome == "retry"


def test_twilio_bare_connection_error_is_unknown():
    # Without a sign that the connection was never made, the request may have gone.
    channel, _http = _twilio(requests.exceptions.ConnectionError("Connection aborted."))
    assert channel.send(_sms()).outcome == "unknown"


class LocalTwilioHttp(TwilioHttpClient):
    """The SDK's own requests-based client, pointed at a local socket instead of api.twilio.com."""

    def __init__(self, port: int):
        super().__init__(timeout=0.5)
        self.base = f"http://127.0.0.1:{port}"

    def request(self, method, url, **kwargs):
        return super().request(method, url.replace("https://api.twilio.com", self.base), **kwargs)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def raw_server():
    """A TCP server that reads one HTTP request and then hangs up ('close') or never answers ('hang')."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    mode = {"value": "close"}
    release = threading.Event()

    def serve():
        connection, _address = listener.accept()
        with connection:
            data = b""
            while b"\r\n\r\n" not in data:
                data += connection.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            while len(body) < length:
                body += connection.recv(65536)
            if mode["value"] == "hang":
                release.wait(5)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], mode
    release.set()
    thread.join(5)
    listener.close()


def test_twilio_connection_refused_is_retry():
    channel, _http = _twilio()
    channel.client.http_client = LocalTwilioHttp(_free_port())
    result = channel.send(_sms())
    assert result.outcome == "retry"
    assert "ConnectionError" in result.error


def test_twilio_hang_up_after_the_request_is_unknown(raw_server):
    port, _mode = raw_server
    channel, _http = _twilio()
    channel.client.http_client = LocalTwilioHttp(port)
    result = channel.send(_sms())
    # requests raises ConnectionError here too, but the request had arrived.
    assert result.outcome == "unknown"
    assert "ConnectionError" in result.error


def test_twilio_real_read_timeout_is_unknown(raw_server):
    port, mode = raw_server
    mode["value"] = "hang"
    channel, _http = _twilio()
    channel.client.http_client = LocalTwilioHttp(port)
    result = channel.send(_sms())
    assert result.outcome == "unknown"
    assert "ReadTimeout" in result.error


def test_twilio_needs_its_three_settings():
    with pytest.raises(ValueError, match="twilio_auth_token, twilio_from"):
        TwilioSmsChannel(twilio_account_sid=SID, twilio_auth_token="", twilio_from=None)


def test_twilio_default_http_client_has_a_timeout():
    channel = TwilioSmsChannel(twilio_account_sid=SID, twilio_auth_token=TOKEN, twilio_from=FROM)
    assert isinstance(channel.client.http_client, TwilioHttpClient)
    assert channel.client.http_client.timeout == 20


def test_twilio_channel_is_reconcilable():
    channel, _http = _twilio()
    assert isinstance(channel, Reconcilable)


def test_twilio_reconcile_finds_the_message_on_a_later_page():
    since = datetime(2024, 5, 1, 0, 30, tzinfo=UTC)
    next_uri = f"/2010-04-01/Accounts/{SID}/Messages.json?PageSize=50&Page=1&PageToken=PASM1"
    channel, http = _twilio(
        _page([_message_json("SMother", body="另一条")], next_page_uri=next_uri),
        _page([_message_json("SMfound", status="delivered")], page=1),
    )
    assert channel.reconcile(_sms(), since) == SendResult.sent("SMfound")
    first, second = http.requests
    assert first["method"] == "GET"
    assert first["params"] == {"To": TO, "From": FROM, "PageSize": 50}
    assert second["url"] == "https://api.twilio.com" + next_uri


def test_twilio_reconcile_finds_a_message_twilio_still_has_queued():
    # A queued message has no date sent: a DateSent filter would miss it and the SMS would go twice.
    queued = _message_json("SMqueued", status="queued")
    assert queued["date_sent"] is None
    channel, _http = _twilio(_page([queued]))
    assert channel.reconcile(_sms(), datetime(2024, 5, 1, 0, 30, tzinfo=UTC)) == SendResult.sent("SMqueued")


def test_twilio_reconcile_stops_at_messages_older_than_the_first_attempt():
    older = _message_json("SMold")  # created 01:00, the same body: an earlier day's identical SMS
    older["date_sent"] = "Wed, 01 May 2024 01:00:05 +0000"
    next_uri = f"/2010-04-01/Accounts/{SID}/Messages.json?PageSize=50&Page=1&PageToken=PASM1"
    channel, http = _twilio(_page([older], next_page_uri=next_uri))
    assert channel.reconcile(_sms(), datetime(2024, 5, 1, 2, 0, tzinfo=UTC)) is None
    assert len(http.requests) == 1  # no need to page further back


def test_twilio_reconcile_not_found():
    channel, _http = _twilio(_page([_message_json("SMother", body="另一条")]))
    assert channel.reconcile(_sms(), datetime(2024, 5, 1, tzinfo=UTC)) is None


def test_twilio_reconcile_failure_raises_rather_than_saying_not_sent():
    channel, _http = _twilio(requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(requests.exceptions.ReadTimeout):
        channel.reconcile(_sms(), datetime(2024, 5, 1, tzinfo=UTC))


def test_twilio_signature_valid_invalid_missing():
    params = {"MessageSid": "SM1", "MessageStatus": "delivered", "To": TO}
    signature = RequestValidator(TOKEN).compute_signature(CALLBACK, params)
    assert valid_signature(TOKEN, CALLBACK, params, signature)
    assert not valid_signature(TOKEN, CALLBACK, {**params, "MessageStatus": "failed"}, signature)
    assert not valid_signature(TOKEN, CALLBACK + "?x=1", params, signature)
    assert not valid_signature("another-token", CALLBACK, params, signature)
    assert not valid_signature(TOKEN, CALLBACK, params, None)
    assert not valid_signature(TOKEN, CALLBACK, params, "")


# --- Robots -----------------------------------------------------------------------------------


class RobotServer:
    """A real local HTTP server standing in for a robot webhook: records requests, answers as told."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        self.answer: dict | str = {"errcode": 0, "errmsg": "ok"}
        self.delay = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                parsed = urllib.parse.urlsplit(self.path)
                server.requests.append(
                    {
                        "path": parsed.path,
                        "query": urllib.parse.parse_qs(parsed.query),
                        "raw_query": parsed.query,
                        "content_type": self.headers["Content-Type"],
                        "json": json.loads(raw),
                    }
                )
                if server.delay:
                    threading.Event().wait(server.delay)
                text = server.answer if isinstance(server.answer, str) else json.dumps(server.answer)
                payload = text.encode()
                try:
                    self.send_response(server.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up waiting
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        # A short poll interval so that shutdown() at teardown does not wait half a second.
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)


@pytest.fixture
def robot():
    server = RobotServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
    server.thread.join(5)


def _robot_message(body: str = "**到期提醒**\n\n- 压力表 A-01 将于 2024-06-01 到期") -> Message:
    return Message("wecom", "group", "到期提醒", body, "key-1")


def test_wecom_posts_markdown(robot):
    channel = WeComRobotChannel(url=f"{robot.base}/cgi-bin/webhook/send?key=K1", secret="unused")
    result = channel.send(_robot_message())
    assert result.outcome == "sent"
    [request] = robot.requests
    assert request["path"] == "/cgi-bin/webhook/send"
    assert request["query"] == {"key": ["K1"]}
    assert request["content_type"] == "application/json"
    assert request["json"] == {"msgtype": "markdown", "markdown": {"content": _robot_message().body}}


def test_wecom_truncates_to_4096_bytes_without_splitting_a_character(robot):
    body = "a" + "仪" * 2000  # 6001 bytes; the cut falls inside a three-byte character
    WeComRobotChannel(url=f"{robot.base}/send?key=K").send(_robot_message(body))
    content = robot.requests[0]["json"]["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096
    assert content.startswith("a仪仪")
    assert content.endswith("仪…")


def test_truncate_utf8():
    assert truncate_utf8("短", 4096) == "短"
    assert truncate_utf8("a" * 4096, 4096) == "a" * 4096
    assert truncate_utf8("a" * 4097, 4096) == "a" * 4093 + "…"
    # "ab仪仪" is 8 bytes; "…" takes 3 of the budget.
    assert truncate_utf8("ab仪仪", 8) == "ab仪仪"
    assert truncate_utf8("ab仪仪", 7) == "ab…"
    assert truncate_utf8("ab仪仪", 5) == "ab…"
    assert truncate_utf8("ab仪仪", 4) == "a…"


@pytest.mark.parametrize(
    ("status", "outcome"), [(429, "retry"), (500, "unknown"), (502, "unknown"), (404, "permanent")]
)
def test_robot_http_status(robot, status, outcome):
    robot.status = status
    robot.answer = "error"
    result = WeComRobotChannel(url=f"{robot.base}/send?key=K").send(_robot_message())
    assert (result.outcome, result.code) == (outcome, str(status))


def test_robot_200_that_is_not_json_is_unknown(robot):
    robot.answer = "<html>gateway</html>"
    assert (
        DingTalkRobotChannel(url=f"{robot.base}/robot/send?access_token=T").send(_robot_message()).outcome
        == "unknown"
    )


def test_robot_read_timeout_is_unknown(robot):
    robot.delay = 1.0
    result = WeComRobotChannel(url=f"{robot.base}/send?key=K", timeout=0.2).send(_robot_message())
    assert result.outcome == "unknown"
    assert "ReadTimeout" in result.error
    assert len(robot.requests) == 1  # it had arrived


def test_robot_connection_refused_is_retry():
    result = DingTalkRobotChannel(url=f"http://127.0.0.1:{_free_port()}/robot/send?access_token=T").send(
        _robot_message()
    )
    assert result.outcome == "retry"


def test_dingtalk_sign_matches_an_independent_computation():
    secret, timestamp = "SEC1234567890abcdef", 1714521600000
    expected_digest = hmac.new(
        secret.encode(), (str(timestamp) + "\n" + secret).encode(), hashlib.sha256
    ).digest()
    expected = urllib.parse.quote(base64.b64encode(expected_digest).decode(), safe="")
    assert dingtalk_sign(secret, timestamp) == expected
    # Any '+', '/' or '=' of the base64 must come out percent-encoded.
    assert not set("+/=") & set(dingtalk_sign(secret, timestamp))


def test_dingtalk_posts_signed_markdown(robot):
    secret = "SECabc"
    channel = DingTalkRobotChannel(url=f"{robot.base}/robot/send?access_token=T1", secret=secret)
    before = int(datetime.now(UTC).timestamp() * 1000)
    assert channel.send(_robot_message()).outcome == "sent"
    after = int(datetime.now(UTC).timestamp() * 1000)
    [request] = robot.requests
    assert request["path"] == "/robot/send"
    assert request["json"] == {
        "msgtype": "markdown",
        "markdown": {"title": "到期提醒", "text": _robot_message().body},
    }
    query = request["query"]
    assert query["access_token"] == ["T1"]
    timestamp = int(query["timestamp"][0])
    assert before <= timestamp <= after
    # parse_qs has decoded the sign once: it must be the plain base64 HMAC, as DingTalk checks it.
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    assert query["sign"] == [base64.b64encode(digest).decode()]


def test_dingtalk_without_secret_is_unsigned(robot):
    DingTalkRobotChannel(url=f"{robot.base}/robot/send?access_token=T1").send(_robot_message())
    assert robot.requests[0]["query"] == {"access_token": ["T1"]}


def _wecom(robot) -> WeComRobotChannel:
    return WeComRobotChannel(url=f"{robot.base}/send?key=K")


def _dingtalk(robot, secret: str | None = None) -> DingTalkRobotChannel:
    return DingTalkRobotChannel(url=f"{robot.base}/robot/send?access_token=T", secret=secret)


@pytest.mark.parametrize(
    ("channel", "errcode", "errmsg", "outcome", "retry_after"),
    [
        pytest.param(_wecom, 45009, "api freq out of limit", "retry", 60, id="wecom-frequency-limit"),
        pytest.param(_wecom, 93000, "invalid webhook url", "permanent", None, id="wecom-other-errcode"),
        pytest.param(
            _dingtalk,
            130101,
            "send too fast, exceed 20 times per minute",
            "retry",
            600,
            id="dingtalk-throttled",
        ),
        pytest.param(
            lambda robot: _dingtalk(robot, secret="x"),
            310000,
            "sign not match",
            "permanent",
            None,
            id="dingtalk-bad-sign",
        ),
    ],
)
def test_robot_errcodes_are_retried_after_the_providers_wait_or_permanent(
    robot, channel, errcode, errmsg, outcome, retry_after
):
    robot.answer = {"errcode": errcode, "errmsg": errmsg}
    result = channel(robot).send(_robot_message())
    assert (result.outcome, result.code, result.retry_after, result.error) == (
        outcome,
        str(errcode),
        retry_after,
        errmsg,
    )


# --- Registry ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "backend", "cls"),
    [
        ("email", "console", ConsoleChannel),
        ("email", "file", FileChannel),
        ("email", "smtp", SmtpChannel),
        ("sms", "console", ConsoleChannel),
        ("sms", "file", FileChannel),
        ("sms", "twilio", TwilioSmsChannel),
        ("wecom", "console", ConsoleChannel),
        ("wecom", "file", FileChannel),
        ("wecom", "webhook", WeComRobotChannel),
        ("dingtalk", "console", ConsoleChannel),
        ("dingtalk", "file", FileChannel),
        ("dingtalk", "webhook", DingTalkRobotChannel),
    ],
)
def test_registry_gives_the_right_class(kind, backend, cls, tmp_path):
    settings = {
        "notify_file": str(tmp_path / "n.jsonl"),
        "smtp_url": "smtp://127.0.0.1:2525",
        "mail_from": "noreply@example.cn",
        "twilio_account_sid": SID,
        "twilio_auth_token": TOKEN,
        "twilio_from": FROM,
        "status_callback": CALLBACK,
        "http_client": FakeTwilioHttp(),
        "url": "http://127.0.0.1:9/robot/send?access_token=T",
        "secret": "s",
    }
    assert type(channel_for(kind, backend, **settings)) is cls


@pytest.mark.parametrize(
    ("kind", "backend"), [("email", "twilio"), ("sms", "smtp"), ("wecom", "twilio"), ("fax", "console")]
)
def test_registry_unknown_backend_raises(kind, backend):
    with pytest.raises(ValueError, match=backend if kind != "fax" else "fax"):
        channel_for(kind, backend)
