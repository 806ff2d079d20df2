"""The figures of comparisons and proficiency tests, as pure functions on :class:`~decimal.Decimal`.

* En number of a comparison point: ``En = (x_lab - x_ref) / sqrt(U_lab² + U_ref²)`` with expanded
  uncertainties (k = 2); satisfactory when ``|En| <= 1``, unsatisfactory otherwise (ISO/IEC 17043
  Annex B, CNAS-GL002).
* z score of a proficiency test point: ``z = (x - X) / sigma_pt``; satisfactory when ``|z| <= 2``,
  questionable when ``2 < |z| < 3``, unsatisfactory when ``|z| >= 3``.

The verdict is decided on the unrounded value; En and z are rounded to 2 decimals (half up) for
output only, so an En of 1.004 shows as 1.00 and is still unsatisfactory. Everything is computed in
Decimal from the figures as written: in binary floating point 10.05 - 10.00 is 0.0500000000000007,
which would turn the boundary case En = 1 into a failure.

For an institute-organised comparison (``service.measurement.projects`` uses these): the weighted mean of the
participants' values with weights ``1/u²``, where ``u = U/2`` (the reported expanded uncertainties
are taken as k = 2, normal distribution), its chi-squared consistency check against the upper 5 %
point of chi-squared with n - 1 degrees of freedom, and each participant's degree of equivalence
``d_i = x_i - x_w`` with ``U(d_i) = 2 * sqrt(u_i² - u_w²)`` (the participant is part of the
weighted mean, hence the minus sign: Cox, Metrologia 39 (2002) 589).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from service.i18n import N_

SATISFACTORY = "satisfactory"
QUESTIONABLE = "questionable"
UNSATISFACTORY = "unsatisfactory"
VERDICTS = (SATISFACTORY, QUESTIONABLE, UNSATISFACTORY)

#: Upper 5 % points of chi-squared, chi²_0.05(nu), for nu = 1..30 degrees of freedom (standard tables).
CHI2_05 = (
    3.841, 5.991, 7.815, 9.488, 11.070, 12.592, 14.067, 15.507, 16.919, 18.307,
    19.675, 21.026, 22.362, 23.685, 24.996, 26.296, 27.587, 28.869, 30.144, 31.410,
    32.671, 33.924, 35.172, 36.415, 37.652, 38.885, 40.113, 41.337, 42.557, 43.773,
)  # fmt: skip
TWO_PLACES = Decimal("0.01")


class RuleError(ValueError):
    """Figures the rules cannot work with; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def number(value, field: str = "value") -> Decimal:
    """Return ``value`` as a finite Decimal (floats through their shortest repr), or raise RuleError."""
    if isinstance(value, bool) or value is None:
        raise RuleError(field, N_("Not a number."))
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise RuleError(field, N_("Not a number.")) from None
    if not result.is_finite():
        raise RuleError(field, N_("Not a finite number."))
    return result


def shown(value: Decimal) -> Decimal:
    """Round an En or z to 2 decimals, half up: for output only."""
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def en_number(lab_value, lab_u, ref_value, ref_u, correlated: bool = False) -> Decimal:
    """Return En = (x_lab - x_ref) / sqrt(U_lab² + U_ref²), unrounded.

    Both expanded uncertainties zero leave En undefined: RuleError rather than a division by zero.
    A negative uncertainty is refused too. ``correlated``: the reference is a weighted mean that
    includes the lab's own value, so the uncertainty of the difference is sqrt(U_lab² - U_ref²)
    (Cox, Metrologia 39 (2002) 589, eq. 8; CCEM guidelines); U_lab must then exceed U_ref.
    """
    x_lab, u_lab = number(lab_value, "lab_value"), number(lab_u, "lab_uncertainty")
    x_ref, u_ref = number(ref_value, "reference_value"), number(ref_u, "reference_uncertainty")
    for name, u in (("lab_uncertainty", u_lab), ("reference_uncertainty", u_ref)):
        if u < 0:
            raise RuleError(name, N_("An uncertainty cannot be negative."))
    with localcontext() as ctx:
        ctx.prec = 28
        if correlated:
            squared = u_lab * u_lab - u_ref * u_ref
            if squared <= 0:
                raise RuleError(
                    "lab_uncertainty", N_("The lab's uncertainty must exceed the reference's it is part of.")
                )
            combined = squared.sqrt()
        else:
            combined = (u_lab * u_lab + u_ref * u_ref).sqrt()
        if combined == 0:
            raise RuleError("lab_uncertainty", N_("Both uncertainties are zero: En is undefined."))
        return (x_lab - x_ref) / combined


def en_verdict(en: Decimal) -> str:
    """Satisfactory when |En| <= 1, else unsatisfactory (on the unrounded value)."""
    return SATISFACTORY if abs(en) <= 1 else UNSATISFACTORY


def z_score(lab_value, assigned_value, sd_pt) -> Decimal:
    """Return z = (x - X) / sigma_pt, unrounded; sigma_pt must be positive."""
    x, big_x, sigma = (
        number(lab_value, "lab_value"),
        number(assigned_value, "assigned_value"),
        number(sd_pt, "sd_pt"),
    )
    if sigma <= 0:
        raise RuleError("sd_pt", N_("The standard deviation for proficiency assessment must be positive."))
    with localcontext() as ctx:
        ctx.prec = 28
        return (x - big_x) / sigma


def z_verdict(z: Decimal) -> str:
    """Satisfactory |z| <= 2, questionable 2 < |z| < 3, unsatisfactory |z| >= 3 (unrounded)."""
    size = abs(z)
    if size <= 2:
        return SATISFACTORY
    if size < 3:
        return QUESTIONABLE
    return UNSATISFACTORY


def chi2_critical(dof: int) -> float:
    """Return chi²_0.05(dof) for 1 <= dof <= 30 from the table, beyond by the Wilson-Hilferty formula."""
    if dof < 1:
        raise RuleError("points", N_("At least two participants are needed."))
    if dof <= len(CHI2_05):
        return CHI2_05[dof - 1]
    z95 = 1.6448536269514722
    a = 2 / (9 * dof)
    return dof * (1 - a + z95 * math.sqrt(a)) ** 3


@dataclass(frozen=True)
class Equivalence:
    """A participant's degree of equivalence to the weighted mean."""

    d: float
    u_d: float  # expanded, k = 2


@dataclass(frozen=True)
class WeightedMean:
    """The weighted mean of a comparison with its consistency check and degrees of equivalence."""

    mean: float
    u: float  # standard uncertainty of the mean
    chi2: float
    chi2_critical: float
    degrees: tuple[Equivalence, ...]

    @property
    def consistent(self) -> bool:
        """Whether the chi-squared test passes (chi² <= chi²_0.05(n-1))."""
        return self.chi2 <= self.chi2_critical


def weighted_mean(values, expanded_uncertainties) -> WeightedMean:
    """Return the weighted mean (weights 1/u², u = U/2) of ``values`` with its chi² check.

    Needs at least two participants and every U > 0.
    """
    xs = [float(number(v, "value")) for v in values]
    us = [float(number(u, "uncertainty")) / 2 for u in expanded_uncertainties]
    if len(xs) != len(us):
        raise RuleError("points", N_("One uncertainty per value is needed."))
    if len(xs) < 2:
        raise RuleError("points", N_("At least two participants are needed."))
    if any(u <= 0 for u in us):
        raise RuleError("uncertainty", N_("Every uncertainty must be positive."))
    weights = [1 / (u * u) for u in us]
    total = math.fsum(weights)
    mean = math.fsum(w * x for w, x in zip(weights, xs, strict=True)) / total
    u_mean = 1 / math.sqrt(total)
    chi2 = math.fsum((x - mean) ** 2 / (u * u) for x, u in zip(xs, us, strict=True))
    degrees = tuple(
        Equivalence(x - mean, 2 * math.sqrt(max(u * u - u_mean * u_mean, 0.0)))
        for x, u in zip(xs, us, strict=True)
    )
    return WeightedMean(mean, u_mean, chi2, chi2_critical(len(xs) - 1), degrees)
