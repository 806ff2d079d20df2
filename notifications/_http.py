"""Tell a request that never left from one that may have reached the provider."""

from __future__ import annotations

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from notifications.message import SendResult


def _causes(exc: BaseException):
    """Yield ``exc`` and everything it wraps (requests and urllib3 nest their errors several deep)."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, MaxRetryError) and isinstance(current.reason, BaseException):
            stack.append(current.reason)
        stack.extend(arg for arg in current.args if isinstance(arg, BaseException))
        stack.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def never_sent(exc: BaseException) -> bool:
    """Return whether ``exc`` shows the connection was never established, so no byte of the request left.

    urllib3 raises ``ConnectTimeoutError`` (and its subclasses ``NewConnectionError`` for a refused
    connection, ``NameResolutionError`` for DNS) only while connecting. Everything else — a read
    timeout, a connection reset or closed mid-response, a TLS error — may come after the provider
    received the request.
    """
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    return any(isinstance(e, ConnectTimeoutError) for e in _causes(exc))


def transport_result(exc: BaseException) -> SendResult:
    """Classify a transport failure: ``retry`` if the request never left, else ``unknown``."""
    error = f"{type(exc).__name__}: {exc}"
    if never_sent(exc):
        return SendResult.retry(error)
    return SendResult.unknown(error)
