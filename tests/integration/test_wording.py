"""Issue #16: messages name fields and choices in words, numbers read as typed, pages in one language."""

from __future__ import annotations

import re
from datetime import timedelta

from service.clock import today_in
from service.traceability import operations as records
from tests.conftest import login


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_bad_filter_is_named_in_words(client, world):
    login(client, world.a.metrology)
    page = _text(client.get("/instruments?status=bogus&q=" + "x" * 101).text)
    assert "in_service" not in page
    assert "out_for_calibration" not in page
    assert "使用状态" in page
    assert "在用" in page  # the choices by their names
    assert "q:" not in page
    assert "搜索: 最多100个字符" in page


def test_every_ledger_parameter_is_named_in_words_and_unknown_ones_are_ignored(client, world):
    login(client, world.a.metrology)
    page = _text(client.get("/instruments?sort=bogus&due_from=xyz&in_use=maybe").text)
    for code in ("sort:", "next_due_on", "due_from", "in_use"):
        assert code not in page
    assert "排序方式" in page
    assert "下次检定日期（由早到晚）" in page  # the orders by their names
    assert "到期日起" in page
    assert "仅在用" in page
    # A parameter the page does not know (a bookmark, a hand-made address) is left out, not refused.
    listed = client.get("/instruments?per_page=9999")
    assert listed.status_code == 200
    assert "未知字段" not in listed.text


def test_readings_read_as_numbers_not_six_decimals(client, db_session, world):
    instrument = world.a.instruments[0]
    today = today_in("Asia/Shanghai")
    payload = {
        "kind": "verification",
        "performed_on": (today - timedelta(days=1)).isoformat(),
        "lab_name": "河南省计量测试科学研究院",
        "certificate_no": "JD-W-1",
        "conclusion": "pass",
        "readings": [
            {"phase": "as_found", "point": "50 ℃", "nominal": "50", "reading": "50.02", "mpe": "0.5"}
        ],
    }
    record = records.record_result(db_session, world.a.actor(), instrument.id, payload, today)
    db_session.commit()
    login(client, world.a.metrology)
    page = client.get(f"/records/{record.id}").text
    assert "50.000000" not in page
    assert "50.020000" not in page
    assert ">50.02<" in page


def test_the_token_name_message_is_in_the_pages_language(client, world):
    login(client, world.a.metrology)
    page = client.post("/account/tokens", data={"name": "", "days": "90"})
    assert page.status_code == 422
    assert "请为令牌填写名称" in page.text
    assert "Give the token a name" not in page.text
