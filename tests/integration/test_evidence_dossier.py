"""The evidence dossier on a history built here with known answers: CLI, API, page, tenancy."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from models import StatusRequest
from service.ledger import operations as ledger_ops
from service.nominations import dossier
from service.traceability import operations as records
from tests import factories
from tests.api import API, auth
from tests.conftest import login

#: The dossier's date: the window of the period figures is 2025-07-01 … 2026-06-30.
AS_OF = date(2026, 6, 30)
LONG_AGO = datetime(2024, 1, 1, tzinfo=UTC)


def _record(session, actor, instrument, performed_on: str, **fields):
    payload = {
        "kind": "calibration" if instrument.control_method == "calibration" else "verification",
        "performed_on": performed_on,
        "conclusion": "pass",
        "lab_name": "河南省计量测试科学研究院",
        "certificate_no": f"C-{instrument.management_no}-{performed_on}",
    } | fields
    if payload["kind"] == "calibration":
        payload.pop("conclusion")
    return records.record_result(session, actor, instrument.id, payload, AS_OF)


@pytest.fixture
def history(db_session, world):
    """Firm B's ledger, with a history whose figures are worked out by hand below."""
    tenant = world.b
    who = tenant.actor()
    for instrument in tenant.instruments:  # the world's own instruments: sealed before the window
        instrument.created_at = LONG_AGO
        ledger_ops.request_status_change(db_session, who, instrument.id, "seal", "闲置封存")
    for request in db_session.scalars(select(StatusRequest).where(StatusRequest.org_id == tenant.org.id)):
        ledger_ops.decide_status_request(db_session, tenant.actor("admin"), request.id, True, "同意")
        request.decided_at = datetime(2025, 1, 2, tzinfo=UTC)

    def instrument(no: str, **fields):
        made = factories.make_instrument(
            db_session, who, AS_OF, management_no=no, department_id=tenant.department.id, **fields
        )
        made.created_at = LONG_AGO
        return made

    calibrated = {"control_method": "calibration", "abc_class": "B"}
    on_time = instrument("I1", **calibrated)
    _record(db_session, who, on_time, "2025-03-10")
    _record(db_session, who, on_time, "2026-03-09")  # on the due date itself
    late = instrument("I2", **calibrated)
    _record(db_session, who, late, "2025-03-10")
    _record(db_session, who, late, "2026-03-15")
    mandatory = {
        "is_mandatory": True,
        "mandatory_use": "safety",
        "control_method": "verification",
        "abc_class": "A",
    }
    calibrated_only = instrument("I3", **mandatory)
    _record(db_session, who, calibrated_only, "2025-01-10")
    _record(db_session, who, calibrated_only, "2025-12-20", kind="calibration", conclusion=None)
    meter = instrument("I4", name="单相电能表", **mandatory | {"mandatory_use": "trade"})
    _record(db_session, who, meter, "2025-09-01", valid_until="2031-08-31")
    scrapped = instrument("I5", **calibrated)
    _record(db_session, who, scrapped, "2025-03-10")
    request = ledger_ops.request_status_change(db_session, who, scrapped.id, "scrap", "损坏")
    ledger_ops.decide_status_request(db_session, tenant.actor("admin"), request.id, True, "同意")
    request.decided_at = datetime(2026, 2, 1, 4, tzinfo=UTC)
    instrument("I6", control_method="one_off", interval_months=0, abc_class="C")
    edge = instrument("I7", **calibrated)
    _record(db_session, who, edge, "2024-07-02")  # due 2025-07-01: the window's first day
    _record(db_session, who, edge, "2025-06-20", valid_until="2027-06-19")
    outside = instrument("I8", **calibrated)
    _record(db_session, who, outside, "2024-07-01")  # due 2025-06-30: the day before the window
    _record(db_session, who, outside, "2025-06-25", valid_until="2027-06-24")
    db_session.commit()
    return tenant


#: The figures worked out by hand from the history above.
EXPECTED = {
    # I1 (met on the day), I2 (late), I3 (a calibration does not renew a 强检 instrument), I7 (met,
    # on the window's first day); I5 was scrapped before its due date; I8's fell before the window.
    "on_time": {"rate": 0.5, "numerator": 2, "denominator": 4},
    # In use under periodic control: I1, I2, I3, I4, I7, I8; I3 is out of validity.
    "coverage": {"rate": 0.8333, "numerator": 5, "denominator": 6},
}


def test_each_figure_on_a_known_history(db_session, history):
    found = dossier.compute(db_session, history.org, AS_OF).as_dict()
    assert found["window"] == {"from_": date(2025, 7, 1), "to": AS_OF}
    assert found["on_time"] == EXPECTED["on_time"]
    assert found["coverage"] == EXPECTED["coverage"]
    inspection = found["inspection"]
    assert (inspection["numerator"], inspection["denominator"], inspection["meets_target"]) == (1, 2, False)
    assert (inspection["household"]["numerator"], inspection["household"]["denominator"]) == (1, 1)
    assert (inspection["other"]["numerator"], inspection["other"]["denominator"]) == (0, 1)
    assert inspection["household"]["target"] == 0.98
    counts = found["instruments"]
    # The world's three, sealed, and I5, scrapped, are in the ledger but not in use.
    assert (counts["total"], counts["in_use"], counts["periodic"], counts["mandatory"]) == (11, 7, 6, 2)
    assert counts["by_abc"] == {"A": 2, "B": 4, "C": 1, "none": 0}
    # Results of the window: I1 and I2 in 2026, I3's calibration, I4's verification.
    assert found["certificates"]["total"] == 4
    assert found["certificates"]["by_lab"] == [{"lab": "河南省计量测试科学研究院", "count": 4}]
    # Three calibrations in the window (I1's, I2's and I3's), none confirmed yet.
    assert found["confirmations"] == {"rate": 0.0, "numerator": 0, "denominator": 3}
    assert found["status_changes"]["approved"] == 1  # I5's scrapping; the seals were in 2025-01
    assert found["history"]["verified"] is True
    assert found["history"]["events"] > 0


def test_an_earlier_day_reads_the_history_as_it_stood(db_session, history):
    found = dossier.compute(db_session, history.org, date(2026, 1, 31)).as_dict()
    # I5 is still in use on 31 January and within validity until 2026-03-09.
    assert found["instruments"]["in_use"] == 8
    # Window 2025-02-01 … 2026-01-31: I3's 2026-01-09 (late), I7's 2025-07-01 and I8's 2025-06-30 (met).
    assert found["on_time"] == {"rate": 0.6667, "numerator": 2, "denominator": 3}


def test_cli_prints_the_same_figures(app, db_session, history):
    result = app.test_cli_runner().invoke(
        args=["nominations", "dossier", "--org", history.org.slug, "--as-of", AS_OF.isoformat()]
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["org"] == history.org.slug
    assert printed["window"] == {"from": "2025-07-01", "to": "2026-06-30"}
    assert printed["on_time"] == EXPECTED["on_time"]
    assert printed["coverage"] == EXPECTED["coverage"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "2026-13-01"], "must look like"),
        (["--as-of", "2999-01-01"], "after today"),
    ],
)
def test_cli_refuses_bad_dates(app, world, args, message):
    result = app.test_cli_runner().invoke(args=["nominations", "dossier", "--org", world.a.org.slug, *args])
    assert result.exit_code == 2
    assert message in result.output


def test_cli_refuses_an_unknown_org(app, sessions):
    result = app.test_cli_runner().invoke(args=["nominations", "dossier", "--org", "nobody"])
    assert result.exit_code == 2


def test_api_gives_the_figures_and_the_self_check(client, db_session, history):
    headers = auth(db_session, history.metrology)
    body = client.get(f"{API}/dossier?as_of={AS_OF.isoformat()}", headers=headers).json
    assert body["on_time"] == EXPECTED["on_time"]
    assert len(body["self_check"]) == 33
    by_seq = {line["seq"]: line for line in body["self_check"]}
    # Every instrument in use has its class: item 22 is answered yes with its evidence.
    assert by_seq[22]["answer"] == "yes"
    assert "7 台在用器具中 7 台" in by_seq[22]["evidence"]
    # Three calibrations unconfirmed: item 11 is answered no.
    assert by_seq[11]["answer"] == "no"
    # No repeatability test or stability assessment in the window: the firm answers item 25.
    assert by_seq[25]["answer"] is None


def test_api_lists_the_instruments_behind_a_figure(client, db_session, history):
    headers = auth(db_session, history.metrology)
    body = client.get(
        f"{API}/dossier/instruments?as_of={AS_OF.isoformat()}&figure=on_time&short=true", headers=headers
    ).json
    assert (body["counted"], body["short"]) == (4, 2)
    assert {(item["management_no"], tuple(item["missed"])) for item in body["items"]} == {
        ("I2", ("2026-03-09",)),
        ("I3", ("2026-01-09",)),
    }


@pytest.mark.parametrize(
    "query",
    ["as_of=2999-01-01", "as_of=yesterday", "figure=everything", "as_of=2026-06-30&colour=red"],
)
def test_api_refuses_bad_queries(client, db_session, world, query):
    headers = auth(db_session, world.a.metrology)
    path = "/dossier/instruments" if "figure" in query else "/dossier"
    assert client.get(f"{API}{path}?{query}", headers=headers).status_code == 400


def test_page_shows_the_figures_and_opens_what_they_count(client, db_session, history):
    login(client, history.metrology)
    page = client.get(f"/evidence?as_of={AS_OF.isoformat()}").get_data(as_text=True)
    assert "83.3%" in page  # coverage
    assert "50.0%" in page  # on-time rate
    assert 'data-seq="33"' in page
    behind = client.get(f"/evidence/instruments?figure=coverage&short=1&as_of={AS_OF.isoformat()}")
    text = behind.get_data(as_text=True)
    assert behind.status_code == 200
    assert ">I3<" in text
    assert ">I1<" not in text


def test_page_with_a_bad_date_says_so_and_shows_today(client, db_session, world):
    login(client, world.a.metrology)
    response = client.get("/evidence?as_of=2999-01-01")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "证据档案只能回看" in page
    assert 'name="as_of" value="2999-01-01"' not in page


def test_a_foreign_firm_sees_only_its_own(client, db_session, history, world):
    headers = auth(db_session, world.a.metrology)
    body = client.get(f"{API}/dossier?as_of={AS_OF.isoformat()}", headers=headers).json
    # Firm A's three instruments were entered today: on AS_OF its ledger was empty.
    assert body["instruments"]["total"] == 0
    behind = client.get(f"{API}/dossier/instruments?figure=coverage", headers=headers).json
    assert {item["management_no"] for item in behind["items"]}.isdisjoint({"I1", "I2", "I3"})


def test_the_institute_sees_a_linked_client_and_not_an_unlinked_one(client, db_session, world):
    login(client, world.institute_staff)
    assert client.get(f"/clients/{world.a.org.id}/evidence").status_code == 200
    assert client.get(f"/clients/{world.b.org.id}/evidence").status_code == 404
