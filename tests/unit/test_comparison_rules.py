"""Comparison and proficiency-test rules against worked examples computed by hand."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from service.measurement.comparisons import rules


def test_en_boundary_is_satisfactory_in_decimal():
    # x_lab 10.05, x_ref 10.00, U_lab 0.04, U_ref 0.03: sqrt(0.0016 + 0.0009) = sqrt(0.0025) = 0.05,
    # En = 0.05 / 0.05 = 1 exactly -> satisfactory (|En| <= 1). In floats 10.05 - 10.00 exceeds 0.05.
    en = rules.en_number("10.05", "0.04", "10.00", "0.03")
    assert en == 1
    assert rules.en_verdict(en) == "satisfactory"
    assert rules.en_number(10.05, 0.04, 10.00, 0.03) == 1  # floats through their repr too


def test_en_worked_example_unsatisfactory():
    # The same point read 10.06: En = 0.06 / 0.05 = 1.2 -> unsatisfactory; 9.97: En = -0.6.
    assert rules.en_number("10.06", "0.04", "10.00", "0.03") == Decimal("1.2")
    assert rules.en_verdict(Decimal("1.2")) == "unsatisfactory"
    assert rules.en_verdict(rules.en_number("9.97", "0.04", "10.00", "0.03")) == "satisfactory"
    assert rules.en_verdict(Decimal("-1.01")) == "unsatisfactory"


def test_verdict_on_unrounded_value():
    # 0.05025 / 0.05 = 1.005 shows as 1.01; 0.0502 / 0.05 = 1.004 shows as 1.00 but still fails.
    en = rules.en_number("10.0502", "0.04", "10.00", "0.03")
    assert rules.shown(en) == Decimal("1.00")
    assert rules.en_verdict(en) == "unsatisfactory"
    assert rules.shown(Decimal("1.005")) == Decimal("1.01")


def test_en_both_uncertainties_zero_is_a_clear_error():
    with pytest.raises(rules.RuleError, match="undefined"):
        rules.en_number(1, 0, 1, 0)
    with pytest.raises(rules.RuleError):
        rules.en_number(1, -0.1, 1, 0.1)
    with pytest.raises(rules.RuleError):
        rules.en_number("nan", 0.1, 1, 0.1)
    with pytest.raises(rules.RuleError):
        rules.en_number(float("inf"), 0.1, 1, 0.1)


@pytest.mark.parametrize(
    ("lab", "verdict"),
    [
        ("102", "satisfactory"),  # z = 2
        ("98", "satisfactory"),  # z = -2
        ("102.0001", "questionable"),  # z = 2.0001
        ("97.5", "questionable"),  # z = -2.5
        ("103", "unsatisfactory"),  # z = 3
        ("96.9", "unsatisfactory"),  # z = -3.1
    ],
)
def test_z_boundaries(lab, verdict):
    z = rules.z_score(lab, "100", "1")
    assert rules.z_verdict(z) == verdict


def test_z_example_and_guard():
    # X = 50.0, sigma_pt = 0.4, x = 50.9: z = 0.9 / 0.4 = 2.25 -> questionable.
    assert rules.z_score("50.9", "50.0", "0.4") == Decimal("2.25")
    with pytest.raises(rules.RuleError):
        rules.z_score(1, 1, 0)


def test_weighted_mean_worked_example():
    # U 0.2, 0.4, 0.2 -> u 0.1, 0.2, 0.1 -> w 100, 25, 100 (sum 225).
    # x 10.1, 10.0, 9.9: sum w x = 1010 + 250 + 990 = 2250 -> x_w = 10.0, u_w = 1/15.
    # chi² = 0.1²/0.01 + 0 + 0.1²/0.01 = 2 <= chi²_0.05(2) = 5.991 -> consistent.
    # d_1 = 0.1, U(d_1) = 2 sqrt(0.01 - 1/225) = 0.1491.
    result = rules.weighted_mean(["10.1", "10.0", "9.9"], ["0.2", "0.4", "0.2"])
    assert result.mean == pytest.approx(10.0)
    assert result.u == pytest.approx(1 / 15)
    assert result.chi2 == pytest.approx(2.0)
    assert result.chi2_critical == 5.991
    assert result.consistent
    assert result.degrees[0].d == pytest.approx(0.1)
    assert result.degrees[0].u_d == pytest.approx(0.14907, abs=1e-5)
    assert result.degrees[1].d == pytest.approx(0.0)
    # x 10.5, 10.0, 9.5: chi² = 25 + 0 + 25 = 50 > 5.991 -> inconsistent.
    bad = rules.weighted_mean([10.5, 10.0, 9.5], [0.2, 0.4, 0.2])
    assert bad.chi2 == pytest.approx(50.0)
    assert not bad.consistent


def test_weighted_mean_guards():
    with pytest.raises(rules.RuleError):
        rules.weighted_mean([1], [0.1])
    with pytest.raises(rules.RuleError):
        rules.weighted_mean([1, 2], [0.1, 0])


def _chi2_cdf(x: float, k: int) -> float:
    """P(k/2, x/2), the regularized lower incomplete gamma, by its series."""
    s, z = k / 2, x / 2
    term = total = 1 / s
    n = 1
    while term > 1e-15 * total:
        term *= z / (s + n)
        total += term
        n += 1
    return math.exp(s * math.log(z) - z - math.lgamma(s)) * total


@pytest.mark.parametrize("dof", range(1, 31))
def test_chi2_table_is_the_upper_five_percent_point(dof):
    assert _chi2_cdf(rules.chi2_critical(dof), dof) == pytest.approx(0.95, abs=2e-4)


def test_chi2_beyond_the_table():
    assert _chi2_cdf(rules.chi2_critical(40), 40) == pytest.approx(0.95, abs=2e-3)


def test_chart_marks_travel_in_the_spec_and_default_to_none():
    from service.reports.charts import Chart, Series

    plain = Chart(key="k", title="t", kind="bar", categories=["a"], series=[Series("s", [1])])
    assert plain.spec()["marks"] == []
    marked = Chart(
        key="k",
        title="t",
        kind="bar",
        categories=["a"],
        series=[Series("En", [1.2])],
        marks=[(1, "+1"), (-1, "-1")],
    )
    assert marked.spec()["marks"] == [{"value": 1, "label": "+1"}, {"value": -1, "label": "-1"}]
