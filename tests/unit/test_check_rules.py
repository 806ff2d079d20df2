"""Intermediate checks' control-chart rules on worked examples with known answers."""

from __future__ import annotations

import math
from datetime import date

import pytest

from service.measurement.checks.rules import (
    Baseline,
    BaselineError,
    Signal,
    baseline_from,
    deviation,
    entered_baseline,
    limits,
    moving_range_sigma,
    next_due,
    out_of_tolerance,
    western_electric,
)

UNIT = limits(Baseline(centre=0.0, sigma=1.0))


def fired(values, lim=UNIT):
    return [(s.rule, s.index) for s in western_electric(values, lim)]


def test_baseline_of_one_to_ten():
    # mean 5.5; sum of squared deviations 82.5; / 9 = 9.1667; sqrt = 3.02765
    base = baseline_from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 99])
    assert base.centre == pytest.approx(5.5)
    assert base.sigma == pytest.approx(3.027650, abs=1e-6)
    lim = limits(base).as_dict()
    assert lim["upper_action"] == pytest.approx(5.5 + 3 * 3.027650, abs=1e-5)
    assert lim["lower_warning"] == pytest.approx(5.5 - 2 * 3.027650, abs=1e-5)


def test_moving_range_estimate_for_comparison():
    assert moving_range_sigma([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) == pytest.approx(1 / 1.128)


def test_baseline_of_fewer_than_ten_points_refused():
    with pytest.raises(BaselineError):
        baseline_from([1, 2, 3, 4, 5, 6, 7, 8, 9])
    with pytest.raises(BaselineError):
        baseline_from([1] * 20, n=9)
    with pytest.raises(BaselineError):
        baseline_from([1.0] * 10)  # no spread


def test_entered_baseline():
    assert entered_baseline(0.2, 0.05) == Baseline(0.2, 0.05)
    for bad in ((0, 0), (0, -1), (0, math.nan), (math.inf, 1)):
        with pytest.raises(BaselineError):
            entered_baseline(*bad)


def test_deviation_and_tolerance():
    assert deviation(10.03, 10.0) == pytest.approx(0.03)
    assert out_of_tolerance(0.06, 0.05)
    assert out_of_tolerance(-0.06, 0.05)
    assert not out_of_tolerance(0.05, 0.05)
    assert not out_of_tolerance(9.0, None)


STABLE = [0.5, -0.4, 0.9, -1.2, 0.3, -0.6, 1.1, -0.2, 0.4, -0.9, 0.7, -1.5, 0.2, -0.3, 1.4, -0.8]


def test_no_rule_fires_on_a_stable_sequence():
    assert fired(STABLE) == []


def test_rule_1_one_point_beyond_3_sigma():
    values = [0.1, -0.2, 0.3, 3.2, 0.0]
    assert fired(values) == [(1, 3)]
    assert western_electric(values, UNIT)[0] == Signal(1, 3, 1, (3,))
    assert fired([0.1, -3.01]) == [(1, 1)]


def test_exactly_3_sigma_is_not_beyond():
    assert fired([0.1, 3.0, -0.2]) == []
    assert fired([2.0, 2.0, 0.0]) == []  # exactly 2σ twice: not beyond
    assert fired([1.0, 1.0, 1.0, 1.0, -0.1]) == []  # exactly 1σ four times


def test_rule_2_two_of_three_beyond_2_sigma_same_side():
    values = [0.0, 2.5, -0.5, 2.1, 0.0]
    assert fired(values) == [(2, 3)]
    assert western_electric(values, UNIT)[0].points == (1, 3)
    # opposite sides do not count together
    assert fired([0.0, 2.5, -2.5, 0.0]) == []


def test_rule_3_four_of_five_beyond_1_sigma_same_side():
    values = [0.0, -1.5, -1.2, 0.3, -1.1, -1.8, 0.2]
    assert fired(values) == [(3, 5)]
    signal = western_electric(values, UNIT)[0]
    assert signal.side == -1
    assert signal.points == (1, 2, 4, 5)


def test_rule_4_eight_in_a_row_on_one_side():
    values = [-0.2, 0.1, 0.3, 0.2, 0.5, 0.1, 0.4, 0.2, 0.3, -0.1]
    assert fired(values) == [(4, 8)]
    assert western_electric(values, UNIT)[0].points == tuple(range(1, 9))
    # seven in a row is not enough; a point on the centre breaks the run
    assert fired([0.1] * 7) == []
    assert fired([0.1] * 4 + [0.0] + [0.1] * 4) == []


def test_rules_on_a_shifted_baseline():
    lim = limits(Baseline(centre=10.0, sigma=0.5))
    assert fired([10.0, 11.6], lim) == [(1, 1)]
    assert fired([10.0, 11.0], lim) == []  # exactly +2σ


def test_next_due():
    assert next_due(date(2026, 1, 31), 1, None) == date(2026, 2, 28)
    assert next_due(date(2026, 11, 15), 3, None) == date(2027, 2, 15)
    assert next_due(date(2026, 3, 1), None, 14) == date(2026, 3, 15)
    with pytest.raises(ValueError, match="interval"):
        next_due(date(2026, 3, 1), None, None)
