"""Logs as JSON lines: one object a record, with the request id, organisation and user, never a secret.

Every process (web workers, the scheduler, the CLI) logs through the root logger's one handler on
stderr, which systemd's journal collects. ``LOG_FORMAT=text`` keeps the plain lines of development.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from contextlib import suppress
from datetime import UTC, datetime

from flask import g, has_request_context
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

#: Marks the handler this module installs, so that configuring again replaces it instead of adding one.
_OURS = "calrecall_handler"
REDACTED = "***"

#: Secrets that have a shape of their own, whatever their value: API tokens (``cal_…``), bearer
#: credentials, the password of a URL, and ``password=…``/``token=…`` pairs in a query or a message.
_SHAPED_SECRETS = (
    (re.compile(r"\bcal_[A-Za-z0-9_\-]{8,}"), REDACTED),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]+"), rf"\1 {REDACTED}"),
    (re.compile(r"(?i)([a-z][a-z0-9+.\-]*://[^:/@\s]*:)[^@\s]+@"), rf"\1{REDACTED}@"),
    (
        re.compile(r"(?i)\b(password|passwd|secret|token|auth_token|api_key)(\"?\s*[=:]\s*\"?)[^\s&\"',;]+"),
        rf"\1\2{REDACTED}",
    ),
)


class Redactor:
    """Replaces secrets in text: the configured ones by value, and any that has a secret's shape."""

    def __init__(self, secrets: Iterable[str] = ()):
        # Longest first, so that a secret containing another is replaced whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """Return ``text`` with every secret replaced by ``***``."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        for pattern, replacement in _SHAPED_SECRETS:
            text = pattern.sub(replacement, text)
        return text


def configured_secrets(config) -> list[str]:
    """Return the values of ``config`` that must never appear in a log line."""
    secrets = [config.secret_key, config.twilio_auth_token, config.metrics_token]
    urls = (config.database_url, config.jobs_database_url, config.migrations_database_url, config.smtp_url)
    for url in urls:
        if url:
            # SMTP_URL too: make_url parses any scheme://user:password@host URL.
            with suppress(ArgumentError):  # unparseable: the URL shape of _SHAPED_SECRETS still applies
                secrets.append(make_url(url).password or "")
    return [s for s in secrets if s]


def request_fields() -> dict:
    """Return the request id, organisation and user of the request under way (none outside one).

    Read only from what the request has already loaded: a log line must never query the database,
    which may be the very thing that failed.
    """
    if not has_request_context():
        return {}
    fields = {"request_id": g.get("request_id")}
    actor = g.get("actor")
    user = g.get("api_user") or g.get("_login_user")
    if actor is not None:
        fields["org_id"], fields["user_id"] = actor.org_id, actor.user_id
    elif user is not None and getattr(user, "is_authenticated", False):
        # The instance's own dict: after a rollback its attributes are expired, and reading them
        # through the ORM would load them again.
        loaded = vars(user)
        fields["org_id"], fields["user_id"] = loaded.get("org_id"), loaded.get("id")
    return {key: value for key, value in fields.items() if value is not None}


#: LogRecord attributes of the logging module itself; anything else on a record came from ``extra``.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, the request's fields, ``extra``."""

    def __init__(self, redact: Redactor):
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one line of JSON, redacted."""
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(request_fields())
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD and k[0] != "_"})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return self.redact(json.dumps(entry, ensure_ascii=False, default=str))


class RedactingTextFormatter(logging.Formatter):
    """Development's plain lines, with the request id and the same redaction."""

    def __init__(self, redact: Redactor):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a plain line with its request id, redacted."""
        line = super().format(record)
        request_id = request_fields().get("request_id")
        return self.redact(f"[{request_id}] {line}" if request_id else line)


def configure_logging(config, stream=None) -> logging.Handler:
    """Send the root logger's records to ``stream`` (stderr) as JSON lines or text, per LOG_FORMAT."""
    redact = Redactor(configured_secrets(config))
    handler = logging.StreamHandler(stream or sys.stderr)
    json_lines = config.log_format == "json"
    handler.setFormatter(JsonFormatter(redact) if json_lines else RedactingTextFormatter(redact))
    setattr(handler, _OURS, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(config.log_level)
    # Alembic announces each of its plugins at INFO whenever autogenerate is imported (every command).
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    return handler
