"""Visit pages: staff plan and propose, the client answers, the technician works the sheet."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import Visit
from service.actors import Actor
from service.clock import today_in
from tests import factories
from tests.conftest import login, post_passed_result


def _shown(page_text: str) -> dict:
    """The first proposed visit's fields as the plan page posts them."""
    return dict(re.findall(r'name="((?:firm|items|date)-1)" value="([^"]*)"', page_text))


def _plan_page(client, today) -> str:
    """The plan page's text for the fortnight from ``today``."""
    return client.get(f"/visits/plan?from={today.isoformat()}&days=14").text


def _propose(client, db_session, world, today, shown: dict):
    """Post the fortnight's plan keeping its first visit as ``shown``; return firm A's visit it made."""
    client.post("/visits/plan", data={"from": today.isoformat(), "days": "14", "keep": ["1"], **shown})
    return db_session.scalar(select(Visit).where(Visit.firm_id == world.a.org.id))


def _due_on(db_session, world, today, valid_until, name: str = "一般压力表"):
    """Add an instrument to firm A's ledger whose certificate runs out on ``valid_until``."""
    return factories.make_instrument(
        db_session, world.a.actor(), today, name=name, valid_until=valid_until.isoformat()
    )


@pytest.fixture
def due_work(db_session, world):
    """Two of firm A's gauges due within ten days, and a pressure technician with an account."""
    today = today_in("Asia/Shanghai")
    admin = Actor.of(world.institute_admin)
    technician = factories.make_technician(
        db_session, admin, name="郭志强", user_id=world.institute_technician.id
    )
    gauges = [_due_on(db_session, world, today, today + timedelta(days=d)) for d in (6, 9)]
    db_session.commit()
    return today, technician, gauges


def test_staff_plan_and_propose_then_the_client_confirms_and_the_technician_records(
    client, db_session, world, due_work
):
    today, _technician, gauges = due_work
    login(client, world.institute_staff)
    page = client.get(f"/visits/plan?from={today.isoformat()}&days=14")
    assert page.status_code == 200
    assert page.text.count("data-proposed=") == 1
    assert all(g.management_no in page.text for g in gauges)
    created = client.post(
        "/visits/plan", data={"from": today.isoformat(), "days": "14", "keep": ["1"], **_shown(page.text)}
    )
    assert created.status_code == 303
    visit = db_session.scalar(select(Visit).where(Visit.firm_id == world.a.org.id))
    assert visit.state == "proposed"
    assert f'data-visit="{visit.id}"' in client.get("/visits").text

    client.post("/logout")
    login(client, world.a.metrology)
    portal = client.get("/visits/mine")
    assert f'data-visit="{visit.id}"' in portal.text
    assert client.post(f"/visits/mine/{visit.id}/answer", data={"answer": "confirm"}).status_code == 303
    db_session.refresh(visit)
    assert visit.state == "confirmed"

    client.post("/logout")
    login(client, world.institute_technician)
    sheet = client.get(f"/visits/{visit.id}/worksheet")
    assert sheet.text.count("data-result-form") == 2
    assert all(g.management_no in sheet.text for g in gauges)  # the client's instruments, by name
    first, second = visit.items
    path = f"/visits/{visit.id}/items/{first.id}/result"
    record = post_passed_result(client, db_session, path, world.a.org.id, "1.004", **{"reading-mpe": "0.016"})
    assert record.certificate_no == f"JD{today.year}-00001"
    assert [str(r.error) for r in record.readings] == ["0.004000"]
    client.post(f"/visits/{visit.id}/items/{second.id}/skip", data={"reason": "现场未找到"})
    db_session.refresh(visit)
    assert visit.state == "completed"

    # The client sees its new due date.
    client.post("/logout")
    login(client, world.a.metrology)
    shown = client.get(f"/instruments/{first.instrument_id}").text
    assert f"JD{today.year}-00001" in shown


def test_the_client_asks_for_another_date_and_staff_move_the_visit(client, db_session, world, due_work):
    today, _technician, _gauges = due_work
    login(client, world.institute_staff)
    visit = _propose(client, db_session, world, today, _shown(_plan_page(client, today)))
    client.post("/logout")
    login(client, world.a.admin)
    wanted = (today + timedelta(days=5)).isoformat()
    missing = client.post(f"/visits/mine/{visit.id}/answer", data={"answer": "reschedule"})
    assert missing.status_code == 303  # refused with a message
    db_session.refresh(visit)
    assert visit.state == "proposed"
    client.post(
        f"/visits/mine/{visit.id}/answer",
        data={"answer": "reschedule", "requested_on": wanted, "note": "停产检修"},
    )
    db_session.refresh(visit)
    assert (visit.state, visit.requested_on.isoformat()) == ("reschedule_requested", wanted)
    client.post("/logout")
    login(client, world.institute_staff)
    shown = client.get(f"/visits/{visit.id}").text
    assert 'id="client-answer"' in shown
    assert "停产检修" in shown
    client.post(f"/visits/{visit.id}/move", data={"planned_on": wanted})
    db_session.refresh(visit)
    assert (visit.state, visit.planned_on.isoformat()) == ("proposed", wanted)


def test_the_plan_page_refuses_a_bad_window_and_firms_get_404(client, world, due_work):
    login(client, world.institute_staff)
    bad = client.get("/visits/plan?from=2026-02-30&days=500")
    assert bad.status_code == 422
    assert len(re.findall("invalid-feedback", bad.text)) == 2
    client.post("/logout")
    login(client, world.a.admin)
    assert client.get("/visits/plan").status_code == 404
    assert client.get("/visits").status_code == 404
    client.post("/logout")
    login(client, world.institute_staff)
    assert client.get("/visits/mine").status_code == 404


def test_a_plan_that_changed_since_the_page_was_shown_creates_what_was_shown(
    client, db_session, world, due_work
):
    today, technician, gauges = due_work
    login(client, world.institute_staff)
    page = _plan_page(client, today)
    posted = _shown(page)
    assert posted["firm-1"] == str(world.a.org.id)
    # Meanwhile another gauge fell due: the plan computed now would differ from the page.
    _due_on(db_session, world, today, today + timedelta(days=3))
    db_session.commit()
    visit = _propose(client, db_session, world, today, posted)
    assert sorted(i.instrument_id for i in visit.items) == sorted(g.id for g in gauges)
    assert {i.technician_id for i in visit.items} == {technician.id}


def test_a_technician_gets_forms_only_for_the_instruments_given_to_them(client, db_session, world, due_work):
    today, technician, gauges = due_work
    other = factories.make_technician(db_session, Actor.of(world.institute_admin), name="李明")
    db_session.commit()
    login(client, world.institute_staff)
    page = _plan_page(client, today)
    shown = _shown(page)
    first, second = (g.id for g in gauges)
    shown["items-1"] = f"{first}:{technician.id},{second}:{other.id}"
    visit = _propose(client, db_session, world, today, shown)
    visit.state = "confirmed"
    db_session.commit()
    client.post("/logout")
    login(client, world.institute_technician)
    sheet = client.get(f"/visits/{visit.id}/worksheet").text
    assert sheet.count("data-result-form") == 1
    assert sheet.count("data-not-mine") == 1


def test_plan_page_words_overdue_visits_and_uncovered_disciplines_issue_16(
    client, db_session, world, due_work
):
    today, _technician, _gauges = due_work
    _due_on(db_session, world, today, today - timedelta(days=20))
    _due_on(db_session, world, today, today + timedelta(days=5), "某专用仪器")
    db_session.commit()
    login(client, world.institute_staff)
    page = _plan_page(client, today)
    assert "此前的日期均已排满" not in page
    assert "data-overdue-before" in page
    assert "没有能校准其他的技术人员" in page
    assert "other" not in re.sub(r"<[^>]+>", "", page).split("未安排")[-1]


def test_a_firm_with_a_visit_that_day_is_not_proposed_a_second_one(client, db_session, world, due_work):
    today, _technician, gauges = due_work
    login(client, world.institute_staff)
    booked = _propose(client, db_session, world, today, _shown(_plan_page(client, today)))
    more = _due_on(db_session, world, today, booked.planned_on)
    db_session.commit()
    again = _plan_page(client, today)
    shown = _shown(again)
    assert str(more.id) in shown["items-1"]
    assert shown["date-1"] != booked.planned_on.isoformat()


def test_moving_a_visit_to_a_sunday_warns(client, db_session, world, due_work):
    today, _technician, _gauges = due_work
    login(client, world.institute_staff)
    visit = _propose(client, db_session, world, today, _shown(_plan_page(client, today)))
    sunday = today + timedelta(days=(6 - today.weekday()) % 7 or 7)
    moved = client.post(
        f"/visits/{visit.id}/move", data={"planned_on": sunday.isoformat()}, follow_redirects=True
    )
    assert "不是工作日" in moved.text
    db_session.refresh(visit)
    assert visit.planned_on == sunday  # a warning, not a refusal: the client may want it


def test_planning_from_a_past_day_says_why_nothing_is_planned(client, db_session, world, due_work):
    """Issue #16: a window in the past showed an empty plan; it is refused with a message."""
    today, _technician, _gauges = due_work
    login(client, world.institute_staff)
    past = today.replace(year=today.year - 6, month=1, day=1)
    response = client.get(f"/visits/plan?from={past.isoformat()}&days=30")
    assert response.status_code == 422
    assert 'id="plan-window"' in response.text
    assert "计划不能早于今天" in response.text
