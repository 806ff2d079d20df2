"""The dossier's figures on worked examples: coverage, on-time rate, inspection rate."""

from __future__ import annotations

from datetime import date

import pytest

from service.figures import (
    InstrumentFacts,
    Rate,
    Result,
    StatusChange,
    coverage,
    due_dates,
    inspection,
    on_time,
    on_time_window,
)

D = date.fromisoformat


def fact(id=1, **overrides) -> InstrumentFacts:
    values = {
        "id": id,
        "name": "压力表",
        "catalog_item": None,
        "department_id": None,
        "abc_class": "B",
        "is_mandatory": False,
        "control_method": "calibration",
        "interval_months": 12,
        "status": "in_service",
        "entered_on": D("2024-01-01"),
        "last_done_on": None,
        "next_due_on": None,
        "conclusion": None,
        "results": (),
        "changes": (),
    }
    return InstrumentFacts(**(values | overrides))


def result(performed_on: str, next_due_on: str | None, kind="calibration", conclusion="pass") -> Result:
    return Result(D(performed_on), kind, conclusion, D(next_due_on) if next_due_on else None)


def with_results(*results: Result, id=1, **overrides) -> InstrumentFacts:
    """An instrument whose ledger row shows its newest result, as the ledger keeps it."""
    newest = results[-1]
    return fact(
        id,
        results=results,
        last_done_on=newest.performed_on,
        next_due_on=newest.next_due_on,
        conclusion=newest.conclusion,
        **overrides,
    )


class TestRate:
    def test_four_decimals_and_parts(self):
        assert Rate(2, 3).as_dict() == {"rate": 0.6667, "numerator": 2, "denominator": 3}

    def test_nothing_counted_has_no_rate(self):
        assert Rate(0, 0).rate is None
        assert Rate(0, 0).meets(0.95) is None

    def test_target_compares_exactly(self):
        assert Rate(19, 20).meets(0.95) is True
        assert Rate(18, 20).meets(0.95) is False


class TestWindow:
    @pytest.mark.parametrize(
        ("day", "first"),
        [
            ("2026-06-30", "2025-07-01"),
            ("2026-02-28", "2025-03-01"),  # month end: a year back is 2025-02-28
            ("2024-02-29", "2023-03-01"),  # leap day
            ("2026-12-31", "2026-01-01"),
        ],
    )
    def test_twelve_months_up_to_the_day(self, day, first):
        assert on_time_window(D(day)) == (D(first), D(day))


class TestCoverage:
    DAY = D("2026-06-30")

    def test_counts_valid_ones_among_periodic_in_use(self):
        facts = [
            with_results(result("2025-07-15", "2026-07-14"), id=1),  # valid
            with_results(result("2025-06-01", "2026-05-31"), id=2),  # expired
            with_results(result("2026-01-10", "2027-01-09", conclusion="fail"), id=3),  # failed
            with_results(result("2026-06-30", "2027-06-29"), id=4),  # done on the day itself
            with_results(result("2025-07-01", "2026-06-30"), id=5),  # valid through the day
        ]
        found = coverage(facts, self.DAY)
        assert found.rate == Rate(3, 5)
        assert found.failing == [2, 3]

    def test_leaves_out_one_off_interval_zero_retired_and_later_entries(self):
        valid = result("2026-01-01", "2026-12-31")
        facts = [
            with_results(valid, id=1, control_method="one_off"),
            with_results(valid, id=2, interval_months=0),
            with_results(valid, id=3, status="scrapped"),
            with_results(valid, id=4, status="suspended"),
            with_results(valid, id=5, entered_on=D("2026-07-01")),
            with_results(valid, id=6, status="out_for_calibration"),
        ]
        assert coverage(facts, self.DAY).counted == [6]

    def test_a_past_day_reads_the_result_standing_then(self):
        facts = [with_results(result("2025-01-10", "2026-01-09"), result("2026-03-01", "2027-02-28"))]
        assert coverage(facts, D("2026-02-01")).rate == Rate(0, 1)
        assert coverage(facts, D("2025-06-01")).rate == Rate(1, 1)
        assert coverage(facts, D("2026-03-01")).rate == Rate(1, 1)

    def test_a_past_day_reads_the_status_back_from_approvals(self):
        scrapped = fact(
            status="scrapped",
            last_done_on=D("2025-09-01"),
            next_due_on=D("2026-08-31"),
            changes=(StatusChange(D("2026-05-01"), "scrap"),),
        )
        assert coverage([scrapped], D("2026-04-30")).rate == Rate(1, 1)
        assert coverage([scrapped], D("2026-05-01")).rate == Rate(0, 0)

    def test_an_imported_row_counts_by_its_ledger_dates(self):
        imported = fact(last_done_on=D("2025-10-01"), next_due_on=D("2026-09-30"), conclusion="pass")
        assert coverage([imported], self.DAY).rate == Rate(1, 1)
        assert coverage([fact()], self.DAY).rate == Rate(0, 1)  # no dates at all: not covered


class TestOnTime:
    DAY = D("2026-06-30")

    def test_renewed_on_or_before_the_due_date_is_on_time(self):
        facts = [
            with_results(result("2025-03-10", "2026-03-09"), result("2026-03-09", "2027-03-08"), id=1),
            with_results(result("2025-03-10", "2026-03-09"), result("2026-03-15", "2027-03-14"), id=2),
        ]
        assert [(d.instrument_id, d.met, d.renewed_on) for d in due_dates(facts, self.DAY)] == [
            (1, True, D("2026-03-09")),
            (2, False, D("2026-03-15")),
        ]
        assert on_time(facts, self.DAY) == Rate(1, 2)

    def test_never_renewed_is_late(self):
        facts = [with_results(result("2025-03-10", "2026-03-09"))]
        assert on_time(facts, self.DAY) == Rate(0, 1)

    def test_window_edges(self):
        outside = with_results(result("2024-07-01", "2025-06-30"), result("2025-06-20", "2026-06-19"), id=1)
        first_day = with_results(result("2024-07-02", "2025-07-01"), result("2025-06-20", "2026-06-19"), id=2)
        assert [(d.instrument_id, d.due_on) for d in due_dates([outside, first_day], self.DAY)] == [
            (1, D("2026-06-19")),
            (2, D("2025-07-01")),
            (2, D("2026-06-19")),
        ]

    def test_a_due_date_on_the_day_itself_counts_once_met_and_not_while_open(self):
        open_today = with_results(result("2025-07-01", "2026-06-30"), id=1)
        met_today = with_results(result("2025-07-01", "2026-06-30"), result("2026-06-30", "2027-06-29"), id=2)
        assert [(d.instrument_id, d.met) for d in due_dates([open_today, met_today], self.DAY)] == [(2, True)]

    def test_results_after_the_day_are_not_known_on_it(self):
        facts = [with_results(result("2025-03-10", "2026-03-09"), result("2026-03-05", "2027-03-04"))]
        assert on_time(facts, D("2026-03-04")) == Rate(0, 0)  # nothing fell due yet
        assert on_time(facts, D("2026-03-31")) == Rate(1, 1)
        late = [with_results(result("2025-03-10", "2026-03-09"), result("2026-04-05", "2027-04-04"))]
        assert on_time(late, D("2026-03-31")) == Rate(0, 1)

    def test_scrapped_or_sealed_before_the_due_date_does_not_count_it(self):
        base = (result("2025-03-10", "2026-03-09"),)
        scrapped = with_results(
            *base, id=1, status="scrapped", changes=(StatusChange(D("2026-02-01"), "scrap"),)
        )
        sealed = with_results(*base, id=2, status="sealed", changes=(StatusChange(D("2026-03-08"), "seal"),))
        on_the_day = with_results(
            *base, id=3, status="scrapped", changes=(StatusChange(D("2026-03-09"), "scrap"),)
        )
        unsealed = with_results(
            *base,
            id=4,
            changes=(StatusChange(D("2026-01-01"), "seal"), StatusChange(D("2026-02-01"), "unseal")),
        )
        assert [d.instrument_id for d in due_dates([scrapped, sealed, on_the_day, unsealed], self.DAY)] == [
            3,
            4,
        ]

    def test_suspended_still_counts(self):
        suspended = with_results(
            result("2025-03-10", "2026-03-09"),
            status="suspended",
            changes=(StatusChange(D("2026-02-01"), "suspend"),),
        )
        assert on_time([suspended], self.DAY) == Rate(0, 1)

    def test_month_end_due_dates(self):
        day = D("2026-02-28")
        facts = [
            with_results(result("2025-01-31", "2025-02-28"), result("2025-02-27", "2026-02-26"), id=1),
            with_results(result("2025-03-31", "2025-04-30"), result("2025-04-30", "2025-05-31"), id=2),
        ]
        # 2025-02-28 lies before the window (2025-03-01…2026-02-28); 2026-02-26 is past and not renewed.
        assert [(d.instrument_id, d.due_on, d.met) for d in due_dates(facts, day)] == [
            (1, D("2026-02-26"), False),
            (2, D("2025-04-30"), True),
            (2, D("2025-05-31"), False),
        ]

    def test_not_periodic_counts_nothing(self):
        facts = [with_results(result("2025-03-10", "2026-03-09"), control_method="one_off")]
        assert on_time(facts, self.DAY) == Rate(0, 0)

    def test_an_imported_due_date_counts_and_the_first_record_renews_it(self):
        imported_then_renewed = fact(
            results=(result("2026-02-20", "2027-02-19"),),
            last_done_on=D("2026-02-20"),
            next_due_on=D("2027-02-19"),
            conclusion="pass",
        )
        # The import said last 2025-02-25, due 2026-02-24; the ledger row now shows the renewal.
        baseline = fact(last_done_on=D("2025-02-25"), next_due_on=D("2026-02-24"), conclusion="pass", id=2)
        assert [(d.instrument_id, d.met) for d in due_dates([imported_then_renewed, baseline], self.DAY)] == [
            (2, False)
        ]


class TestInspection:
    DAY = D("2026-06-30")

    def mandatory(self, *results: Result, id=1, name="压力表", **overrides) -> InstrumentFacts:
        return with_results(
            *results, id=id, name=name, is_mandatory=True, control_method="verification", **overrides
        )

    def test_only_a_verification_keeps_a_mandatory_instrument_inspected(self):
        verified = self.mandatory(result("2025-09-01", "2026-08-31", kind="verification"), id=1)
        expired = self.mandatory(result("2025-06-01", "2026-05-31", kind="verification"), id=2)
        failed = self.mandatory(
            result("2026-01-05", "2027-01-04", kind="verification", conclusion="fail"), id=3
        )
        found = inspection(
            [verified, expired, failed, with_results(result("2026-01-01", "2026-12-31"), id=4)], self.DAY
        )
        assert found.rate == Rate(1, 3)
        assert found.failing == [2, 3]

    def test_household_meters_are_split_out(self):
        meter = self.mandatory(
            result("2025-09-01", "2031-08-31", kind="verification"), id=1, name="单相电能表"
        )
        water = self.mandatory(result("2019-01-01", "2025-12-31", kind="verification"), id=2, name="冷水水表")
        gauge = self.mandatory(result("2025-09-01", "2026-08-31", kind="verification"), id=3)
        facts = [meter, water, gauge]
        assert inspection(facts, self.DAY, household=True).rate == Rate(1, 2)
        assert inspection(facts, self.DAY, household=False).rate == Rate(1, 1)
        assert inspection(facts, self.DAY).rate == Rate(2, 3)

    def test_renewed_only_by_a_calibration(self):
        # A 强检 instrument's calibration renews nothing: read_facts leaves it out of the results,
        # and the ledger row keeps the verification's dates.
        verified = self.mandatory(result("2025-01-10", "2026-01-09", kind="verification"))
        assert inspection([verified], self.DAY).rate == Rate(0, 1)
        assert on_time([verified], self.DAY) == Rate(0, 1)


class TestReviewedEdges:
    """Edges a review found: a due date set twice, two results on one day, a status before any change."""

    DAY = D("2026-06-30")

    def test_a_due_date_set_twice_and_never_renewed_is_late(self):
        facts = [with_results(result("2025-03-10", "2026-03-09"), result("2025-03-20", "2026-03-09"))]
        assert [(d.due_on, d.met) for d in due_dates(facts, self.DAY)] == [(D("2026-03-09"), False)]

    def test_only_the_last_result_of_a_day_sets_a_due_date(self):
        facts = [
            with_results(
                result("2025-06-01", "2025-12-01", conclusion="limited"),
                result("2025-06-01", "2026-05-31"),
                result("2026-05-20", "2027-05-19"),
            )
        ]
        assert [(d.due_on, d.met) for d in due_dates(facts, self.DAY)] == [(D("2026-05-31"), True)]

    def test_before_its_first_change_the_status_is_where_that_change_starts(self):
        sealed = with_results(
            result("2025-03-10", "2026-03-09"), changes=(StatusChange(D("2026-05-01"), "unseal"),)
        )
        assert due_dates([sealed], self.DAY) == []  # sealed on its due date: not counted
        assert coverage([sealed], D("2026-04-01")).rate == Rate(0, 0)  # not in use then
        assert coverage([sealed], D("2026-05-02")).rate == Rate(0, 1)  # in use again, out of validity
