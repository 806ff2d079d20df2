"""Reverse traceability: an out-of-tolerance standard's uses, by linked firm, and the notices to them.

Firm A and firm C are the institute's clients; firm B was one (its link ended). Each had
instruments verified with the institute's working standard BZ-S01 before and after its last good
result; the standard was found out of tolerance at an intermediate check.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from models import Event, Notification
from service.actors import Actor
from service.auth.operations import create_api_token
from service.errors import Forbidden, Invalid, NotFound
from service.tenancy import operations as tenancy_ops
from service.tenancy import queries as tenancy_queries
from service.traceability import reverse
from tests.conftest import login
from tests.factories import make_instrument, make_org, make_user
from tests.integration.test_standards_chain import (
    TODAY,
    correct,
    institute,
    on_site,
    record,
    standard,
    used_at_firm_a,
)

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
BASE_URL = "https://ledger.example.cn"


def _client_firm(session, world):
    """A second linked client, with people of every role (one metrology user no longer active)."""
    firm = make_org(session, "firm", name="洛阳精密轴承有限公司")
    people = {role: make_user(session, firm, role) for role in ("admin", "metrology", "viewer")}
    gone = make_user(session, firm, "metrology")
    gone.is_active = False
    tenancy_ops.link_client(session, world.institute.id, firm.id)
    instrument = make_instrument(
        session, Actor.of(people["admin"]), TODAY, management_no="C-001", name="数显卡尺"
    )
    return firm, people, instrument


@pytest.fixture
def recall(db_session, world):
    s = standard(db_session, world, "BZ-S01", "精密压力表")
    other = standard(db_session, world, "BZ-S02", "数字压力计")
    own = standard(db_session, world, "BZ-W01", "工作用压力表")
    record(db_session, institute(world), s, "2024-01-10", certificate_no="JD2024-0110")
    record(
        db_session, institute(world), s, "2025-01-10", certificate_no="JD2025-0110"
    )  # the last good result
    record(db_session, institute(world), other, "2025-01-12")
    a0, a1, a2 = world.a.instruments
    at_a = on_site(world, world.a.org)
    uses = {"BZ-S01": [{"instrument_id": s.id}], "BZ-S02": [{"instrument_id": other.id}]}
    record(db_session, at_a, a0, "2024-12-01", uses["BZ-S01"], certificate_no="A0-2024")  # before: good
    record(db_session, at_a, a1, "2025-03-01", uses["BZ-S01"], certificate_no="A1-2025")  # suspect
    wrong = record(db_session, at_a, a2, "2025-05-01", uses["BZ-S01"], certificate_no="A2-2025")
    # That record named the wrong standard: its correction (with BZ-S02) is what stands.
    correct(db_session, at_a, wrong.id, "2025-05-01", uses["BZ-S02"], "标准器录错", certificate_no="A2-2025R")
    firm_c, people_c, c0 = _client_firm(db_session, world)
    record(
        db_session,
        on_site(world, firm_c),
        c0,
        "2025-06-01",
        uses["BZ-S01"] + uses["BZ-S01"],  # named twice: still one use
        kind="calibration",
        certificate_no="C0-2025",
    )
    # Firm B was a client when its instrument was verified with BZ-S01; the link has ended since.
    link = tenancy_ops.link_client(db_session, world.institute.id, world.b.org.id)
    record(db_session, on_site(world, world.b.org), world.b.instruments[0], "2025-04-01", uses["BZ-S01"])
    link.ended_at = NOW
    # The institute's own working standard was calibrated with BZ-S01 too.
    record(db_session, institute(world), own, "2025-02-01", uses["BZ-S01"], certificate_no="W01-2025")
    # Found out of tolerance at its intermediate check.
    record(db_session, institute(world), s, "2025-09-01", kind="intermediate_check", conclusion="fail")
    db_session.commit()
    return {"standard": s, "other": other, "own": own, "firm_c": firm_c, "people_c": people_c, "c0": c0}


def _found(affected) -> dict:
    return {
        firm.org_id: {i.management_no: [r.certificate_no for r in i.records] for i in firm.instruments}
        for firm in affected.firms
    }


def test_the_last_good_result_before_the_failure_is_the_default(db_session, world, recall):
    found = reverse.affected_by_standard(db_session, institute(world), recall["standard"].id)
    assert (found.last_good_on, found.failed_on, found.since) == (
        date(2025, 1, 10),
        date(2025, 9, 1),
        date(2025, 1, 10),
    )


def test_exactly_the_linked_firms_instruments_used_since_are_found(db_session, world, recall):
    found = reverse.affected_by_standard(db_session, institute(world), recall["standard"].id)
    a1 = world.a.instruments[1]
    assert _found(found) == {
        world.a.org.id: {a1.management_no: ["A1-2025"]},
        recall["firm_c"].id: {"C-001": ["C0-2025"]},
        world.institute.id: {"BZ-W01": ["W01-2025"]},
    }
    # Clients by name, the institute's own ledger last.
    assert [f.is_own for f in found.firms] == [False, False, True]
    assert [f.org_id for f in found.clients] == [world.a.org.id, recall["firm_c"].id]  # "Firm …" < "洛阳…"
    assert world.b.org.id not in _found(found)


def test_since_moves_the_window(db_session, world, recall):
    a0, a1 = world.a.instruments[:2]
    earlier = reverse.affected_by_standard(
        db_session, institute(world), recall["standard"].id, date(2024, 11, 1)
    )
    assert set(_found(earlier)[world.a.org.id]) == {a0.management_no, a1.management_no}
    later = reverse.affected_by_standard(
        db_session, institute(world), recall["standard"].id, date(2025, 3, 2)
    )
    assert set(_found(later)) == {recall["firm_c"].id}
    everything = reverse.affected_by_standard(
        db_session, institute(world), recall["standard"].id, default_since=False
    )
    assert set(_found(everything)[world.a.org.id]) == {a0.management_no, a1.management_no}


def test_superseded_records_are_not_uses(db_session, world, recall):
    found = reverse.affected_by_standard(
        db_session, institute(world), recall["standard"].id, date(2024, 1, 1)
    )
    assert world.a.instruments[2].management_no not in _found(found)[world.a.org.id]


def test_a_point_out_of_tolerance_as_found_is_a_failure_even_after_adjustment(db_session, world, recall):
    s = recall["standard"]
    readings = [
        {"phase": "as_found", "nominal": "10", "reading": "10.5", "mpe": "0.1"},
        {"phase": "as_left", "nominal": "10", "reading": "10.02", "mpe": "0.1"},
    ]
    record(db_session, institute(world), s, "2025-10-01", readings=readings, certificate_no="JD2025-1001")
    found = reverse.affected_by_standard(db_session, institute(world), s.id)
    # The passing verification of 2025-10-01 found it off as found: the last good result stays 2025-01-10.
    assert (found.last_good_on, found.failed_on) == (date(2025, 1, 10), date(2025, 10, 1))


def test_a_standard_without_a_good_result_lists_every_use(db_session, world, recall):
    fresh = standard(db_session, world, "BZ-N01", "新标准器")
    record(
        db_session,
        on_site(world, world.a.org),
        world.a.instruments[0],
        "2025-07-01",
        [{"instrument_id": fresh.id}],
    )
    found = reverse.affected_by_standard(db_session, institute(world), fresh.id)
    assert found.since is None
    assert _found(found) == {world.a.org.id: {world.a.instruments[0].management_no: ["C-2025-07-01"]}}


def test_only_the_institute_may_ask_and_only_about_its_own_standards(db_session, world, recall):
    with pytest.raises(NotFound):
        reverse.affected_by_standard(db_session, world.a.actor("admin"), recall["standard"].id)
    with pytest.raises(NotFound):
        reverse.affected_by_standard(db_session, world.a.actor("admin"), world.a.instruments[0].id)
    with pytest.raises(NotFound):  # a client's instrument is not one of the institute's standards
        reverse.affected_by_standard(db_session, institute(world), world.a.instruments[0].id)
    through_link = tenancy_queries.client_actor(db_session, institute(world), world.a.org.id)
    with pytest.raises(NotFound):
        reverse.affected_by_standard(db_session, through_link, recall["standard"].id)
    with pytest.raises(Forbidden):
        reverse.affected_by_standard(db_session, Actor.of(world.institute_technician), recall["standard"].id)
    with pytest.raises(NotFound):
        reverse.notify_affected(db_session, world.a.actor("admin"), recall["standard"].id, None, "x", NOW)


def _notices(session, org_id=None):
    stmt = select(Notification).where(Notification.kind == "standard_notice").order_by(Notification.id)
    if org_id is not None:
        stmt = stmt.where(Notification.org_id == org_id)
    return list(session.scalars(stmt.execution_options(populate_existing=True)))


def test_each_linked_firm_is_told_once_with_its_own_instruments(db_session, world, recall):
    s = recall["standard"]
    summary = reverse.notify_affected(
        db_session, institute(world), s.id, None, "期间核查发现10 MPa点超差", NOW, base_url=BASE_URL
    )
    db_session.commit()
    assert summary.since == date(2025, 1, 10)
    assert summary.recorded
    notices = _notices(db_session)
    assert {n.org_id for n in notices} == {world.a.org.id, recall["firm_c"].id}
    to_a = {(n.recipient_user_id, n.channel) for n in notices if n.org_id == world.a.org.id}
    assert to_a == {(u.id, c) for u in (world.a.admin, world.a.metrology) for c in ("in_app", "email")}
    people_c = recall["people_c"]
    to_c = {(n.recipient_user_id, n.channel) for n in notices if n.org_id == recall["firm_c"].id}
    assert to_c == {
        (u.id, c) for u in (people_c["admin"], people_c["metrology"]) for c in ("in_app", "email")
    }
    a1 = world.a.instruments[1]
    for n in _notices(db_session, world.a.org.id):
        assert "BZ-S01" in n.body
        assert "期间核查发现10 MPa点超差" in n.body
        assert "2025-01-10" in n.body
        assert f"{a1.management_no} " in n.body
        assert f"{BASE_URL}/instruments/{a1.id}" in n.body
        # Nothing of another firm, nor of the institute's own ledger, nor of uses before the window.
        assert "C-001" not in n.body
        assert "BZ-W01" not in n.body
        assert world.a.instruments[0].management_no not in n.body
        assert n.state == ("delivered" if n.channel == "in_app" else "pending")
    for n in _notices(db_session, recall["firm_c"].id):
        assert "C-001" in n.body
        assert a1.management_no not in n.body
    assert {(f.org_id, f.instruments, f.recipients, f.created) for f in summary.firms} == {
        (world.a.org.id, 1, 2, 4),
        (recall["firm_c"].id, 1, 2, 4),
    }

    again = reverse.notify_affected(
        db_session, institute(world), s.id, "2025-01-10", "再次发送", NOW, base_url=BASE_URL
    )
    db_session.commit()
    assert again.created == 0
    assert not again.recorded
    assert len(_notices(db_session)) == 8
    events = db_session.scalars(
        select(Event).where(Event.kind == "standard.out_of_tolerance", Event.subject_id == s.id)
    ).all()
    assert len(events) == 1
    assert (events[0].org_id, events[0].data["since"], events[0].data["own_instruments"]) == (
        world.institute.id,
        "2025-01-10",
        1,
    )
    # Another window is another notice.
    wider = reverse.notify_affected(db_session, institute(world), s.id, "2024-11-01", "扩大追溯范围", NOW)
    assert {f.org_id: f.created for f in wider.firms} == {world.a.org.id: 4, recall["firm_c"].id: 4}


def test_a_reason_is_required(db_session, world, recall):
    with pytest.raises(Invalid) as caught:
        reverse.notify_affected(db_session, institute(world), recall["standard"].id, None, "  ", NOW)
    assert "reason" in caught.value.field_errors
    with pytest.raises(Invalid) as caught:
        reverse.notify_affected(db_session, institute(world), recall["standard"].id, "2025-02-30", "x", NOW)
    assert "since" in caught.value.field_errors
    assert _notices(db_session) == []


# --- pages ---------------------------------------------------------------------------------------


def test_the_institute_page_lists_the_affected_instruments_by_firm(client, world, recall):
    login(client, world.institute_staff)
    page = client.get(f"/standards/{recall['standard'].id}/affected")
    assert page.status_code == 200
    a0, a1, a2 = world.a.instruments
    assert a1.management_no in page.text
    assert "C-001" in page.text
    assert "BZ-W01" in page.text
    for absent in (
        a0.management_no,
        a2.management_no,
        world.b.instruments[0].management_no,
        world.b.org.name,
    ):
        assert absent not in page.text
    assert 'value="2025-01-10"' in page.text
    wider = client.get(f"/standards/{recall['standard'].id}/affected?since=2024-11-01")
    assert a0.management_no in wider.text
    assert client.get(f"/standards/{recall['standard'].id}/affected?since=2025-02-30").status_code == 400


def test_sending_from_the_page_sends_once(client, db_session, world, recall):
    login(client, world.institute_admin)
    path = f"/standards/{recall['standard'].id}/notices"
    response = client.post(path, data={"since": "2025-01-10", "reason": "期间核查超差"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/standards/{recall['standard'].id}/affected?since=2025-01-10"
    )
    assert len(_notices(db_session)) == 8
    assert client.post(path, data={"since": "2025-01-10", "reason": "期间核查超差"}).status_code == 303
    assert len(_notices(db_session)) == 8
    page = client.get(response.headers["Location"])
    assert "未重复发送" in page.text  # "nothing was sent again", in the default language
    # Without a reason nothing is sent, and the page says why.
    assert client.post(path, data={"since": "2024-11-01", "reason": ""}).status_code == 303
    assert len(_notices(db_session)) == 8


def test_firm_users_get_404_on_the_institutes_routes(client, world, recall):
    for user in (world.a.admin, world.a.metrology):
        client.post("/logout")
        login(client, user)
        for target in (recall["standard"].id, world.a.instruments[1].id):
            assert client.get(f"/standards/{target}/affected").status_code == 404
            assert client.post(f"/standards/{target}/notices", data={"reason": "x"}).status_code == 404


def test_a_foreign_standard_is_404_to_the_institute(client, db_session, world, recall):
    other_institute = make_org(db_session, "institute")
    theirs = make_instrument(db_session, Actor.of(make_user(db_session, other_institute, "admin")), TODAY)
    db_session.commit()
    login(client, world.institute_staff)
    for foreign in (theirs.id, world.a.instruments[1].id):
        assert client.get(f"/standards/{foreign}/affected").status_code == 404
        assert client.post(f"/standards/{foreign}/notices", data={"reason": "x"}).status_code == 404
    assert _notices(db_session) == []


def test_a_technician_may_not_send_notices(client, db_session, world, recall):
    login(client, world.institute_technician)
    assert client.get(f"/standards/{recall['standard'].id}/affected").status_code == 403
    assert client.post(f"/standards/{recall['standard'].id}/notices", data={"reason": "x"}).status_code == 403
    assert _notices(db_session) == []


# --- API -----------------------------------------------------------------------------------------


def _headers(session, actor) -> dict:
    _token, secret = create_api_token(session, actor, "recall")
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_api_lists_and_notifies(client, db_session, world, recall):
    headers = _headers(db_session, institute(world))
    s = recall["standard"]
    listed = client.get(f"/api/v1/standards/{s.id}/affected", headers=headers)
    assert listed.status_code == 200
    body = listed.json
    assert (body["since"], body["last_good_on"], body["failed_on"]) == (
        "2025-01-10",
        "2025-01-10",
        "2025-09-01",
    )
    assert {f["org_id"] for f in body["firms"]} == {world.a.org.id, recall["firm_c"].id, world.institute.id}
    assert client.get(f"/api/v1/standards/{s.id}/affected?since=junk", headers=headers).status_code == 400
    sent = client.post(f"/api/v1/standards/{s.id}/notices", json={"reason": "超差"}, headers=headers)
    assert sent.status_code == 200
    assert (sent.json["created"], sent.json["since"]) == (8, "2025-01-10")
    again = client.post(
        f"/api/v1/standards/{s.id}/notices", json={"since": "2025-01-10", "reason": "超差"}, headers=headers
    )
    assert again.json["created"] == 0
    assert len(_notices(db_session)) == 8
    assert (
        client.post(
            f"/api/v1/standards/{s.id}/notices", json={"since": "2025-01-10"}, headers=headers
        ).status_code
        == 400
    )


def test_api_hides_the_institute_tool_from_firms(client, db_session, world, recall):
    headers = _headers(db_session, world.a.actor("admin"))
    for target in (recall["standard"].id, world.a.instruments[1].id):
        assert client.get(f"/api/v1/standards/{target}/affected", headers=headers).status_code == 404
        response = client.post(f"/api/v1/standards/{target}/notices", json={"reason": "x"}, headers=headers)
        assert response.status_code == 404
    assert _notices(db_session) == []


def test_uses_after_the_standard_was_shown_good_again_are_not_suspect(db_session, world, recall):
    s = recall["standard"]
    record(db_session, institute(world), s, "2025-10-01", certificate_no="JD2025-1001")  # repaired, passed
    used_at_firm_a(db_session, world, world.a.instruments[0], "2025-11-01", s, certificate_no="A0-AFTER")
    db_session.commit()
    found = reverse.affected_by_standard(db_session, institute(world), s.id)
    assert found.until == date(2025, 10, 1)
    certificates = {c for firm in _found(found).values() for certs in firm.values() for c in certs}
    assert "A0-AFTER" not in certificates
    assert "A1-2025" in certificates
