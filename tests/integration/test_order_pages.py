"""Service order pages: the client orders from its ledger, the institute works the order, both see it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import Instrument, ServiceOrder
from service.actors import Actor
from service.clock import now_utc, today_in
from service.orders import operations
from tests import factories
from tests.api import auth
from tests.conftest import login, post_passed_result
from tests.integration.test_no_server_errors import JSON_VALUES, JUNK_VALUES
from tests.routes import fill_path


def _state(db_session, order_id: int) -> str:
    db_session.expire_all()
    return db_session.get(ServiceOrder, order_id).state


def _order_from_the_form(client, db_session, world, instruments, method: str, **fields) -> ServiceOrder:
    """Post the order form as the signed-in user of firm A, one management number a line; return the order."""
    numbers = "\n".join(i.management_no for i in instruments)
    data = {"institute_id": str(world.institute.id), "method": method, "management_nos": numbers}
    client.post("/orders/new", data=data | fields)
    return db_session.scalar(select(ServiceOrder).where(ServiceOrder.firm_id == world.a.org.id))


def test_the_client_orders_from_its_ledger_and_the_institute_works_the_order(client, db_session, world):
    a0, a1, _a2 = world.a.instruments
    login(client, world.a.metrology)
    ledger = client.get("/instruments")
    assert 'id="order-selected"' in ledger.text
    assert 'href="/orders"' in ledger.text  # the menu
    # The ledger's selection opens the form with those instruments, one management number a line.
    form = client.post("/orders/new", data={"from_ledger": "1", "ids": [str(a0.id), str(a1.id)]})
    assert form.status_code == 200
    assert f"{a0.management_no}\n{a1.management_no}</textarea>" in form.text
    assert f'value="{world.institute.id}" selected' in form.text  # the only linked institute
    assert (
        client.post(
            "/orders/new", data={"from_ledger": "1", "ids": [str(world.b.instruments[0].id)]}
        ).status_code
        == 404
    )

    refused = client.post(
        "/orders/new",
        data={
            "institute_id": str(world.institute.id),
            "method": "mail_in",
            "management_nos": f"{a0.management_no}\nNOPE-9\n{a0.management_no}",
        },
    )
    assert refused.status_code == 422
    assert "NOPE-9" in refused.text
    assert len(re.findall(r"invalid-feedback", refused.text)) == 4  # courier, tracking no., two lines
    assert db_session.scalar(select(ServiceOrder.id)) is None

    sent = client.post(
        "/orders/new",
        data={
            "institute_id": str(world.institute.id),
            "method": "mail_in",
            "courier": "顺丰速运",
            "tracking_no": "SF100",
            "management_nos": f"{a0.management_no}\r\n\r\n{a1.management_no}\r\n",
            "note": "联系人：李工",
        },
    )
    assert sent.status_code == 303
    order = db_session.scalar(select(ServiceOrder).where(ServiceOrder.firm_id == world.a.org.id))
    assert sent.headers["Location"].endswith(f"/orders/{order.id}")
    assert f'data-order="{order.id}"' in client.get("/orders").text
    page = client.get(f"/orders/{order.id}")
    assert 'data-order-state="submitted"' in page.text
    assert 'data-action="cancel"' in page.text
    assert a0.management_no in page.text

    client.post("/logout")
    login(client, world.institute_staff)
    listed = client.get("/institute/orders")
    assert f'data-order="{order.id}"' in listed.text
    assert f'data-order="{order.id}"' not in client.get("/institute/orders?state=returned").text
    assert client.get("/institute/orders?state=bogus").status_code == 422
    shown = client.get(f"/institute/orders/{order.id}")
    assert a0.management_no in shown.text
    assert a1.management_no in shown.text
    assert re.findall(r'data-action="(\w+)"', shown.text) == ["accept", "decline"]
    # An illegal move is refused with a message and changes nothing.
    client.post(f"/institute/orders/{order.id}/transition", data={"action": "return"})
    assert _state(db_session, order.id) == "submitted"
    for action in ("accept", "receive", "start"):
        moved = client.post(f"/institute/orders/{order.id}/transition", data={"action": action})
        assert moved.status_code == 303
    assert _state(db_session, order.id) == "in_progress"
    assert db_session.get(Instrument, a0.id).status == "out_for_calibration"
    work = client.get(f"/institute/orders/{order.id}")
    assert work.text.count("data-result-form") == 2
    first, second = db_session.get(ServiceOrder, order.id).items
    path = f"/institute/orders/{order.id}/items/{first.id}/result"
    record = post_passed_result(client, db_session, path, world.a.org.id, "1.002")
    assert record.certificate_no.startswith("JD")
    client.post(f"/institute/orders/{order.id}/items/{second.id}/skip", data={"reason": "外观损坏，无法检定"})
    client.post(f"/institute/orders/{order.id}/transition", data={"action": "complete"})
    no_parcel = client.post(f"/institute/orders/{order.id}/transition", data={"action": "return"})
    assert no_parcel.status_code == 303
    assert _state(db_session, order.id) == "completed"
    client.post(
        f"/institute/orders/{order.id}/transition",
        data={"action": "return", "courier": "EMS", "tracking_no": "EA100"},
    )
    assert _state(db_session, order.id) == "returned"
    assert db_session.get(Instrument, a0.id).status == "in_service"

    client.post("/logout")
    login(client, world.a.metrology)
    seen = client.get(f"/orders/{order.id}").text
    assert re.findall(r'data-step="(\w+)"', seen) == factories.RETURNED_ORDER_STEPS
    assert f'data-record="{record.id}"' in seen
    assert "外观损坏，无法检定" in seen
    assert "EA100" in seen
    assert "data-action=" not in seen
    assert record.certificate_no in client.get(f"/instruments/{a0.id}").text


def test_the_client_cancels_from_the_order_page(client, db_session, world):
    login(client, world.a.admin)
    order = _order_from_the_form(client, db_session, world, world.a.instruments[:1], "drop_off")
    assert client.post(f"/orders/{order.id}/cancel", data={"reason": "计划变更"}).status_code == 303
    assert _state(db_session, order.id) == "cancelled"
    assert "计划变更" in client.get(f"/orders/{order.id}").text


def test_a_form_posted_to_the_other_sides_address_lands_on_the_posters_own_page(client, db_session, world):
    login(client, world.a.admin)
    number = world.a.instruments[0].management_no
    payload = {"institute_id": str(world.institute.id), "method": "drop_off", "management_nos": number}
    client.post("/orders/new", data=payload)
    order = db_session.scalar(select(ServiceOrder).where(ServiceOrder.firm_id == world.a.org.id))
    cancelled = client.post(f"/institute/orders/{order.id}/transition", data={"action": "cancel"})
    assert cancelled.headers["Location"].endswith(f"/orders/{order.id}")
    assert "/institute/" not in cancelled.headers["Location"]
    assert _state(db_session, order.id) == "cancelled"

    client.post("/orders/new", data=payload)  # a new order for the same instrument
    fresh = db_session.scalar(
        select(ServiceOrder).where(ServiceOrder.firm_id == world.a.org.id, ServiceOrder.state == "submitted")
    )
    client.post("/logout")
    login(client, world.institute_staff)
    refused = client.post(f"/orders/{fresh.id}/cancel")  # only the client cancels
    assert refused.headers["Location"].endswith(f"/institute/orders/{fresh.id}")
    assert client.get(refused.headers["Location"]).status_code == 200
    assert _state(db_session, fresh.id) == "submitted"


def test_each_side_has_its_own_pages_and_others_get_404(client, db_session, world):
    login(client, world.a.admin)
    order = _order_from_the_form(client, db_session, world, world.a.instruments[:1], "on_site")
    assert client.get("/institute/orders").status_code == 404
    assert client.get(f"/institute/orders/{order.id}").status_code == 404
    client.post("/logout")
    login(client, world.b.admin)
    assert client.get(f"/orders/{order.id}").status_code == 404
    assert client.post(f"/orders/{order.id}/cancel").status_code == 404
    assert 'id="no-institute"' in client.get("/orders/new").text  # firm B has no institute to order from
    client.post("/logout")
    other = factories.make_user(db_session, factories.make_org(db_session, "institute"), "staff")
    db_session.commit()
    login(client, other)
    assert client.get(f"/institute/orders/{order.id}").status_code == 404
    assert (
        client.post(f"/institute/orders/{order.id}/transition", data={"action": "accept"}).status_code == 404
    )
    assert client.get("/orders").status_code == 404
    assert client.get("/orders/new").status_code == 404
    assert _state(db_session, order.id) == "submitted"


ORDER_FIELDS = [
    "action",
    "reason",
    "courier",
    "tracking_no",
    "institute_id",
    "method",
    "management_nos",
    "note",
    "ids",
    "from_ledger",
    "state",
    "kind",
    "conclusion",
    "confirmation",
    "valid_until",
    "reading-nominal",
]


def _order_paths(app, values: dict, api: bool):
    for rule in app.url_map.iter_rules():
        if "order" not in rule.rule or rule.endpoint.startswith("api.") != api:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, fill_path(rule, values)


def _worked_order(db_session, world) -> dict:
    staff = Actor.of(world.institute_staff)
    order = factories.make_order(
        db_session, world.a.actor(), world.institute.id, world.a.instruments[:1], base_url="http://t"
    )
    for action in ("accept", "receive", "start"):
        operations.transition(
            db_session, staff, order.id, {"action": action}, today_in("Asia/Shanghai"), "http://t", now_utc()
        )
    db_session.commit()
    return {"order_id": order.id, "item_id": order.items[0].id}


@pytest.mark.parametrize("junk", JUNK_VALUES)
def test_the_institutes_order_pages_never_fail_on_junk(app, client, world, db_session, junk):
    with app.test_request_context():
        values = _worked_order(db_session, world)
    login(client, world.institute_staff)
    for method, path in _order_paths(app, values, api=False):
        data = {field: junk for field in ORDER_FIELDS}
        response = client.open(path, method=method, data=data, query_string=data if method == "GET" else None)
        assert response.status_code < 500, (method, path, junk[:20], response.status_code)


@pytest.mark.parametrize("junk", JSON_VALUES)
def test_the_order_api_never_fails_on_junk_from_the_institute(app, client, world, db_session, junk):
    with app.test_request_context():
        values = _worked_order(db_session, world)
    headers = auth(db_session, world.institute_staff)
    for method, path in _order_paths(app, values, api=True):
        for body in ({field: junk for field in ORDER_FIELDS}, junk, {"action": "complete", "reason": junk}):
            response = client.open(path, method=method, json=body, headers=headers)
            assert response.status_code < 500, (method, path, body, response.status_code)
            assert response.is_json


def test_order_form_issue_16(client, db_session, world):
    """Management numbers in any case; no method chosen asks for one; each message once."""
    a0, _a1, _a2 = world.a.instruments
    login(client, world.a.metrology)
    form = client.post("/orders/new", data={"from_ledger": "1", "ids": [str(a0.id)]})
    assert 'name="method" id="method-mail_in" value="mail_in" checked' not in form.text  # nobody chose yet
    no_method = client.post(
        "/orders/new", data={"institute_id": str(world.institute.id), "management_nos": a0.management_no}
    )
    assert no_method.status_code == 422
    assert "请选择送检方式" in no_method.text
    assert "快递" not in re.sub(r"<label[^>]*>.*?</label>", "", no_method.text)  # no courier message
    mail_in = client.post(
        "/orders/new",
        data={
            "institute_id": str(world.institute.id),
            "method": "mail_in",
            "management_nos": a0.management_no,
        },
    )
    feedback = re.findall(r'<div class="invalid-feedback d-block">([^<]*)</div>', mail_in.text)
    assert len(feedback) == 2
    assert len(set(feedback)) == 2  # not the same sentence twice
    lower = client.post(
        "/orders/new",
        data={
            "institute_id": str(world.institute.id),
            "method": "drop_off",
            "management_nos": a0.management_no.lower(),
        },
    )
    assert lower.status_code == 303, lower.text


def test_order_progress_counts_skipped_apart_and_messages_come_once(client, db_session, world):
    a0, a1, _a2 = world.a.instruments
    login(client, world.a.metrology)
    order = _order_from_the_form(
        client, db_session, world, [a0, a1], "mail_in", courier="顺丰速运", tracking_no="SF100"
    )
    client.post("/logout")
    login(client, world.institute_staff)
    for action in ("accept", "receive", "start"):
        client.post(f"/institute/orders/{order.id}/transition", data={"action": action})
    first, second = db_session.get(ServiceOrder, order.id).items
    client.post(
        f"/institute/orders/{order.id}/items/{first.id}/result",
        data={"kind": "verification", "conclusion": "pass"},
    )
    client.post(f"/institute/orders/{order.id}/items/{second.id}/skip", data={"reason": "外观损坏"})
    client.post(f"/institute/orders/{order.id}/transition", data={"action": "complete"})
    shown = client.get(f"/institute/orders/{order.id}").text
    progress = re.search(r'id="progress">([^<]*)<', shown).group(1)
    assert "已完成1台" in progress
    assert "未做1台" in progress
    refused = client.post(
        f"/institute/orders/{order.id}/transition", data={"action": "return"}, follow_redirects=True
    )
    alert = re.search(r"alert-danger[^>]*>(.*?)</div>", refused.text, re.S).group(1)
    sentences = [s.strip() for s in re.sub(r"<[^>]+>", "", alert).split("。") if s.strip()]
    assert len(sentences) == len(set(sentences)) == 2  # the courier and the tracking no., each once
