"""Comparison projects the institute leads: protocol, participants, results, reference, report, tenancy.

Two linked clients (firms A and B) and an outside lab take part in a weighted-mean comparison with
two points. At point 2 firm B is discrepant (chi² = 46.9 > 5.991); the institute leaves it out of
the mean (x_ref = 20.000, U_ref = 0.017889) and B's En = 0.15 / sqrt(0.04² + 0.017889²) = 3.42
opens a case on B's instrument at publication.
"""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import select

from models import ClientLink, Comparison, ComparisonPoint, NonconformityCase, ProjectResult
from models.base import utcnow
from service.tenancy import operations as tenancy_ops
from tests.api import API, auth, local_today
from tests.conftest import login, page_text
from tests.factories import make_org, make_user

B_POINT_2 = "20.15"


def protocol(**changes) -> dict:
    today = local_today()
    return {
        "code": "HNBD-2026-03",
        "title": "2026年河南省压力表示值比对",
        "quantity": "压力",
        "unit": "MPa",
        "transfer_standard": "0.05级数字压力计 SN 2201",
        "starts_on": (today - timedelta(days=30)).isoformat(),
        "results_due_on": (today + timedelta(days=30)).isoformat(),
        "reference_kind": "weighted_mean",
        "points": [{"nominal": "10"}, {"nominal": "20"}],
    } | changes


def results(management_no: str | None, values: list[tuple[str, str]]) -> dict:
    body = {
        "measured_on": local_today().isoformat(),
        "results": [{"value": v, "uncertainty": u} for v, u in values],
    }
    if management_no:
        body["management_no"] = management_no
    return body


@pytest.fixture
def project(client, db_session, world):
    """A project with firms A and B (both linked) and an outside lab; A and B have entered nothing yet."""
    tenancy_ops.link_client(db_session, world.institute.id, world.b.org.id)
    db_session.commit()
    staff = auth(db_session, world.institute_staff)
    created = client.post(f"{API}/comparison-projects", headers=staff, json=protocol())
    assert created.status_code == 201, created.json
    pid = created.json["id"]
    for body in (
        {"firm_id": world.a.org.id},
        {"firm_id": world.b.org.id},
        {"lab_name": "某检测所", "cnas_no": "CNAS L1234"},
    ):
        added = client.post(f"{API}/comparison-projects/{pid}/participants", headers=staff, json=body)
        assert added.status_code == 201, added.json
    participants = {p["lab_name"]: p["id"] for p in added.json["participants"]}
    return pid, participants, staff


def test_participants_enter_results_and_see_only_their_own_until_published(
    client, db_session, world, project
):
    pid, participants, staff = project
    a, b = auth(db_session, world.a.metrology), auth(db_session, world.b.metrology)
    a_no, b_no = world.a.instruments[0].management_no, world.b.instruments[0].management_no

    # Each firm enters its own results; the institute enters the outside lab's.
    own = client.put(
        f"{API}/comparison-projects/{pid}/results",
        headers=a,
        json=results(a_no, [("10.02", "0.04"), ("20.00", "0.04")]),
    )
    assert own.status_code == 200, own.json
    assert [p["lab_name"] for p in own.json["participants"]] == [world.a.org.name]
    assert own.json["references"] == []
    assert (
        client.put(
            f"{API}/comparison-projects/{pid}/results",
            headers=b,
            json=results(b_no, [("9.99", "0.04"), (B_POINT_2, "0.04")]),
        ).status_code
        == 200
    )
    outside = participants["某检测所"]
    on_behalf = client.put(
        f"{API}/comparison-projects/{pid}/participants/{outside}/results",
        headers=staff,
        json=results(None, [("10.00", "0.02"), ("20.00", "0.02")]),
    )
    assert on_behalf.status_code == 200, on_behalf.json

    # Before the report: A sees its own results only, through the API and the pages.
    seen = client.get(f"{API}/comparison-projects/{pid}", headers=a).json
    assert [p["lab_name"] for p in seen["participants"]] == [world.a.org.name]
    assert seen["references"] == []
    assert (
        client.get(f"{API}/comparison-projects", headers=a).json["items"][0]["participants"][0]["lab_name"]
        == world.a.org.name
    )
    login(client, world.a.metrology)
    page = client.get(f"/comparison-projects/{pid}").get_data(as_text=True)
    assert "20.02" not in page_text(page)  # nothing of the others
    assert B_POINT_2 not in page_text(page)
    assert world.b.org.name not in page
    assert "某检测所" not in page
    assert client.get(f"/comparison-projects/{pid}/report").status_code == 404
    assert client.get(f"/comparison-projects/{pid}/report.xlsx").status_code == 404
    client.post("/logout")

    # The institute sees the inconsistency at point 2, cannot publish, leaves B out there.
    full = client.get(f"{API}/comparison-projects/{pid}", headers=staff).json
    assert full["references"][0]["consistent"] is True
    assert full["references"][1]["consistent"] is False
    assert full["references"][1]["chi2"] == pytest.approx(46.875)
    refused = client.post(f"{API}/comparison-projects/{pid}/publish", headers=staff)
    assert refused.status_code == 400
    b_row = next(p for p in full["participants"] if p["lab_name"] == world.b.org.name)
    excluded = [r["id"] for r in b_row["results"] if r["position"] == 2]
    chosen = client.post(
        f"{API}/comparison-projects/{pid}/reference", headers=staff, json={"excluded": excluded}
    )
    assert chosen.status_code == 200
    assert chosen.json["references"][1] | {"chi2": None} == {
        "position": 2, "value": "20.000000", "uncertainty": "0.017889", "chi2": None,
        "chi2_critical": 3.841, "consistent": True, "problem": None,
    }  # fmt: skip
    published = client.post(f"{API}/comparison-projects/{pid}/publish", headers=staff)
    assert published.status_code == 200, published.json
    assert published.json["state"] == "published"

    # B's point 2: En = 0.15 / sqrt(0.04² + 0.017889²) = 3.42, recorded on its instrument with a case.
    b_after = next(p for p in published.json["participants"] if p["lab_name"] == world.b.org.name)
    assert [(r["en"], r["verdict"]) for r in b_after["results"]][1] == (3.42, "unsatisfactory")
    recorded = db_session.scalar(
        select(Comparison)
        .where(Comparison.id == b_after["comparison_id"])
        .execution_options(all_tenants=True)
    )
    assert recorded.org_id == world.b.org.id
    assert recorded.instrument_id == world.b.instruments[0].id
    assert recorded.organiser_kind == "provincial"
    case = db_session.scalar(
        select(NonconformityCase)
        .where(NonconformityCase.id == recorded.case_id)
        .execution_options(all_tenants=True)
    )
    assert case.state == "open"
    assert "En = 3.42" in case.description
    # A's point 1 was in the mean: its record says so and its En is the report's.
    a_after = next(p for p in published.json["participants"] if p["lab_name"] == world.a.org.name)
    points = db_session.scalars(
        select(ComparisonPoint)
        .where(ComparisonPoint.comparison_id == a_after["comparison_id"])
        .order_by(ComparisonPoint.position)
        .execution_options(all_tenants=True)
    ).all()
    assert [p.is_lab_in_reference for p in points] == [True, True]
    assert [float(round(p.score, 2)) for p in points] == [r["en"] for r in a_after["results"]]
    assert a_after["results"][0]["en"] == 0.5
    # No record for the outside lab.
    assert (
        next(p for p in published.json["participants"] if p["lab_name"] == "某检测所")["comparison_id"]
        is None
    )

    login(client, world.a.metrology)
    recorded_page = client.get(f"/comparisons/{a_after['comparison_id']}").get_data(as_text=True)
    assert 'id="comparison-correlated"' in recorded_page
    client.post("/logout")

    # After the report: everyone's results, the report page with its chart and the xlsx.
    seen = client.get(f"{API}/comparison-projects/{pid}", headers=a).json
    assert len(seen["participants"]) == 3
    login(client, world.a.metrology)
    report = client.get(f"/comparison-projects/{pid}/report")
    assert report.status_code == 200
    text = report.get_data(as_text=True)
    assert world.b.org.name in text
    assert 'id="equivalence-2"' in text
    assert "3.42" in text
    xlsx = client.get(f"/comparison-projects/{pid}/report.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.data[:2] == b"PK"
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    rows = [row for row in sheet.iter_rows(values_only=True) if row[0] == world.b.org.name]
    assert [(row[4], row[6], row[7]) for row in rows][1][:2] == (pytest.approx(0.15), 3.42)
    # Locked now.
    locked = client.put(
        f"{API}/comparison-projects/{pid}/results", headers=a, json=results(a_no, [("1", "1"), ("1", "1")])
    )
    assert locked.status_code == 409


def test_foreign_firms_and_bad_input(client, db_session, world, project):
    pid, participants, staff = project
    stranger_org = make_org(db_session)
    stranger = make_user(db_session, stranger_org, "admin")
    db_session.commit()
    headers = auth(db_session, stranger)
    assert client.get(f"{API}/comparison-projects/{pid}", headers=headers).status_code == 404
    assert client.get(f"{API}/comparison-projects", headers=headers).json["items"] == []
    assert (
        client.put(
            f"{API}/comparison-projects/{pid}/results", headers=headers, json=results("X", [("1", "1")])
        ).status_code
        == 404
    )
    # A firm cannot act as the institute.
    a = auth(db_session, world.a.admin)
    assert client.post(f"{API}/comparison-projects", headers=a, json=protocol()).status_code == 404
    assert client.post(f"{API}/comparison-projects/{pid}/publish", headers=a).status_code == 404
    login(client, stranger)
    assert client.get(f"/comparison-projects/{pid}").status_code == 404
    client.post("/logout")

    # Bad input: 400 with a message per field, never a 500.
    a = auth(db_session, world.a.metrology)
    wrong_count = client.put(
        f"{API}/comparison-projects/{pid}/results",
        headers=a,
        json=results(world.a.instruments[0].management_no, [("1", "1")]),
    )
    assert wrong_count.status_code == 400
    assert "results" in wrong_count.json["errors"]
    unknown = client.put(
        f"{API}/comparison-projects/{pid}/results",
        headers=a,
        json=results("NO-SUCH", [("1", "1"), ("2", "1")]),
    )
    assert "management_no" in unknown.json["errors"]
    zero = client.put(
        f"{API}/comparison-projects/{pid}/results",
        headers=a,
        json=results(world.a.instruments[0].management_no, [("1", "0"), ("2", "1")]),
    )
    assert "results.0.uncertainty" in zero.json["errors"]
    lead = client.post(f"{API}/comparison-projects", headers=staff, json=protocol(reference_kind="lead_lab"))
    assert lead.status_code == 400
    assert "points.0.lead_value" in lead.json["errors"]
    dates = client.post(
        f"{API}/comparison-projects", headers=staff, json=protocol(results_due_on="2000-01-01")
    )
    assert "results_due_on" in dates.json["errors"]
    stranger_client = client.post(
        f"{API}/comparison-projects/{pid}/participants", headers=staff, json={"firm_id": stranger_org.id}
    )
    assert "firm_id" in stranger_client.json["errors"]
    twice = client.post(
        f"{API}/comparison-projects/{pid}/participants", headers=staff, json={"firm_id": world.a.org.id}
    )
    assert "firm_id" in twice.json["errors"]
    assert db_session.scalar(select(ProjectResult.id)) is None
    outside = participants["某检测所"]
    assert (
        client.delete(f"{API}/comparison-projects/{pid}/participants/{outside}", headers=a).status_code == 404
    )
    removed = client.delete(f"{API}/comparison-projects/{pid}/participants/{outside}", headers=staff)
    assert removed.status_code == 200
    assert "某检测所" not in [p["lab_name"] for p in removed.json["participants"]]
    gone = client.delete(f"{API}/comparison-projects/{pid}/participants/{outside}", headers=staff)
    assert gone.status_code == 404

    # A client that ended its link is no longer written for: the institute cannot read its ledger.
    link = db_session.scalar(select(ClientLink).where(ClientLink.firm_id == world.a.org.id))
    link.ended_at = utcnow()
    db_session.commit()
    firm_a = participants[world.a.org.name]
    body = results(world.a.instruments[0].management_no, [("1", "1"), ("2", "1")])
    ended = client.put(
        f"{API}/comparison-projects/{pid}/participants/{firm_a}/results", headers=staff, json=body
    )
    assert ended.status_code == 400
    assert client.put(f"{API}/comparison-projects/{pid}/results", headers=a, json=body).status_code == 200


def test_institute_pages_create_enter_and_publish_a_lead_lab_comparison(client, db_session, world):
    login(client, world.institute_staff)
    form = {k: v for k, v in protocol(reference_kind="lead_lab").items() if k != "points"}
    form |= {"p0-nominal": "10", "p0-lead_value": "10.00", "p0-lead_uncertainty": "0.03"}
    assert client.get("/comparison-projects/new").status_code == 200
    bad = client.post("/comparison-projects/new", data=form | {"p0-lead_uncertainty": ""})
    assert bad.status_code == 422
    created = client.post("/comparison-projects/new", data=form)
    assert created.status_code == 303
    path = created.headers["Location"]
    pid = int(path.rstrip("/").split("/")[-1])
    assert client.post(f"{path}/participants", data={"firm_id": str(world.a.org.id)}).status_code == 303
    page = client.get(path).get_data(as_text=True)
    assert world.a.org.name in page
    participant = client.get(
        f"{API}/comparison-projects/{pid}", headers=auth(db_session, world.institute_staff)
    ).json["participants"][0]
    entry = f"{path}/participants/{participant['id']}/results"
    assert client.get(entry).status_code == 200
    data = {"measured_on": local_today().isoformat(), "management_no": world.a.instruments[1].management_no}
    assert client.post(entry, data=data | {"r0-value": "10.05", "r0-uncertainty": ""}).status_code == 422
    assert client.post(entry, data=data | {"r0-value": "10.05", "r0-uncertainty": "0.04"}).status_code == 303
    assert client.get(f"{path}/edit").status_code == 200
    assert client.post(f"{path}/edit", data=form | {"title": "改名的比对"}).status_code == 303
    published = client.post(f"{path}/publish")
    assert published.status_code == 303
    report = client.get(f"{path}/report").get_data(as_text=True)
    # Lead lab reference: U(d) = sqrt(0.04² + 0.03²) = 0.05, En = 1.00 (satisfactory at the boundary).
    assert "改名的比对" in client.get(path).get_data(as_text=True)
    assert 'data-verdict="satisfactory"' in report
    assert "1.00" in report
    assert client.get("/comparison-projects").status_code == 200
