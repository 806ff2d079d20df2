"""SMS through Twilio's Messages API, with status-callback signature checking."""

from __future__ import annotations

from datetime import datetime, timedelta

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from notifications._http import transport_result
from notifications.message import Message, SendResult

#: Twilio error codes that no retry will fix (https://www.twilio.com/docs/api/errors).
PERMANENT_CODES = {
    21211: "invalid 'To' number",
    21608: "unverified number on a trial account",
    21614: "'To' number is not SMS-capable",
}
#: The recipient replied STOP; Twilio blocks every message to them until they reply START.
OPTED_OUT = 21610
#: "Too many requests": documented as never processed.
TOO_MANY_REQUESTS = 20429
#: How far before the first attempt a reconcile still looks (our clock against Twilio's).
RECONCILE_SKEW = timedelta(minutes=5)
#: Messages listed per page, and at most, when looking for one that may have gone.
RECONCILE_PAGE = 50
RECONCILE_MAX = 1000


def _classify(exc: TwilioRestException | TwilioServiceException) -> SendResult:
    """Classify an error answer from the Twilio API by HTTP status and Twilio error code."""
    status = int(exc.status)
    code = exc.code if exc.code is not None else status
    detail = getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", "")
    error = f"HTTP {status}, Twilio {code}: {detail}"
    if status == 429 or code == TOO_MANY_REQUESTS:
        return SendResult.retry(error, code=str(code))
    if code == OPTED_OUT:
        return SendResult.permanent(error, code=str(code), opted_out=True)
    if code in PERMANENT_CODES or 400 <= status < 500:
        return SendResult.permanent(error, code=str(code))
    # A 5xx (or anything stranger): Twilio may have queued the message before failing.
    return SendResult.unknown(error, code=str(code))


class TwilioSmsChannel:
    """Send one SMS per message; 429 is retried, 5xx and timeouts are reconciled, 4xx are final."""

    def __init__(
        self,
        twilio_account_sid: str,
        twilio_auth_token: str,
        twilio_from: str,
        status_callback: str | None = None,
        http_client=None,
        timeout: float = 20.0,
        **_settings,
    ):
        missing = [
            name
            for name, value in (
                ("twilio_account_sid", twilio_account_sid),
                ("twilio_auth_token", twilio_auth_token),
                ("twilio_from", twilio_from),
            )
            if not value
        ]
        if missing:
            # Without this the SDK would send to .../Accounts/None/... and fail only at send time.
            raise ValueError(f"the Twilio SMS backend needs {', '.join(missing)}")
        # Twilio's default client has no timeout at all and would hang a worker on a stalled connection.
        self.client = Client(
            twilio_account_sid,
            twilio_auth_token,
            http_client=http_client or TwilioHttpClient(timeout=timeout),
        )
        self.from_number = twilio_from
        self.status_callback = status_callback

    def send(self, message: Message) -> SendResult:
        """Submit one SMS to Twilio and classify the answer."""
        params = {"to": message.to, "from_": self.from_number, "body": message.body}
        if self.status_callback:
            params["status_callback"] = self.status_callback
        try:
            created = self.client.messages.create(**params)
        except (TwilioRestException, TwilioServiceException) as exc:
            return _classify(exc)
        except requests.RequestException as exc:
            return transport_result(exc)
        except (TwilioException, ValueError) as exc:  # e.g. a 2xx whose body is not JSON
            return SendResult.unknown(f"{type(exc).__name__}: {exc}")
        return SendResult.sent(created.sid)

    def reconcile(self, message: Message, since: datetime) -> SendResult | None:
        """Return ``sent`` if Twilio holds a message with this body to this number since ``since``.

        Twilio lists a number's messages newest first. The scan stops at the first one sent (or, if
        never sent, created) before ``since`` less a clock-skew margin; a ``DateSent>`` filter would
        miss a message Twilio still has queued, which has no date sent yet. Errors (Twilio's or the
        network's) propagate: not being able to look is not "not sent".
        """
        horizon = since - RECONCILE_SKEW
        records = self.client.messages.stream(
            to=message.to, from_=self.from_number, page_size=RECONCILE_PAGE, limit=RECONCILE_MAX
        )
        for record in records:
            stamp = record.date_sent or record.date_created
            if stamp is not None and stamp < horizon:
                break
            if record.body == message.body:
                return SendResult.sent(record.sid)
        return None


def valid_signature(auth_token: str, url: str, params, signature: str | None) -> bool:
    """Return whether ``signature`` (``X-Twilio-Signature``) signs ``url`` and ``params`` with the token."""
    if not signature:
        return False
    return RequestValidator(auth_token).validate(url, params, signature)
