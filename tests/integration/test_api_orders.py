"""The service orders API: the client submits, the institute works the order, each side sees only its own."""

from __future__ import annotations

from sqlalchemy import func, select

from models import Notification
from tests import factories
from tests.api import API, auth


def test_the_order_journey_through_the_api(client, db_session, world):
    a0, a1, _a2 = world.a.instruments
    firm, staff, other_firm = (
        auth(db_session, u) for u in (world.a.metrology, world.institute_staff, world.b.admin)
    )
    other_institute = factories.make_org(db_session, "institute")
    stranger = auth(db_session, factories.make_user(db_session, other_institute, "admin"))

    body = {
        "institute_id": world.institute.id,
        "method": "mail_in",
        "instrument_ids": [a0.id],
        "management_nos": [a1.management_no],
    }
    missing = client.post(f"{API}/orders", headers=firm, json=body)
    assert missing.status_code == 400
    assert set(missing.json["errors"]) == {"courier", "tracking_no"}
    lines = client.post(
        f"{API}/orders", headers=firm, json={**body, "method": "drop_off", "management_nos": ["", "NOPE"]}
    )
    assert lines.status_code == 400
    [message] = lines.json["errors"]["management_nos"]
    assert "2" in message
    assert "NOPE" in message  # line 2 names the unknown number, in the user's language
    foreign = {**body, "method": "drop_off", "instrument_ids": [world.b.instruments[0].id]}
    assert client.post(f"{API}/orders", headers=firm, json=foreign).status_code == 404
    unlinked = {**body, "method": "drop_off", "institute_id": other_institute.id}
    assert client.post(f"{API}/orders", headers=firm, json=unlinked).json["errors"].keys() == {"institute_id"}
    assert (
        client.post(f"{API}/orders", headers=staff, json=body).status_code == 404
    )  # institutes do not order

    created = client.post(
        f"{API}/orders", headers=firm, json={**body, "courier": "顺丰", "tracking_no": "SF1"}
    )
    assert created.status_code == 201, created.json
    order = created.json
    assert (order["state"], [i["instrument_id"] for i in order["items"]]) == ("submitted", [a0.id, a1.id])
    assert [i["management_no"] for i in order["items"]] == [a0.management_no, a1.management_no]
    path = f"{API}/orders/{order['id']}"

    # Each side sees it; nobody else does.
    assert client.get(path, headers=staff).json["items"][0]["management_no"] == a0.management_no
    assert [o["id"] for o in client.get(f"{API}/orders", headers=staff).json["items"]] == [order["id"]]
    assert [o["id"] for o in client.get(f"{API}/orders", headers=firm).json["items"]] == [order["id"]]
    assert client.get(f"{API}/orders?state=bogus", headers=staff).status_code == 400
    for headers in (other_firm, stranger):
        assert client.get(path, headers=headers).status_code == 404
        assert (
            client.post(f"{path}/transition", headers=headers, json={"action": "cancel"}).status_code == 404
        )
        assert client.get(f"{API}/orders", headers=headers).json["items"] == []

    refused = client.post(f"{path}/transition", headers=staff, json={"action": "start"})
    assert refused.status_code == 409
    assert refused.json["message"]
    assert client.post(f"{path}/transition", headers=firm, json={"action": "accept"}).status_code == 409
    for action in ("accept", "receive", "start"):
        moved = client.post(f"{path}/transition", headers=staff, json={"action": action})
        assert moved.status_code == 200, moved.json
    assert moved.json["state"] == "in_progress"
    assert [i["status"] for i in moved.json["items"]] == ["out_for_calibration"] * 2

    first, second = (i["id"] for i in moved.json["items"])
    result = client.post(
        f"{path}/items/{first}/result", headers=staff, json={"kind": "calibration", "confirmation": "fit"}
    )
    assert result.status_code == 201, result.json
    assert result.json["certificate_no"].startswith("JZ")
    skipped = client.post(f"{path}/items/{second}/skip", headers=staff, json={"reason": "未收到"})
    assert [i["state"] for i in skipped.json["items"]] == ["done", "skipped"]
    assert client.post(f"{path}/items/{second}/skip", headers=staff, json={"reason": "x"}).status_code == 409
    client.post(f"{path}/transition", headers=staff, json={"action": "complete"})
    back = client.post(
        f"{path}/transition", headers=staff, json={"action": "return", "courier": "EMS", "tracking_no": "EA1"}
    )
    assert back.json["state"] == "returned"
    assert [i["status"] for i in back.json["items"]] == ["in_service"] * 2
    seen = client.get(path, headers=firm).json
    assert [s["state"] for s in seen["steps"]] == factories.RETURNED_ORDER_STEPS
    assert seen["return_tracking_no"] == "EA1"
    ledger = client.get(f"{API}/instruments/{a0.id}", headers=firm).json
    assert (ledger["certificate_no"], ledger["status"]) == (result.json["certificate_no"], "in_service")
    told = db_session.scalar(
        select(func.count(Notification.id)).where(
            Notification.org_id == world.a.org.id, Notification.kind == "order"
        )
    )
    assert told == 5 * 2 * 2


def test_the_openapi_document_describes_orders(client):
    document = client.get(f"{API}/openapi.json").json
    assert {"/api/v1/orders", "/api/v1/orders/{order_id}", "/api/v1/orders/{order_id}/transition"} <= set(
        document["paths"]
    )
    assert "order_id" in document["components"]["parameters"]
    assert {"OrderIn", "OrderOut", "TransitionIn"} <= set(document["components"]["schemas"])


def test_a_firms_order_list_refuses_an_unknown_state(client, db_session, world):
    firm = auth(db_session, world.a.metrology)
    response = client.get(f"{API}/orders", query_string={"state": "lost"}, headers=firm)
    assert response.status_code == 400
    assert "state" in response.json["errors"]
    assert client.get(f"{API}/orders", query_string={"state": "all"}, headers=firm).status_code == 200
