"""Repeatability and stability figures (JJF 1033) against worked examples done by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from service.measurement.stability import rules

READINGS = [
    D(x) for x in ["10.01", "10.02", "10.00", "10.03", "10.01", "9.99", "10.02", "10.00", "10.01", "10.01"]
]


def test_repeatability_worked_example():
    # Σx = 100.10, n = 10 → x̄ = 10.010
    # deviations: 0, +0.01, −0.01, +0.02, 0, −0.02, +0.01, −0.01, 0, 0
    # squares:    0, 0.0001, 0.0001, 0.0004, 0, 0.0004, 0.0001, 0.0001, 0, 0 → Σ = 0.0012
    # s² = 0.0012 / (10 − 1) = 0.000133…  →  s = √0.000133… = 0.011547 (to 6 decimals)
    result = rules.repeatability(READINGS, claimed=D("0.02"))
    assert result.n == 10
    assert result.total == D("100.10")
    assert result.mean == D("10.01")
    assert [rules.shown(d) for d in result.deviations] == [
        "0",
        "0.01",
        "-0.01",
        "0.02",
        "0",
        "-0.02",
        "0.01",
        "-0.01",
        "0",
        "0",
    ]
    assert result.squares[3] == D("0.0004")
    assert result.sum_of_squares == D("0.0012")
    assert result.variance == D("0.0012") / 9
    assert rules.shown(result.s) == "0.011547"
    assert result.passed is True


def test_repeatability_fails_above_the_claim_and_passes_at_it():
    assert rules.repeatability(READINGS, claimed=D("0.01")).passed is False
    exact = rules.repeatability(READINGS).s
    assert rules.repeatability(READINGS, claimed=exact).passed is True
    assert rules.repeatability(READINGS).passed is None


def test_repeatability_refuses_fewer_than_ten():
    with pytest.raises(ValueError, match="at least 10"):
        rules.repeatability(READINGS[:9], claimed=D("1"))


def test_n_minus_one_guard():
    with pytest.raises(ValueError, match="at least 2"):
        rules.repeatability([D("1")], minimum=1)
    # Two readings 1 and 3: x̄ = 2, Σ = 1 + 1 = 2, s = √(2/1) = 1.414214
    assert rules.shown(rules.experimental_sd([D("1"), D("3")])) == "1.414214"


def test_constant_readings_have_zero_spread():
    result = rules.repeatability([D("5.000")] * 10, claimed=D("0"))
    assert result.s == 0
    assert result.passed is True


def test_parse_readings_accepts_lines_spaces_commas():
    assert rules.parse_readings("1.0\n2, 3;4  -5e-1\r\n+.5，6") == [
        D("1.0"),
        D("2"),
        D("3"),
        D("4"),
        D("-0.5"),
        D("0.5"),
        D("6"),
    ]
    assert rules.parse_readings("  ") == []


@pytest.mark.parametrize(
    ("text", "token", "position"),
    [("1 2 12.0O1 4", "12.0O1", 3), ("NaN", "NaN", 1), ("1 inf", "inf", 2), ("1 2..", "2..", 2)],
)
def test_parse_readings_names_the_bad_token(text, token, position):
    with pytest.raises(rules.ReadingError) as caught:
        rules.parse_readings(text)
    assert caught.value.token == token
    assert caught.value.position == position


def _groups():
    return [
        rules.Group(date(2026, 1, 31), (D("5.00"), D("5.02"))),  # mean 5.01
        rules.Group(date(2026, 2, 28), (D("5.03"), D("5.01"))),  # mean 5.02 (31 Jan + 1 month = 28 Feb)
        rules.Group(date(2026, 3, 31), (D("4.99"), D("5.01"))),  # mean 5.00
        rules.Group(date(2026, 4, 30), (D("5.04"), D("5.02"))),  # mean 5.03
    ]


def test_stability_worked_example():
    # means 5.01, 5.02, 5.00, 5.03 → largest difference 5.03 − 5.00 = 0.03
    result = rules.stability(_groups(), allowed=D("0.05"))
    assert result.means == (D("5.01"), D("5.02"), D("5.00"), D("5.03"))
    assert result.stability == D("0.03")
    assert (result.highest, result.lowest) == (D("5.03"), D("5.00"))
    assert result.passed is True
    assert result.provisional is False
    assert result.warnings == ()
    assert rules.stability(_groups(), allowed=D("0.02")).passed is False


def test_stability_groups_taken_in_date_order():
    assert rules.stability(list(reversed(_groups())), D("0.05")).means[0] == D("5.01")


def test_short_interval_warns_and_makes_the_verdict_provisional():
    groups = _groups()
    groups[2] = rules.Group(date(2026, 3, 27), groups[2].readings)  # 28 Feb + 1 month = 28 Mar
    result = rules.stability(groups, allowed=D("0.05"))
    assert result.passed is True
    assert result.provisional is True
    assert result.warnings == (
        {"code": rules.WARN_SHORT_INTERVAL, "from": date(2026, 2, 28), "to": date(2026, 3, 27)},
    )


def test_few_groups_warn():
    result = rules.stability(_groups()[:3], allowed=D("0.05"))
    assert result.stability == D("0.02")
    assert result.provisional is True
    assert result.warnings[0] == {"code": rules.WARN_FEW_GROUPS, "groups": 3, "needed": 4}
    single = rules.stability(_groups()[:1], allowed=D("0.05"))
    assert single.stability is None
    assert single.passed is None


def test_a_month_apart_uses_calendar_months():
    assert rules.a_month_apart(date(2026, 1, 31), date(2026, 2, 28))
    assert not rules.a_month_apart(date(2026, 1, 15), date(2026, 2, 14))
    assert rules.a_month_apart(date(2026, 1, 15), date(2026, 2, 15))


def test_shown():
    assert rules.shown(D("1E+1")) == "10"
    assert rules.shown(D("0.0115470053837925")) == "0.011547"
    assert rules.shown(None) == ""
    assert rules.shown(D("-0.0000001")) == "0"
