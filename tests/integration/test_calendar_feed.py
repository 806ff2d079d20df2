"""The personal calendar feed of due dates, through the HTTP client."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from icalendar import Calendar

from service.auth.secrets import token_digest
from service.clock import today_in
from tests.conftest import login
from tests.factories import make_instrument

FEED_URL = re.compile(r"https?://[^\s<\"']+/calendar/([A-Za-z0-9_-]+)\.ics")
TODAY = today_in("Asia/Shanghai")


def _due(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


def _issue(client) -> str:
    """Create a feed address for the signed-in user and return its path, read from the page."""
    response = client.post("/reminders/calendar", data={"action": "issue"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/reminders")
    page = client.get("/reminders")
    found = FEED_URL.search(html.unescape(page.text))
    assert found, "the new address is shown"
    return f"/calendar/{found.group(1)}.ics"


def _fetch(app, path: str):
    """Fetch a feed as a calendar app does: without cookies."""
    return app.test_client().get(path)


def _events(response) -> dict[str, object]:
    calendar = Calendar.from_ical(response.data)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


@pytest.fixture
def instruments(db_session, world):
    """Firm A: one instrument in the viewer's custody, one in the metrology user's; firm B: one of its own."""
    a, b = world.a, world.b
    mine = make_instrument(
        db_session,
        a.actor("admin"),
        valid_until=_due(20),
        custodian_user_id=a.viewer.id,
        department_id=a.department.id,
        location="二号车间",
    )
    theirs = make_instrument(
        db_session, a.actor("admin"), valid_until=_due(45), custodian_user_id=a.metrology.id
    )
    foreign = make_instrument(
        db_session, b.actor("admin"), valid_until=_due(10), custodian_user_id=b.viewer.id
    )
    db_session.commit()
    return mine, theirs, foreign


def _uid(instrument) -> str:
    return f"instrument-{instrument.id}-{instrument.next_due_on.isoformat()}@calrecall"


def test_issuing_shows_the_address_once_and_stores_only_its_hash(client, login_as, db_session, world):
    login_as(world.a.viewer)
    path = _issue(client)
    token = path.removeprefix("/calendar/").removesuffix(".ics")
    db_session.refresh(world.a.viewer)
    assert world.a.viewer.calendar_token_hash == token_digest(token)
    again = client.get("/reminders")
    assert token not in again.text
    assert 'data-state="on"' in again.text


def test_a_custodian_sees_only_their_own_instruments(app, client, login_as, db_session, world, instruments):
    mine, _theirs, _foreign = instruments
    world.a.viewer.locale = "en"
    db_session.commit()
    login_as(world.a.viewer)
    response = _fetch(app, _issue(client))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert ".ics" in response.headers["Content-Disposition"]
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["X-WR-TIMEZONE"]) == "Asia/Shanghai"
    assert world.a.org.name in str(calendar["X-WR-CALNAME"])
    events = _events(response)
    assert set(events) == {_uid(mine)}
    event = events[_uid(mine)]
    assert event.decoded("DTSTART") == mine.next_due_on
    assert event.decoded("DTEND") == mine.next_due_on + timedelta(days=1)
    assert "DTSTAMP" in event
    assert str(event["SUMMARY"]) == f"Due: {mine.management_no} {mine.name}"
    assert world.a.department.name in str(event["DESCRIPTION"])
    assert "二号车间" in str(event["DESCRIPTION"])
    (alarm,) = event.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm.decoded("TRIGGER") == timedelta(days=-7)


def test_a_metrology_user_sees_the_whole_firm_within_the_window(
    app, client, login_as, db_session, world, instruments
):
    mine, theirs, foreign = instruments
    admin = world.a.actor("admin")
    too_late = make_instrument(db_session, admin, valid_until=_due(401))
    long_overdue = make_instrument(db_session, admin, valid_until=_due(-91))
    overdue = make_instrument(db_session, admin, valid_until=_due(-90))
    scrapped = make_instrument(db_session, admin, valid_until=_due(5))
    scrapped.status = "scrapped"
    db_session.commit()
    login_as(world.a.metrology)
    events = _events(_fetch(app, _issue(client)))
    expected = {_uid(i) for i in (*world.a.instruments, mine, theirs, overdue)}
    assert set(events) == expected
    assert not {_uid(i) for i in (foreign, too_late, long_overdue, scrapped, *world.b.instruments)} & set(
        events
    )


def test_events_come_soonest_first(app, client, login_as, world, instruments):
    mine, theirs, _foreign = instruments
    login_as(world.a.admin)
    uids = list(_events(_fetch(app, _issue(client))))
    assert uids.index(_uid(mine)) < uids.index(_uid(theirs))


def test_a_new_address_ends_the_old_one(app, client, login_as, world):
    login_as(world.a.viewer)
    old = _issue(client)
    new = _issue(client)
    assert old != new
    assert _fetch(app, old).status_code == 404
    assert _fetch(app, new).status_code == 200


def test_stopping_the_feed_ends_its_address(app, client, login_as, db_session, world):
    login_as(world.a.viewer)
    path = _issue(client)
    response = client.post("/reminders/calendar", data={"action": "revoke"})
    assert response.status_code == 303
    assert _fetch(app, path).status_code == 404
    db_session.refresh(world.a.viewer)
    assert world.a.viewer.calendar_token_hash is None
    assert 'data-state="off"' in client.get("/reminders").text


def test_an_inactive_users_feed_is_gone(app, client, login_as, db_session, world):
    login_as(world.a.viewer)
    path = _issue(client)
    world.a.viewer.is_active = False
    db_session.commit()
    assert _fetch(app, path).status_code == 404


@pytest.mark.parametrize("token", ["garbage", "ics_" + "A" * 43, "x" * 500])
def test_an_unknown_address_is_not_found(app, token):
    assert _fetch(app, f"/calendar/{token}.ics").status_code == 404


def test_a_signed_in_browser_gets_the_feed_of_the_address_not_its_own(app, client, world, instruments):
    _mine, _theirs, foreign = instruments
    login(client, world.b.viewer)
    path = _issue(client)
    client.post("/logout")
    login(client, world.a.admin)
    events = _events(client.get(path))
    assert set(events) == {_uid(foreign)}


def test_managing_the_feed_needs_sign_in(client, db_session, world):
    response = client.post("/reminders/calendar", data={"action": "issue"})
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["Location"]
    db_session.refresh(world.a.viewer)
    assert world.a.viewer.calendar_token_hash is None


def test_an_unknown_action_is_refused(client, login_as, world):
    login_as(world.a.viewer)
    assert client.post("/reminders/calendar", data={"action": "explode"}).status_code == 400
