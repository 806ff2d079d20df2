import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from models import Event, Instrument, StatusRequest, User
from service.clock import today_in
from service.ledger.dates import next_due_on
from tests.conftest import login
from tests.factories import make_department, make_instrument, make_user


def _today() -> date:
    return today_in("Asia/Shanghai")


def test_dashboard_counts(client, world):
    login(client, world.a.metrology)
    response = client.get("/")
    assert response.status_code == 200
    assert world.a.org.name in response.text


def test_create_instrument_through_the_form(client, world, db_session):
    login(client, world.a.metrology)
    last = _today() - timedelta(days=20)
    response = client.post(
        "/instruments/new",
        data={
            "management_no": "NEW-001",
            "name": "精密压力表",
            "department_id": world.a.department.id,
            "interval_months": "12",
            "last_done_on": last.isoformat(),
            "control_method": "verification",
            "is_mandatory": "on",
            "mandatory_use": "safety",
            "status": "in_service",
            "custodian": "张三",
            "custodian_mobile": "138 1234 5678",
        },
    )
    assert response.status_code == 303
    instrument = db_session.scalar(select(Instrument).where(Instrument.management_no == "NEW-001"))
    assert instrument.org_id == world.a.org.id
    assert instrument.custodian_mobile == "13812345678"
    assert instrument.next_due_on is not None
    events = db_session.scalars(
        select(Event).where(Event.subject_id == instrument.id, Event.subject_type == "instrument")
    )
    assert [e.kind for e in events] == ["instrument.created"]
    page = client.get(f"/instruments/{instrument.id}")
    assert "精密压力表" in page.text


def _form(**overrides) -> dict:
    data = {
        "management_no": "F-001",
        "name": "游标卡尺",
        "interval_months": "12",
        "control_method": "calibration",
        "status": "in_service",
    }
    return data | overrides


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"last_done_on": "2025-02-30"}, "last_done_on"),  # a date that does not exist
        ({"valid_until": "2025-13-01"}, "valid_until"),
        ({"interval_months": "-1"}, "interval_months"),
        ({"interval_months": "abc"}, "interval_months"),
        ({"custodian_mobile": "12345"}, "custodian_mobile"),
        ({"abc_class": "D"}, "abc_class"),
        ({"status": "lost"}, "status"),
        ({"control_method": "guess"}, "control_method"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"notes": "x" * 2001}, "notes"),
        ({"is_mandatory": "on", "mandatory_use": ""}, "mandatory_use"),
        ({"is_mandatory": "on", "mandatory_use": "trade", "control_method": "calibration"}, "control_method"),
        ({"last_done_on": "2025-06-01", "valid_until": "2025-05-01"}, "valid_until"),
        ({"last_done_on": "2099-01-01"}, "last_done_on"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_saved(client, world, db_session, overrides, field):
    login(client, world.a.metrology)
    before = db_session.scalar(select(func.count(Instrument.id)))
    response = client.post("/instruments/new", data=_form(**overrides))
    assert response.status_code == 422
    assert f'id="f-{field}"' in response.text
    assert "invalid-feedback" in response.text
    assert db_session.scalar(select(func.count(Instrument.id))) == before


def test_duplicate_management_number_is_refused(client, world, db_session):
    login(client, world.a.metrology)
    taken = world.a.instruments[0].management_no
    response = client.post("/instruments/new", data=_form(management_no=taken))
    assert response.status_code == 422
    # The same number in another firm is fine: numbers are unique per firm.
    assert (
        client.post(
            "/instruments/new", data=_form(management_no=world.b.instruments[0].management_no)
        ).status_code
        == 303
    )


def test_messages_are_in_the_users_language(client, world, db_session):
    user = db_session.get(User, world.a.metrology.id)
    user.locale = "en"
    db_session.commit()
    login(client, world.a.metrology)
    response = client.post("/instruments/new", data=_form(custodian_mobile="12345"))
    assert "Not a valid mobile number" in response.text


def test_edit_records_before_and_after(client, world, db_session):
    login(client, world.a.metrology)
    instrument = world.a.instruments[0]
    last = instrument.last_done_on
    response = client.post(
        f"/instruments/{instrument.id}/edit",
        data=_form(
            management_no=instrument.management_no,
            name="数字压力表",
            location="二车间",
            interval_months="6",
            last_done_on=last.isoformat(),
            department_id=str(world.a.department.id),
        ),
    )
    assert response.status_code == 303
    event = db_session.scalar(
        select(Event).where(Event.subject_id == instrument.id, Event.kind == "instrument.updated")
    )
    changes = event.data["changes"]
    assert changes["name"] == ["压力表", "数字压力表"]
    assert changes["location"] == [None, "二车间"]
    assert changes["interval_months"] == [12, 6]
    assert changes["next_due_on"] == [
        next_due_on(last, 12, None).isoformat(),
        next_due_on(last, 6, None).isoformat(),
    ]
    page = client.get(f"/instruments/{instrument.id}")
    assert "数字压力表" in page.text
    assert 'data-event="instrument.updated"' in page.text


def test_edit_cannot_skip_approval(client, world, db_session):
    login(client, world.a.metrology)
    instrument = world.a.instruments[0]
    response = client.post(
        f"/instruments/{instrument.id}/edit",
        data=_form(management_no=instrument.management_no, status="scrapped"),
    )
    assert response.status_code == 422
    db_session.refresh(instrument)
    assert instrument.status == "in_service"


def test_viewer_cannot_write(client, world, db_session):
    login(client, world.a.viewer)
    assert client.get("/instruments/new").status_code == 403
    assert client.post("/instruments/new", data=_form()).status_code == 403
    instrument = world.a.instruments[0]
    assert client.post(f"/instruments/{instrument.id}/edit", data=_form()).status_code == 403
    assert client.get(f"/instruments/{instrument.id}").status_code == 200


def _rows(html: str) -> list[str]:
    return re.findall(r'data-instrument="([^"]+)"', html)


def test_search_filter_sort(client, world, db_session):
    actor = world.a.actor()
    today = _today()
    dept2 = make_department(db_session, world.a.actor("admin"), "计量室")
    make_instrument(
        db_session,
        actor,
        management_no="S-1",
        name="电子天平",
        serial_no="SN-777",
        valid_until=(today + timedelta(days=5)).isoformat(),
        abc_class="A",
    )
    make_instrument(
        db_session,
        actor,
        management_no="S-2",
        name="温度计",
        valid_until=(today - timedelta(days=3)).isoformat(),
        department_id=dept2.id,
    )
    make_instrument(
        db_session,
        actor,
        management_no="S-3",
        name="万用表",
        conclusion="limited",
        is_mandatory=True,
        mandatory_use="trade",
        valid_until=(today + timedelta(days=60)).isoformat(),
    )
    db_session.commit()
    login(client, world.a.metrology)
    assert _rows(client.get("/instruments?q=天平").text) == ["S-1"]
    assert _rows(client.get("/instruments?q=sn-777").text) == ["S-1"]
    assert _rows(client.get("/instruments?q=S-2").text) == ["S-2"]
    assert _rows(client.get("/instruments?q=%25").text) == []  # LIKE wildcards are literal
    assert _rows(client.get("/recall/overdue").text) == ["S-2"]
    assert _rows(client.get("/recall/7").text) == ["S-1"]
    assert set(_rows(client.get("/recall/90").text)) == {"S-1", "S-3"}
    assert _rows(client.get("/instruments?label=yellow").text) == ["S-3"]
    assert _rows(client.get("/instruments?label=red").text) == ["S-2"]
    assert _rows(client.get("/instruments?is_mandatory=true").text) == ["S-3"]
    assert _rows(client.get("/instruments?abc_class=A").text) == ["S-1"]
    assert _rows(client.get(f"/instruments?department={dept2.id}").text) == ["S-2"]
    rows = _rows(client.get("/instruments?sort=next_due_on").text)
    assert rows[:2] == ["S-2", "S-1"]
    rows = _rows(client.get("/instruments?sort=-management_no").text)
    assert rows[:3] == ["S-3", "S-2", "S-1"]
    # Bad filters get a message, not a crash.
    response = client.get("/instruments?due_within=abc&status=lost&sort=nonsense&cursor=zzz")
    assert response.status_code == 422


def test_keyset_paging_visits_every_row_once(client, world, db_session):
    actor = world.a.actor()
    today = _today()
    for n in range(23):
        due = None if n % 5 == 0 else (today + timedelta(days=n % 4)).isoformat()  # ties and NULLs
        make_instrument(db_session, actor, management_no=f"P-{n:02d}", valid_until=due, last_done_on=None)
    db_session.commit()
    login(client, world.a.metrology)
    for sort in ("next_due_on", "-next_due_on", "name", "-management_no", "-updated_at"):
        seen, url = [], f"/instruments?sort={sort}&limit=4"
        while url:
            html = client.get(url).text
            seen += _rows(html)
            found = re.search(r'href="([^"]*cursor=[^"]+)" rel="next"', html)
            url = found.group(1).replace("&amp;", "&") if found else None
        assert sorted(seen) == sorted({*seen}), sort  # no row twice
        assert len(seen) == 23 + len(world.a.instruments), sort


def _sort_options(html: str) -> list[tuple[str, bool]]:
    """Return the sort select's options as (value, is selected)."""
    select_html = re.search(r'<select[^>]*id="flt-sort".*?</select>', html, re.DOTALL).group(0)
    return [
        (value, bool(chosen))
        for value, chosen in re.findall(r'<option value="([^"]*)" (selected)?', select_html)
    ]


def test_the_sort_select_offers_every_order_the_list_takes(client, world):
    """The options come from ``SORTS``: ``updated_at`` (least recently changed) was missing from the
    template's copy, so a list sorted by it showed "next due" as chosen and Filter re-sorted it."""
    from service.ledger.queries import SORTS
    from service.names import SORT_NAMES

    login(client, world.a.metrology)
    assert [value for value, _chosen in _sort_options(client.get("/instruments").text)] == list(SORTS)
    assert set(SORT_NAMES) == set(SORTS)
    options = _sort_options(client.get("/instruments?sort=updated_at").text)
    assert [value for value, chosen in options if chosen] == ["updated_at"]
    assert [value for value, chosen in _sort_options(client.get("/instruments").text) if chosen] == [
        "next_due_on"
    ]


def test_bulk_edit(client, world, db_session):
    login(client, world.a.metrology)
    ids = [i.id for i in world.a.instruments[:2]]
    dept = make_department(db_session, world.a.actor("admin"), "动力部")
    db_session.commit()
    response = client.post(
        "/instruments/bulk",
        data={
            "ids": ids,
            "department_id": dept.id,
            "interval_months": "24",
            "status": "out_for_calibration",
            "custodian_user_id": "",
        },
    )
    assert response.status_code == 303
    for instrument_id in ids:
        instrument = db_session.get(Instrument, instrument_id)
        db_session.refresh(instrument)
        assert (instrument.department_id, instrument.interval_months, instrument.status) == (
            dept.id,
            24,
            "out_for_calibration",
        )
    untouched = db_session.get(Instrument, world.a.instruments[2].id)
    assert untouched.interval_months == 12


def test_bulk_edit_is_all_or_nothing(client, world, db_session):
    login(client, world.a.metrology)
    own = world.a.instruments[0]
    # A foreign id among the selection: 404 and nothing changes.
    response = client.post(
        "/instruments/bulk", data={"ids": [own.id, world.b.instruments[0].id], "interval_months": "3"}
    )
    assert response.status_code == 404
    db_session.refresh(own)
    assert own.interval_months == 12
    # A status that needs approval: refused for all.
    response = client.post(
        "/instruments/bulk", data={"ids": [own.id], "status": "scrapped"}, follow_redirects=True
    )
    db_session.refresh(own)
    assert own.status == "in_service"
    # Invalid interval.
    client.post("/instruments/bulk", data={"ids": [own.id], "interval_months": "-4"})
    db_session.refresh(own)
    assert own.interval_months == 12


def test_suspension_needs_an_admins_approval(client, world, db_session):
    instrument = world.a.instruments[0]
    login(client, world.a.metrology)
    response = client.post(
        f"/instruments/{instrument.id}/requests", data={"action": "suspend", "reason": "示值超差"}
    )
    assert response.status_code == 303
    request = db_session.scalar(select(StatusRequest).where(StatusRequest.instrument_id == instrument.id))
    assert request.state == "pending"
    db_session.refresh(instrument)
    assert instrument.status == "in_service"
    # The requester cannot decide; a second request for the same instrument is refused.
    client.post(f"/requests/{request.id}/decide", data={"decision": "approve"})
    db_session.refresh(request)
    assert request.state == "pending"
    client.post(f"/instruments/{instrument.id}/requests", data={"action": "seal", "reason": "again"})
    assert (
        db_session.scalar(
            select(func.count(StatusRequest.id)).where(StatusRequest.instrument_id == instrument.id)
        )
        == 1
    )
    client.post("/logout")
    login(client, world.a.admin)
    assert "示值超差" in client.get("/approvals").text
    response = client.post(f"/requests/{request.id}/decide", data={"decision": "approve", "reason": "同意"})
    assert response.status_code == 303
    db_session.refresh(instrument)
    assert instrument.status == "suspended"
    assert instrument.label(_today()) == "red"
    page = client.get(f"/instruments/{instrument.id}")
    assert 'data-label="red"' in page.text
    kinds = [
        e.kind
        for e in db_session.scalars(
            select(Event)
            .where(Event.subject_type == "instrument", Event.subject_id == instrument.id)
            .order_by(Event.seq)
        )
    ]
    assert kinds == ["instrument.created", "status.requested", "status.approved"]


def test_rejection_needs_a_reason_and_changes_nothing(client, world, db_session):
    instrument = world.a.instruments[0]
    login(client, world.a.metrology)
    client.post(f"/instruments/{instrument.id}/requests", data={"action": "scrap", "reason": "坏了"})
    request = db_session.scalar(select(StatusRequest).where(StatusRequest.instrument_id == instrument.id))
    client.post("/logout")
    login(client, world.a.admin)
    client.post(f"/requests/{request.id}/decide", data={"decision": "reject", "reason": ""})
    db_session.refresh(request)
    assert request.state == "pending"
    client.post(f"/requests/{request.id}/decide", data={"decision": "reject", "reason": "还能修"})
    db_session.refresh(request)
    db_session.refresh(instrument)
    assert (request.state, request.decision_reason, instrument.status) == ("rejected", "还能修", "in_service")


def test_request_needs_a_reason_and_a_known_action(client, world, db_session):
    instrument = world.a.instruments[0]
    login(client, world.a.metrology)
    client.post(f"/instruments/{instrument.id}/requests", data={"action": "suspend", "reason": "  "})
    client.post(f"/instruments/{instrument.id}/requests", data={"action": "explode", "reason": "x"})
    client.post(
        f"/instruments/{instrument.id}/requests", data={"action": "resume", "reason": "not suspended"}
    )
    assert db_session.scalar(select(func.count(StatusRequest.id))) == 0


def test_replace_and_withdraw(client, world, db_session):
    old, new = world.a.instruments[0], world.a.instruments[1]
    login(client, world.a.metrology)
    client.post(
        f"/instruments/{old.id}/requests",
        data={"action": "replace", "reason": "升级", "replacement_no": "NO-SUCH"},
    )
    assert db_session.scalar(select(func.count(StatusRequest.id))) == 0
    client.post(
        f"/instruments/{old.id}/requests",
        data={"action": "replace", "reason": "升级", "replacement_no": new.management_no},
    )
    request = db_session.scalar(select(StatusRequest).where(StatusRequest.instrument_id == old.id))
    assert request.replacement_id == new.id
    client.post(f"/requests/{request.id}/withdraw")
    db_session.refresh(request)
    assert request.state == "withdrawn"
    client.post(
        f"/instruments/{old.id}/requests",
        data={"action": "replace", "reason": "升级", "replacement_no": new.management_no},
    )
    request = db_session.scalar(select(StatusRequest).where(StatusRequest.state == "pending"))
    client.post("/logout")
    login(client, world.a.admin)
    client.post(f"/requests/{request.id}/decide", data={"decision": "approve"})
    db_session.refresh(old)
    assert (old.status, old.replaced_by_id) == ("scrapped", new.id)


def test_calendar_shows_due_counts(client, world, db_session):
    today = _today()
    make_instrument(db_session, world.a.actor(), valid_until=today.isoformat())
    make_instrument(db_session, world.a.actor(), valid_until=today.isoformat())
    db_session.commit()
    login(client, world.a.metrology)
    page = client.get(f"/calendar?month={today:%Y-%m}")
    assert page.status_code == 200
    assert f'data-day="{today}"' in page.text
    day_list = client.get(f"/instruments?due_from={today}&due_to={today}")
    assert len(_rows(day_list.text)) == 2
    assert client.get("/calendar?month=2026-13").status_code == 404
    assert client.get("/calendar?month=junk").status_code == 404


def test_calendar_day_list_keeps_its_filter_and_counts_only_instruments_in_use(client, world, db_session):
    today = _today()
    in_use = make_instrument(db_session, world.a.actor(), valid_until=today.isoformat())
    sealed = make_instrument(db_session, world.a.actor(), valid_until=today.isoformat(), status="sealed")
    db_session.commit()
    login(client, world.a.metrology)
    page = client.get(f"/instruments?due_from={today}&due_to={today}&in_use=true")
    assert _rows(page.text) == [in_use.management_no]
    assert 'id="due-range"' in page.text
    assert f'name="due_from" value="{today}"' in page.text  # kept when the filter form is submitted
    assert sealed.management_no in client.get(f"/instruments?due_from={today}&due_to={today}").text


def test_dashboard_red_count_matches_the_red_list(client, world, db_session):
    today = _today()
    make_instrument(db_session, world.a.actor(), valid_until=(today - timedelta(days=1)).isoformat())
    make_instrument(db_session, world.a.actor(), status="scrapped")
    db_session.commit()
    login(client, world.a.metrology)
    dashboard = client.get("/").text
    count = int(re.search(r'data-stat="red">.*?display-6[^>]*>(\d+)<', dashboard, re.S).group(1))
    assert count == len(_rows(client.get("/instruments?label=red").text)) == 2


def test_request_form_is_hidden_while_a_request_is_pending(client, world, db_session):
    instrument = world.a.instruments[0]
    login(client, world.a.metrology)
    assert 'name="action"' in client.get(f"/instruments/{instrument.id}").text
    client.post(f"/instruments/{instrument.id}/requests", data={"action": "suspend", "reason": "x"})
    assert 'name="action"' not in client.get(f"/instruments/{instrument.id}").text


def test_a_sole_admin_may_decide_their_own_request_unless_another_admin_exists(client, world, db_session):
    first, second = world.a.instruments[:2]
    login(client, world.a.admin)
    client.post(f"/instruments/{first.id}/requests", data={"action": "seal", "reason": "停产"})
    request = db_session.scalar(select(StatusRequest).where(StatusRequest.instrument_id == first.id))
    assert 'name="decision"' in client.get(f"/instruments/{first.id}").text
    client.post(f"/requests/{request.id}/decide", data={"decision": "approve"})
    db_session.refresh(first)
    assert first.status == "sealed"
    make_user(db_session, world.a.org, "admin")
    db_session.commit()
    client.post(f"/instruments/{second.id}/requests", data={"action": "seal", "reason": "停产"})
    request = db_session.scalar(select(StatusRequest).where(StatusRequest.instrument_id == second.id))
    assert 'name="decision"' not in client.get(f"/instruments/{second.id}").text
    client.post(f"/requests/{request.id}/decide", data={"decision": "approve"})
    db_session.refresh(second)
    assert second.status == "in_service"


def test_deactivating_the_other_admin_does_not_open_self_approval(client, world, db_session):
    """Review finding: deactivate colleague, approve own request, reactivate colleague."""
    second = make_user(db_session, world.a.org, "admin")
    db_session.commit()
    instrument = world.a.instruments[0]
    login(client, world.a.admin)
    client.post(f"/instruments/{instrument.id}/requests", data={"action": "scrap", "reason": "x"})
    request = db_session.scalar(select(StatusRequest).where(StatusRequest.instrument_id == instrument.id))
    client.post(f"/org/users/{second.id}", data={"name": second.name, "role": "admin"})  # unticked: inactive
    db_session.refresh(second)
    assert second.is_active is False
    client.post(f"/requests/{request.id}/decide", data={"decision": "approve"})
    db_session.refresh(request)
    assert request.state == "pending"
    changed = db_session.scalar(
        select(Event).where(Event.kind == "user.updated", Event.subject_id == second.id)
    )
    assert changed.data["changes"]["is_active"] == [True, False]


def test_bulk_edit_failing_midway_rolls_back_the_rows_already_changed(client, world, db_session):
    """A row that breaks a rule only when it is reached (legacy data) undoes the whole edit."""
    first, second, third = world.a.instruments
    legacy = db_session.get(Instrument, second.id)
    # Data from before the rules (e.g. an old import): a last date in the future.
    db_session.execute(
        Instrument.__table__.update()
        .where(Instrument.id == legacy.id)
        .values(last_done_on=_today() + timedelta(days=30))
    )
    db_session.commit()
    login(client, world.a.metrology)
    client.post("/instruments/bulk", data={"ids": [first.id, second.id, third.id], "interval_months": "3"})
    db_session.expire_all()
    assert [db_session.get(Instrument, i.id).interval_months for i in (first, second, third)] == [12, 12, 12]
    updates = db_session.scalars(select(Event).where(Event.kind == "instrument.updated")).all()
    assert updates == []


def test_the_sole_admin_is_told_his_approval_is_a_self_approval_and_it_shows(client, world, db_session):
    """Issue #16: he decides his own request knowingly; the request and the history say so."""
    instrument = world.a.instruments[0]
    login(client, world.a.admin)
    client.post(f"/instruments/{instrument.id}/requests", data={"action": "seal", "reason": "停产"})
    request = db_session.scalar(select(StatusRequest).where(StatusRequest.instrument_id == instrument.id))
    for page in (client.get("/approvals").text, client.get(f"/instruments/{instrument.id}").text):
        assert "data-self-approval-warning" in page
        assert "您是本单位唯一的管理员：此次批准将记为自行批准" in page
    client.post(f"/requests/{request.id}/decide", data={"decision": "approve"})
    approvals = client.get("/approvals").text
    decided_row = approvals.split(_decided_marker := "data-decided-request")[1]
    assert _decided_marker in approvals
    assert "自行批准" in decided_row
    shown = client.get(f"/instruments/{instrument.id}").text
    assert shown.count("自行批准") >= 2  # the request's row and the history event
