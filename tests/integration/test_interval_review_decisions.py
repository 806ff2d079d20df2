"""Interval review wired to the history: the suggestion from the records, accept and reject."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from models import Event, Instrument
from service.traceability import interval_review
from service.traceability import operations as records
from tests import factories
from tests.api import API, auth
from tests.conftest import login

TODAY = date(2026, 11, 24)


def _with_history(db_session, tenant, errors: list[str]) -> Instrument:
    """An instrument verified once a year with the given as-found errors (MPE 0.016)."""
    instrument = factories.make_instrument(db_session, tenant.actor(), TODAY, interval_months=12)
    for year, error in zip(range(2026 - len(errors) + 1, 2027), errors, strict=True):
        reading = {"phase": "as_found", "nominal": "1.0", "error": error, "mpe": "0.016"}
        payload = {
            "kind": "verification",
            "lab_name": "河南省计量测试科学研究院",
            "certificate_no": f"JD-{year}",
            "performed_on": f"{year}-03-01",
            "conclusion": "pass",
            "readings": [reading],
        }
        records.record_result(db_session, tenant.actor(), instrument.id, payload, TODAY)
    db_session.commit()
    return instrument


def test_an_out_of_tolerance_as_found_suggests_shortening(db_session, world):
    instrument = _with_history(db_session, world.a, ["0.002", "0.030"])
    suggestion = interval_review.review(db_session, world.a.actor(), instrument.id)
    assert (suggestion.direction, suggestion.suggested_months) == ("shorten", 6)


def test_accepting_changes_the_interval_and_the_history_says_why(client, db_session, world):
    instrument = _with_history(db_session, world.a, ["0.002", "0.003", "0.001"])
    headers = auth(db_session, world.a.metrology)
    shown = client.get(f"{API}/instruments/{instrument.id}/interval-review", headers=headers).json
    assert (shown["direction"], shown["suggested_months"]) == ("lengthen", 18)
    stale = client.post(
        f"{API}/instruments/{instrument.id}/interval-review",
        headers=headers,
        json={"decision": "accept", "suggested_months": 24},
    )
    assert stale.status_code == 409
    accepted = client.post(
        f"{API}/instruments/{instrument.id}/interval-review",
        headers=headers,
        json={"decision": "accept", "suggested_months": 18},
    )
    assert accepted.status_code == 200
    db_session.expire_all()
    assert db_session.get(Instrument, instrument.id).interval_months == 18
    event = db_session.scalar(select(Event).where(Event.kind == "interval.accepted"))
    assert event.data["changes"]["interval_months"] == [12, 18]
    assert event.data["reasons"]
    after = client.get(f"{API}/instruments/{instrument.id}/interval-review", headers=headers).json
    assert after["current_months"] == 18


def test_rejecting_needs_a_reason_and_changes_nothing(client, db_session, world):
    instrument = _with_history(db_session, world.a, ["0.002", "0.030"])
    login(client, world.a.metrology)
    page = client.get(f"/instruments/{instrument.id}")
    assert 'data-direction="shorten"' in page.text
    client.post(
        f"/instruments/{instrument.id}/interval-review", data={"decision": "reject", "suggested_months": "6"}
    )
    assert db_session.scalar(select(Event).where(Event.kind == "interval.rejected")) is None
    response = client.post(
        f"/instruments/{instrument.id}/interval-review",
        data={"decision": "reject", "suggested_months": "6", "reason": "已更换传感器"},
    )
    assert response.status_code == 303
    event = db_session.scalar(select(Event).where(Event.kind == "interval.rejected"))
    assert event.data["reason"] == "已更换传感器"
    db_session.expire_all()
    assert db_session.get(Instrument, instrument.id).interval_months == 12


def test_a_decision_is_not_asked_again_on_the_same_results(db_session, world):
    instrument = _with_history(db_session, world.a, ["0.002", "0.030"])
    actor = world.a.actor()
    interval_review.decide(
        db_session, actor, instrument.id, {"decision": "accept", "suggested_months": 6}, TODAY
    )
    db_session.commit()
    again = interval_review.review(db_session, actor, instrument.id)
    assert (again.direction, again.current_months) == ("keep", 6)  # not 6 → 3 on the same result
    # A new as-found result is reviewed afresh.
    reading = {"phase": "as_found", "nominal": "1.0", "error": "0.025", "mpe": "0.016"}
    payload = {
        "kind": "verification",
        "lab_name": "河南省计量测试科学研究院",
        "certificate_no": "JD-2026-11",
        "performed_on": "2026-11-20",
        "conclusion": "pass",
        "readings": [reading],
    }
    records.record_result(db_session, actor, instrument.id, payload, TODAY)
    db_session.commit()
    assert interval_review.review(db_session, actor, instrument.id).direction == "shorten"


def _check_plan(db_session, tenant, instrument):
    """A monthly check plan with an entered baseline (centre 0, σ 0.1) and an MPE of 1.0."""
    from service.measurement.checks import operations as check_ops

    body = {
        "check_object": "核查砝码 200 g",
        "interval_months": 1,
        "baseline_mode": "entered",
        "points": [{"label": "200 g", "nominal": 200, "mpe": 1.0, "centre": 0, "sigma": 0.1}],
    }
    return check_ops.create_plan(db_session, tenant.actor(), instrument.id, body, TODAY)


def _check(db_session, tenant, plan, day: str, deviation: float):
    from datetime import UTC, datetime

    from service.measurement.checks import operations as check_ops

    payload = {
        "performed_on": day,
        "readings": [{"point_id": plan.points[0].id, "value": 200 + deviation, "reference": 200}],
    }
    check_ops.record_check(db_session, tenant.actor(), plan.id, payload, TODAY, datetime.now(UTC))
    db_session.commit()


def test_check_signals_since_the_last_calibration_flag_calibrate_early(client, db_session, world):
    instrument = _with_history(db_session, world.a, ["0.002", "0.003", "0.001"])  # last: 2026-03-01
    plan = _check_plan(db_session, world.a, instrument)
    headers = auth(db_session, world.a.metrology)
    url = f"{API}/instruments/{instrument.id}/interval-review"
    _check(db_session, world.a, plan, "2026-02-20", 0.5)  # beyond 3σ, but before the last calibration
    _check(db_session, world.a, plan, "2026-04-01", 0.05)
    shown = client.get(url, headers=headers).json
    assert (shown["direction"], shown["calibrate_early"], shown["check_findings"]) == ("lengthen", False, [])
    _check(db_session, world.a, plan, "2026-05-01", 0.35)  # one point beyond 3σ above the centre
    shown = client.get(url, headers=headers).json
    assert (shown["direction"], shown["suggested_months"], shown["calibrate_early"]) == ("keep", 12, True)
    # the check completed two signals: one point beyond 3σ, and two of three beyond 2σ (with check 1)
    assert [(f["checked_on"], f["kind"]) for f in shown["check_findings"]] == [("2026-05-01", "signal")] * 2
    for finding in shown["check_findings"]:
        assert finding["description"].startswith("2026-05-01，核查砝码 200 g，200 g：")
    # a longer interval is no longer offered, so there is nothing to accept
    refused = client.post(url, headers=headers, json={"decision": "accept", "suggested_months": 18})
    assert refused.status_code == 409
    # beyond the MPE as well: both named
    _check(db_session, world.a, plan, "2026-06-01", -1.5)
    shown = client.get(url, headers=headers).json
    assert [f["kind"] for f in shown["check_findings"]] == ["signal", "signal", "signal", "out_of_mpe"]
    # the page says so, in words
    world.a.metrology.locale = "en"
    db_session.commit()
    login(client, world.a.metrology)
    page = client.get(f"/instruments/{instrument.id}").text
    assert "data-calibrate-early" in page
    assert "Calibrate early." in page
    assert "2026-05-01, 核查砝码 200 g, 200 g: 1 point beyond 3σ above the centre at check 3" in page
    assert "outside the MPE ±1" in page
    # a calibration after the checks resolves them
    reading = {"phase": "as_found", "nominal": "1.0", "error": "0.002", "mpe": "0.016"}
    payload = {
        "kind": "verification",
        "lab_name": "河南省计量测试科学研究院",
        "certificate_no": "JD-2026-07",
        "performed_on": "2026-07-01",
        "conclusion": "pass",
        "readings": [reading],
    }
    records.record_result(db_session, world.a.actor(), instrument.id, payload, TODAY)
    db_session.commit()
    shown = client.get(url, headers=headers).json
    assert (shown["calibrate_early"], shown["check_findings"]) == (False, [])
    assert "data-calibrate-early" not in client.get(f"/instruments/{instrument.id}").text


def test_an_ended_check_plan_and_another_firm(client, db_session, world):
    from service.measurement.checks import operations as check_ops

    instrument = _with_history(db_session, world.a, ["0.002"])
    plan = _check_plan(db_session, world.a, instrument)
    _check(db_session, world.a, plan, "2026-05-01", 0.35)
    url = f"{API}/instruments/{instrument.id}/interval-review"
    assert client.get(url, headers=auth(db_session, world.a.viewer)).json["calibrate_early"] is True
    assert client.get(url, headers=auth(db_session, world.b.admin)).status_code == 404
    check_ops.update_plan(db_session, world.a.actor(), plan.id, {"active": False}, TODAY)
    db_session.commit()
    assert client.get(url, headers=auth(db_session, world.a.viewer)).json["calibrate_early"] is False
