"""The import preview shows what will happen row by row: instruments created, and each update's fields
before → after, on the page, in the API and from the command line."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from models import LedgerImport
from service.ledger_io.changes import ChangeList
from service.ledger_io.writing import Decision
from tests.api import API, auth
from tests.conftest import login
from tests.integration.test_import_pages import job_of, summary, upload
from tests.integration.test_ledger_import import cli
from tests.sheets import write_xlsx

HEADER = ["管理编号", "器具名称", "规格型号", "使用部门", "检定周期", "检定日期", "状态"]


def first_file(tmp_path):
    return write_xlsx(
        tmp_path / "台账.xlsx",
        [
            HEADER,
            ["CH-1", "压力表", "Y-100", "动力车间", "12", date(2025, 3, 1), "在用"],
            ["CH-2", "游标卡尺", "0-150mm", "动力车间", "12", date(2025, 3, 1), "在用"],
        ],
    )


def second_file(tmp_path):
    """CH-1 renamed, moved to another department and its model cleared; CH-2 as it was; CH-3 new."""
    return write_xlsx(
        tmp_path / "台账-改.xlsx",
        [
            HEADER,
            ["CH-1", "精密压力表", None, "质检科", "6", date(2025, 3, 1), "在用"],
            ["CH-2", "游标卡尺", "0-150mm", "动力车间", "12", date(2025, 3, 1), "在用"],
            ["CH-3", "电子天平", "JA2003", "质检科", "12", date(2025, 4, 1), "在用"],
        ],
    )


@pytest.fixture
def reimport(client, world, tmp_path):
    """Import the first file, then upload the changed one: return the second upload's id."""
    login(client, world.a.admin)  # the files name new departments, which an administrator may add
    first = job_of(upload(client, first_file(tmp_path)))
    assert client.post(f"/instruments/imports/{first}/confirm").status_code == 303
    return job_of(upload(client, second_file(tmp_path)))


def test_the_preview_shows_each_update_before_and_after(client, reimport, db_session):
    page = client.get(f"/instruments/imports/{reimport}")
    assert page.status_code == 200
    assert summary(page.text) == {"created": 1, "updated": 1, "unchanged": 1, "rejected": 0}
    text = page.text
    # The updates come first: they are what a re-import must not do unseen.
    assert 'data-kind="updated"' in text
    item = re.search(r'<div class="list-group-item[^"]*" data-row="2">(.*?)</ul>', text, re.S).group(1)
    assert "list-group-item-warning" in text
    assert "data-renamed" in item
    fields = dict(re.findall(r'data-field="(\w+)">(.*?)</li>', item, re.S))
    squash = {k: " ".join(v.split()) for k, v in fields.items()}
    assert "压力表</del>" in squash["name"]
    assert "精密压力表" in squash["name"]
    assert "动力车间</del>" in squash["department"]
    assert "质检科" in squash["department"]
    assert "Y-100</del>" in squash["model"]
    assert "data-cleared" in squash["model"]
    assert "12</del>" in squash["interval_months"]
    assert "6</ins>" in squash["interval_months"]
    assert "next_due_on" in fields  # derived, and marked so
    # The fields in the ledger's column order, as the history shows them.
    assert list(fields) == ["name", "model", "department", "interval_months", "next_due_on"]
    assert "CH-2" not in item

    created = client.get(f"/instruments/imports/{reimport}?kind=created").text
    assert 'id="created-rows"' in created
    cells = r'<tr data-row="4"><td>4</td><td class="text-break">CH-3</td><td class="text-break">电子天平'
    assert re.search(cells, created)

    # Imported: the same lists stay on the page, saying what was done.
    assert client.post(f"/instruments/imports/{reimport}/confirm").status_code == 303
    done = client.get(f"/instruments/imports/{reimport}").text
    assert 'data-state="imported"' in done
    assert "精密压力表" in done
    assert "data-cleared" in done
    job = db_session.get(LedgerImport, reimport)
    db_session.refresh(job)
    assert [u[:3] for u in job.changes["updated"]] == [[2, "CH-1", "精密压力表"]]
    assert "changes" not in job.report
    assert "updated_rows" not in job.report


def test_the_api_lists_the_changes(client, reimport, db_session, world):
    headers = auth(db_session, world.a.admin)
    response = client.get(f"{API}/imports/{reimport}/changes?kind=updated", headers=headers)
    assert response.status_code == 200, response.json
    body = response.json
    assert {k: body[k] for k in ("kind", "page", "per_page", "total", "pages", "next_page")} == {
        "kind": "updated",
        "page": 1,
        "per_page": 50,
        "total": 1,
        "pages": 1,
        "next_page": None,
    }
    [item] = body["items"]
    assert (item["row"], item["management_no"], item["name"]) == (2, "CH-1", "精密压力表")
    changes = {c["field"]: (c["before"], c["after"], c["derived"]) for c in item["changes"]}
    assert changes["name"] == ("压力表", "精密压力表", False)
    assert changes["department"] == ("动力车间", "质检科", False)
    assert changes["model"] == ("Y-100", None, False)
    assert changes["interval_months"] == (12, 6, False)
    assert changes["next_due_on"] == ("2026-02-28", "2025-08-31", True)

    created = client.get(f"{API}/imports/{reimport}/changes?kind=created", headers=headers).json
    assert created["items"] == [{"row": 4, "management_no": "CH-3", "name": "电子天平"}]


@pytest.mark.parametrize(
    ("query", "field"),
    [("", "kind"), ("?kind=deleted", "kind"), ("?kind=created&page=0", "page"),
     ("?kind=created&page=abc", "page"), ("?kind=created&per_page=501", "per_page"),
     ("?kind=created&colour=red", "colour")],
)  # fmt: skip
def test_bad_kind_or_page_is_a_400_with_a_field_message(client, reimport, db_session, world, query, field):
    headers = auth(db_session, world.a.admin)
    response = client.get(f"{API}/imports/{reimport}/changes{query}", headers=headers)
    assert response.status_code == 400
    assert list(response.json["errors"]) == [field]


def test_another_firms_import_is_not_found(app, client, reimport, db_session, world):
    foreign = auth(db_session, world.b.admin)
    assert client.get(f"{API}/imports/{reimport}/changes?kind=updated", headers=foreign).status_code == 404
    assert client.get(f"{API}/imports/{reimport}/changes?kind=nonsense", headers=foreign).status_code == 404
    other = app.test_client()
    login(other, world.b.admin)
    assert other.get(f"/instruments/imports/{reimport}?kind=updated").status_code == 404


def many_rows(tmp_path, count=120):
    rows = [["管理编号", "器具名称"], *([f"P-{i:03d}", f"器具{i}"] for i in range(1, count + 1))]
    return write_xlsx(tmp_path / "多.xlsx", rows)


def test_created_rows_are_paged(client, world, db_session, tmp_path):
    login(client, world.a.metrology)
    import_id = job_of(upload(client, many_rows(tmp_path)))
    page = client.get(f"/instruments/imports/{import_id}").text
    assert 'data-kind="created"' in page  # nothing updated: the created rows are shown
    assert re.findall(r'<tr data-row="(\d+)">', page) == [str(n) for n in range(2, 52)]
    assert "?kind=created&amp;page=2#changes" in page
    third = client.get(f"/instruments/imports/{import_id}?kind=created&page=3").text
    assert re.findall(r'<tr data-row="(\d+)">', third) == [str(n) for n in range(102, 122)]
    assert 'rel="next"' not in third
    assert 'rel="prev"' in third
    # A page past the end (or no number at all) shows a page that exists.
    past_the_end = client.get(f"/instruments/imports/{import_id}?page=9").text
    assert re.findall(r'<tr data-row="(\d+)">', past_the_end)[0] == "102"
    assert 'data-row="2"' in client.get(f"/instruments/imports/{import_id}?page=x").text
    updated = client.get(f"/instruments/imports/{import_id}?kind=updated").text
    assert 'id="changes-empty"' in updated
    assert 'id="changes-pages"' not in updated

    headers = auth(db_session, world.a.metrology)
    pages = [
        client.get(f"{API}/imports/{import_id}/changes?kind=created&page={n}", headers=headers).json
        for n in (1, 2, 3, 4)
    ]
    assert [len(p["items"]) for p in pages] == [50, 50, 20, 0]
    assert [p["next_page"] for p in pages] == [2, 3, None, None]
    assert {p["total"] for p in pages} == {120}
    assert {p["pages"] for p in pages} == {3}
    assert pages[2]["items"][-1] == {"row": 121, "management_no": "P-120", "name": "器具120"}


def test_changes_of_a_file_still_being_checked_are_a_conflict(client, world, db_session, tmp_path):
    headers = auth(db_session, world.a.metrology)
    job = LedgerImport(
        org_id=world.a.org.id, created_by_id=world.a.metrology.id, filename="x.xlsx", size=1, content=b"x"
    )
    db_session.add(job)
    db_session.commit()
    response = client.get(f"{API}/imports/{job.id}/changes?kind=created", headers=headers)
    assert response.status_code == 409


def test_the_command_line_prints_the_rows(app, sessions, db_session, world, tmp_path):
    slug = world.a.org.slug
    assert cli(app, first_file(tmp_path), "--org", slug).exit_code == 0
    result = cli(app, second_file(tmp_path), "--org", slug, "--dry-run")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["created_rows"] == [{"row": 4, "management_no": "CH-3", "name": "电子天平"}]
    [updated] = printed["updated_rows"]
    assert (updated["row"], updated["management_no"], updated["name"]) == (2, "CH-1", "精密压力表")
    department = {"field": "department", "before": "动力车间", "after": "质检科", "derived": False}
    assert department in updated["changes"]
    assert {"field": "model", "before": "Y-100", "after": None, "derived": False} in updated["changes"]


def test_a_linked_custodian_is_shown_by_name():
    """Unlinking a user for a name typed in the file shows the custodian as the ledger does."""
    changes = ChangeList({1: "质检科"}, {7: ("张三", "13800138000")})
    values = {"management_no": "X", "name": "表", "custodian_user_id": None, "custodian_name": "李四",
              "custodian_mobile": None, "department_id": 1}  # fmt: skip
    moved = {"custodian_user_id": [7, None], "custodian_name": [None, "李四"]}
    changes.note(3, Decision("updated", values, 1, moved))
    same = {
        "custodian_user_id": [7, None],
        "custodian_name": [None, "张三"],
        "custodian_mobile": [None, "13800138000"],
    }
    changes.note(4, Decision("updated", {**values, "custodian_name": "张三"}, 2, same))
    assert changes.dump()["updated"] == [
        [3, "X", "表", {"custodian": ["张三", "李四"], "custodian_mobile": ["13800138000", None]}],
        [4, "X", "表", {}],
    ]
