"""Intermediate checks (期间核查): the control chart's figures, as pure functions.

What is charted is the deviation of each check's reading from its reference value
(``value - reference``), one series per check point.

**Baseline.** Either the first *N* checks (N >= 10) or a centre and a σ entered by hand (a
reference value and its spread known from elsewhere). From the first N checks the centre is
their mean and σ their **sample standard deviation** (n - 1). We pick the sample standard
deviation rather than the moving-range estimate (MR̄/1.128) because intermediate checks are few
and far apart (monthly, quarterly): successive points are not a rational subgroup and the
short-term variation the moving range measures is not the one the chart guards against; the
sample standard deviation of a baseline period the lab judged stable is also what the CNAS
guidance on intermediate checks and most lab spreadsheets use, so a metrologist can re-do our
figure by hand. The moving-range estimate is kept (:func:`moving_range_sigma`) for comparison.

**Limits.** Centre, ±1σ, ±2σ (warning), ±3σ (action); the MPE band (±MPE around zero
deviation) when the check point has one.

**Western Electric rules**, each returning the indexes of the points that complete a signal:

1. one point beyond 3σ;
2. two of three consecutive points beyond 2σ on the same side;
3. four of five consecutive points beyond 1σ on the same side;
4. eight points in a row on one side of the centre.

"Beyond" is strict: a point exactly on a limit is not beyond it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

MIN_BASELINE = 10
#: d2 for moving ranges of two points.
D2 = 1.128

RULES = (1, 2, 3, 4)


class BaselineError(ValueError):
    """A baseline that cannot be fixed (too few points, no spread)."""


@dataclass(frozen=True)
class Baseline:
    """A chart's centre and σ, in the deviations' unit."""

    centre: float
    sigma: float


@dataclass(frozen=True)
class Limits:
    """The chart's lines: centre, ±1σ, ±2σ (warning), ±3σ (action)."""

    centre: float
    sigma: float

    def line(self, k: int) -> float:
        """The line k σ from the centre."""
        return self.centre + k * self.sigma

    def as_dict(self) -> dict[str, float]:
        """Every line by name."""
        return {
            "centre": self.centre,
            "sigma": self.sigma,
            "upper_1s": self.line(1),
            "lower_1s": self.line(-1),
            "upper_warning": self.line(2),
            "lower_warning": self.line(-2),
            "upper_action": self.line(3),
            "lower_action": self.line(-3),
        }


@dataclass(frozen=True)
class Signal:
    """A Western Electric rule fired: ``index`` is the point that completes it."""

    rule: int
    index: int
    #: +1 above the centre, -1 below.
    side: int
    #: The indexes of the points making up the signal (first to last).
    points: tuple[int, ...]


def deviation(value: float, reference: float) -> float:
    """What is charted: the reading minus the reference value."""
    return value - reference


def baseline_from(values: Sequence[float], n: int = MIN_BASELINE) -> Baseline:
    """Centre and sample standard deviation of the first ``n`` values (n >= 10)."""
    if n < MIN_BASELINE:
        raise BaselineError(f"a baseline needs at least {MIN_BASELINE} points")
    if len(values) < n:
        raise BaselineError(f"a baseline of {n} points needs {n} checks, there are {len(values)}")
    first = [float(v) for v in values[:n]]
    sigma = statistics.stdev(first)
    if not sigma > 0:
        raise BaselineError("the baseline points have no spread")
    return Baseline(centre=statistics.fmean(first), sigma=sigma)


def moving_range_sigma(values: Sequence[float]) -> float:
    """σ estimated as the mean moving range / 1.128 (for comparison only)."""
    if len(values) < 2:
        raise BaselineError("a moving range needs two points")
    ranges = [abs(b - a) for a, b in zip(values, values[1:], strict=False)]
    return statistics.fmean(ranges) / D2


def entered_baseline(centre: float, sigma: float) -> Baseline:
    """A baseline entered by hand: σ must be a positive finite number."""
    if not (math.isfinite(centre) and math.isfinite(sigma)) or sigma <= 0:
        raise BaselineError("σ must be a positive number")
    return Baseline(centre=float(centre), sigma=float(sigma))


def limits(baseline: Baseline) -> Limits:
    """The control limits of a baseline."""
    return Limits(centre=baseline.centre, sigma=baseline.sigma)


def _zone(value: float, lim: Limits) -> float:
    """The signed distance from the centre in σ."""
    return (value - lim.centre) / lim.sigma


def _beyond(value: float, lim: Limits, k: int, side: int) -> bool:
    z = _zone(value, lim)
    return z > k if side > 0 else z < -k


def western_electric(values: Sequence[float], lim: Limits) -> list[Signal]:
    """Every signal of rules 1–4 on ``values``, in order of index then rule."""
    signals: list[Signal] = []
    for i, value in enumerate(values):
        for side in (1, -1):
            if _beyond(value, lim, 3, side):
                signals.append(Signal(1, i, side, (i,)))
            signals.extend(_k_of_m(values, lim, i, side, rule=2, k=2, m=3, sigmas=2))
            signals.extend(_k_of_m(values, lim, i, side, rule=3, k=4, m=5, sigmas=1))
            if i >= 7 and all((v - lim.centre) * side > 0 for v in values[i - 7 : i + 1]):
                signals.append(Signal(4, i, side, tuple(range(i - 7, i + 1))))
    signals.sort(key=lambda s: (s.index, s.rule))
    return signals


def _k_of_m(values, lim, i, side, *, rule, k, m, sigmas) -> list[Signal]:
    """Whether k of the m points ending at i beyond ``sigmas``σ on one side, point i being one of them."""
    if i < m - 1 or not _beyond(values[i], lim, sigmas, side):
        return []
    window = range(i - m + 1, i + 1)
    hits = tuple(j for j in window if _beyond(values[j], lim, sigmas, side))
    if len(hits) >= k:
        return [Signal(rule, i, side, hits)]
    return []


def out_of_tolerance(dev: float, mpe: float | None) -> bool:
    """Whether a deviation lies outside ±MPE (exactly on the MPE is inside)."""
    return mpe is not None and abs(dev) > mpe


def next_due(performed_on: date, months: int | None, days: int | None) -> date:
    """The next check's date: performed_on plus the interval (months, clamped to month's end)."""
    if months:
        month = performed_on.month - 1 + months
        year = performed_on.year + month // 12
        month = month % 12 + 1
        day = min(performed_on.day, _month_days(year, month))
        return date(year, month, day)
    if days:
        return performed_on + timedelta(days=days)
    raise ValueError("an interval in months or days is needed")


def _month_days(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (date(year, month + 1, 1) - timedelta(days=1)).day
