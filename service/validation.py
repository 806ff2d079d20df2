"""Validators for Chinese identifiers and reference data: pure functions."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

#: GB 32100-2015: the 31 characters of the unified social credit code (no I, O, S, V, Z).
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def credit_code_check_char(first17: str) -> str:
    """Return the check character for the first 17 characters of a credit code."""
    total = sum(CREDIT_CODE_CHARS.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def normalise_credit_code(value: str) -> str:
    """Upper-case and strip a credit code as people type it."""
    return re.sub(r"\s+", "", value).upper()


def is_valid_credit_code(value: str) -> bool:
    """Whether ``value`` is an 18-character credit code with a correct check character."""
    if len(value) != 18 or any(c not in CREDIT_CODE_CHARS for c in value):
        return False
    return credit_code_check_char(value[:17]) == value[17]


def normalise_mobile(value: str) -> str:
    """Strip spaces, dashes and a +86 / 0086 prefix from a mobile number."""
    digits = re.sub(r"[\s\-()（）]", "", value)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits


def is_valid_mobile(value: str) -> bool:
    """Whether ``value`` (normalised) is a mainland China mobile number."""
    return bool(_MOBILE.match(value))


def is_valid_slug(value: str) -> bool:
    """Whether ``value`` is a URL-safe organisation slug."""
    return bool(_SLUG.match(value))


@dataclass(frozen=True)
class Region:
    """A Henan city or directly administered county (GB/T 2260)."""

    code: str
    name: str
    level: str
    parent: str


def reference_rows(filename: str) -> list[dict[str, str]]:
    """Return the rows of a reference table shipped in ``service/data`` (lines starting ``#`` are notes)."""
    text = resources.files("service").joinpath("data", filename).read_text("utf-8")
    return list(csv.DictReader(line for line in text.splitlines() if line and not line.startswith("#")))


@cache
def henan_regions() -> tuple[Region, ...]:
    """Return the regions of Henan that have a GB/T 2260 code, cities first."""
    regions = []
    for row in reference_rows("henan_regions.csv"):
        if not row["gb2260_code"]:
            continue
        name = row["name"].split("(")[0]
        regions.append(Region(row["gb2260_code"], name, row["level"].rstrip("?"), row["parent"]))
    return tuple(regions)


def region_name(code: str | None) -> str | None:
    """Return the name of a region code, or ``None``."""
    return next((r.name for r in henan_regions() if r.code == code), None)


@cache
def benchmark_industries() -> tuple[str, ...]:
    """Return the industries of the benchmark programme, offered as suggestions."""
    return tuple(row["industry"] for row in reference_rows("industries_benchmark.csv"))
