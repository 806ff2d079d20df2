"""The figures of a comparison project at one point, as pure functions.

The reference value is either the lead laboratory's own value with its expanded uncertainty, or
the weighted mean of the participants' values that take part in it (weights 1/u², u = U/2;
:func:`service.measurement.comparisons.rules.weighted_mean`), used only when the chi-squared
consistency check passes: chi²_obs = Σ (x_i - x_w)² / u_i² <= chi²_0.05(n - 1).

Degrees of equivalence: d_i = x_i - x_ref with U(d_i) = 2 * sqrt(u_i² ∓ u_ref²). The sign is minus
when the participant's value is part of the weighted mean (its value and the reference are
correlated), plus when it is not: the lead lab's independent value, or a participant left out of
the mean. Source: M. G. Cox, "The evaluation of key comparison data", Metrologia 39 (2002) 589,
eqs. (7)-(8), the convention the CCEM guidelines for key comparisons follow.

En = d_i / U(d_i), computed by :func:`service.measurement.comparisons.rules.en_number` on the very
figures handed to ``record_comparison`` at publication, so the report and the instrument's record
cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal

from service.i18n import N_
from service.measurement.comparisons import rules as comparison_rules
from service.measurement.comparisons.rules import RuleError, en_verdict, number

LEAD_LAB = "lead_lab"
WEIGHTED_MEAN = "weighted_mean"
#: Stored readings keep 6 decimals: the reference is handed on at that precision.
SIX_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class Entry:
    """A participant's value at a point, its expanded uncertainty (k = 2), and whether it is in the mean."""

    value: Decimal
    uncertainty: Decimal
    in_reference: bool = True


@dataclass(frozen=True)
class Reference:
    """The reference value of a point with its expanded uncertainty (k = 2) and consistency check."""

    kind: str
    value: Decimal
    uncertainty: Decimal
    #: The chi-squared check of a weighted mean (None for the lead lab's value).
    chi2: float | None = None
    chi2_critical: float | None = None
    #: How many values the weighted mean is made of.
    count: int = 0

    @property
    def consistent(self) -> bool:
        """Whether the reference may be used: a lead lab value always, a mean when chi² passes."""
        return self.chi2 is None or self.chi2 <= self.chi2_critical


@dataclass(frozen=True)
class Degree:
    """A participant's degree of equivalence at a point, with En and its verdict."""

    d: Decimal
    #: U(d_i), expanded (k = 2).
    u_d: Decimal
    en: Decimal
    verdict: str
    #: Whether the participant's value is part of the reference (the minus sign).
    correlated: bool

    @property
    def u_d_shown(self) -> Decimal:
        """U(d) as shown: rounded up to 6 decimals (an uncertainty is never rounded down)."""
        return self.u_d.quantize(SIX_PLACES, rounding=ROUND_CEILING)


def lead_lab_reference(value, uncertainty) -> Reference:
    """Return the lead laboratory's value as the reference of a point."""
    x, big_u = number(value, "lead_value"), number(uncertainty, "lead_uncertainty")
    if big_u <= 0:
        raise RuleError("lead_uncertainty", N_("Every uncertainty must be positive."))
    return Reference(LEAD_LAB, x, big_u)


def weighted_reference(entries: Sequence[Entry]) -> Reference:
    """Return the weighted mean of the entries in the reference, with U = 2·u(x_w) and the chi² check.

    The value is rounded to 6 places, the uncertainty up to 6 places (an uncertainty is never
    rounded down), as they are stored and handed on.
    """
    used = [e for e in entries if e.in_reference]
    mean = comparison_rules.weighted_mean([e.value for e in used], [e.uncertainty for e in used])
    value = Decimal(repr(mean.mean)).quantize(SIX_PLACES, rounding=ROUND_HALF_EVEN)
    big_u = Decimal(repr(2 * mean.u)).quantize(SIX_PLACES, rounding=ROUND_CEILING)
    return Reference(WEIGHTED_MEAN, value, big_u, mean.chi2, mean.chi2_critical, len(used))


def degree_of_equivalence(entry: Entry, reference: Reference) -> Degree:
    """Return d_i = x_i - x_ref, U(d_i) = sqrt(U_i² ∓ U_ref²) and En = d_i / U(d_i) with its verdict."""
    correlated = reference.kind == WEIGHTED_MEAN and entry.in_reference
    en = comparison_rules.en_number(
        entry.value, entry.uncertainty, reference.value, reference.uncertainty, correlated=correlated
    )
    d = number(entry.value) - reference.value
    u_i, u_ref = number(entry.uncertainty), reference.uncertainty
    squared = u_i * u_i - u_ref * u_ref if correlated else u_i * u_i + u_ref * u_ref
    return Degree(d, squared.sqrt(), en, en_verdict(en), correlated)


@dataclass(frozen=True)
class PointFigures:
    """A point's reference (or why there is none yet) and each entry's degree of equivalence."""

    reference: Reference | None
    degrees: tuple[Degree | None, ...]
    #: Why no reference can be used yet (a message id), or None.
    problem: str | None = None


def point_figures(kind: str, lead: tuple | None, entries: Sequence[Entry | None]) -> PointFigures:
    """Return the figures of one point; ``entries`` has None for a participant without a result.

    ``lead`` is the lead lab's ``(value, uncertainty)`` (None when not entered). An inconsistent
    weighted mean is returned with the problem and no degrees: it must not be used.
    """
    given = [e for e in entries if e is not None]
    blank = tuple(None for _ in entries)
    if kind == LEAD_LAB:
        if lead is None or lead[0] is None or lead[1] is None:
            return PointFigures(None, blank, N_("The lead laboratory's value is not entered yet."))
        reference = lead_lab_reference(*lead)
    else:
        if sum(1 for e in given if e.in_reference) < 2:
            needed = N_("The weighted mean needs the values of at least two participants.")
            return PointFigures(None, blank, needed)
        reference = weighted_reference(given)
        if not reference.consistent:
            return PointFigures(
                reference,
                blank,
                N_("The values are not consistent (χ² above its critical value): leave out discrepant ones."),
            )
    degrees = tuple(None if e is None else degree_of_equivalence(e, reference) for e in entries)
    return PointFigures(reference, degrees)
