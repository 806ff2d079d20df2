"""A firm's nomination: started in an open campaign, filled in, submitted (frozen), withdrawn."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import Notification
from models.nominations import REQUIRED_FILE_KINDS
from service.actors import Actor
from service.errors import Conflict, Invalid, NotFound
from service.nominations import operations
from tests import factories
from tests.api import API, auth
from tests.conftest import login
from tests.files import pdf_bytes, png_bytes
from tests.nominations import COMPLETE, TODAY, answer_everything, attach_scans, make_campaign, open_campaign


@pytest.fixture
def arranged(db_session, world):
    """An open campaign of the institute linked to firm A, with one recommender."""
    return open_campaign(db_session, world)


def test_start_fill_submit_withdraw(db_session, world, arranged, tmp_path):
    campaign, recommender = arranged
    who = world.a.actor()
    start = {"campaign_id": campaign.id, "recommender_id": recommender.id}
    nomination = operations.start_nomination(db_session, who, start, TODAY)
    assert (nomination.state, nomination.unit_name) == ("draft", world.a.org.name)
    with pytest.raises(Conflict):  # one nomination per firm and campaign
        operations.start_nomination(db_session, who, start, TODAY)

    with pytest.raises(Invalid) as incomplete:
        operations.submit_nomination(db_session, who, nomination.id, TODAY)
    assert {"address", "narratives", "declarations", "self_check"} <= set(incomplete.value.field_errors)

    operations.update_nomination(db_session, who, nomination.id, COMPLETE, TODAY)
    answer_everything(db_session, who, nomination.id)
    with pytest.raises(Invalid) as no_scans:
        operations.submit_nomination(db_session, who, nomination.id, TODAY)
    assert list(no_scans.value.field_errors) == ["files"]
    assert len(no_scans.value.field_errors["files"]) == 3
    attach_scans(db_session, who, nomination.id, tmp_path)
    submitted = operations.submit_nomination(db_session, who, nomination.id, TODAY)
    assert submitted.state == "submitted"
    assert submitted.frozen_head_hash
    assert [(f["kind"], f["sha256"]) for f in submitted.frozen_files] == [
        (f.kind, f.sha256) for f in submitted.files
    ]
    with pytest.raises(Conflict):  # the scans are frozen with the rest
        attach_scans(db_session, who, nomination.id, tmp_path)
    with pytest.raises(Conflict):
        operations.remove_nomination_file(db_session, who, nomination.id, submitted.files[0].id, TODAY)
    frozen = dict(submitted.frozen_dossier)
    assert frozen["instruments"]["total"] == 3

    # A later change to the ledger changes nothing the reviewers see.
    factories.make_instrument(db_session, who, TODAY)
    db_session.flush()
    assert submitted.frozen_dossier == frozen
    with pytest.raises(Conflict):
        operations.update_nomination(db_session, who, nomination.id, {"address": "别处"}, TODAY)

    withdrawn = operations.withdraw_nomination(db_session, who, nomination.id, TODAY)
    assert (withdrawn.state, withdrawn.frozen_dossier, withdrawn.frozen_files) == ("draft", None, None)
    again = operations.submit_nomination(db_session, who, nomination.id, TODAY)
    assert again.frozen_dossier["instruments"]["total"] == 4


def test_changing_the_datas_answer_needs_a_reason(db_session, world, arranged, tmp_path):
    campaign, recommender = arranged
    who = world.a.actor()
    nomination = operations.start_nomination(
        db_session, who, {"campaign_id": campaign.id, "recommender_id": recommender.id}, TODAY
    )
    operations.update_nomination(db_session, who, nomination.id, COMPLETE, TODAY)
    attach_scans(db_session, who, nomination.id, tmp_path)
    answer_everything(db_session, who, nomination.id, reason=None)
    # Firm A's three instruments have no ABC class: the data answers item 22 "no".
    with pytest.raises(Invalid) as unexplained:
        operations.submit_nomination(db_session, who, nomination.id, TODAY)
    assert "self_check" in unexplained.value.field_errors
    reason = {"22": {"answer": "yes", "reason": "分类制度已建立，台账补录中"}}
    operations.update_nomination(db_session, who, nomination.id, {"self_check": reason}, TODAY)
    submitted = operations.submit_nomination(db_session, who, nomination.id, TODAY)
    assert submitted.frozen_prefill["22"]["answer"] == "no"
    assert submitted.self_check["22"] == {"answer": "yes", "reason": "分类制度已建立，台账补录中"}


def test_bad_input_changes_nothing(db_session, world, arranged):
    campaign, recommender = arranged
    who = world.a.actor()
    nomination = operations.start_nomination(
        db_session, who, {"campaign_id": campaign.id, "recommender_id": recommender.id}, TODAY
    )
    for bad, field in (
        ({"narratives": ["只有一段"]}, "narratives"),
        ({"credit_code": "91410100MA0000000X"}, "credit_code"),
        ({"contact_email": "not-an-email"}, "contact_email"),
        ({"recommender_id": 999999}, "recommender_id"),
        ({"self_check": {"34": {"answer": "yes"}}}, "self_check"),
        ({"self_check": {"1": {"answer": "maybe"}}}, "self_check"),
    ):
        with pytest.raises(Invalid) as refused:
            operations.update_nomination(db_session, who, nomination.id, bad, TODAY)
        assert any(key.split(".")[0] == field for key in refused.value.field_errors), bad
    assert nomination.narratives == ["", ""]


def test_only_linked_firms_in_the_window(db_session, world, arranged):
    campaign, recommender = arranged
    start = {"campaign_id": campaign.id, "recommender_id": recommender.id}
    with pytest.raises(NotFound):  # firm B has no link to the institute
        operations.start_nomination(db_session, world.b.actor(), start, TODAY)
    with pytest.raises(Conflict):  # the window has not opened yet
        operations.start_nomination(db_session, world.a.actor(), start, TODAY - timedelta(days=2))
    with pytest.raises(NotFound):  # a viewer is not a firm's nominator… nor an institute
        operations.start_nomination(db_session, Actor.of(world.institute_staff), start, TODAY)
    draft = make_campaign(db_session, Actor.of(world.institute_admin), opens=10, closes=12, title="尚未开放")
    with pytest.raises(Conflict):
        operations.start_nomination(
            db_session, world.a.actor(), {"campaign_id": draft.id, "recommender_id": recommender.id}, TODAY
        )


def test_api_journey_and_tenancy(client, db_session, world, arranged):
    campaign, recommender = arranged
    headers = auth(db_session, world.a.metrology)
    started = client.post(
        f"{API}/nominations",
        headers=headers,
        json={"campaign_id": campaign.id, "recommender_id": recommender.id},
    )
    assert started.status_code == 201, started.json
    nomination_id = started.json["id"]
    assert started.json["campaign"] == "计量溯源先进单位评选"
    refused = client.post(f"{API}/nominations/{nomination_id}/submit", headers=headers)
    assert refused.status_code == 400
    assert "address" in refused.json["errors"]
    patched = client.patch(f"{API}/nominations/{nomination_id}", headers=headers, json=COMPLETE)
    assert (patched.status_code, patched.json["size_class"]) == (200, "small_medium")
    answers = {str(seq): {"answer": "yes", "reason": "见附件"} for seq in range(1, 34)}
    client.patch(f"{API}/nominations/{nomination_id}", headers=headers, json={"self_check": answers})
    for kind in REQUIRED_FILE_KINDS:
        uploaded = client.post(
            f"{API}/nominations/{nomination_id}/files",
            headers=headers,
            data={"kind": kind, "file": (io.BytesIO(pdf_bytes(kind.encode())), f"{kind}.pdf")},
        )
        assert uploaded.status_code == 201, uploaded.json
    scan = uploaded.json["items"][0]
    assert (scan["kind"], scan["mime"]) == ("credit_record", "application/pdf")
    with client.get(f"{API}/nominations/{nomination_id}/files/{scan['id']}", headers=headers) as downloaded:
        assert downloaded.data == pdf_bytes(b"credit_record")
    submitted = client.post(f"{API}/nominations/{nomination_id}/submit", headers=headers)
    assert submitted.status_code == 200, submitted.json
    assert submitted.json["frozen_dossier"]["coverage"]["denominator"] == 3
    assert [f["sha256"] for f in submitted.json["frozen_files"]] == [
        f["sha256"] for f in submitted.json["files"]
    ]
    assert client.get(f"{API}/nominations", headers=headers).json["items"][0]["state"] == "submitted"
    other = auth(db_session, world.b.admin)
    assert client.get(f"{API}/nominations/{nomination_id}", headers=other).status_code == 404
    assert client.post(f"{API}/nominations/{nomination_id}/withdraw", headers=other).status_code == 404
    assert (
        client.get(f"{API}/nominations/{nomination_id}/files/{scan['id']}", headers=other).status_code == 404
    )
    institute = auth(db_session, world.institute_staff)
    assert client.get(f"{API}/nominations/{nomination_id}", headers=institute).status_code == 404


def test_pages_start_save_and_submit(client, db_session, world, arranged):
    campaign, recommender = arranged
    login(client, world.a.metrology)
    page = client.get("/nominations").get_data(as_text=True)
    assert f'data-campaign="{campaign.id}"' in page
    response = client.post(
        "/nominations", data={"campaign_id": campaign.id, "recommender_id": recommender.id}
    )
    assert response.status_code == 303
    url = response.headers["Location"]
    form = {k: v for k, v in COMPLETE.items() if k not in ("narratives", "declarations")}
    form |= {"recommender_id": recommender.id, "narratives-0": "体系……", "narratives-1": "文化……"}
    form |= {"declaration_count": "1", "declarations-0": "on"}
    form |= {f"sc-{seq}-answer": "yes" for seq in range(1, 34)} | {"sc-22-reason": "分类制度已建立"}
    form |= {f"sc-{seq}-reason": "见说明" for seq in (11, 20, 21, 29)}
    refused = client.post(url, data=form | {"submit": "1"}, follow_redirects=True).get_data(as_text=True)
    assert "请上传：盖章的承诺书。" in refused
    for kind in REQUIRED_FILE_KINDS:
        uploaded = client.post(
            f"{url}/files", data={"kind": kind, "file": (io.BytesIO(png_bytes()), "扫描件.png")}
        )
        assert uploaded.status_code == 303
    saved = client.post(url, data=form | {"submit": "1"})
    assert saved.status_code == 303
    shown = client.get(url).get_data(as_text=True)
    assert 'data-state="submitted"' in shown, shown[:3000]
    # Submitting an incomplete form keeps what was typed and says what is missing.
    client.post(f"{url}/withdraw")
    client.post(url, data={"narratives-0": "", "narratives-1": "文化……", "submit": "1"})
    shown = client.get(url).get_data(as_text=True)
    assert 'data-state="draft"' in shown
    assert "文化……" in shown


def _started(db_session, world, arranged):
    campaign, recommender = arranged
    return operations.start_nomination(
        db_session, world.a.actor(), {"campaign_id": campaign.id, "recommender_id": recommender.id}, TODAY
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/nominations", {"campaign_id": 1, "recommender_id": 2**70}),
        ("patch", "/nominations/{id}", {"recommender_id": 2**70}),
        ("patch", "/nominations/{id}", {"narratives": [None, None]}),
        ("post", "/recommenders", {"name": "x", "kind": "alliance", "member_ids": [2**70]}),
    ],
)
def test_api_refuses_what_used_to_crash(client, db_session, world, arranged, method, path, body):
    nomination = _started(db_session, world, arranged)
    db_session.commit()
    user = world.institute_admin if "recommenders" in path else world.a.metrology
    response = getattr(client, method)(
        f"{API}{path.format(id=nomination.id)}", headers=auth(db_session, user), json=body
    )
    assert response.status_code == 400, response.json


def test_the_form_ignores_malformed_keys(client, db_session, world, arranged):
    nomination = _started(db_session, world, arranged)
    db_session.commit()
    login(client, world.a.metrology)
    for form in (
        {"narratives-x": "a"},
        {"narratives-": "a"},
        {"declaration_count": "²"},
        {"declaration_count": "3000000"},
    ):
        assert client.post(f"/nominations/{nomination.id}", data=form).status_code == 303, form


def test_a_day_before_2000_is_refused(client, db_session, world):
    headers = auth(db_session, world.a.metrology)
    assert client.get(f"{API}/dossier?as_of=0001-01-01", headers=headers).status_code == 400
    login(client, world.a.metrology)
    assert client.get("/evidence?as_of=0001-01-01").status_code == 200


def test_an_ended_link_freezes_the_nomination(db_session, world, arranged):
    from service.clock import now_utc
    from service.tenancy.queries import active_link

    nomination = _started(db_session, world, arranged)
    active_link(db_session, nomination.institute_id, world.a.org.id).ended_at = now_utc()
    with pytest.raises(Conflict):
        operations.update_nomination(db_session, world.a.actor(), nomination.id, {"address": "x"}, TODAY)
    with pytest.raises(Conflict):
        operations.submit_nomination(db_session, world.a.actor(), nomination.id, TODAY)


def test_patch_answers_with_the_new_recommender_and_keeps_other_keys(client, db_session, world, arranged):
    campaign, _recommender = arranged
    other = operations.save_recommender(
        db_session, Actor.of(world.institute_admin), None, {"name": "产业计量联盟", "kind": "alliance"}
    )
    nomination = _started(db_session, world, arranged)
    operations.update_nomination(
        db_session,
        world.a.actor(),
        nomination.id,
        {"self_check": {"5": {"answer": "no", "reason": "新建产线"}}},
        TODAY,
    )
    db_session.commit()
    headers = auth(db_session, world.a.metrology)
    body = client.patch(
        f"{API}/nominations/{nomination.id}",
        headers=headers,
        json={"recommender_id": other.id, "self_check": {"5": {"note": "见附件"}}},
    ).json
    assert (body["recommender_id"], body["recommender"]) == (other.id, "产业计量联盟")
    assert body["self_check"]["5"] == {"answer": "no", "reason": "新建产线", "note": "见附件"}


def test_linked_firms_hear_that_a_campaign_opened(db_session, world, arranged):
    def told(org_id):
        return db_session.scalars(
            select(Notification).where(
                Notification.org_id == org_id, Notification.body.contains("/nominations")
            )
        ).all()

    heard = told(world.a.org.id)
    people = {world.a.admin.id, world.a.metrology.id}
    assert {(n.recipient_user_id, n.channel) for n in heard} == {
        (person, channel) for person in people for channel in ("email", "in_app")
    }
    assert told(world.b.org.id) == []  # not linked to the institute
