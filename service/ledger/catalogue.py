"""The uses that make verification compulsory, as ledgers write them and as the catalogue implies them.

A ledger often marks an instrument 强检 without filling in the use (贸易结算, 安全防护, 医疗卫生,
环境监测) that makes it so. The use is then found, in this order:

1. in the row's own words, where a person wrote it (:func:`use_in_text`: a remark such as
   "用于贸易结算" or a 用途 column saying "安全防护");
2. from the catalogue of instruments under mandatory management (``service/data/mandatory_uses.csv``):
   the typical use of that kind of instrument (:func:`typical_use`: an 电能表 settles trade, a
   血压计 serves medical care, a 压力表 safety).

Both are guesses a person should confirm; the callers say where each use came from.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources

#: Words that name a use, the full terms first; each is looked for inside a cell's text.
USE_WORDS: dict[str, tuple[str, ...]] = {
    "trade": ("贸易结算", "贸易", "结算", "计费", "收费"),
    "safety": ("安全防护", "安全监测", "安全保护", "安全"),
    "medical": ("医疗卫生", "医疗", "诊疗"),
    "environment": ("环境监测", "环保监测", "环保", "环境"),
}
_PATTERNS = {use: re.compile("|".join(map(re.escape, words))) for use, words in USE_WORDS.items()}


@dataclass(frozen=True)
class CatalogueUse:
    """The typical use of a kind of instrument, with the catalogue item it belongs to."""

    use: str
    item: str


def use_in_text(text: str | None) -> str | None:
    """Return the one use a text names (贸易结算 → trade), or None when it names none or several."""
    if not text:
        return None
    folded = unicodedata.normalize("NFKC", text)
    found = {use for use, pattern in _PATTERNS.items() if pattern.search(folded)}
    return found.pop() if len(found) == 1 else None


@functools.cache
def _catalogue() -> tuple[tuple[str, CatalogueUse], ...]:
    text = resources.files("service").joinpath("data/mandatory_uses.csv").read_text("utf-8")
    lines = (line for line in text.splitlines() if line and not line.startswith("#"))
    entries = [
        (row["keyword"], CatalogueUse(row["use"], row["catalogue_item"])) for row in csv.DictReader(lines)
    ]
    return tuple(sorted(entries, key=lambda entry: -len(entry[0])))


def typical_use(name: str | None) -> CatalogueUse | None:
    """Return the catalogue's typical use for an instrument of this name, if its name says its kind."""
    if not name:
        return None
    folded = unicodedata.normalize("NFKC", name).upper()
    for keyword, entry in _catalogue():
        if keyword.upper() in folded:
            return entry
    return None
