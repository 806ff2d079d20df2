"""Real ledgers published by real firms, read from ../shared/real_ledgers (never copied into the project).

Each file is imported as its user would, with no options unless named: through the CLI (a dry run
and a real import), the import page and the API. The expected figures are those the issue names.
"""

import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from models import Instrument, LedgerImport
from tests.api import API, auth
from tests.conftest import login

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real_ledgers"

QR006 = "cn_xasl_QR-006_监视和测量设备台账.xlsx"
QR007 = "cn_xasl_QR-007_计量设备周期检定计划.xls"
QR041 = "cn_xasl_QR-041_检具台账.xls"
TEMPLATE = "cn_ms_server_测量仪器模板.xlsx"
IVIEW = "in_gaugemaster_Iview_Master_list_may-26.xlsx"
YEARLY = "tr_Yearly_Calibration_Schedule.xlsx"
COAL = "mn_coal_lims_equipment_register_2025-10-27.xlsx"


def real(name: str) -> Path:
    path = REAL / name
    if not path.is_file():
        pytest.skip(f"the real ledger {name} is not at {REAL} (the shared folder beside the checkout)")
    return path


def cli(app, path, slug, *options):
    result = app.test_cli_runner().invoke(args=["ledger", "import", str(path), "--org", slug, *options])
    summary = json.loads(result.stdout) if result.exit_code == 0 else None
    return result, summary


def ledger_of(session, org_id, since_id=0) -> dict[str, Instrument]:
    found = session.scalars(select(Instrument).where(Instrument.org_id == org_id, Instrument.id > since_id))
    return {i.management_no: i for i in found}


def last_id(session) -> int:
    return session.scalar(select(Instrument.id).order_by(Instrument.id.desc()).limit(1)) or 0


# Through the CLI --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "created"),
    [(QR006, 4), (QR007, 0), (QR041, 0), (TEMPLATE, 1)],
)
def test_chinese_forms_and_templates_dry_run(app, sessions, world, name, created):
    result, summary = cli(app, real(name), world.a.org.slug, "--dry-run")
    assert result.exit_code == 0, result.output
    assert (summary["created"], summary["updated"], summary["rejected"]) == (created, 0, 0)
    assert summary["rejected_rows"] == []


def test_qr006_imports_four_instruments_of_class_b(app, sessions, db_session, world):
    before = last_id(db_session)
    result, summary = cli(app, real(QR006), world.a.org.slug)
    assert result.exit_code == 0, result.output
    assert summary["skipped_rows"] == {"blank": 34, "footer": 1}  # pre-numbered rows 5–37, the signature
    ledger = ledger_of(db_session, world.a.org.id, before)
    assert {i.name: i.abc_class for i in ledger.values()} == {
        "卡尺": "B",
        "天秤": "B",
        "压力表": "B",
        "温湿度计": "B",
    }
    assert {i.interval_months for i in ledger.values()} == {12}
    assert {i.lab for i in ledger.values()} == {None}  # "/": none given


def test_qr041_recognises_the_header_of_an_empty_gauge_form(app, sessions, world):
    result, summary = cli(app, real(QR041), world.a.org.slug, "--dry-run")
    assert result.exit_code == 0, result.output
    assert summary["columns"]["检具编号"] == "management_no"
    assert summary["columns"]["检具名称"] == "name"
    assert summary["columns"]["量具 状况"] == "status"
    assert summary["columns"]["领用人"] == "custodian"
    assert summary["skipped_rows"] == {"blank": 47}


def test_the_template_row_is_a_calibrated_class_b_instrument(app, sessions, db_session, world):
    before = last_id(db_session)
    result, summary = cli(app, real(TEMPLATE), world.a.org.slug)
    assert result.exit_code == 0, result.output
    (meter,) = ledger_of(db_session, world.a.org.id, before).values()
    assert (meter.management_no, meter.name, meter.manufacturer) == ("1602-PO", "静电检测仪", "日本春日")
    assert (meter.control_method, meter.abc_class, meter.interval_months) == ("calibration", "B", 12)
    assert (meter.status, meter.conclusion) == ("in_service", "pass")  # 在库, noted
    assert "状态: 在库" in meter.notes


def test_the_iview_master_list(app, sessions, db_session, world):
    before = last_id(db_session)
    result, summary = cli(app, real(IVIEW), world.a.org.slug)
    assert result.exit_code == 0, result.output
    assert summary["created"] >= 3550
    # Rejected rows are only real faults: a repeated or missing id or name, a last date after the
    # next one, a date that is no date.
    allowed = ("重复", "缺少管理编号", "缺少器具名称", "早于上次", "不能晚于今天", "无法识别的周期")
    allowed += ("无法识别的日期",)
    reasons = Counter(r["reason"] for r in summary["rejected_rows"])
    assert all(any(word in reason for word in allowed) for reason in reasons), reasons
    ledger = ledger_of(db_session, world.a.org.id, before)
    # The 28 Scrap / REJECTED / REJECTION gauges never arrive in service; one of them (row 2700)
    # repeats the id SM095/01 of another gauge (row 1050, active) and is rejected with the repeat.
    scrapped = [i for i in ledger.values() if i.status == "scrapped"]
    assert len(scrapped) == 27
    assert ledger["SM095/01"].status == "in_service"
    assert any(r["row"] == 2700 and "SM095/01" in r["reason"] for r in summary["rejected_rows"])
    gauge = ledger["PG649/02"]
    assert (gauge.name, gauge.interval_months, gauge.lab, gauge.location) == (
        "PLUG GAUGE",
        6,
        "Inhouse-Gauges",
        "AL ASSEMBLY",
    )
    assert (gauge.manufacturer, gauge.model, gauge.resolution) == (None, None, None)  # "*", "NA"


def test_the_yearly_schedule_needs_its_tag_column_named(app, sessions, world):
    result, _summary = cli(app, real(YEARLY), world.a.org.slug, "--dry-run")
    assert result.exit_code == 2
    assert "管理编号" in result.output
    result, summary = cli(
        app, real(YEARLY), world.a.org.slug, "--dry-run", "--map", "Functional Location=management_no"
    )
    assert result.exit_code == 0, result.output
    assert summary["created"] >= 370
    assert (summary["sheet"], summary["header_row"]) == ("Tx Detail List", 2)


def test_a_workbook_in_a_language_it_does_not_read_says_so(app, sessions, world):
    result, _summary = cli(app, real(COAL), world.a.org.slug, "--dry-run")
    assert result.exit_code == 2
    assert "表头" in result.output


# Through the page and the API ------------------------------------------------------------------


def _job(db_session, import_id) -> LedgerImport:
    db_session.expire_all()
    return db_session.get(LedgerImport, import_id)


def test_the_page_previews_and_imports_qr006(client, db_session, world):
    login(client, world.a.admin)
    with open(real(QR006), "rb") as f:
        response = client.post(
            "/instruments/import", data={"file": (f, QR006)}, content_type="multipart/form-data"
        )
    import_id = int(re.search(r"/instruments/imports/(\d+)$", response.headers["Location"]).group(1))
    page = client.get(f"/instruments/imports/{import_id}").text
    counts = {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', page)}
    assert counts == {"created": 4, "updated": 0, "unchanged": 0, "rejected": 0}
    assert "编号" in page  # the notice naming the counter column read as the number
    client.post(f"/instruments/imports/{import_id}/confirm")
    assert _job(db_session, import_id).imported_at is not None


def test_the_api_imports_the_yearly_schedule_once_its_tag_column_is_named(client, db_session, world):
    headers = auth(db_session, world.a.admin)
    with open(real(YEARLY), "rb") as f:
        content = f.read()
    upload = client.post(
        f"{API}/imports", headers=headers, data={"file": (io.BytesIO(content), YEARLY)},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert upload.status_code == 202, upload.json
    job = client.get(upload.headers["Location"], headers=headers).json
    assert job["state"] == "failed"
    tag = next(c for c in job["column_fields"] if c["header"] == "Functional Location")
    remapped = client.put(
        f"{API}/imports/{job['id']}/reading",
        headers=headers,
        json={"mapping": {str(tag["index"]): "management_no"}},
    )
    assert remapped.status_code == 202, remapped.json
    job = client.get(upload.headers["Location"], headers=headers).json
    assert job["state"] == "done", job
    assert job["report"]["created"] >= 370
    assert job["report"]["sheet"] == "Tx Detail List"
