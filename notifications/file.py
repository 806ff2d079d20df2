"""Test and demo backend: append each message as one JSON line to ``NOTIFY_FILE``."""

from __future__ import annotations

import fcntl
import json
from datetime import UTC, datetime
from pathlib import Path

from notifications.message import Message, SendResult


class FileChannel:
    """Append one JSON object per message; several processes may append at once."""

    def __init__(self, notify_file: str, **_settings):
        self.path = Path(notify_file)

    def send(self, message: Message) -> SendResult:
        """Append the message with the fields DESIGN.md §5 names."""
        record = {
            "channel": message.channel,
            "to": message.to,
            "subject": message.subject,
            "body": message.body,
            "idempotency_key": message.idempotency_key,
            "org": message.org,
            "sent_at": datetime.now(UTC).isoformat(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self.path.open("a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.write(line)
        return SendResult.sent(f"file-{message.idempotency_key}")
