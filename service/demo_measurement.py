"""Demo measurement data: checks with a control chart, repeatability, stability, comparisons.

Firm A's balance has an intermediate-check plan, its multimeter a repeatability test, the balance
a stability assessment; the institute's piston gauge has a national comparison and a proficiency
test. Each piece goes through the same operations as a user's entry, so the demo shows what they
compute (a control-chart signal, a stability verdict, an unsatisfactory En and its case).
"""

from __future__ import annotations

import random
from datetime import date, datetime

from service.actors import Actor
from service.ledger.dates import add_months
from service.measurement.checks import operations as checks
from service.measurement.comparisons import operations as comparisons
from service.measurement.stability import operations as stability

#: Fourteen monthly checks: the first ten fix the baseline, the last three drift upwards (mg).
CHECK_DEVIATIONS_MG = [0.3, -0.2, 0.1, 0.4, -0.3, 0.0, 0.2, -0.1, -0.4, 0.1, 0.2, 0.6, 0.7, 0.8]


def load_measurement(
    session,
    engineer: Actor,
    balance,
    multimeter,
    staff: Actor,
    standard,
    today: date,
    now: datetime,
    base_url: str,
) -> None:
    """Load the measurement data of firm A's balance and multimeter and of the institute's standard."""
    rng = random.Random(20)
    _checked_balance(session, engineer, balance, today, now, base_url)
    _stability(session, engineer, balance, today, rng)
    stability.record_repeatability(
        session,
        engineer,
        multimeter.id,
        {
            "performed_on": add_months(today, -2).isoformat(),
            "quantity": "直流电压 10 V",
            "unit": "V",
            "readings": [f"{10 + rng.gauss(0.0002, 0.00012):.5f}" for _ in range(10)],
            "claimed": "0.0003",
            "conditions": "20.1 ℃，46 %RH，同一人员、同一标准源（Fluke 5522A）连续测量",
            "performed_by_name": engineer.name,
        },
        today,
        base_url,
    )
    _comparisons(session, staff, standard, today, now, base_url)


def _checked_balance(session, engineer: Actor, balance, today: date, now: datetime, base_url: str) -> None:
    first = add_months(today, -len(CHECK_DEVIATIONS_MG))
    plan = checks.create_plan(
        session,
        engineer,
        balance.id,
        {
            "check_object": "E2 等级砝码 100 g、200 g",
            "interval_months": 1,
            "performer_user_id": engineer.user_id,
            "baseline_mode": "first_n",
            "baseline_n": 10,
            "next_due_on": first.isoformat(),
            "note": "每月第一周核查；砝码随天平校准一并送检。",
            "points": [
                {"label": "100 g", "nominal": 100, "unit": "g", "mpe": 0.0015},
                {"label": "200 g", "nominal": 200, "unit": "g", "mpe": 0.0030},
            ],
        },
        today,
    )
    point_ids = {point.label: point.id for point in plan.points}
    for month, deviation_mg in enumerate(CHECK_DEVIATIONS_MG):
        day = add_months(first, month)
        checks.record_check(
            session,
            engineer,
            plan.id,
            {
                "performed_on": day.isoformat(),
                "readings": [
                    {"point_id": point_ids["100 g"], "value": 100 + deviation_mg / 2000, "reference": 100},
                    {"point_id": point_ids["200 g"], "value": 200 + deviation_mg / 1000, "reference": 200},
                ],
            },
            today,
            now,
            base_url,
        )


def _stability(session, engineer: Actor, balance, today: date, rng: random.Random) -> None:
    started = add_months(today, -6)
    assessment = stability.open_assessment(
        session,
        engineer,
        balance.id,
        {
            "check_object": "E2 等级砝码 200 g",
            "unit": "g",
            "allowed": "0.0030",
            "allowed_basis": "mpe",
            "started_on": started.isoformat(),
            "note": "半年稳定性考核，每月一组，每组 6 次。",
        },
        today,
    )
    for month in range(5):
        drift = 0.00008 * month
        stability.add_group(
            session,
            engineer,
            assessment.id,
            {
                "measured_on": add_months(started, month + 1).isoformat(),
                "readings": [f"{200 + drift + rng.gauss(0, 0.00005):.5f}" for _ in range(6)],
            },
            today,
        )
    stability.close_assessment(session, engineer, assessment.id, {"closed_on": today.isoformat()}, today)


def _comparisons(session, staff: Actor, standard, today: date, now: datetime, base_url: str) -> None:
    comparisons.record_comparison(
        session,
        staff,
        standard.id,
        {
            "kind": "comparison",
            "scheme": "国家压力计量比对（0.05 级活塞式压力计）",
            "organiser_kind": "national",
            "organiser_name": "国家市场监督管理总局",
            "quantity": "压力",
            "performed_on": add_months(today, -3).isoformat(),
            "points": [
                {"nominal": 1, "reference_value": 1.00002, "reference_uncertainty": 0.00010,
                 "lab_value": 1.00008, "lab_uncertainty": 0.00015},
                {"nominal": 3, "reference_value": 3.00005, "reference_uncertainty": 0.00025,
                 "lab_value": 3.00012, "lab_uncertainty": 0.00040},
                # Beyond its uncertainties: En > 1 opens a case on the standard.
                {"nominal": 6, "reference_value": 6.00010, "reference_uncertainty": 0.00050,
                 "lab_value": 6.00190, "lab_uncertainty": 0.00080},
            ],
        },
        today,
        now,
        base_url,
    )
    comparisons.record_comparison(
        session,
        staff,
        standard.id,
        {
            "kind": "proficiency",
            "scheme": "CNAS 压力能力验证计划",
            "organiser_kind": "cnas_pt",
            "organiser_name": "中国计量科学研究院",
            "quantity": "压力",
            "performed_on": add_months(today, -8).isoformat(),
            "points": [
                {"nominal": 2, "assigned_value": 2.00010, "sd_pt": 0.00020, "lab_value": 2.00018},
                # 2 < |z| < 3: questionable, the staff is warned.
                {"nominal": 5, "assigned_value": 5.00020, "sd_pt": 0.00040, "lab_value": 5.00122},
            ],
        },
        today,
        now,
        base_url,
    )
