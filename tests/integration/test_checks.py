"""Intermediate checks end to end: plans, checks, the control chart, signals, cases, reminders."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from models import CheckPlan, NonconformityCase
from service.jobs.reminders import run_planning
from service.measurement.checks import operations
from tests.api import API, local_today
from tests.reminders import DAY, at, messages

# A stable baseline of ten deviations (mean 0, sample σ 0.1), then checks that drift upwards.
BASE = [0.1, -0.1, 0.1, -0.1, 0.1, -0.1, 0.1, -0.1, 0.1, -0.1]


def plan_body(**over):
    return {
        "check_object": "核查砝码 200 g",
        "interval_months": 1,
        "points": [{"label": "200 g", "nominal": 200, "unit": "g", "mpe": 1.0}],
    } | over


def make_plan(client, headers, instrument_id, **over):
    response = client.post(
        f"{API}/instruments/{instrument_id}/check-plans", json=plan_body(**over), headers=headers
    )
    assert response.status_code == 201, response.json
    return response.json


def check(client, headers, plan, deviation, day, status=201):
    point = plan["points"][0]["id"]
    body = {
        "performed_on": day.isoformat(),
        "readings": [{"point_id": point, "value": 200 + deviation, "reference": 200}],
    }
    response = client.post(f"{API}/check-plans/{plan['id']}/checks", json=body, headers=headers)
    assert response.status_code == status, response.json
    return response.json


def days_back(n):
    today = local_today()
    return [today - timedelta(days=n - i) for i in range(n)]


def test_checks_until_a_signal_tell_the_metrology_staff(client, headers, world, db_session):
    instrument = world.a.instruments[0]
    plan = make_plan(client, headers["metrology"], instrument.id)
    days = days_back(13)
    for value, day in zip(BASE, days, strict=False):
        check(client, headers["metrology"], plan, value, day)
    chart = client.get(f"{API}/check-plans/{plan['id']}/chart", headers=headers["viewer"]).json
    limits = chart["points"][0]["limits"]
    assert limits["centre"] == pytest.approx(0)
    assert limits["sigma"] == pytest.approx(0.105409, abs=1e-5)
    assert chart["points"][0]["signals"] == []
    assert client.get(f"{API}/check-plans/{plan['id']}", headers=headers["viewer"]).json["baseline_fixed_on"]
    assert messages(db_session, world.a.org.id, kind="check_signal") == []

    check(client, headers["metrology"], plan, 0.25, days[10])
    assert messages(db_session, world.a.org.id, kind="check_signal") == []  # one beyond 2σ only
    check(client, headers["metrology"], plan, 0.26, days[11])  # 2 of 3 beyond 2σ
    told = messages(db_session, world.a.org.id, kind="check_signal")
    assert {(m.recipient_user_id, m.channel) for m in told} == {
        (u.id, c) for u in (world.a.admin, world.a.metrology) for c in ("in_app", "email")
    }
    assert "200 g" in told[0].body
    chart = client.get(f"{API}/check-plans/{plan['id']}/chart", headers=headers["viewer"]).json
    signals = chart["points"][0]["signals"]
    assert [(s["rule"], s["index"], s["side"]) for s in signals] == [(2, 11, 1)]
    assert signals[0]["description"] == "2 of 3 beyond 2σ above the centre at checks 11–12"
    # not beyond MPE: no case
    assert (
        db_session.scalar(select(NonconformityCase).where(NonconformityCase.instrument_id == instrument.id))
        is None
    )
    # next due: a month after the latest check
    plan_now = client.get(f"{API}/check-plans/{plan['id']}", headers=headers["viewer"]).json
    assert (
        plan_now["next_due_on"]
        == days[11]
        .replace(month=days[11].month % 12 + 1, year=days[11].year + (days[11].month == 12))
        .isoformat()
    )


def test_a_reading_beyond_mpe_opens_one_case(client, headers, world, db_session):
    instrument = world.a.instruments[1]
    plan = make_plan(client, headers["metrology"], instrument.id)
    today = local_today()
    check(client, headers["metrology"], plan, 1.5, today - timedelta(days=1))
    cases = db_session.scalars(
        select(NonconformityCase).where(NonconformityCase.instrument_id == instrument.id)
    ).all()
    assert len(cases) == 1
    assert (cases[0].state, cases[0].source) == ("open", "check")
    assert "200 g" in cases[0].description
    check(client, headers["metrology"], plan, -1.2, today)  # already open: no second case
    db_session.expire_all()
    assert (
        len(
            db_session.scalars(
                select(NonconformityCase).where(NonconformityCase.instrument_id == instrument.id)
            ).all()
        )
        == 1
    )
    chart = client.get(f"{API}/check-plans/{plan['id']}/chart", headers=headers["viewer"]).json
    assert chart["points"][0]["out_of_tolerance"] == [0, 1]


def test_bad_inputs_are_refused(client, headers, world):
    instrument = world.a.instruments[0]
    h = headers["metrology"]
    url = f"{API}/instruments/{instrument.id}/check-plans"
    assert client.post(url, json=plan_body(interval_months=None), headers=h).status_code == 400
    assert client.post(url, json=plan_body(interval_days=7), headers=h).status_code == 400
    assert client.post(url, json=plan_body(points=[]), headers=h).status_code == 400
    assert client.post(url, json=plan_body(baseline_n=9), headers=h).status_code == 400
    assert client.post(url, json=plan_body(baseline_mode="entered"), headers=h).status_code == 400
    assert (
        client.post(url, json=plan_body(check_instrument_id=world.b.instruments[0].id), headers=h).status_code
        == 404
    )
    assert (
        client.post(url, json=plan_body(performer_user_id=world.b.metrology.id), headers=h).status_code == 400
    )
    assert client.post(url, json=plan_body(), headers=headers["viewer"]).status_code == 403
    plan = make_plan(client, h, instrument.id)
    tomorrow = local_today() + timedelta(days=1)
    check(client, h, plan, 0.1, tomorrow, status=400)
    point = plan["points"][0]["id"]
    checks = f"{API}/check-plans/{plan['id']}/checks"
    today = local_today().isoformat()
    for readings in (
        [],
        [{"point_id": point, "value": 1, "reference": 1}] * 2,
        [{"point_id": point + 999, "value": 1, "reference": 1}],
        [{"point_id": point, "value": "NaN", "reference": 1}],
        [{"point_id": point, "value": "inf", "reference": 1}],
    ):
        response = client.post(checks, json={"performed_on": today, "readings": readings}, headers=h)
        assert response.status_code == 400, readings


def test_entered_baseline_and_deactivation(client, headers, world):
    instrument = world.a.instruments[2]
    h = headers["metrology"]
    plan = make_plan(
        client,
        h,
        instrument.id,
        baseline_mode="entered",
        interval_months=None,
        interval_days=14,
        check_instrument_id=world.a.instruments[0].id,
        performer_user_id=world.a.viewer.id,
        points=[{"label": "1 MPa", "nominal": 1, "centre": 0.0, "sigma": 0.01}],
    )
    assert plan["baseline_fixed_on"]
    day = local_today()
    check(client, h, plan, 0.05, day)  # beyond 3σ at once
    chart = client.get(f"{API}/check-plans/{plan['id']}/chart", headers=h).json
    assert [(s["rule"], s["index"]) for s in chart["points"][0]["signals"]] == [(1, 0)]
    assert (
        client.get(f"{API}/check-plans/{plan['id']}", headers=h).json["next_due_on"]
        == (day + timedelta(days=14)).isoformat()
    )
    changed = client.patch(f"{API}/check-plans/{plan['id']}", json={"active": False}, headers=h)
    assert changed.status_code == 200
    assert changed.json["active"] is False
    check(client, h, plan, 0.0, day, status=409)
    listed = client.get(f"{API}/instruments/{instrument.id}/check-plans", headers=headers["viewer"]).json[
        "items"
    ]
    assert [p["id"] for p in listed] == [plan["id"]]


def test_foreign_tenant_gets_404(client, headers, world, db_session):
    b = world.b
    plan = operations.create_plan(db_session, b.actor(), b.instruments[0].id, plan_body(), local_today())
    db_session.commit()
    h = headers["admin"]
    assert client.get(f"{API}/check-plans/{plan.id}", headers=h).status_code == 404
    assert client.get(f"{API}/check-plans/{plan.id}/chart", headers=h).status_code == 404
    assert client.patch(f"{API}/check-plans/{plan.id}", json={"active": False}, headers=h).status_code == 404
    assert client.post(f"{API}/check-plans/{plan.id}/checks", json={}, headers=h).status_code == 404
    assert client.get(f"{API}/instruments/{b.instruments[0].id}/check-plans", headers=h).status_code == 404


def test_a_check_falling_due_is_reminded_once_per_step(app, db_session, world):
    tenant = world.a
    plan = operations.create_plan(
        db_session,
        tenant.actor(),
        tenant.instruments[0].id,
        plan_body(next_due_on=(DAY + timedelta(days=7)).isoformat(), performer_user_id=tenant.viewer.id),
        DAY,
    )
    db_session.commit()
    run_planning(app, at(DAY, 8))
    sent = messages(db_session, tenant.org.id, kind="check_due")
    assert {(m.recipient_user_id, m.channel) for m in sent} == {
        (u.id, c) for u in (tenant.metrology, tenant.viewer) for c in ("in_app", "email")
    }
    assert tenant.instruments[0].management_no in sent[0].body
    run_planning(app, at(DAY, 9))  # the same day again
    run_planning(app, at(DAY + timedelta(days=1), 8))  # no step
    assert len(messages(db_session, tenant.org.id, kind="check_due")) == 4
    run_planning(app, at(DAY + timedelta(days=7), 8))  # the due day
    assert len(messages(db_session, tenant.org.id, kind="check_due")) == 8
    run_planning(app, at(DAY + timedelta(days=14), 8))  # a week late: reminded again
    late = messages(db_session, tenant.org.id, kind="check_due")
    assert len(late) == 12
    run_planning(app, at(DAY + timedelta(days=15), 8))
    assert len(messages(db_session, tenant.org.id, kind="check_due")) == 12
    assert messages(db_session, world.b.org.id, kind="check_due") == []
    assert db_session.get(CheckPlan, plan.id).active
    assert date(2026, 12, 1) == DAY


def test_an_overdue_check_escalates_to_the_admins_like_an_overdue_instrument(app, db_session, world):
    tenant = world.a
    operations.create_plan(
        db_session,
        tenant.actor(),
        tenant.instruments[0].id,
        plan_body(next_due_on=DAY.isoformat()),
        DAY,
    )
    db_session.commit()
    run_planning(app, at(DAY + timedelta(days=7), 8))  # the first overdue reminder: not yet escalated
    first = messages(db_session, tenant.org.id, kind="check_due")
    assert {m.recipient_user_id for m in first} == {tenant.metrology.id}
    run_planning(app, at(DAY + timedelta(days=14), 8))  # the second: the firm's ladder escalates from 2
    second = messages(db_session, tenant.org.id, kind="check_due")[len(first) :]
    assert {(m.recipient_user_id, m.channel) for m in second} == {
        (u.id, c) for u in (tenant.metrology, tenant.admin) for c in ("in_app", "email")
    }


@pytest.mark.parametrize("status", ["suspended", "scrapped", "sealed"])
def test_an_instrument_out_of_use_is_not_reminded_of_its_checks(app, db_session, world, status):
    tenant = world.a
    instrument = tenant.instruments[0]
    operations.create_plan(
        db_session,
        tenant.actor(),
        instrument.id,
        plan_body(next_due_on=(DAY + timedelta(days=7)).isoformat()),
        DAY,
    )
    instrument.status = status
    db_session.commit()
    run_planning(app, at(DAY, 8))
    run_planning(app, at(DAY + timedelta(days=14), 8))
    assert messages(db_session, tenant.org.id, kind="check_due") == []


def test_changing_the_interval_moves_the_next_due_date(client, headers, world):
    h = headers["metrology"]
    plan = make_plan(client, h, world.a.instruments[0].id, next_due_on="2026-01-10")
    url = f"{API}/check-plans/{plan['id']}"
    # no check yet: the first check's date stays whatever the interval
    assert client.patch(url, json={"interval_months": 3}, headers=h).json["next_due_on"] == "2026-01-10"
    check(client, h, plan, 0.1, date(2026, 1, 31))
    assert client.get(url, headers=h).json["next_due_on"] == "2026-04-30"
    assert client.patch(url, json={"interval_months": 1}, headers=h).json["next_due_on"] == "2026-02-28"
    changed = client.patch(url, json={"interval_months": None, "interval_days": 14}, headers=h).json
    assert changed["next_due_on"] == "2026-02-14"
    # a due date given with the change wins
    given = client.patch(url, json={"interval_days": 30, "next_due_on": "2026-03-01"}, headers=h).json
    assert (given["interval_days"], given["next_due_on"]) == (30, "2026-03-01")
    # other changes leave it alone
    assert client.patch(url, json={"note": "换砝码"}, headers=h).json["next_due_on"] == "2026-03-01"
    # a cleared date counts from the last check again: the plan never stops being reminded
    assert client.patch(url, json={"next_due_on": None}, headers=h).json["next_due_on"] == "2026-03-02"


def test_the_edit_form_moves_the_due_date_with_the_interval(client, headers, world, login_as):
    h = headers["metrology"]
    plan = make_plan(client, h, world.a.instruments[0].id)
    check(client, h, plan, 0.1, date(2026, 1, 31))
    login_as(world.a.metrology)
    form = {
        "check_object": "核查砝码 200 g",
        "interval_months": "2",
        "baseline_mode": "first_n",
        "baseline_n": "10",
        "next_due_on": "2026-02-28",  # the date the form showed
        "active": "on",
    }
    assert client.post(f"/check-plans/{plan['id']}", data=form).status_code == 303
    assert client.get(f"{API}/check-plans/{plan['id']}", headers=h).json["next_due_on"] == "2026-03-31"
    form |= {"interval_months": "3", "next_due_on": "2026-04-15"}  # both changed: the date given wins
    client.post(f"/check-plans/{plan['id']}", data=form)
    assert client.get(f"{API}/check-plans/{plan['id']}", headers=h).json["next_due_on"] == "2026-04-15"


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_pages_and_xlsx(client, headers, world, db_session, locale, login_as):
    import io

    from openpyxl import load_workbook

    instrument = world.a.instruments[0]
    plan = make_plan(client, headers["metrology"], instrument.id)
    for value, day in zip([*BASE, 0.25, 0.26], days_back(12), strict=False):
        check(client, headers["metrology"], plan, value, day)
    world.a.metrology.locale = locale
    db_session.commit()
    login_as(world.a.metrology)
    page = client.get(f"/instruments/{instrument.id}")
    assert page.status_code == 200
    assert f"/check-plans/{plan['id']}" in page.text
    assert 'data-event="check.recorded"' in page.text
    assert "data-record-event" not in page.text  # a check is not a calibration record
    assert client.get(f"/instruments/{instrument.id}/check-plans/new").status_code == 200
    page = client.get(f"/check-plans/{plan['id']}")
    assert page.status_code == 200
    assert "data-chart=" in page.text
    assert "markLines" in page.text
    words = "2 of 3 beyond 2σ above the centre at checks 11–12" if locale == "en" else "2σ"
    assert words in page.text
    assert client.get(f"/check-plans/{plan['id']}/edit").status_code == 200
    sheet = client.get(f"/check-plans/{plan['id']}/chart.xlsx")
    assert sheet.status_code == 200
    rows = list(load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert len(rows) == 2 + 12
    assert rows[-1][3] == pytest.approx(0.26)
    assert rows[-1][12]
    # record through the form; a future date is refused
    form = {"performed_on": local_today().isoformat(), f"value-{plan['points'][0]['id']}": "200.01"}
    form[f"reference-{plan['points'][0]['id']}"] = "200"
    assert client.post(f"/check-plans/{plan['id']}/checks", data=form).status_code == 303
    later = form | {"performed_on": (local_today() + timedelta(days=2)).isoformat()}
    client.post(f"/check-plans/{plan['id']}/checks", data=later)
    rows = client.get(f"{API}/check-plans/{plan['id']}/chart", headers=headers["viewer"]).json
    assert len(rows["points"][0]["deviations"]) == 13
    # create and edit through the forms
    created = client.post(
        f"/instruments/{world.a.instruments[1].id}/check-plans",
        data={
            "check_object": "标准块",
            "interval_days": "30",
            "baseline_mode": "first_n",
            "baseline_n": "10",
            "points-0-label": "10 mm",
            "points-0-nominal": "10",
            "points-0-mpe": "0.02",
            "points-1-label": "",
            "points-1-nominal": "",
        },
    )
    assert created.status_code == 303
    new_id = int(created.headers["Location"].rsplit("/", 1)[1])
    edited = client.post(
        f"/check-plans/{new_id}",
        data={
            "check_object": "标准块 2",
            "interval_months": "1",
            "baseline_mode": "first_n",
            "baseline_n": "10",
        },
    )
    assert edited.status_code == 303
    got = client.get(f"{API}/check-plans/{new_id}", headers=headers["viewer"]).json
    assert (got["check_object"], got["interval_months"], got["active"]) == ("标准块 2", 1, False)


def test_ladder_steps_between():
    from service.measurement.checks.reminders import steps_between

    due = date(2026, 12, 31)
    assert steps_between(due, (30, 15, 7, 0), date(2026, 12, 1), date(2026, 12, 1)) == [30]
    assert steps_between(due, (30, 15, 7, 0), date(2026, 12, 2), date(2026, 12, 15)) == []
    assert steps_between(due, (30, 15, 7, 0), date(2026, 12, 10), date(2026, 12, 31)) == [15, 7, 0]
    assert steps_between(due, (0,), date(2027, 1, 7), date(2027, 1, 7), 7) == [-7]
    assert steps_between(due, (0,), date(2027, 1, 8), date(2027, 1, 13), 7) == []
    assert steps_between(due, (0,), date(2027, 1, 6), date(2027, 1, 15), 7) == [-7, -14]
    assert steps_between(due, (0,), date(2027, 1, 7), date(2027, 1, 7), 0) == []



def test_overdue_steps_escalate_from_the_ladders_round():
    from service.measurement.checks.reminders import escalates
    from service.reminders.rules import Ladder

    weekly = Ladder(overdue_every=7, escalate_from=2)
    assert [escalates(weekly, step) for step in (30, 0, -7, -13, -14, -21)] == [
        False,
        False,
        False,
        False,
        True,
        True,
    ]
    assert not escalates(Ladder(overdue_every=7, escalate_from=0), -70)  # 0: never
    assert not escalates(Ladder(overdue_every=0, escalate_from=1), -7)  # no overdue reminders at all


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_check_messages_snapshot(app, locale):
    from service.measurement.checks.queries import SIGNAL_WORDS
    from service.reminders.messages import render_notice
    from tests.snapshot import assert_snapshot

    link = "https://ledger.example.cn/check-plans/7"
    signals = [{"point": "200 g", "msgid": SIGNAL_WORDS[(2, 1)], "first": 11, "last": 12, "rule": 2}]
    with app.test_request_context():
        signal = render_notice(
            "check_signal",
            "email",
            locale,
            management_no="TP-0005",
            name="电子天平",
            signals=signals,
            link=link,
        )
        due = render_notice(
            "check_due",
            "email",
            locale,
            management_no="TP-0005",
            name="电子天平",
            check_object="核查砝码 200 g",
            due_on=date(2026, 12, 31),
            days=7,
            link=link,
        )
    assert_snapshot(f"reminders/check_signal.{locale}.txt", f"{signal.subject}\n\n{signal.body}")
    assert_snapshot(f"reminders/check_due.{locale}.txt", f"{due.subject}\n\n{due.body}")
