"""Interval review: the staircase rule that suggests shortening, lengthening or keeping an interval."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from service.i18n import N_
from service.traceability.interval_suggestion import (
    LENGTHEN_AFTER,
    MARGIN_RATIO,
    MAX_MONTHS,
    MIN_MONTHS,
    OUT_OF_MPE,
    SIGNAL,
    AsFound,
    CheckFinding,
    Suggestion,
    suggest_interval,
    with_check_findings,
)

START = date(2020, 1, 15)

#: Shorthand for a history entry: True/False/None is the verdict, the number the worst ratio.
GOOD = (True, 0.3)
EDGE = (True, 0.5)  # exactly at the margin: still "with margin"
LOOSE = (True, 0.51)  # in tolerance, just without margin
NEAR = (True, 0.85)  # in tolerance, close to its limit
UNGRADED = (True, None)  # in tolerance, errors not recorded
BAD = (False, 1.3)
BAD_UNGRADED = (False, None)
BLANK = (None, None)  # a record without as-found data


def history(*entries: tuple[bool | None, float | None]) -> list[AsFound]:
    """Build a history, oldest first, one calibration a year."""
    return [
        AsFound(START + timedelta(days=365 * i), verdict, ratio) for i, (verdict, ratio) in enumerate(entries)
    ]


def rendered(suggestion: Suggestion) -> list[str]:
    return [reason.message.render(lambda s: s) for reason in suggestion.reasons]


def text(suggestion: Suggestion) -> str:
    return " ".join(rendered(suggestion))


@pytest.mark.parametrize(
    ("entries", "current", "expected"),
    [
        # Shorten after an out-of-tolerance as-found, rounded down, never below the minimum.
        ((BAD,), 12, 6),
        ((BAD_UNGRADED,), 12, 6),
        ((BAD,), 13, 6),
        ((BAD,), 3, 1),
        ((BAD,), 2, 1),
        ((BAD,), 1, 1),
        ((GOOD, GOOD, GOOD, GOOD, GOOD, BAD), 24, 12),  # a long good run does not save a bad result
        ((BAD, GOOD, GOOD, BAD), 12, 6),
        # Lengthen after exactly LENGTHEN_AFTER results with margin, rounded half up, capped.
        ((GOOD, GOOD, GOOD), 12, 18),
        ((EDGE, EDGE, EDGE), 12, 18),
        ((GOOD, GOOD, GOOD), 1, 2),
        ((GOOD, GOOD, GOOD), 3, 5),  # 4.5 rounds half up, not to even
        ((GOOD, GOOD, GOOD), 5, 8),  # 7.5 too
        ((GOOD, GOOD, GOOD), 48, 60),  # 72 capped at MAX_MONTHS
        ((GOOD, GOOD, GOOD), 40, 60),
        ((GOOD, GOOD, GOOD), 60, 60),
        ((BAD, GOOD, GOOD, GOOD), 6, 9),  # the run after an old bad result counts
        ((NEAR, LOOSE, GOOD, GOOD, GOOD), 12, 18),
        # Keep: a run too short, broken, without margin or without recorded errors.
        ((GOOD, GOOD), 12, 12),
        ((GOOD,), 12, 12),
        ((), 12, 12),
        ((LOOSE, LOOSE, LOOSE), 12, 12),
        ((GOOD, GOOD, LOOSE), 12, 12),
        ((GOOD, LOOSE, GOOD, GOOD), 12, 12),
        ((GOOD, UNGRADED, GOOD, GOOD), 12, 12),
        ((GOOD, GOOD, GOOD, NEAR), 12, 12),
        ((BAD, GOOD, GOOD), 12, 12),
        # Records without as-found data are skipped: they neither count nor break a run.
        ((GOOD, BLANK, GOOD, BLANK, GOOD), 12, 18),
        ((GOOD, GOOD, BLANK), 12, 12),
        ((BAD, BLANK), 12, 6),
        ((BLANK, BLANK), 12, 12),
        # A current interval above MAX_MONTHS is brought down to it.
        ((GOOD,), 72, MAX_MONTHS),
        ((BAD,), 200, MAX_MONTHS),
    ],
)
def test_rule(entries, current, expected):
    suggestion = suggest_interval(history(*entries), current, is_mandatory=False)
    assert suggestion.current_months == current
    assert suggestion.suggested_months == expected
    assert suggestion.reasons


@pytest.mark.parametrize(
    ("current", "suggested", "direction"),
    [(12, 6, "shorten"), (12, 18, "lengthen"), (12, 12, "keep"), (0, 0, "keep")],
)
def test_direction(current, suggested, direction):
    assert Suggestion(current, suggested, ()).direction == direction


def test_exactly_three_in_a_row_lengthen_but_two_do_not():
    assert LENGTHEN_AFTER == 3
    two = suggest_interval(history(LOOSE, GOOD, GOOD), 12, is_mandatory=False)
    three = suggest_interval(history(LOOSE, GOOD, GOOD, GOOD), 12, is_mandatory=False)
    assert two.direction == "keep"
    assert "2 of the 3 needed" in text(two)
    assert three.direction == "lengthen"


@pytest.mark.parametrize(("ratio", "direction"), [(0.5, "lengthen"), (0.51, "keep"), (0.0, "lengthen")])
def test_margin_boundary(ratio, direction):
    assert MARGIN_RATIO == 0.5
    suggestion = suggest_interval(history(GOOD, GOOD, (True, ratio)), 12, is_mandatory=False)
    assert suggestion.direction == direction


def test_shorten_reason_names_the_date_and_the_step():
    suggestion = suggest_interval(history(GOOD, GOOD, GOOD, BAD), 12, is_mandatory=False)
    bad_on = (START + timedelta(days=365 * 3)).isoformat()
    assert suggestion.direction == "shorten"
    assert f"The last as-found result ({bad_on}) was out of tolerance (130% of the MPE)." in rendered(
        suggestion
    )
    assert "suggests 6 months (50% of 12" in text(suggestion)


def test_shorten_without_recorded_errors():
    suggestion = suggest_interval(history(BAD_UNGRADED), 12, is_mandatory=False)
    assert rendered(suggestion)[0] == f"The last as-found result ({START.isoformat()}) was out of tolerance."


def test_shortest_interval_cannot_be_shortened():
    suggestion = suggest_interval(history(BAD), MIN_MONTHS, is_mandatory=False)
    assert suggestion.direction == "keep"
    assert suggestion.suggested_months == MIN_MONTHS
    assert "out of tolerance" in text(suggestion)
    assert "already the shortest" in text(suggestion)


def test_lengthen_reason_names_the_count_and_the_largest_error():
    suggestion = suggest_interval(history((True, 0.1), (True, 0.42), (True, 0.2)), 12, is_mandatory=False)
    assert suggestion.direction == "lengthen"
    message = suggestion.reasons[0].message
    assert message.params["count"] == 3
    assert message.params["percent"] == 42
    assert message.params["first"] == START.isoformat()
    assert "suggests 18 months (150% of 12" in text(suggestion)


def test_lengthen_capped_at_max_months_says_so():
    suggestion = suggest_interval(history(GOOD, GOOD, GOOD), 48, is_mandatory=False)
    assert suggestion.suggested_months == MAX_MONTHS
    assert "capped at 60 months" in text(suggestion)


def test_close_to_the_limit_keeps_with_reason():
    suggestion = suggest_interval(history(GOOD, GOOD, (True, 0.81)), 12, is_mandatory=False)
    assert suggestion.direction == "keep"
    assert "close to its limit (81% of the MPE)" in text(suggestion)


def test_at_80_percent_is_not_yet_close_to_the_limit():
    suggestion = suggest_interval(history((True, 0.8)), 12, is_mandatory=False)
    assert "close to its limit" not in text(suggestion)
    assert "in tolerance at 80% of the MPE" in text(suggestion)


def test_percentages_are_rounded_up_not_down():
    suggestion = suggest_interval(history(GOOD, GOOD, (True, 0.504)), 12, is_mandatory=False)
    assert suggestion.direction == "keep"
    assert "51% of the MPE" in text(suggestion)
    # ... but float noise (0.07 * 100 = 7.000000000000001) does not make 7% into 8%.
    lengthened = suggest_interval(history((True, 0.07), (True, 0.07), (True, 0.07)), 12, is_mandatory=False)
    assert lengthened.reasons[0].message.params["percent"] == 7


def test_in_tolerance_without_recorded_errors_keeps():
    suggestion = suggest_interval(history(GOOD, GOOD, UNGRADED), 12, is_mandatory=False)
    assert suggestion.direction == "keep"
    assert "not recorded" in text(suggestion)


def test_not_enough_history_keeps_with_reason():
    suggestion = suggest_interval(history(GOOD, GOOD), 12, is_mandatory=False)
    assert suggestion.direction == "keep"
    assert "Not enough as-found history" in text(suggestion)
    assert suggestion.reasons[-1].message.params == {"count": 2, "needed": 3, "margin": 50}


def test_no_history_keeps_with_reason():
    suggestion = suggest_interval([], 12, is_mandatory=False)
    assert suggestion.direction == "keep"
    assert rendered(suggestion) == ["No as-found results are recorded yet."]


def test_skipped_records_are_counted_in_the_reasons():
    suggestion = suggest_interval(history(GOOD, BLANK, GOOD, BLANK, GOOD), 12, is_mandatory=False)
    assert suggestion.direction == "lengthen"
    assert "left out of the review: 2." in text(suggestion)


def test_unsorted_history_is_sorted_by_date():
    ordered = history(BAD, GOOD, GOOD, GOOD)
    shuffled = [ordered[2], ordered[0], ordered[3], ordered[1]]
    assert suggest_interval(shuffled, 12, is_mandatory=False).suggested_months == 18
    # And the other way round: the newest result is the bad one, wherever it sits in the list.
    ordered = history(GOOD, GOOD, GOOD, BAD)
    assert suggest_interval(list(reversed(ordered)), 12, is_mandatory=False).suggested_months == 6


def test_no_periodic_interval_is_kept():
    suggestion = suggest_interval(history(GOOD, GOOD, GOOD), 0, is_mandatory=False)
    assert (suggestion.suggested_months, suggestion.direction) == (0, "keep")
    assert rendered(suggestion) == ["The instrument has no periodic calibration interval to review."]
    assert suggest_interval(history(BAD), 0, is_mandatory=True).suggested_months == 0


@pytest.mark.parametrize(
    ("entries", "current", "regulation_max", "expected", "says"),
    [
        # Without the regulation's maximum, the current period is the maximum.
        ((GOOD, GOOD, GOOD), 12, None, 12, "can be shortened but not lengthened"),
        ((BAD,), 12, None, 6, "out of tolerance"),
        ((GOOD, GOOD), 12, None, 12, "Not enough"),
        # With it, lengthening stops at the maximum.
        ((GOOD, GOOD, GOOD), 12, 24, 18, "suggests 18 months (150% of 12"),
        ((GOOD, GOOD, GOOD), 12, 15, 15, "at most 15 months"),
        ((GOOD, GOOD, GOOD), 12, 12, 12, "at most 12 months"),
        ((BAD,), 12, 24, 6, "out of tolerance"),
        # A current period beyond the maximum is brought down to it, and shortening goes below it.
        ((GOOD,), 24, 12, 12, "at most 12 months"),
        ((BAD,), 48, 12, 12, "at most 12 months"),
        ((BAD,), 12, 12, 6, "suggests 6 months (50% of 12"),
        ((GOOD, GOOD, GOOD), 48, 120, 60, "capped at 60 months"),
    ],
)
def test_mandatory_verification(entries, current, regulation_max, expected, says):
    suggestion = suggest_interval(
        history(*entries), current, is_mandatory=True, regulation_max_months=regulation_max
    )
    assert suggestion.suggested_months == expected
    assert says in text(suggestion)


def test_regulation_maximum_applies_only_to_mandatory_verification():
    suggestion = suggest_interval(history(GOOD, GOOD, GOOD), 12, is_mandatory=False, regulation_max_months=12)
    assert suggestion.suggested_months == 18


@pytest.mark.parametrize(
    ("current", "regulation_max"),
    [(-1, None), (12, 0), (12, -6)],
)
def test_invalid_arguments(current, regulation_max):
    with pytest.raises(ValueError, match="must"):
        suggest_interval([], current, is_mandatory=True, regulation_max_months=regulation_max)


@pytest.mark.parametrize("ratio", [float("nan"), float("inf"), -0.2])
def test_nonsense_ratio_counts_as_unknown(ratio):
    suggestion = suggest_interval(history(GOOD, GOOD, (True, ratio)), 12, is_mandatory=False)
    assert suggestion.direction == "keep"
    assert "not recorded" in text(suggestion)


VERDICTS = [GOOD, EDGE, LOOSE, NEAR, UNGRADED, BAD, BAD_UNGRADED, BLANK, (True, 0.0), (False, 0.9)]


def random_case(rng: random.Random):
    entries = [rng.choice(VERDICTS) for _ in range(rng.randint(0, 8))]
    if rng.random() < 0.5:
        entries = [(verdict, None if ratio is None else rng.uniform(0, 1.5)) for verdict, ratio in entries]
    records = history(*entries)
    rng.shuffle(records)
    current = rng.randint(1, 120)
    is_mandatory = rng.random() < 0.5
    regulation_max = rng.choice([None, rng.randint(1, 120)])
    return records, current, is_mandatory, regulation_max


@pytest.mark.parametrize("seed", range(20))
def test_properties(seed):
    """Seeded random histories (hypothesis is not a dependency): bounds, caps, direction, messages."""
    rng = random.Random(seed)
    for _ in range(250):
        records, current, is_mandatory, regulation_max = random_case(rng)
        suggestion = suggest_interval(
            records, current, is_mandatory=is_mandatory, regulation_max_months=regulation_max
        )
        suggested = suggestion.suggested_months
        assert MIN_MONTHS <= suggested <= MAX_MONTHS
        if is_mandatory:
            assert suggested <= (current if regulation_max is None else regulation_max)
        assert suggestion.direction == (
            "shorten" if suggested < current else "lengthen" if suggested > current else "keep"
        )
        assert suggestion.reasons
        for line in rendered(suggestion):  # every message has all its parameters
            assert "%(" not in line
        # The order of the records does not matter.
        again = suggest_interval(
            list(reversed(records)), current, is_mandatory=is_mandatory, regulation_max_months=regulation_max
        )
        assert again.suggested_months == suggested


# -- Intermediate checks since the last calibration: calibrate early, never longer --------------------

THREE_GOOD = [AsFound(date(2023 + i, 3, 1), True, 0.3) for i in range(3)]


def _finding(day: str, kind: str = SIGNAL) -> CheckFinding:
    return CheckFinding(
        date.fromisoformat(day), kind, N_("%(date)s, %(object)s, %(point)s: %(finding)s", date=day)
    )


def test_without_findings_the_suggestion_stands():
    suggestion = suggest_interval(THREE_GOOD, 12, is_mandatory=False)
    assert with_check_findings(suggestion, []) is suggestion
    assert (suggestion.calibrate_early, suggestion.check_findings) == (False, ())


def test_a_signal_withdraws_a_longer_interval_and_flags_calibrate_early():
    suggestion = suggest_interval(THREE_GOOD, 12, is_mandatory=False)
    assert suggestion.suggested_months == 18  # the staircase alone would lengthen
    weighed = with_check_findings(suggestion, [_finding("2026-05-02")])
    assert (weighed.current_months, weighed.suggested_months, weighed.direction) == (12, 12, "keep")
    assert weighed.calibrate_early
    texts = [reason.message.render() for reason in weighed.reasons]
    assert texts[: len(suggestion.reasons)] == [r.message.render() for r in suggestion.reasons]
    assert texts[-2] == (
        "Intermediate checks since the last calibration call for calibrating early "
        "(control-chart signals: 1; readings outside the MPE: 0)."
    )
    assert texts[-1] == (
        "While the checks' findings are unresolved the interval is not lengthened: "
        "12 months are kept instead of 18."
    )


def test_a_shortening_stands_and_the_findings_are_listed_oldest_first():
    suggestion = suggest_interval([AsFound(date(2026, 3, 1), False, 1.3)], 12, is_mandatory=False)
    findings = [
        _finding("2026-06-01", OUT_OF_MPE),
        _finding("2026-04-01"),
        _finding("2026-05-01", OUT_OF_MPE),
    ]
    weighed = with_check_findings(suggestion, findings)
    assert (weighed.suggested_months, weighed.direction, weighed.calibrate_early) == (6, "shorten", True)
    assert [f.checked_on.month for f in weighed.check_findings] == [4, 5, 6]
    assert weighed.reasons[-1].message.render() == (
        "Intermediate checks since the last calibration call for calibrating early "
        "(control-chart signals: 1; readings outside the MPE: 2)."
    )


def test_a_kept_interval_and_no_interval_at_all_are_flagged_too():
    kept = with_check_findings(
        suggest_interval([], 12, is_mandatory=True), [_finding("2026-01-05", OUT_OF_MPE)]
    )
    assert (kept.suggested_months, kept.direction, kept.calibrate_early) == (12, "keep", True)
    none = with_check_findings(Suggestion(0, 0, ()), [_finding("2026-01-05")])
    assert (none.suggested_months, none.calibrate_early, len(none.check_findings)) == (0, True, 1)
