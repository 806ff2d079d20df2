"""The chain of standards above an instrument: across the institute's and a firm's ledgers, cut at cycles.

The firm reads the institute's standards only along the chain, and only what the chain shows.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date

import pytest
from flask import render_template
from sqlalchemy import select

from models import CalibrationRecord
from service.actors import ROLE_PERMISSIONS, Actor
from service.auth.operations import create_api_token
from service.errors import NotFound
from service.tenancy import queries as tenancy_queries
from service.traceability import operations as records
from service.traceability.chain import standards_chain
from service.web.chain import chain_context
from tests.conftest import login
from tests.factories import make_instrument

TODAY = date(2026, 11, 24)
SVG = "{http://www.w3.org/2000/svg}"
#: What the institute keeps about its standards that no firm may read.
SECRETS = ("张保管员", "13912345678", "内部备注：标准器存放于三楼恒温室", "机房 301")


@dataclass(frozen=True)
class OnSite(Actor):
    """Institute staff recording results in a client's ledger on site (its own standards resolve)."""

    @property
    def permissions(self) -> frozenset[str]:
        return ROLE_PERMISSIONS[("institute", "staff")]


def on_site(world, firm_org) -> Actor:
    # The firm's history names people of the firm by id; the institute's staff by name only.
    staff = world.institute_staff
    return OnSite(None, staff.name, "staff", world.institute.id, "institute", firm_org.id)


def institute(world) -> Actor:
    return Actor.of(world.institute_staff)


def _result(day: str, standards, **fields) -> dict:
    """A result performed on ``day`` (a passed verification unless told) with the standards named."""
    payload = {"kind": "verification", "performed_on": day, "standards": list(standards)}
    payload |= {"lab_name": "河南省计量测试科学研究院", "certificate_no": f"C-{day}"} | fields
    if payload["kind"] != "calibration":
        payload.setdefault("conclusion", "pass")
    return payload


def record(session, actor, instrument, day: str, standards=(), **fields):
    """Record a result (a passed verification unless told) with the standards named."""
    return records.record_result(session, actor, instrument.id, _result(day, standards, **fields), TODAY)


def used_at_firm_a(session, world, instrument, day: str, standard, **fields):
    """Record a result in firm A's ledger on site, made with the institute's ``standard``."""
    return record(
        session, on_site(world, world.a.org), instrument, day, [{"instrument_id": standard.id}], **fields
    )


def correct(session, actor, record_id: int, day: str, standards, reason: str, **fields):
    """Correct a record with a result (a passed verification unless told) naming ``standards``."""
    payload = _result(day, standards, correction_reason=reason, **fields)
    return records.correct_record(session, actor, record_id, payload, TODAY)


def standard(session, world, no: str, name: str):
    return make_instrument(
        session,
        institute(world),
        TODAY,
        management_no=no,
        name=name,
        custodian="张保管员",
        custodian_mobile="13912345678",
        notes="内部备注：标准器存放于三楼恒温室",
        location="机房 301",
        abc_class="A",
    )


@pytest.fixture
def chain_world(db_session, world):
    """Firm A's gauge ← the institute's working standard ← its reference standard ← the national standard.

    The reference standard's certificate ran out on 2025-02-28; the working standard was verified
    with it on 2025-04-10 anyway: that link is expired on the day of use.
    """
    reference = standard(db_session, world, "BZ-T01", "活塞式压力计")
    working = standard(db_session, world, "BZ-S01", "精密压力表")
    national = {
        "name": "国家压力基准",
        "management_no": "GJ-P-001",
        "certificate_no": "GJZ2024-0001",
        "valid_until": "2026-12-31",
        "lab_name": "中国计量科学研究院",
    }
    record(
        db_session,
        institute(world),
        reference,
        "2024-03-01",
        [national],
        kind="calibration",
        confirmation="fit",
        certificate_no="JZ2024-0301",
        valid_until="2025-02-28",
        notes="内部备注：标准器存放于三楼恒温室",
    )
    record(
        db_session,
        institute(world),
        working,
        "2025-04-10",
        [{"instrument_id": reference.id}],
        certificate_no="JD2025-0410",
        valid_until="2026-04-09",
    )
    gauge = world.a.instruments[0]
    used_at_firm_a(
        db_session,
        world,
        gauge,
        "2025-06-01",
        working,
        certificate_no="JD2025-0601",
        lab_org_id=world.institute.id,
    )
    db_session.commit()
    return {"gauge": gauge, "working": working, "reference": reference}


def test_the_chain_climbs_from_the_firm_into_the_institutes_ledger(db_session, world, chain_world):
    chain = standards_chain(db_session, world.a.actor(), chain_world["gauge"].id)
    nodes = chain.by_key
    path, key = [], chain.root
    while True:
        path.append(nodes[key].management_no)
        parents = [s for s in chain.steps if s.child == key]
        if not parents:
            break
        assert len(parents) == 1
        key = parents[0].parent
    assert path == [chain_world["gauge"].management_no, "BZ-S01", "BZ-T01", "GJ-P-001"]
    assert nodes[key].is_external
    by_parent = {nodes[s.parent].management_no: s for s in chain.steps}
    assert by_parent["BZ-S01"].certificate_no == "JD2025-0410"
    assert by_parent["BZ-S01"].valid_until == date(2026, 4, 9)
    assert by_parent["BZ-S01"].expired is False
    assert (by_parent["BZ-T01"].used_on, by_parent["BZ-T01"].valid_until) == (
        date(2025, 4, 10),
        date(2025, 2, 28),
    )
    assert by_parent["BZ-T01"].expired is True
    assert by_parent["GJ-P-001"].expired is False
    assert [nodes[s.parent].management_no for s in chain.expired_steps] == ["BZ-T01"]
    assert nodes[chain.root].certificate_no == "JD2025-0601"
    assert chain.truncated is False


def test_the_expired_link_is_drawn_and_listed(app, db_session, world, chain_world):
    with app.test_request_context():
        context = chain_context(db_session, world.a.actor(), chain_world["gauge"].id)
        html = render_template("traceability/_chain.html", **context)
    chain = context["chain"]
    expired_key = next(s for s in chain.steps if s.expired)
    tree = ET.fromstring(str(context["chain_svg"]))
    drawn = {
        (g.get("data-child"), g.get("data-parent")): "trace-expired" in g.get("class").split()
        for g in tree.iter(f"{SVG}g")
        if "trace-link" in (g.get("class") or "").split()
    }
    assert drawn[(expired_key.child, expired_key.parent)] is True
    assert sum(drawn.values()) == 1
    assert len(drawn) == 3
    assert 'id="chain-expired"' in html
    assert html.count("data-expired-link") == 1
    listed = html.split('id="chain-expired"')[1]
    for fact in ("BZ-T01", "2025-04-10", "2025-02-28", "JZ2024-0301"):
        assert fact in listed


def test_the_firm_sees_nothing_of_the_institute_beyond_the_chain(app, db_session, world, chain_world):
    chain = standards_chain(db_session, world.a.actor(), chain_world["gauge"].id)
    shown = repr(chain.as_dict())
    for secret in SECRETS:
        assert secret not in shown
    institute_nodes = [e for e in chain.entries if e.management_no in ("BZ-S01", "BZ-T01")]
    assert [e.organization for e in institute_nodes] == [world.institute.name] * 2
    assert [(e.instrument_id, e.href) for e in institute_nodes] == [(None, None)] * 2
    # Node keys are opaque: no id of the institute's ledger leaks through them either.
    assert {e.key for e in chain.entries} == {"n0", "n1", "n2", "n3"}
    with app.test_request_context():
        context = chain_context(db_session, world.a.actor(), chain_world["gauge"].id)
        html = render_template("traceability/_chain.html", **context)
    for secret in SECRETS:
        assert secret not in html
    for instrument in (chain_world["working"], chain_world["reference"]):
        assert f"/instruments/{instrument.id}" not in html
    assert f"/instruments/{chain_world['gauge'].id}" in html


def test_the_institute_reading_its_client_links_its_own_standards(app, db_session, world, chain_world):
    viewer = tenancy_queries.client_actor(db_session, institute(world), world.a.org.id)
    with app.test_request_context():
        chain = chain_context(db_session, viewer, chain_world["gauge"].id)["chain"]
    hrefs = {e.management_no: e.href for e in chain.entries}
    assert hrefs["BZ-S01"] == f"/instruments/{chain_world['working'].id}"
    assert hrefs[chain_world["gauge"].management_no] == (
        f"/clients/{world.a.org.id}/instruments/{chain_world['gauge'].id}"
    )
    assert hrefs["GJ-P-001"] is None


def test_only_renewing_records_start_the_chain_and_corrections_count(db_session, world, chain_world):
    gauge, working = chain_world["gauge"], chain_world["working"]
    other = standard(db_session, world, "BZ-S02", "数字压力计")
    record(db_session, institute(world), other, "2025-05-01", certificate_no="JD2025-0501")
    # An intermediate check with another standard gives no traceability: the chain ignores it.
    used_at_firm_a(db_session, world, gauge, "2025-07-01", other, kind="intermediate_check")
    chain = standards_chain(db_session, world.a.actor(), gauge.id)
    assert "BZ-S02" not in {e.management_no for e in chain.entries}
    # A correction replaces the record: its standards are the chain's now.
    renewing = db_session.scalar(
        select(CalibrationRecord).where(
            CalibrationRecord.instrument_id == gauge.id, CalibrationRecord.kind == "verification"
        )
    )
    standards = [{"instrument_id": other.id}]
    correct(
        db_session,
        on_site(world, world.a.org),
        renewing.id,
        "2025-06-01",
        standards,
        "录错标准器",
        certificate_no="JD2025-0601A",
    )
    chain = standards_chain(db_session, world.a.actor(), gauge.id)
    names = {e.management_no for e in chain.entries}
    assert "BZ-S02" in names
    assert working.management_no not in names


def test_cycles_stop_where_they_close(app, db_session, world):
    first = standard(db_session, world, "BZ-C01", "标准器甲")
    second = standard(db_session, world, "BZ-C02", "标准器乙")
    # Each was last calibrated with the other: the chain must end, not loop.
    record(db_session, institute(world), second, "2024-12-01", [{"instrument_id": first.id}])
    record(db_session, institute(world), first, "2025-01-01", [{"instrument_id": second.id}])
    chain = standards_chain(db_session, institute(world), first.id)
    assert [e.management_no for e in chain.entries] == ["BZ-C01", "BZ-C02"]
    assert [(s.child, s.parent) for s in chain.steps] == [("n0", "n1"), ("n1", "n0")]
    with app.test_request_context():
        svg = chain_context(db_session, institute(world), first.id)["chain_svg"]
    tree = ET.fromstring(str(svg))
    assert any("trace-cycle" in (g.get("class") or "").split() for g in tree.iter(f"{SVG}g"))


def test_a_long_chain_is_cut_at_max_depth(db_session, world):
    # BZ-L0 ← BZ-L1 ← … ← BZ-L5, each calibrated a day after the one above it.
    chain_of = [standard(db_session, world, f"BZ-L{i}", f"标准器{i}") for i in range(6)]
    record(db_session, institute(world), chain_of[5], "2025-01-01")
    for i in range(4, -1, -1):
        record(
            db_session,
            institute(world),
            chain_of[i],
            f"2025-01-{7 - i:02d}",
            [{"instrument_id": chain_of[i + 1].id}],
        )
    full = standards_chain(db_session, institute(world), chain_of[0].id)
    assert len(full.entries) == 6
    assert not full.truncated
    cut = standards_chain(db_session, institute(world), chain_of[0].id, max_depth=2)
    assert [e.management_no for e in cut.entries] == ["BZ-L0", "BZ-L1", "BZ-L2"]
    assert cut.truncated


def test_an_instrument_without_records_has_a_chain_of_one(app, db_session, world):
    chain = standards_chain(db_session, world.a.actor(), world.a.instruments[2].id)
    assert (len(chain.entries), chain.steps) == (1, [])
    with app.test_request_context():
        html = render_template(
            "traceability/_chain.html",
            **chain_context(db_session, world.a.actor(), world.a.instruments[2].id),
        )
    assert 'id="chain-empty"' in html


def test_another_firms_instrument_is_not_found(db_session, world, chain_world):
    with pytest.raises(NotFound):
        standards_chain(db_session, world.b.actor(), chain_world["gauge"].id)
    with pytest.raises(NotFound):
        standards_chain(db_session, world.a.actor(), chain_world["working"].id)


def test_chain_api(client, db_session, world, chain_world):
    _token, secret = create_api_token(db_session, world.a.actor("admin"), "chain")
    db_session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    response = client.get(f"/api/v1/instruments/{chain_world['gauge'].id}/chain", headers=headers)
    assert response.status_code == 200
    body = response.json
    assert body["root"] == "n0"
    assert [link["expired"] for link in body["links"]].count(True) == 1
    expired = next(link for link in body["links"] if link["expired"])
    assert (expired["used_on"], expired["valid_until"]) == ("2025-04-10", "2025-02-28")
    for secret_text in SECRETS:
        assert secret_text not in response.text
    assert {n["instrument_id"] for n in body["nodes"] if not n["is_root"]} == {None}
    # Another firm's instrument, and the institute's standard itself, are 404 to the firm.
    for foreign in (world.b.instruments[0].id, chain_world["working"].id):
        assert client.get(f"/api/v1/instruments/{foreign}/chain", headers=headers).status_code == 404


def test_the_openapi_document_describes_the_chain(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "/api/v1/instruments/{instrument_id}/chain" in paths
    assert "/api/v1/standards/{instrument_id}/notices" in paths


def test_the_instrument_page_shows_the_chain_and_its_expired_link(client, world, chain_world):
    login(client, world.a.metrology)
    page = client.get(f"/instruments/{chain_world['gauge'].id}")
    assert page.status_code == 200
    assert 'id="chain-diagram"' in page.text
    assert page.text.count("data-expired-link") == 1
