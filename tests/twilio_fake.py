"""Twilio's SDK with its HTTP layer replaced: requests are recorded, answers come from a script."""

from __future__ import annotations

import json

from twilio.http import HttpClient
from twilio.http.response import Response

SID = "AC" + "0" * 32


class FakeTwilioHttp(HttpClient):
    """Record each request; answer from a queue of ``(status, payload)`` or exceptions to raise.

    With the queue empty, ``default`` answers (a callable taking the request's form data), so a
    dispatcher may send any number of messages.
    """

    def __init__(self, *answers, default=None):
        super().__init__(logger=None, is_async=False)
        self.answers = list(answers)
        self.default = default
        self.requests: list[dict] = []

    def request(
        self,
        method,
        url,
        params=None,
        data=None,
        headers=None,
        auth=None,
        timeout=None,
        allow_redirects=False,
    ):
        self.requests.append({"method": method, "url": url, "params": params, "data": data, "auth": auth})
        answer = self.answers.pop(0) if self.answers else self.default(data)
        if isinstance(answer, BaseException):
            raise answer
        status, payload = answer
        return Response(status, payload if isinstance(payload, str) else json.dumps(payload))


def message_json(sid: str, to: str, body: str, status: str = "queued", sender: str = "+15005550006") -> dict:
    """Return Twilio's JSON for one Message resource."""
    return {
        "sid": sid,
        "account_sid": SID,
        "to": to,
        "from": sender,
        "body": body,
        "status": status,
        "num_segments": "1",
        "direction": "outbound-api",
        "date_created": "Wed, 01 May 2024 01:00:00 +0000",
        "date_sent": None,
        "uri": f"/2010-04-01/Accounts/{SID}/Messages/{sid}.json",
    }


def error_json(status: int, code: int, message: str) -> tuple[int, dict]:
    """Return Twilio's error answer for ``code``."""
    return status, {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


TOKEN = "twilio-test-token"
FROM = "+15005550006"


def twilio_app(config, engine, sessions, http_client: FakeTwilioHttp | None = None):
    """Return an app whose SMS go through the Twilio SDK (to ``http_client``) and that takes callbacks."""
    from service.app import create_app
    from service.config import Config

    settings = {
        **config.__dict__,
        "sms_backend": "twilio",
        "twilio_account_sid": SID,
        "twilio_auth_token": TOKEN,
        "twilio_from": FROM,
    }
    app = create_app(Config(**settings), engine=engine)
    app.config["TESTING"] = True
    app.extensions["calrecall.sessions"] = sessions
    if http_client is not None:
        app.extensions["calrecall.twilio_http_client"] = http_client
    return app
