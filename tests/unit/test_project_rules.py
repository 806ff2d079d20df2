"""Worked examples of a comparison project's figures: reference, chi² check, degrees of equivalence, En."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from service.measurement.comparisons import rules as comparison_rules
from service.measurement.comparisons.rules import RuleError
from service.measurement.projects import rules

# Three labs: x = 10.1, 10.0, 9.9 with U = 0.2, 0.4, 0.2 (u = 0.1, 0.2, 0.1).
# Weights 1/u² = 100, 25, 100 (sum 225): x_w = (1010 + 250 + 990) / 225 = 10.0,
# u(x_w) = 1/sqrt(225) = 1/15 = 0.0666…, U_ref = 0.1333… (rounded up to 0.133334),
# chi²_obs = 0.1²/0.01 + 0 + 0.1²/0.01 = 2.0 <= chi²_0.05(2) = 5.991.
THREE = [rules.Entry(D("10.1"), D("0.2")), rules.Entry(D("10.0"), D("0.4")), rules.Entry(D("9.9"), D("0.2"))]


def test_weighted_mean_reference_worked_example():
    ref = rules.weighted_reference(THREE)
    assert ref.kind == "weighted_mean"
    assert ref.value == D("10.000000")
    assert ref.uncertainty == D("0.133334")
    assert ref.chi2 == pytest.approx(2.0)
    assert ref.chi2_critical == 5.991
    assert ref.count == 3
    assert ref.consistent


def test_degree_of_equivalence_of_a_participant_in_the_mean_uses_the_minus_sign():
    ref = rules.weighted_reference(THREE)
    first = rules.degree_of_equivalence(THREE[0], ref)
    # U(d_1) = 2 * sqrt(0.1² - (1/15)²) = 2 * sqrt(0.0055556) = 0.149071.
    assert first.correlated
    assert first.d == D("0.1")
    assert float(first.u_d) == pytest.approx(0.149071, abs=2e-6)
    assert float(first.en) == pytest.approx(0.6708, abs=1e-4)
    assert first.verdict == "satisfactory"
    assert rules.degree_of_equivalence(THREE[1], ref).en == 0


def test_a_participant_left_out_of_the_mean_uses_the_plus_sign():
    outlier = rules.Entry(D("10.6"), D("0.2"), in_reference=False)
    ref = rules.weighted_reference([*THREE, outlier])
    assert ref.value == D("10.000000")
    assert ref.count == 3
    degree = rules.degree_of_equivalence(outlier, ref)
    # U(d) = sqrt(0.2² + 0.133334²) = 0.240370; En = 0.6 / 0.240370 = 2.50.
    assert not degree.correlated
    assert float(degree.u_d) == pytest.approx(0.240370, abs=2e-6)
    assert float(degree.en) == pytest.approx(2.4962, abs=1e-4)
    assert degree.verdict == "unsatisfactory"


def test_inconsistent_values_give_no_usable_reference():
    # With the fourth lab in: x_w = 3310/325 = 10.184615, chi² = 26.92 > chi²_0.05(3) = 7.815.
    entries = [*THREE, rules.Entry(D("10.6"), D("0.2"))]
    figures = rules.point_figures("weighted_mean", None, entries)
    assert figures.reference.chi2 == pytest.approx(26.923, abs=1e-3)
    assert figures.reference.chi2_critical == 7.815
    assert not figures.reference.consistent
    assert figures.problem is not None
    assert figures.degrees == (None, None, None, None)


def test_lead_lab_reference_uses_the_plus_sign_and_matches_the_single_comparison():
    # The published example of the single comparisons: ref 10.00 ± 0.03, lab 10.05 ± 0.04 → En = 1.00.
    figures = rules.point_figures(
        "lead_lab",
        (D("10.00"), D("0.03")),
        [rules.Entry(D("10.05"), D("0.04")), None, rules.Entry(D("10.06"), D("0.04"))],
    )
    first, missing, third = figures.degrees
    assert missing is None
    assert not first.correlated
    assert first.u_d == D("0.05")
    assert first.en == 1
    assert first.verdict == "satisfactory"
    assert rules.degree_of_equivalence(rules.Entry(D("10.06"), D("0.04")), figures.reference).en == D("1.2")
    assert third.verdict == "unsatisfactory"
    assert comparison_rules.en_number("10.05", "0.04", "10.00", "0.03") == first.en


def test_missing_figures_are_named():
    assert rules.point_figures("lead_lab", None, [rules.Entry(D(1), D(1))]).problem
    one = rules.point_figures("weighted_mean", None, [rules.Entry(D(1), D(1)), None])
    assert one.reference is None
    assert one.problem
    with pytest.raises(RuleError):
        rules.lead_lab_reference("1", "0")


def test_correlated_en_needs_the_lab_uncertainty_above_the_reference():
    assert comparison_rules.en_number("10.1", "0.2", "10.0", "0.12", correlated=True) == D("0.625")
    with pytest.raises(RuleError):
        comparison_rules.en_number("10.1", "0.1", "10.0", "0.1", correlated=True)


@pytest.mark.parametrize(
    ("dof", "table"), [(31, 44.985), (40, 55.758), (50, 67.505), (60, 79.082), (80, 101.879), (100, 124.342)]
)
def test_chi2_quantile_beyond_the_table_by_wilson_hilferty(dof, table):
    # Table values of chi²_0.95 (NIST/SEMATECH e-Handbook 1.3.6.7.4): the approximation is within 0.05 %.
    assert comparison_rules.chi2_critical(dof) == pytest.approx(table, rel=5e-4)
