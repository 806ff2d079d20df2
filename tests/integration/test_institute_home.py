"""The institute's home: its users land on their clients' work, never on another firm's data."""

from __future__ import annotations

from datetime import timedelta

from service.clock import today_in
from tests.conftest import login
from tests.factories import make_instrument


def _overdue_mandatory(db_session, tenant, number: str):
    today = today_in("Asia/Shanghai")
    return make_instrument(
        db_session,
        tenant.actor(),
        management_no=number,
        is_mandatory=True,
        mandatory_use="trade",
        control_method="verification",
        valid_until=(today - timedelta(days=2)).isoformat(),
    )


def test_institute_users_land_on_the_home_with_linked_clients_only(client, world, db_session):
    _overdue_mandatory(db_session, world.a, "QJ-A")
    _overdue_mandatory(db_session, world.b, "QJ-B")  # firm B is not the institute's client
    db_session.commit()
    for user in (world.institute_staff, world.institute_technician, world.institute_admin):
        login(client, user)
        page = client.get("/").text
        assert 'id="institute-home"' in page
        assert f'data-client="{world.a.org.id}"' in page
        assert f'data-client="{world.b.org.id}"' not in page
        assert world.b.org.name not in page
        client.post("/logout")


def test_a_firms_users_keep_their_dashboard(client, world):
    login(client, world.a.metrology)
    page = client.get("/").text
    assert 'id="institute-home"' not in page
    assert 'data-stat="in_service"' in page
