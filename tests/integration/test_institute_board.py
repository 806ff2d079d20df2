"""The institute's workspace: the client directory's counts, the due board (page, API, xlsx), technicians.

Across tenants only as far as the active client links go: a firm that ends its link disappears,
a firm never linked never shows, and a firm's user finds none of these pages (404).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import event, select

from models import ClientLink, Instrument, Technician, TechnicianDayOff
from models.base import utcnow
from service.actors import Actor
from service.auth.operations import create_api_token
from service.clock import today_in
from service.tenancy import operations as tenancy_ops
from service.visits import board
from tests.conftest import login
from tests.factories import make_instrument, make_org, make_technician, make_user

API = "/api/v1"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _today() -> date:
    return today_in("Asia/Shanghai")


def _due(session, tenant_actor, name: str, days: int, **fields) -> Instrument:
    """An instrument whose certificate runs out ``days`` from today (negative: overdue)."""
    valid_until = _today() + timedelta(days=days)
    last = min(valid_until, _today()) - timedelta(days=300)
    return make_instrument(
        session,
        tenant_actor,
        _today(),
        name=name,
        last_done_on=last.isoformat(),
        valid_until=valid_until.isoformat(),
        **fields,
    )


MANDATORY = {"is_mandatory": True, "mandatory_use": "trade"}


@dataclass
class Clients:
    """Firm A (Zhengzhou, SME) and firm C (Luoyang, large) linked; B never linked; D linked, then not."""

    c: object
    c_admin: object
    d: object
    a: dict
    c_items: dict
    b_item: Instrument
    d_item: Instrument


@pytest.fixture
def clients(db_session, world) -> Clients:
    a = world.a
    a.org.region_code, a.org.industry, a.org.employees = "410100", "化工", 120
    a.admin.mobile = "13800138000"
    # Not contacts: an inactive administrator, and an engineer.
    gone = make_user(db_session, a.org, "admin", name="离职管理员")
    gone.is_active = False
    ax = a.actor()
    a_items = {
        "gauge": _due(db_session, ax, "一般压力表", 10),
        "scale": _due(db_session, ax, "电子天平", 60, **MANDATORY),
        "thermometer": _due(db_session, ax, "玻璃液体温度计", -5, **MANDATORY),
        "caliper": _due(db_session, ax, "游标卡尺", -40),
        "scrapped": _due(db_session, ax, "压力表", -20, **MANDATORY),
        "formula": _due(db_session, ax, '=HYPERLINK("http://evil.test")压力表', 20),
    }
    a_items["scrapped"].status = "scrapped"  # no longer expected back: counted, but never due
    c = make_org(
        db_session,
        "firm",
        name="洛阳重工",
        region_code="410300",
        industry="机械",
        employees=5000,
        annual_revenue_wan=Decimal(100000),
    )
    c_admin = make_user(db_session, c, "admin", name="王经理", mobile="13900139000")
    tenancy_ops.link_client(db_session, world.institute.id, c.id)
    cx = Actor.of(c_admin)
    c_items = {
        "multimeter": _due(db_session, cx, "数字万用表", 25),
        "sphygmomanometer": _due(db_session, cx, "血压计", -3, **MANDATORY),
    }
    # Firm B is not a client of this institute (another institute serves it).
    other = make_org(db_session, "institute")
    tenancy_ops.link_client(db_session, other.id, world.b.org.id)
    b_item = _due(db_session, world.b.actor(), "一般压力表", 5)
    # Firm D was a client and ended the link.
    d = make_org(db_session, "firm", name="已解约企业", region_code="410100")
    d_admin = make_user(db_session, d, "admin")
    link = tenancy_ops.link_client(db_session, world.institute.id, d.id)
    d_item = _due(db_session, Actor.of(d_admin), "一般压力表", 5)
    link.ended_at = utcnow()
    db_session.commit()
    return Clients(c, c_admin, d, a_items, c_items, b_item, d_item)


def _headers(db_session, user) -> dict:
    _, token = create_api_token(db_session, Actor.of(user), "t")
    db_session.commit()
    return {"Authorization": f"Bearer {token}"}


def _ids(*instruments) -> set[int]:
    return {i.id for i in instruments}


def _row_pairs(page: str):
    """The directory's rows: (client slug, row's HTML)."""
    for match in re.finditer(r'<tr data-client="([^"]+)"(.*?)</tr>', page, re.S):
        yield match.group(1), match.group(2)


def _counts(row: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(?:<a [^>]*>)?(\d+)', row)}


# -- The client directory ------------------------------------------------------------------------

EXPECTED_A = {"instruments": 9, "due_30": 2, "due_90": 3, "overdue": 2, "mandatory_overdue": 1}
EXPECTED_C = {"instruments": 2, "due_30": 1, "due_90": 1, "overdue": 1, "mandatory_overdue": 1}


def test_directory_counts_each_linked_client_in_one_query(db_session, world, clients, engine):
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        entries = board.client_directory(db_session, Actor.of(world.institute_staff), _today())
    finally:
        event.remove(engine, "before_cursor_execute", record)
    by_slug = {e.firm.slug: e for e in entries}
    assert set(by_slug) == {world.a.org.slug, clients.c.slug}
    assert vars(by_slug[world.a.org.slug].counts) == EXPECTED_A
    assert vars(by_slug[clients.c.slug].counts) == EXPECTED_C
    # One grouped count across the linked firms, whatever their number.
    assert len([s for s in statements if "FROM instruments" in s]) == 1
    a = by_slug[world.a.org.slug]
    assert (a.region, a.firm.industry, a.is_sme) == ("郑州市", "化工", True)
    assert [(c.name, c.mobile, c.email) for c in a.contacts] == [
        (world.a.admin.name, "13800138000", world.a.admin.email)
    ]
    assert by_slug[clients.c.slug].is_sme is False


def test_directory_page_shows_counts_contacts_and_filters(client, world, clients):
    login(client, world.institute_staff)
    page = client.get("/org/clients").text
    rows = dict(_row_pairs(page))
    assert set(rows) == {world.a.org.slug, clients.c.slug}  # B never linked, D ended its link
    a_row, c_row = rows[world.a.org.slug], rows[clients.c.slug]
    assert _counts(a_row) == EXPECTED_A
    assert _counts(c_row) == EXPECTED_C
    assert f"/clients/{world.a.org.id}/instruments" in a_row
    assert "郑州市" in a_row
    assert "化工" in a_row
    assert "data-green-channel" in a_row
    assert "洛阳市" in c_row
    assert "机械" in c_row
    assert "data-green-channel" not in c_row
    assert world.a.admin.email in a_row
    assert "13800138000" in a_row
    assert "离职管理员" not in a_row
    assert world.a.metrology.email not in a_row
    assert "王经理" in c_row
    assert "13900139000" in c_row

    def slugs(query: str) -> set[str]:
        response = client.get(f"/org/clients?{query}")
        assert response.status_code == 200
        return set(dict(_row_pairs(response.text)))

    assert slugs("region=410300") == {clients.c.slug}
    assert slugs("region=410100") == {world.a.org.slug}
    assert slugs("sme=true") == {world.a.org.slug}
    assert slugs("sme=false") == {clients.c.slug}
    assert client.get("/org/clients?region=999999").status_code == 422


def test_directory_api(client, db_session, world, clients):
    headers = _headers(db_session, world.institute_technician)
    response = client.get(f"{API}/clients", headers=headers)
    assert response.status_code == 200, response.json
    items = {item["slug"]: item for item in response.json["items"]}
    assert set(items) == {world.a.org.slug, clients.c.slug}
    assert items[world.a.org.slug]["counts"] == EXPECTED_A
    assert items[clients.c.slug]["counts"] == EXPECTED_C
    assert items[world.a.org.slug]["is_sme"] is True
    assert items[world.a.org.slug]["region"] == "郑州市"
    assert items[world.a.org.slug]["contacts"][0]["email"] == world.a.admin.email
    response = client.get(f"{API}/clients?sme=false", headers=headers)
    assert [i["slug"] for i in response.json["items"]] == [clients.c.slug]
    response = client.get(f"{API}/clients?region=1", headers=headers)
    assert response.status_code == 400
    assert "region" in response.json["errors"]


# -- The due board -------------------------------------------------------------------------------


def _board(client, headers, query: str = "") -> dict:
    response = client.get(f"{API}/due-board?{query}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def _item_ids(body: dict) -> set[int]:
    return {item["id"] for item in body["items"]}


def _groups(body: dict, kind: str) -> dict:
    return {g["key"]: (g["count"], g["overdue"]) for g in body["groups"][kind]}


def test_board_lists_the_linked_clients_due_instruments_grouped(client, db_session, world, clients):
    a, c = clients.a, clients.c_items
    headers = _headers(db_session, world.institute_staff)
    body = _board(client, headers, "within=30")
    # Overdue ones included; not the scrapped one, not B's (never linked) nor D's (link ended).
    assert _item_ids(body) == _ids(
        a["gauge"], a["formula"], a["thermometer"], a["caliper"], c["multimeter"], c["sphygmomanometer"]
    )
    assert (body["total"], body["overdue"], body["within"]) == (6, 3, 30)
    assert _groups(body, "city") == {"410100": (4, 2), "410300": (2, 1)}
    assert _groups(body, "client") == {world.a.org.id: (4, 2), clients.c.id: (2, 1)}
    assert _groups(body, "discipline") == {
        "pressure": (2, 0),
        "temperature": (1, 1),
        "length": (1, 1),
        "electrical": (1, 0),
        "medical": (1, 1),
    }
    # Groups come in the board's order: cities as the reference list has them, disciplines as DISCIPLINES.
    assert [g["name"] for g in body["groups"]["city"]] == ["郑州市", "洛阳市"]
    order = ["length", "pressure", "temperature", "electrical", "medical"]
    assert [g["key"] for g in body["groups"]["discipline"]] == order
    items = {item["id"]: item for item in body["items"]}
    thermometer = items[a["thermometer"].id]
    assert (thermometer["days_left"], thermometer["is_overdue"], thermometer["is_mandatory"]) == (
        -5,
        True,
        True,
    )
    assert thermometer["discipline"] == "temperature"
    assert thermometer["client"] == world.a.org.slug
    assert items[a["gauge"].id]["days_left"] == 10
    # Most urgent first.
    dues = [item["next_due_on"] for item in body["items"]]
    assert dues == sorted(dues)
    # A wider window takes in the scale due in 60 days.
    assert _item_ids(_board(client, headers, "within=90")) == _item_ids(body) | _ids(a["scale"])
    assert _board(client, headers)["within"] == 30


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("region=410300", ("multimeter", "sphygmomanometer")),
        ("region=410100", ("gauge", "formula", "thermometer", "caliper")),
        ("discipline=pressure", ("gauge", "formula")),
        ("discipline=mass&within=90", ("scale",)),
        ("mandatory=true", ("thermometer", "sphygmomanometer")),
        ("mandatory=true&within=90", ("scale", "thermometer", "sphygmomanometer")),
        ("overdue=true", ("thermometer", "caliper", "sphygmomanometer")),
        ("overdue=true&discipline=medical&region=410300", ("sphygmomanometer",)),
        ("discipline=flow", ()),
    ],
)
def test_board_filters(client, db_session, world, clients, query, expected):
    named = clients.a | clients.c_items
    body = _board(client, _headers(db_session, world.institute_staff), query)
    assert _item_ids(body) == _ids(*(named[n] for n in expected))
    assert sum(g["count"] for g in body["groups"]["client"]) == len(expected)


def test_board_filter_by_client(client, db_session, world, clients):
    headers = _headers(db_session, world.institute_staff)
    body = _board(client, headers, f"client={clients.c.id}")
    assert _item_ids(body) == _ids(*clients.c_items.values())
    # Another institute's client, a firm whose link ended, or no firm at all: the same refusal.
    for firm_id in (world.b.org.id, clients.d.id, 10**6):
        response = client.get(f"{API}/due-board?client={firm_id}", headers=headers)
        assert response.status_code == 400
        assert "client" in response.json["errors"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("within=0", "within"),
        ("within=367", "within"),
        ("within=1.5", "within"),
        ("discipline=astrology", "discipline"),
        ("region=110000", "region"),
        ("mandatory=perhaps", "mandatory"),
        ("client=x", "client"),
        ("colour=red", "colour"),
    ],
)
def test_board_refuses_bad_filters(client, db_session, world, clients, query, field):
    response = client.get(f"{API}/due-board?{query}", headers=_headers(db_session, world.institute_staff))
    assert response.status_code == 400
    assert field in response.json["errors"]
    login(client, world.institute_staff)
    response = client.get(f"/institute/due?{query}")
    assert response.status_code == 422
    assert f'data-field="{field}"' in response.text


def test_board_page(client, world, clients):
    a, c = clients.a, clients.c_items
    login(client, world.institute_technician)  # technicians may look too
    response = client.get("/institute/due?within=30")
    assert response.status_code == 200
    page = response.text
    listed = {int(i) for i in re.findall(r'<tr data-instrument="(\d+)"', page)}
    assert listed == _ids(
        a["gauge"], a["formula"], a["thermometer"], a["caliper"], c["multimeter"], c["sphygmomanometer"]
    )
    assert f'href="/clients/{world.a.org.id}/instruments/{a["gauge"].id}"' in page
    assert f'href="/clients/{clients.c.id}/instruments/{c["multimeter"].id}"' in page
    assert re.search(rf'data-instrument="{a["thermometer"].id}"[^>]*data-overdue', page)
    assert 'data-group="410100" data-count="4" data-overdue="2"' in page
    assert f'data-group="{clients.c.id}" data-count="2" data-overdue="1"' in page
    assert 'data-group="pressure" data-count="2" data-overdue="0"' in page
    assert 'data-total="6"' in page
    assert 'data-overdue="3"' in page
    assert world.b.org.name not in page
    assert clients.d.name not in page
    page = client.get("/institute/due?within=90&discipline=mass").text
    assert {int(i) for i in re.findall(r'<tr data-instrument="(\d+)"', page)} == _ids(a["scale"])
    # The instrument's link opens it in the client's ledger.
    assert client.get(f"/clients/{world.a.org.id}/instruments/{a['gauge'].id}").status_code == 200


def test_a_firm_that_ends_its_link_disappears(client, db_session, world, clients):
    headers = _headers(db_session, world.institute_staff)
    assert world.a.org.id in _groups(_board(client, headers), "client")
    link = db_session.scalar(
        select(ClientLink).where(
            ClientLink.firm_id == world.a.org.id, ClientLink.institute_id == world.institute.id
        )
    )
    login(client, world.a.admin)
    assert client.post(f"/org/links/{link.id}/end").status_code == 303
    client.post("/logout")
    body = _board(client, headers, "within=366")
    assert _item_ids(body) == _ids(*clients.c_items.values())
    assert set(_groups(body, "client")) == {clients.c.id}
    assert client.get(f"{API}/due-board?client={world.a.org.id}", headers=headers).status_code == 400
    assert [i["slug"] for i in client.get(f"{API}/clients", headers=headers).json["items"]] == [
        clients.c.slug
    ]
    login(client, world.institute_staff)
    assert f'data-client="{world.a.org.slug}"' not in client.get("/org/clients").text
    assert world.a.org.name not in client.get("/institute/due?within=366").text


def _sheet(data: bytes, index: int = 0) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(index).to_python()


def test_board_exports_xlsx_with_neutralised_text(client, db_session, world, clients):
    a, c = clients.a, clients.c_items
    login(client, world.institute_staff)
    response = client.get("/institute/due.xlsx?within=30")
    assert response.status_code == 200
    assert response.mimetype == XLSX
    assert "due-board-" in response.headers["Content-Disposition"]
    rows = _sheet(response.data)
    header, data = rows[0], rows[1:]
    assert len(header) == len(board.ITEM_COLUMNS)
    by_no = {row[2]: row for row in data}
    expected = (
        a["gauge"],
        a["formula"],
        a["thermometer"],
        a["caliper"],
        c["multimeter"],
        c["sphygmomanometer"],
    )
    assert set(by_no) == {i.management_no for i in expected}
    formula = by_no[a["formula"].management_no]
    assert formula[3] == '\'=HYPERLINK("http://evil.test")压力表'  # text, not a formula
    thermometer = by_no[a["thermometer"].management_no]
    assert thermometer[0] == world.a.org.name
    assert thermometer[1] == "郑州市"
    assert thermometer[8] == a["thermometer"].next_due_on  # a real date
    assert thermometer[9] == -5  # a number
    assert all(
        isinstance(cell, str) and not cell.startswith("=")
        for row in data
        for cell in row
        if isinstance(cell, str)
    )
    counts = _sheet(response.data, 1)
    assert sum(row[2] for row in counts[1:]) == 3 * len(expected)  # each instrument once per grouping
    # The API's export takes the same filters.
    headers = _headers(db_session, world.institute_staff)
    response = client.get(f"{API}/due-board.xlsx?discipline=pressure", headers=headers)
    assert response.status_code == 200
    assert {row[2] for row in _sheet(response.data)[1:]} == {
        a["gauge"].management_no,
        a["formula"].management_no,
    }
    # A bad filter is refused, with the field named.
    response = client.get(f"{API}/due-board.xlsx?within=999", headers=headers)
    assert response.status_code == 400
    assert "within" in response.json["errors"]
    assert client.get("/institute/due.xlsx?within=999").status_code == 422


# -- Technicians ---------------------------------------------------------------------------------


@pytest.fixture
def admin_en(db_session, world):
    """The institute's administrator, reading English (field messages are checked word for word)."""
    world.institute_admin.locale = "en"
    db_session.commit()
    return world.institute_admin


def _form(**fields) -> dict:
    return {
        "name": "郭志强",
        "disciplines": ["pressure", "mass"],
        "daily_capacity": "8",
        "is_active": "on",
    } | fields


def _field_error(page: str, field: str) -> str:
    """The message under a field of the form (the first one)."""
    found = re.search(rf'name="{field}".*?<div class="invalid-feedback d-block">([^<]*)</div>', page, re.S)
    assert found, f"no message under {field}"
    return found.group(1)


def test_technicians_through_the_pages(client, db_session, world, admin_en):
    login(client, admin_en)
    assert client.get("/institute/technicians").status_code == 200
    assert client.get("/institute/technicians/new").status_code == 200
    response = client.post(
        "/institute/technicians/new", data=_form(user_id=str(world.institute_technician.id))
    )
    assert response.status_code == 303
    technician = db_session.scalar(select(Technician).where(Technician.org_id == world.institute.id))
    assert (technician.name, technician.disciplines, technician.daily_capacity, technician.is_active) == (
        "郭志强",
        ["mass", "pressure"],
        8,
        True,
    )
    assert technician.user_id == world.institute_technician.id
    assert response.headers["Location"].endswith(f"/institute/technicians/{technician.id}")
    # Bad input is refused with a message under its field, and changes nothing.
    for data, field, message in [
        (_form(disciplines=["pressure", "astrology"]), "disciplines", "Unknown discipline: astrology."),
        (_form(daily_capacity="0"), "daily_capacity", "Must be between 1 and 500."),
        (_form(daily_capacity="501"), "daily_capacity", "Must be between 1 and 500."),
        (_form(name=""), "name", "Field may not be null."),
        (_form(user_id=str(world.a.admin.id)), "user_id", "No such user in your institute."),
    ]:
        response = client.post(f"/institute/technicians/{technician.id}", data=data)
        assert response.status_code == 422, (field, response.status_code)
        assert _field_error(response.text, field) == message
    no_discipline = {k: v for k, v in _form().items() if k != "disciplines"}
    response = client.post("/institute/technicians/new", data=no_discipline)
    assert response.status_code == 422
    assert _field_error(response.text, "disciplines")
    assert db_session.scalar(select(Technician.id).where(Technician.name == "")) is None
    db_session.expire_all()
    assert db_session.get(Technician, technician.id).daily_capacity == 8
    # A second technician cannot take the same account.
    response = client.post(
        "/institute/technicians/new", data=_form(name="李明", user_id=str(world.institute_technician.id))
    )
    assert response.status_code == 422
    assert _field_error(response.text, "user_id") == "This user is already a technician."
    # Edit: unticking "active" deactivates.
    data = {
        k: v
        for k, v in _form(name="郭志强", daily_capacity="12", disciplines=["length"]).items()
        if k != "is_active"
    }
    assert client.post(f"/institute/technicians/{technician.id}", data=data).status_code == 303
    db_session.expire_all()
    changed = db_session.get(Technician, technician.id)
    assert (changed.daily_capacity, changed.disciplines, changed.is_active, changed.user_id) == (
        12,
        ["length"],
        False,
        None,
    )
    # Days off: add, list (technicians' list shows the next 60 days), remove.
    soon, later = _today() + timedelta(days=3), _today() + timedelta(days=90)
    path = f"/institute/technicians/{technician.id}/days-off"
    assert client.post(path, data={"day": soon.isoformat(), "reason": "培训"}).status_code == 303
    assert client.post(path, data={"day": later.isoformat()}).status_code == 303
    listing = client.get("/institute/technicians").text
    assert f'data-day-off="{soon.isoformat()}"' in listing
    assert f'data-day-off="{later.isoformat()}"' not in listing  # beyond 60 days
    assert 'data-capacity="12"' in listing
    assert 'data-discipline="length"' in listing
    assert 'data-active="no"' in listing
    own = client.get(f"/institute/technicians/{technician.id}").text
    assert f'data-day-off="{soon.isoformat()}"' in own
    assert "培训" in own
    assert f'data-day-off="{later.isoformat()}"' in own
    response = client.post(path, data={"day": "2025-02-30"})
    assert response.status_code == 422
    assert _field_error(response.text, "day") == "Not a valid date."
    assert client.post(f"{path}/remove", data={"day": soon.isoformat()}).status_code == 303
    days = db_session.scalars(
        select(TechnicianDayOff.day).where(TechnicianDayOff.technician_id == technician.id)
    )
    assert list(days) == [later]
    assert (
        client.post(f"{path}/remove", data={"day": "not a day"}).status_code == 303
    )  # flashed, nothing changed
    assert db_session.scalar(select(TechnicianDayOff.id).where(TechnicianDayOff.day == later)) is not None


@pytest.fixture
def technician(db_session, world) -> Technician:
    found = make_technician(
        db_session, Actor.of(world.institute_admin), name="李明", disciplines=["mass"], daily_capacity=6
    )
    db_session.commit()
    return found


@pytest.fixture
def foreign_technician(db_session) -> Technician:
    other = make_org(db_session, "institute")
    admin = make_user(db_session, other, "admin")
    found = make_technician(
        db_session, Actor.of(admin), name="外所技术员", disciplines=["mass"], daily_capacity=6
    )
    db_session.commit()
    return found


def test_staff_and_technicians_look_but_do_not_change(client, world, technician):
    for user in (world.institute_staff, world.institute_technician):
        client.post("/logout")
        login(client, user)
        assert client.get("/institute/technicians").status_code == 200
        page = client.get(f"/institute/technicians/{technician.id}").text
        assert "<fieldset disabled>" in page
        assert client.get("/institute/technicians/new").status_code == 403
        assert client.post("/institute/technicians/new", data=_form()).status_code == 403
        assert client.post(f"/institute/technicians/{technician.id}", data=_form()).status_code == 403
        day = {"day": _today().isoformat()}
        assert client.post(f"/institute/technicians/{technician.id}/days-off", data=day).status_code == 403
        assert (
            client.post(f"/institute/technicians/{technician.id}/days-off/remove", data=day).status_code
            == 403
        )


def test_firm_users_and_other_institutes_find_nothing(
    client, db_session, world, technician, foreign_technician
):
    day = {"day": _today().isoformat()}
    for user in (world.a.admin, world.a.metrology, world.a.viewer):
        client.post("/logout")
        login(client, user)
        for path in (
            "/institute/due",
            "/institute/due?within=90",
            "/institute/due.xlsx",
            "/institute/technicians",
            "/institute/technicians/new",
            f"/institute/technicians/{technician.id}",
        ):
            assert client.get(path).status_code == 404, (user.role, path)
        for path in (
            "/institute/technicians/new",
            f"/institute/technicians/{technician.id}",
            f"/institute/technicians/{technician.id}/days-off",
            f"/institute/technicians/{technician.id}/days-off/remove",
        ):
            assert client.post(path, data=_form() | day).status_code == 404, (user.role, path)
    client.post("/logout")
    login(client, world.institute_admin)
    foreign = f"/institute/technicians/{foreign_technician.id}"
    assert client.get(foreign).status_code == 404
    for path in (foreign, f"{foreign}/days-off", f"{foreign}/days-off/remove"):
        assert client.post(path, data=_form() | day).status_code == 404
    db_session.expire_all()
    assert db_session.get(Technician, foreign_technician.id).name == "外所技术员"
    # The API answers a firm's token with 404 too.
    headers = _headers(db_session, world.a.admin)
    for method, path in (
        ("GET", "/clients"),
        ("GET", "/due-board"),
        ("GET", "/due-board.xlsx"),
        ("GET", "/technicians"),
        ("POST", "/technicians"),
        ("GET", f"/technicians/{technician.id}"),
        ("PUT", f"/technicians/{technician.id}"),
        ("POST", f"/technicians/{technician.id}/days-off"),
        ("DELETE", f"/technicians/{technician.id}/days-off/{_today().isoformat()}"),
    ):
        response = client.open(f"{API}{path}", method=method, json=day, headers=headers)
        assert response.status_code == 404, (method, path, response.status_code)
        assert response.is_json


def test_technicians_through_the_api(client, db_session, world, foreign_technician):
    admin = _headers(db_session, world.institute_admin)
    body = {"name": "郭志强", "disciplines": ["pressure"], "daily_capacity": 5}
    response = client.post(f"{API}/technicians", json=body, headers=admin)
    assert response.status_code == 201, response.json
    created = response.json
    assert (created["name"], created["disciplines"], created["daily_capacity"], created["is_active"]) == (
        "郭志强",
        ["pressure"],
        5,
        True,
    )
    path = f"{API}/technicians/{created['id']}"
    for bad, field in [
        (body | {"disciplines": ["astrology"]}, "disciplines"),
        (body | {"disciplines": []}, "disciplines"),
        (body | {"daily_capacity": 0}, "daily_capacity"),
        (body | {"user_id": world.a.admin.id}, "user_id"),
        (body | {"colour": "red"}, "colour"),
    ]:
        for method, url in (("POST", f"{API}/technicians"), ("PUT", path)):
            response = client.open(url, method=method, json=bad, headers=admin)
            assert response.status_code == 400, (method, bad)
            assert field in response.json["errors"], (method, bad, response.json)
    assert [t["name"] for t in client.get(f"{API}/technicians", headers=admin).json["items"]] == ["郭志强"]
    response = client.put(path, json=body | {"daily_capacity": 9, "is_active": False}, headers=admin)
    assert response.status_code == 200
    assert (response.json["daily_capacity"], response.json["is_active"]) == (9, False)
    day = _today() + timedelta(days=2)
    response = client.post(f"{path}/days-off", json={"day": day.isoformat(), "reason": "年假"}, headers=admin)
    assert response.status_code == 201
    assert response.json == {"day": day.isoformat(), "reason": "年假"}
    assert client.post(f"{path}/days-off", json={"day": "2025-02-30"}, headers=admin).status_code == 400
    assert client.get(path, headers=admin).json["days_off"] == [{"day": day.isoformat(), "reason": "年假"}]
    assert client.delete(f"{path}/days-off/not-a-day", headers=admin).status_code == 404
    assert client.delete(f"{path}/days-off/{day.isoformat()}", headers=admin).status_code == 204
    assert client.get(path, headers=admin).json["days_off"] == []
    # Staff read, but do not change.
    staff = _headers(db_session, world.institute_staff)
    assert client.get(path, headers=staff).status_code == 200
    assert client.put(path, json=body, headers=staff).status_code == 403
    assert client.post(f"{API}/technicians", json=body, headers=staff).status_code == 403
    assert client.post(f"{path}/days-off", json={"day": day.isoformat()}, headers=staff).status_code == 403
    # Another institute's technician is 404, whatever the body.
    foreign = f"{API}/technicians/{foreign_technician.id}"
    assert client.get(foreign, headers=admin).status_code == 404
    assert client.put(foreign, json={}, headers=admin).status_code == 404
    assert client.post(f"{foreign}/days-off", json={}, headers=admin).status_code == 404
    assert client.delete(f"{foreign}/days-off/{day.isoformat()}", headers=admin).status_code == 404


def test_openapi_documents_the_institute_endpoints(client):
    document = client.get(f"{API}/openapi.json").json
    for path in ("/clients", "/due-board", "/due-board.xlsx", "/technicians", "/technicians/{technician_id}"):
        assert f"{API}{path}" in document["paths"], path
    listed = {p["name"] for p in document["paths"][f"{API}/due-board"]["get"]["parameters"]}
    assert listed == {"within", "region", "client", "discipline", "mandatory", "overdue"}
    assert "technician_id" in document["components"]["parameters"]
