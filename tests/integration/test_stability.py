"""Repeatability tests and stability assessments: API, warnings, bad input, tenancy, pages, xlsx, dossier."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from models import Event, Notification
from service.clock import today_in
from tests.api import API, auth
from tests.conftest import login

TODAY = today_in("Asia/Shanghai")
READINGS = "10.01 10.02 10.00 10.03 10.01\n9.99, 10.02, 10.00, 10.01, 10.01"


def _day(months_ago: int) -> str:
    return (TODAY - timedelta(days=31 * months_ago)).isoformat()


def _test(**fields):
    return {
        "performed_on": TODAY.isoformat(),
        "quantity": "10 MPa",
        "unit": "MPa",
        "readings": READINGS,
        "claimed": "0.02",
        **fields,
    }


def _notices(db_session, org_id):
    return db_session.scalar(
        select(func.count(Notification.id)).where(
            Notification.org_id == org_id, Notification.kind == "open_cases"
        )
    )


def test_repeatability_recorded_read_and_listed(client, db_session, world):
    headers = auth(db_session, world.a.metrology)
    instrument = world.a.instruments[0]
    created = client.post(
        f"{API}/instruments/{instrument.id}/repeatability-tests", headers=headers, json=_test()
    )
    assert created.status_code == 201, created.json
    test = created.json
    assert test["mean"] == "10.01"
    assert test["s"].startswith("0.0115470")
    assert test["passed"] is True
    assert len(test["readings"]) == 10
    assert client.get(f"{API}/repeatability-tests/{test['id']}", headers=headers).json == test
    listed = client.get(f"{API}/instruments/{instrument.id}/repeatability-tests", headers=headers).json
    assert [t["id"] for t in listed["items"]] == [test["id"]]
    kinds = db_session.scalars(select(Event.kind).where(Event.org_id == world.a.org.id)).all()
    assert "repeatability.recorded" in kinds
    assert _notices(db_session, world.a.org.id) == 0


def test_failing_repeatability_warns_the_staff_not_a_case(client, db_session, world):
    headers = auth(db_session, world.a.metrology)
    instrument = world.a.instruments[0]
    created = client.post(
        f"{API}/instruments/{instrument.id}/repeatability-tests", headers=headers, json=_test(claimed="0.01")
    )
    assert created.json["passed"] is False
    assert _notices(db_session, world.a.org.id) > 0
    bodies = db_session.scalars(
        select(Notification.body).where(
            Notification.org_id == world.a.org.id, Notification.kind == "open_cases"
        )
    ).all()
    assert any("0.011547" in body and instrument.management_no in body for body in bodies)
    cases = client.get(f"{API}/nonconformity-cases", headers=headers)
    if cases.status_code == 200:
        assert cases.json["items"] == []


def test_bad_repeatability_input_names_the_fault(client, db_session, world):
    headers = auth(db_session, world.a.metrology)
    url = f"{API}/instruments/{world.a.instruments[0].id}/repeatability-tests"
    bad_token = client.post(url, headers=headers, json=_test(readings="10.01 10.02 1O.00"))
    assert bad_token.status_code == 400
    assert "1O.00" in bad_token.json["errors"]["readings"][0]
    assert "3" in bad_token.json["errors"]["readings"][0]
    too_few = client.post(url, headers=headers, json=_test(readings="1 2 3 4 5 6 7 8 9"))
    assert too_few.status_code == 400
    assert "10" in too_few.json["errors"]["readings"][0]
    future = client.post(
        url, headers=headers, json=_test(performed_on=(TODAY + timedelta(days=2)).isoformat())
    )
    assert future.status_code == 400
    assert "performed_on" in future.json["errors"]
    nan = client.post(url, headers=headers, json=_test(claimed="NaN"))
    assert nan.status_code == 400
    assert "claimed" in nan.json["errors"]
    as_list = client.post(url, headers=headers, json=_test(readings=[1, 2, 3, 4, 5, 6, 7, 8, 9, "x"]))
    assert as_list.status_code == 400
    viewer = client.post(url, headers=auth(db_session, world.a.viewer), json=_test())
    assert viewer.status_code == 403


def _assessment(client, headers, instrument_id, **fields):
    body = {
        "check_object": "砝码 200 g F-12",
        "unit": "mg",
        "allowed": "0.05",
        "allowed_basis": "mpe",
        "started_on": _day(5),
        **fields,
    }
    response = client.post(
        f"{API}/instruments/{instrument_id}/stability-assessments", headers=headers, json=body
    )
    assert response.status_code == 201, response.json
    return response.json


def test_stability_built_up_over_months_and_closed(client, db_session, world):
    headers = auth(db_session, world.a.metrology)
    instrument = world.a.instruments[0]
    assessment = _assessment(client, headers, instrument.id)
    assert assessment["state"] == "open"
    assert assessment["stability"] is None
    url = f"{API}/stability-assessments/{assessment['id']}"
    for months_ago, readings in ((4, "5.00 5.02"), (3, "5.03 5.01"), (2, "4.99 5.01"), (1, "5.04 5.02")):
        added = client.post(
            f"{url}/groups", headers=headers, json={"measured_on": _day(months_ago), "readings": readings}
        )
        assert added.status_code == 201, added.json
    shown = client.get(url, headers=headers).json
    assert [g["mean"] for g in shown["groups"]] == ["5.01", "5.02", "5.00", "5.03"]
    assert shown["stability"] == "0.03"
    assert shown["passed"] is True
    assert shown["provisional"] is False
    assert shown["warnings"] == []
    closed = client.post(f"{url}/close", headers=headers, json={"closed_on": TODAY.isoformat()})
    assert closed.status_code == 200, closed.json
    assert closed.json["state"] == "closed"
    again = client.post(
        f"{url}/groups", headers=headers, json={"measured_on": TODAY.isoformat(), "readings": "5"}
    )
    assert again.status_code == 409
    listed = client.get(f"{API}/instruments/{instrument.id}/stability-assessments", headers=headers).json
    assert [a["id"] for a in listed["items"]] == [assessment["id"]]
    kinds = db_session.scalars(select(Event.kind).where(Event.org_id == world.a.org.id)).all()
    assert {"stability.opened", "stability.group_added", "stability.closed"} <= set(kinds)


def test_stability_warnings_and_failing_verdict(client, db_session, world):
    headers = auth(db_session, world.a.metrology)
    assessment = _assessment(
        client, headers, world.a.instruments[0].id, allowed="0.01", allowed_basis="expanded_uncertainty"
    )
    url = f"{API}/stability-assessments/{assessment['id']}"
    client.post(f"{url}/groups", headers=headers, json={"measured_on": _day(2), "readings": "5.00 5.02"})
    shown = client.post(
        f"{url}/groups", headers=headers, json={"measured_on": _day(2), "readings": "5.03 5.05"}
    ).json
    codes = [w["code"] for w in shown["warnings"]]
    assert codes == ["few_groups", "short_interval"]
    assert shown["provisional"] is True
    assert shown["passed"] is False
    before = _notices(db_session, world.a.org.id)
    closed = client.post(f"{url}/close", headers=headers, json={"closed_on": TODAY.isoformat()}).json
    assert closed["passed"] is False
    assert closed["provisional"] is True
    assert _notices(db_session, world.a.org.id) > before


def test_stability_bad_input(client, db_session, world):
    headers = auth(db_session, world.a.metrology)
    instrument_id = world.a.instruments[0].id
    refused = client.post(
        f"{API}/instruments/{instrument_id}/stability-assessments",
        headers=headers,
        json={"check_object": "x", "allowed": "-1", "allowed_basis": "guess", "started_on": _day(1)},
    )
    assert refused.status_code == 400
    assert {"allowed", "allowed_basis"} <= set(refused.json["errors"])
    assessment = _assessment(client, headers, instrument_id)
    url = f"{API}/stability-assessments/{assessment['id']}"
    early = client.post(f"{url}/groups", headers=headers, json={"measured_on": _day(7), "readings": "1"})
    assert early.status_code == 400
    empty = client.post(f"{url}/groups", headers=headers, json={"measured_on": _day(1), "readings": " "})
    assert empty.status_code == 400
    one = client.post(f"{url}/groups", headers=headers, json={"measured_on": _day(1), "readings": "1"})
    assert one.status_code == 201
    too_soon = client.post(f"{url}/close", headers=headers, json={"closed_on": TODAY.isoformat()})
    assert too_soon.status_code == 409


def test_foreign_tenant_gets_404(client, db_session, world):
    headers_a = auth(db_session, world.a.metrology)
    instrument = world.a.instruments[0]
    test = client.post(
        f"{API}/instruments/{instrument.id}/repeatability-tests", headers=headers_a, json=_test()
    ).json
    assessment = _assessment(client, headers_a, instrument.id)
    headers_b = auth(db_session, world.b.metrology)
    assert client.get(f"{API}/repeatability-tests/{test['id']}", headers=headers_b).status_code == 404
    assert client.get(f"{API}/stability-assessments/{assessment['id']}", headers=headers_b).status_code == 404
    assert (
        client.get(f"{API}/instruments/{instrument.id}/repeatability-tests", headers=headers_b).status_code
        == 404
    )
    posted = client.post(
        f"{API}/stability-assessments/{assessment['id']}/groups",
        headers=headers_b,
        json={"measured_on": TODAY.isoformat(), "readings": "1"},
    )
    assert posted.status_code == 404


def _fill(client, db_session, world, locale: str):
    world.a.metrology.locale = locale
    db_session.commit()
    login(client, world.a.metrology)
    return world.a.instruments[0]


@pytest.mark.parametrize(
    ("locale", "heading"), [("zh_Hans_CN", "稳定性"), ("en", "Stability and repeatability")]
)
def test_repeatability_form_and_result_page(client, db_session, world, locale, heading):
    instrument = _fill(client, db_session, world, locale)
    shown = client.get(f"/instruments/{instrument.id}/stability")
    assert shown.status_code == 200
    assert heading in shown.get_data(as_text=True)
    form = {"performed_on": TODAY.isoformat(), "quantity": "10 MPa", "unit": "MPa", "claimed": "0.02"}
    bad = client.post(
        f"/instruments/{instrument.id}/stability/repeatability", data=form | {"readings": "1 2 x3"}
    )
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert "x3" in page
    assert "1 2 x3" in page  # the textarea keeps what was typed
    saved = client.post(
        f"/instruments/{instrument.id}/stability/repeatability", data=form | {"readings": READINGS}
    )
    assert saved.status_code == 303
    result = client.get(saved.headers["Location"])
    text = result.get_data(as_text=True)
    assert "0.011547" in text
    assert "0.0012" in text  # the sum of squares
    assert 'data-verdict="pass"' in text
    sheet = client.get(saved.headers["Location"] + "/record.xlsx")
    assert sheet.status_code == 200
    book = load_workbook(io.BytesIO(sheet.data))
    cells = [c for row in book.active.iter_rows(values_only=True) for c in row if c is not None]
    assert "10.01" in cells
    assert "0.011547" in cells


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_stability_pages_chart_and_record_sheet(client, db_session, world, locale):
    instrument = _fill(client, db_session, world, locale)
    opened = client.post(
        f"/instruments/{instrument.id}/stability/assessments",
        data={
            "check_object": "砝码 F-12",
            "allowed": "0.05",
            "unit": "mg",
            "allowed_basis": "mpe",
            "started_on": _day(5),
        },
    )
    assert opened.status_code == 303
    url = opened.headers["Location"]
    for months_ago, readings in ((4, "5.00\n5.02"), (3, "5.03, 5.01"), (2, "4.99 5.01")):
        assert (
            client.post(
                f"{url}/groups", data={"measured_on": _day(months_ago), "readings": readings}
            ).status_code
            == 303
        )
    bad = client.post(f"{url}/groups", data={"measured_on": _day(1), "readings": "5.0 five"})
    assert bad.status_code == 400
    assert "five" in bad.get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)
    assert 'data-warning="few_groups"' in page
    assert 'data-chart-table="stability-means"' in page
    assert "0.02" in page
    assert client.post(f"{url}/close", data={"closed_on": TODAY.isoformat()}).status_code == 303
    closed = client.get(url).get_data(as_text=True)
    assert 'data-provisional="1"' in closed
    sheet = client.get(f"{url}/record.xlsx")
    book = load_workbook(io.BytesIO(sheet.data))
    cells = [c for row in book.active.iter_rows(values_only=True) for c in row if c is not None]
    assert "5.03 5.01" in cells
    assert "0.02" in cells
    show = client.get(f"/instruments/{instrument.id}").get_data(as_text=True)
    assert 'id="instrument-stability"' in show


def test_dossier_counts_the_checks_of_the_window(client, db_session, world):
    headers = auth(db_session, world.a.metrology)
    instrument_id = world.a.instruments[0].id
    url = f"{API}/instruments/{instrument_id}/repeatability-tests"
    client.post(url, headers=headers, json=_test())
    client.post(url, headers=headers, json=_test(claimed="0.001"))
    old = (TODAY - timedelta(days=400)).isoformat()
    assert client.post(url, headers=headers, json=_test(performed_on=old)).status_code == 201
    assessment = _assessment(client, headers, instrument_id)
    groups = f"{API}/stability-assessments/{assessment['id']}"
    for months_ago, readings in ((4, "5.00"), (3, "5.01"), (2, "5.02"), (1, "5.01")):
        client.post(
            f"{groups}/groups", headers=headers, json={"measured_on": _day(months_ago), "readings": readings}
        )
    client.post(f"{groups}/close", headers=headers, json={"closed_on": TODAY.isoformat()})
    _assessment(client, headers, instrument_id)  # still open: not done yet
    body = client.get(f"{API}/dossier?as_of={TODAY.isoformat()}", headers=headers).json
    assert body["stability_checks"] == {
        "repeatability": {"done": 2, "passed": 1},
        "stability": {"done": 1, "passed": 1},
    }
    by_seq = {line["seq"]: line for line in body["self_check"]}
    assert by_seq[25]["answer"] == "yes"
    login(client, world.a.metrology)
    page = client.get(f"/evidence?as_of={TODAY.isoformat()}")
    assert 'id="stability-checks"' in page.get_data(as_text=True)
