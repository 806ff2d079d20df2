"""Comparisons and proficiency tests: the API records them, opens cases and warns; the pages show them."""

from __future__ import annotations

from sqlalchemy import select

from models import Comparison, Event, Instrument, NonconformityCase, Notification
from tests.api import API, auth
from tests.factories import RENEWING_ON

COMPARISON = {
    "kind": "comparison",
    "scheme": "2026年河南省压力表示值比对",
    "organiser_kind": "provincial",
    "performed_on": RENEWING_ON,
    "points": [
        # En = 0.05 / 0.05 = 1.00: satisfactory (the boundary).
        {"nominal": "10", "reference_value": "10.00", "reference_uncertainty": "0.03",
         "lab_value": "10.05", "lab_uncertainty": "0.04"},
        # En = 0.06 / 0.05 = 1.20: unsatisfactory.
        {"nominal": "20", "reference_value": "20.00", "reference_uncertainty": "0.03",
         "lab_value": "20.06", "lab_uncertainty": "0.04"},
    ],
}  # fmt: skip
PROFICIENCY = {
    "kind": "proficiency",
    "scheme": "CNAS T0123 砝码质量能力验证",
    "organiser_kind": "cnas_pt",
    "performed_on": RENEWING_ON,
    # z = 0.9 / 0.4 = 2.25: questionable.
    "points": [{"assigned_value": "50.0", "sd_pt": "0.4", "lab_value": "50.9"}],
}


def test_failing_point_opens_a_case(client, db_session, world):
    headers = auth(db_session, world.a.metrology)
    instrument = world.a.instruments[0]
    created = client.post(f"{API}/instruments/{instrument.id}/comparisons", headers=headers, json=COMPARISON)
    assert created.status_code == 201, created.json
    body = created.json
    assert [(p["en"], p["z"], p["verdict"]) for p in body["points"]] == [
        (1.0, None, "satisfactory"),
        (1.2, None, "unsatisfactory"),
    ]
    assert body["verdict"] == "unsatisfactory"
    case = db_session.get(NonconformityCase, body["case_id"])
    assert case.instrument_id == instrument.id
    assert case.state == "open"
    assert "En = 1.20" in case.description
    db_session.expire_all()
    assert db_session.get(Instrument, instrument.id).status == "suspended"
    kinds = db_session.scalars(select(Event.kind).where(Event.org_id == world.a.org.id)).all()
    assert "comparison.recorded" in kinds
    assert "nonconformity.opened" in kinds

    # A second failure joins the open case.
    again = client.post(f"{API}/instruments/{instrument.id}/comparisons", headers=headers, json=COMPARISON)
    assert again.json["case_id"] == body["case_id"]
    assert db_session.scalar(select(NonconformityCase.id).where(NonconformityCase.id != case.id)) is None

    listed = client.get(f"{API}/instruments/{instrument.id}/comparisons", headers=headers).json["items"]
    assert [c["id"] for c in listed] == [again.json["id"], body["id"]]
    one = client.get(f"{API}/comparisons/{body['id']}", headers=headers)
    assert one.status_code == 200
    assert one.json["points"][1]["en"] == 1.2


def test_questionable_z_notifies_staff(client, db_session, world):
    headers = auth(db_session, world.a.metrology)
    instrument = world.a.instruments[1]
    created = client.post(f"{API}/instruments/{instrument.id}/comparisons", headers=headers, json=PROFICIENCY)
    assert created.status_code == 201, created.json
    assert created.json["points"][0] == created.json["points"][0] | {
        "z": 2.25,
        "en": None,
        "verdict": "questionable",
    }
    assert created.json["case_id"] is None
    notices = db_session.scalars(select(Notification).where(Notification.kind == "comparison")).all()
    assert {n.recipient_user_id for n in notices} == {world.a.admin.id, world.a.metrology.id}
    assert {n.channel for n in notices} == {"in_app", "email"}
    assert all(f"/comparisons/{created.json['id']}" in n.body for n in notices)
    assert all("z = 2.25" in n.body for n in notices)


def test_bad_input_gets_field_messages(client, db_session, world):
    headers = auth(db_session, world.a.metrology)
    url = f"{API}/instruments/{world.a.instruments[0].id}/comparisons"
    no_points = client.post(url, headers=headers, json={**COMPARISON, "points": []})
    assert no_points.status_code == 400
    assert "points" in no_points.json["errors"]
    zero = {**COMPARISON["points"][0], "reference_uncertainty": "0", "lab_uncertainty": "0"}
    both_zero = client.post(url, headers=headers, json={**COMPARISON, "points": [zero]})
    assert both_zero.status_code == 400
    assert set(both_zero.json["errors"]) == {"points.0.reference_uncertainty", "points.0.lab_uncertainty"}
    sd = client.post(
        url,
        headers=headers,
        json={**PROFICIENCY, "points": [{"assigned_value": 1, "sd_pt": 0, "lab_value": 1}]},
    )
    assert "points.0.sd_pt" in sd.json["errors"]
    nan = client.post(
        url,
        headers=headers,
        json={**PROFICIENCY, "points": [{"assigned_value": "NaN", "sd_pt": 1, "lab_value": 1}]},
    )
    assert nan.status_code == 400
    future = client.post(url, headers=headers, json={**COMPARISON, "performed_on": "2999-01-01"})
    assert future.status_code == 400
    assert "performed_on" in future.json["errors"]
    mixed = {**COMPARISON["points"][0], "sd_pt": "1"}
    assert client.post(url, headers=headers, json={**COMPARISON, "points": [mixed]}).status_code == 400
    viewer = client.post(url, headers=auth(db_session, world.a.viewer), json=COMPARISON)
    assert viewer.status_code == 403
    assert db_session.scalar(select(Comparison.id)) is None


def test_foreign_instrument_and_result_are_404(client, db_session, world):
    headers_a = auth(db_session, world.a.metrology)
    headers_b = auth(db_session, world.b.metrology)
    created = client.post(
        f"{API}/instruments/{world.a.instruments[0].id}/comparisons", headers=headers_a, json=PROFICIENCY
    )
    foreign = world.a.instruments[0].id
    assert (
        client.post(
            f"{API}/instruments/{foreign}/comparisons", headers=headers_b, json=COMPARISON
        ).status_code
        == 404
    )
    assert client.get(f"{API}/instruments/{foreign}/comparisons", headers=headers_b).status_code == 404
    assert client.get(f"{API}/comparisons/{created.json['id']}", headers=headers_b).status_code == 404


def _form(kind: str, rows: list[dict], **fields) -> dict:
    data = {"kind": kind, "scheme": "压力表比对", "organiser_kind": "provincial", "performed_on": RENEWING_ON}
    for index, row in enumerate(rows):
        data |= {f"p{index}-{k}": v for k, v in row.items()}
    return data | fields


def test_record_through_the_page_and_read_it_back(client, db_session, world, login_as):
    from io import BytesIO

    from openpyxl import load_workbook

    instrument = world.a.instruments[2]
    login_as(world.a.metrology)
    page = client.get(f"/instruments/{instrument.id}")
    assert f"/instruments/{instrument.id}/comparisons".encode() in page.data
    listing = client.get(f"/instruments/{instrument.id}/comparisons")
    assert listing.status_code == 200
    assert "比对和能力验证".encode() in listing.data
    bad = client.post(f"/instruments/{instrument.id}/comparisons", data=_form("comparison", []))
    assert bad.status_code == 422
    point = {"reference_value": "10.00", "reference_uncertainty": "0.03", "lab_uncertainty": "0.04"}
    rows = [
        point | {"nominal": "10", "lab_value": "10.05"},
        point | {"nominal": "20", "reference_value": "20.00", "lab_value": "20.06"},
    ]
    saved = client.post(f"/instruments/{instrument.id}/comparisons", data=_form("comparison", rows))
    assert saved.status_code == 303
    comparison = db_session.scalar(select(Comparison).where(Comparison.instrument_id == instrument.id))
    shown = client.get(saved.headers["Location"])
    text = shown.data.decode()
    assert 'id="comparison-case"' in text
    assert f"/nonconformity/{comparison.case_id}" in text
    assert 'data-chart="' in text or "data-chart='" in text
    assert "不满意" in text
    assert 'id="comparison-reverse"' not in text  # a firm's instrument: no reverse traceability
    history = client.get(f"/instruments/{instrument.id}")  # the history names the new event
    assert history.status_code == 200
    assert "已记录比对或能力验证结果" in history.data.decode()

    workbook = client.get(f"/comparisons/{comparison.id}.xlsx")
    assert workbook.status_code == 200
    sheet = load_workbook(BytesIO(workbook.data)).active
    cells = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    assert ["En" in row for row in cells].count(True) == 1
    assert [2, 20, 20, 0.03, 20.06, 0.04, 1.2, "不满意"] in cells

    world.a.metrology.locale = "en"
    db_session.commit()
    english = client.get(f"/comparisons/{comparison.id}").data.decode()
    assert "Unsatisfactory" in english
    assert "Point 2: En = 1.20" in english
    assert (
        "Comparisons and proficiency tests"
        in client.get(f"/instruments/{instrument.id}/comparisons").data.decode()
    )


def test_institute_standard_offers_reverse_traceability(client, db_session, world, login_as, staff):
    from tests.factories import make_instrument

    standard = make_instrument(db_session, staff)
    db_session.commit()
    login_as(world.institute_staff)
    rows = [{"assigned_value": "100", "sd_pt": "1", "lab_value": "103"}]
    saved = client.post(f"/instruments/{standard.id}/comparisons", data=_form("proficiency", rows))
    assert saved.status_code == 303
    text = client.get(saved.headers["Location"]).data.decode()
    assert 'id="comparison-reverse"' in text
    assert f"/standards/{standard.id}/affected" in text
