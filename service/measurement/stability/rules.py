"""The figures of a repeatability test and a stability assessment (JJF 1033), pure and exact.

Readings are decimal strings kept as :class:`~decimal.Decimal`: means and sums of squares are
exact; only the square root of the experimental variance is rounded, to 28 significant digits
(the Decimal context), and shown as the page wants it.

Repeatability (重复性): n ≥ 10 readings of one quantity under the same conditions; the mean x̄ and
the experimental standard deviation s = √(Σ(xᵢ − x̄)² / (n − 1)) (Bessel). The test passes when s
does not exceed the repeatability claimed for the instrument.

Stability (稳定性): at least 4 groups of repeated readings of one check object, each group at
least one calendar month after the one before (:func:`service.ledger.dates.add_months`); the
stability is the largest difference between the group means (max − min). It passes when it does
not exceed the allowed value (the MPE or the expanded uncertainty, as the engineer chose).

Decision on the warnings: with fewer than 4 groups, or with an interval under a month, the
figures are still computed and a verdict given, but the verdict is *provisional* and the
warnings say why; the record never refuses what was actually measured.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from service.ledger.dates import add_months

#: JJF 1033: a repeatability test takes at least ten readings.
MIN_REPEATABILITY_READINGS = 10
#: JJF 1033: a stability assessment takes at least four groups.
MIN_STABILITY_GROUPS = 4
#: A stability group's means need at least this many readings each (one reading is a mean of itself).
MIN_GROUP_READINGS = 1
#: Warnings of a stability assessment (codes; the page translates them).
WARN_FEW_GROUPS = "few_groups"
WARN_SHORT_INTERVAL = "short_interval"
ALLOWED_BASES = ("mpe", "expanded_uncertainty")

_SEPARATORS = re.compile(r"[\s,，;；]+")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class ReadingError(ValueError):
    """A reading that is not a finite decimal number; ``token`` and ``position`` (1-based) name it."""

    def __init__(self, token: str, position: int):
        super().__init__(f"reading {position} is not a number: {token!r}")
        self.token = token
        self.position = position


def parse_reading(token: str, position: int = 1) -> Decimal:
    """Return one reading as a finite Decimal, or raise :class:`ReadingError`."""
    text = str(token).strip()
    if not _NUMBER.match(text):
        raise ReadingError(text, position)
    try:
        value = Decimal(text)
    except InvalidOperation as error:  # pragma: no cover - the pattern already refuses it
        raise ReadingError(text, position) from error
    if not value.is_finite():  # pragma: no cover - the pattern already refuses it
        raise ReadingError(text, position)
    return value


def parse_readings(text: str) -> list[Decimal]:
    """Parse readings separated by new lines, spaces, commas or semicolons, strictly.

    The first token that is not a decimal number raises :class:`ReadingError` naming it and its
    place: "12.0O1" is not silently dropped, nor is "NaN" or "1e400" left to poison the sums.
    """
    tokens = [t for t in _SEPARATORS.split(text or "") if t]
    return [parse_reading(t, i) for i, t in enumerate(tokens, start=1)]


@dataclass(frozen=True)
class Repeatability:
    """The arithmetic of a repeatability test, step by step, as the result page shows it."""

    readings: tuple[Decimal, ...]
    n: int
    total: Decimal
    mean: Decimal
    deviations: tuple[Decimal, ...]
    squares: tuple[Decimal, ...]
    sum_of_squares: Decimal
    variance: Decimal
    s: Decimal
    claimed: Decimal | None
    passed: bool | None


def mean_of(readings: Sequence[Decimal]) -> Decimal:
    """Return the arithmetic mean of at least one reading (exact up to the Decimal context)."""
    if not readings:
        raise ValueError("no readings")
    return sum(readings, Decimal(0)) / len(readings)


def experimental_sd(readings: Sequence[Decimal]) -> Decimal:
    """Return s = √(Σ(xᵢ − x̄)² / (n − 1)); needs two readings at least (the n − 1 guard)."""
    return repeatability(readings, minimum=2).s


def repeatability(
    readings: Sequence[Decimal], claimed: Decimal | None = None, *, minimum: int = MIN_REPEATABILITY_READINGS
) -> Repeatability:
    """Return the repeatability arithmetic of ``readings`` and its verdict against ``claimed``.

    Refuses fewer than ``minimum`` readings (10 by JJF 1033; never fewer than 2, where n − 1 = 0).
    ``passed`` is None when no claimed value is given.
    """
    values = tuple(Decimal(r) for r in readings)
    if any(not v.is_finite() for v in values):
        raise ValueError("readings must be finite numbers")
    n = len(values)
    if n < max(minimum, 2):
        raise ValueError(f"at least {max(minimum, 2)} readings are needed, {n} given")
    total = sum(values, Decimal(0))
    mean = total / n
    deviations = tuple(v - mean for v in values)
    squares = tuple(d * d for d in deviations)
    sum_of_squares = sum(squares, Decimal(0))
    variance = sum_of_squares / (n - 1)
    s = variance.sqrt()
    passed = None if claimed is None else s <= Decimal(claimed)
    return Repeatability(
        readings=values,
        n=n,
        total=total,
        mean=mean,
        deviations=deviations,
        squares=squares,
        sum_of_squares=sum_of_squares,
        variance=variance,
        s=s,
        claimed=None if claimed is None else Decimal(claimed),
        passed=passed,
    )


@dataclass(frozen=True)
class Group:
    """One group of a stability assessment: when it was measured and what was read."""

    measured_on: date
    readings: tuple[Decimal, ...]


@dataclass(frozen=True)
class Stability:
    """The figures of a stability assessment."""

    means: tuple[Decimal, ...]
    highest: Decimal | None
    lowest: Decimal | None
    stability: Decimal | None
    allowed: Decimal | None
    passed: bool | None
    provisional: bool
    warnings: tuple[dict, ...] = field(default_factory=tuple)


def a_month_apart(earlier: date, later: date) -> bool:
    """Whether ``later`` is at least one calendar month after ``earlier`` (31 Jan → 28 Feb is)."""
    return later >= add_months(earlier, 1)


def stability(groups: Sequence[Group], allowed: Decimal | None = None) -> Stability:
    """Return each group's mean, the largest difference between them and the verdict.

    Groups are taken in date order. With fewer than two groups there is no difference to speak
    of: stability and verdict are None. Warnings (codes with their figures) are given for fewer
    than :data:`MIN_STABILITY_GROUPS` groups and for each interval under a calendar month; either
    makes the verdict provisional.
    """
    ordered = sorted(groups, key=lambda g: g.measured_on)
    for group in ordered:
        if len(group.readings) < MIN_GROUP_READINGS:
            raise ValueError("a group needs at least one reading")
    means = tuple(mean_of([Decimal(r) for r in g.readings]) for g in ordered)
    warnings: list[dict] = []
    if len(ordered) < MIN_STABILITY_GROUPS:
        warnings.append({"code": WARN_FEW_GROUPS, "groups": len(ordered), "needed": MIN_STABILITY_GROUPS})
    for before, after in zip(ordered, ordered[1:], strict=False):
        if not a_month_apart(before.measured_on, after.measured_on):
            warnings.append(
                {"code": WARN_SHORT_INTERVAL, "from": before.measured_on, "to": after.measured_on}
            )
    if len(means) < 2:
        return Stability(means, None, None, None, allowed, None, True, tuple(warnings))
    highest, lowest = max(means), min(means)
    value = highest - lowest
    passed = None if allowed is None else value <= Decimal(allowed)
    return Stability(means, highest, lowest, value, allowed, passed, bool(warnings), tuple(warnings))


def shown(value: Decimal | None, places: int = 6) -> str:
    """Return ``value`` for a page: at most ``places`` decimals, trailing zeros dropped, never "1E+1"."""
    if value is None:
        return ""
    quantum = Decimal(1).scaleb(-places)
    text = format(value.quantize(quantum) if value.as_tuple().exponent < -places else value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
