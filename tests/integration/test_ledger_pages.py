from datetime import date, timedelta

from sqlalchemy import select

from models import Event, Instrument
from service.clock import today_in
from tests.conftest import login


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
