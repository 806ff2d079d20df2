"""The public address of a record's certificate check: what its QR label encodes.

Pure, so that schemas, labels and the check page share it without importing each other.
"""

from __future__ import annotations

#: Where the public check lives; the token follows it (``/c/<check_token>``).
CHECK_PATH = "/c/"


def check_url(base_url: str, token: str) -> str:
    """Return the absolute address of a record's public certificate check."""
    return f"{base_url.rstrip('/')}{CHECK_PATH}{token}"
