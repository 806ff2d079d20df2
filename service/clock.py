"""Time in the tenant's zone: calendar dates are local, timestamps are UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def now_utc() -> datetime:
    """Return the current aware UTC time."""
    return datetime.now(UTC)


def today_in(timezone: str) -> date:
    """Return today's date in ``timezone`` (an organisation's zone, default Asia/Shanghai)."""
    return datetime.now(ZoneInfo(timezone)).date()
