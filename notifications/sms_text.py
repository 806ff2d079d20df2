"""SMS length rules: which alphabet a text needs and how many segments it is billed as."""

from __future__ import annotations

#: GSM 03.38 basic character set (the escape character 0x1B left out: it is not text).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: GSM 03.38 extension table: each character is sent as ESC + code, so it costs two septets.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def is_gsm7(text: str) -> bool:
    """Return whether ``text`` can be sent in the GSM 7-bit alphabet (basic set plus extension table)."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def utf16_units(text: str) -> int:
    """Return the number of UTF-16 code units in ``text`` (a character outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _costs(text: str) -> tuple[list[int], int, int]:
    """Return each character's cost and the single-segment and per-part capacities for ``text``."""
    if is_gsm7(text):
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text], GSM7_SINGLE, GSM7_PART
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text], UCS2_SINGLE, UCS2_PART


def segments(text: str) -> int:
    """Return how many SMS segments ``text`` is sent as (an empty text still takes one)."""
    costs, single, part = _costs(text)
    if sum(costs) <= single:
        return 1
    # Packed character by character: an escape sequence or a surrogate pair is never split across
    # two parts, so a part may carry one unit less than its capacity.
    count, used = 1, 0
    for cost in costs:
        if used + cost > part:
            count, used = count + 1, 0
        used += cost
    return count


def fits(text: str, max_segments: int = 2) -> bool:
    """Return whether ``text`` is sent in at most ``max_segments`` segments."""
    return segments(text) <= max_segments
