"""A nomination's scans (uploaded, refused, removed, frozen) and its Word forms, read back."""

from __future__ import annotations

import io
from datetime import timedelta

import docx
import pytest
from docx.oxml.ns import qn
from sqlalchemy import func, select

from models import Event, NominationFile
from service.actors import Actor
from service.errors import Conflict, Forbidden, Invalid, NotFound
from service.nominations import operations
from tests import factories
from tests.api import API, auth
from tests.conftest import login
from tests.files import jpeg_bytes, pdf_bytes, png_bytes
from tests.nominations import COMPLETE, TODAY, answer_everything, attach_scans, open_campaign


@pytest.fixture
def draft(db_session, world):
    """Firm A's complete draft nomination, without its scans."""
    campaign, recommender = open_campaign(db_session, world)
    who = world.a.actor()
    nomination = operations.start_nomination(
        db_session, who, {"campaign_id": campaign.id, "recommender_id": recommender.id}, TODAY
    )
    operations.update_nomination(db_session, who, nomination.id, COMPLETE, TODAY)
    answer_everything(db_session, who, nomination.id)
    db_session.commit()
    return nomination


def _upload(db_session, who, nomination_id, storage, kind="evidence", content=None, name="证明.pdf"):
    scan = [(io.BytesIO(pdf_bytes() if content is None else content), name)]
    return operations.add_nomination_files(
        db_session, who, nomination_id, {"kind": kind}, scan, storage, TODAY
    )


def test_scans_are_checked_by_their_bytes_and_kind(db_session, world, draft, tmp_path):
    who = world.a.actor()
    for content, name in (
        (b"MZ\x90\x00 not a scan", "证明.pdf"),
        (b"", "空.pdf"),
        (b"%PDF-1.4 cut", "半截.pdf"),
    ):
        with pytest.raises(Invalid) as refused:
            _upload(db_session, who, draft.id, tmp_path, content=content, name=name)
        assert list(refused.value.field_errors) == ["file.0"], name
    with pytest.raises(Invalid) as bad_kind:
        _upload(db_session, who, draft.id, tmp_path, kind="selfie")
    assert "kind" in bad_kind.value.field_errors
    with pytest.raises(Invalid):  # nothing chosen
        operations.add_nomination_files(db_session, who, draft.id, {"kind": "evidence"}, [], tmp_path, TODAY)
    assert db_session.scalar(select(func.count(NominationFile.id))) == 0

    png = _upload(db_session, who, draft.id, tmp_path, content=png_bytes(), name="培训照片.jpg")[0]
    assert (png.mime, png.filename) == ("image/png", "培训照片.png")  # the bytes say what it is
    jpeg = _upload(db_session, who, draft.id, tmp_path, content=jpeg_bytes(), name="宣传.jpeg")[0]
    assert jpeg.mime == "image/jpeg"
    event = db_session.scalars(select(Event).where(Event.kind == "nomination.files_added")).all()[-1]
    assert event.data["files"][0]["sha256"] == jpeg.sha256


def test_at_most_so_many_scans(db_session, world, draft, tmp_path, monkeypatch):
    monkeypatch.setattr(operations, "MAX_FILES", 2)
    who = world.a.actor()
    _upload(db_session, who, draft.id, tmp_path)
    _upload(db_session, who, draft.id, tmp_path, content=png_bytes(), name="b.png")
    with pytest.raises(Invalid):
        _upload(db_session, who, draft.id, tmp_path, content=jpeg_bytes(), name="c.jpg")


def test_who_may_upload_and_remove(db_session, world, draft, tmp_path):
    scan = _upload(db_session, world.a.actor(), draft.id, tmp_path)[0]
    with pytest.raises(Forbidden):  # a viewer reads, does not nominate
        _upload(db_session, world.a.actor("viewer"), draft.id, tmp_path)
    with pytest.raises(NotFound):  # another firm
        _upload(db_session, world.b.actor(), draft.id, tmp_path)
    with pytest.raises(NotFound):  # the institute does not edit a firm's nomination
        _upload(db_session, Actor.of(world.institute_admin), draft.id, tmp_path)
    with pytest.raises(NotFound):
        operations.remove_nomination_file(db_session, world.b.actor(), draft.id, scan.id, TODAY)
    with pytest.raises(Conflict):  # after the window
        operations.remove_nomination_file(
            db_session, world.a.actor(), draft.id, scan.id, TODAY + timedelta(days=30)
        )
    with pytest.raises(NotFound):  # a scan of no nomination of this firm
        operations.remove_nomination_file(db_session, world.a.actor(), draft.id, scan.id + 1000, TODAY)
    operations.remove_nomination_file(db_session, world.a.actor(), draft.id, scan.id, TODAY)
    assert db_session.scalar(select(func.count(NominationFile.id))) == 0


def _docx(data: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(data))


def _text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def test_the_recommendation_form_reads_back(client, db_session, world, draft, tmp_path):
    login(client, world.a.metrology)
    with client.get(f"/nominations/{draft.id}/recommendation-form.docx") as response:
        assert response.status_code == 200
        assert response.mimetype.endswith("wordprocessingml.document")
        assert "filename*=UTF-8''%E6%8E%A8%E8%8D%90%E8%A1%A8-" in response.headers["Content-Disposition"]
        form = _docx(response.data)
    text = _text(form)
    assert "计量溯源先进单位评选" in text
    assert "推荐表" in text
    assert "推荐单位：力学研究所" in text
    unit = form.tables[0]
    assert unit.rows[0].cells[1].text == COMPLETE["unit_name"]
    assert [c.text for c in unit.rows[1].cells] == [
        "统一社会信用代码",
        COMPLETE["credit_code"],
        "所处行业",
        COMPLETE["industry"],
    ]
    assert "中小型（职工 320 人，营业收入 18000.00 万元）" in unit.rows[4].cells[1].text
    assert "（一）计量体系建设" in text
    assert COMPLETE["narratives"][0] in text
    evidence = {row.cells[0].text: row.cells[1].text for row in form.tables[1].rows}
    assert evidence["台账在册计量器具"] == "3"  # firm A's three instruments
    assert evidence["周期受控覆盖率"].endswith("/3）")
    self_check = form.tables[2]
    assert [c.text for c in self_check.rows[0].cells] == [
        "序号",
        "类别",
        "检查项目",
        "检查内容",
        "结果",
        "说明",
    ]
    assert len(self_check.rows) == 34
    assert {row.cells[4].text for row in self_check.rows[1:]} == {"✓"}  # every item answered yes
    assert self_check.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None  # repeated on each page
    assert "☑ 近三年未发生重大计量违法行为" in text
    assert "申报单位（盖章）" in text
    assert "推荐单位意见：" in text
    normal = form.styles["Normal"].element.rPr.rFonts
    assert normal.get(qn("w:eastAsia")) == "宋体"
    section = form.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)


def test_the_submitted_form_keeps_the_frozen_figures(client, db_session, world, draft, tmp_path):
    who = world.a.actor()
    attach_scans(db_session, who, draft.id, tmp_path)
    operations.submit_nomination(db_session, who, draft.id, TODAY)
    factories.make_instrument(db_session, who, TODAY)  # the ledger grows after submitting
    db_session.commit()
    headers = auth(db_session, world.a.viewer)  # anyone of the firm may read it
    with client.get(f"{API}/nominations/{draft.id}/recommendation-form.docx", headers=headers) as response:
        form = _docx(response.data)
    evidence = {row.cells[0].text: row.cells[1].text for row in form.tables[1].rows}
    assert evidence["台账在册计量器具"] == "3"
    assert draft.frozen_head_hash in _text(form)


def test_the_commitment_letter_reads_back(client, db_session, world, draft):
    headers = auth(db_session, world.a.metrology)
    with client.get(f"{API}/nominations/{draft.id}/commitment-letter.docx", headers=headers) as response:
        assert response.status_code == 200
        letter = _docx(response.data)
    text = _text(letter)
    assert text.startswith("承诺书")
    assert f"{world.institute.name}：" in text
    assert "本单位自愿参加“计量溯源先进单位评选”，对所提交的申报材料郑重承诺如下：" in text
    assert "二、近三年未发生重大计量违法行为；" in text
    assert f"申报单位（盖章）：{COMPLETE['unit_name']}" in text
    assert f"统一社会信用代码：{COMPLETE['credit_code']}" in text


def test_documents_and_scans_of_another_firm_are_not_found(client, db_session, world, draft, tmp_path):
    scan = _upload(db_session, world.a.actor(), draft.id, tmp_path)[0]
    db_session.commit()
    headers = auth(db_session, world.b.admin)
    for path in (
        f"/nominations/{draft.id}/recommendation-form.docx",
        f"/nominations/{draft.id}/commitment-letter.docx",
        f"/nominations/{draft.id}/files/{scan.id}",
    ):
        assert client.get(f"{API}{path}", headers=headers).status_code == 404, path
    assert client.delete(f"{API}/nominations/{draft.id}/files/{scan.id}", headers=headers).status_code == 404
    login(client, world.institute_admin)
    assert client.get(f"/nominations/{draft.id}/files/{scan.id}").status_code == 404


def test_the_page_uploads_refuses_and_removes(client, db_session, world, draft):
    login(client, world.a.metrology)
    url = f"/nominations/{draft.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="upload-form"' in page
    assert 'id="form-docx"' in page
    refused = client.post(
        f"{url}/files",
        data={"kind": "credit_record", "file": (io.BytesIO(b"GIF89a not accepted"), "截图.gif")},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "PDF" in refused
    assert 'class="alert alert-danger' in refused
    uploaded = client.post(
        f"{url}/files",
        data={"kind": "credit_record", "file": (io.BytesIO(png_bytes()), "信用截图.png")},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "信用截图.png" in uploaded
    scan = db_session.scalars(select(NominationFile)).one()
    with client.get(f"{url}/files/{scan.id}?inline=1") as shown:
        assert shown.headers["Content-Disposition"].startswith("inline")
    client.post(f"{url}/files/{scan.id}/remove")
    assert "信用截图.png" not in client.get(url).get_data(as_text=True)
    api = auth(db_session, world.a.metrology)
    assert client.delete(f"{API}/nominations/{draft.id}/files/{scan.id}", headers=api).status_code == 404
