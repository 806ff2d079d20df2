"""Ledger files as firms keep them, built by the tests: messy xlsx sheets and CSV."""
# ruff: noqa: E501 (ledger rows are tables: one row a line reads better than wrapped)

import csv
import io
import re
import struct
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import xlsxwriter

SERIAL_2025_09_08 = 45908

MESSY_HEADER = [
    "序号",
    "计量编号",
    "设备名称",
    "规格型号",
    "出厂编号",
    "使用部门",
    "责任人",
    "联系电话",
    "ABC类",
    "是否强检",
    "强检用途",
    "检定周期",
    "检定日期",
    "有效期至",
    "检定单位",
    "检定结论",
    "状态",
    "供应商",
]


def messy_rows(jl002_valid_until=None, jl002_custodian="李四"):
    """A ledger as a firm keeps it: title, meta line, synonyms, sections, blank lines, signatures."""
    return [
        ["XX机械有限公司计量器具台账"],
        ["编制部门：质检部", None, None, None, None, None, None, None, None, "更新日期：2025年3月1日"],
        MESSY_HEADER,
        [1, "JL-001", "压力表", "Y-100 0~1.6MPa", 2023051234, "动力车间", "张三", "138 0013 8000",
         "A类", "是", "安全防护", "6个月", date(2025, 3, 10), SERIAL_2025_09_08, "市计量所", "合格",
         "在用", "红旗仪表"],
        [2, "JL-002", "游标卡尺", "0-150mm", "G123", "质检部", jl002_custodian, None, "B", "否",
         None, "1年", "2025.01.15", jl002_valid_until, "市计量所", "合格", "在用", None],
        [],
        ["二、温度仪表"],
        [3, "JL-003", "双金属温度计", "WSS-411", None, "动力车间", "王五 139-0000-1111", None, "C", "×",
         None, "一年", "2024年12月5日", None, None, None, "在用", None],
        [4, "JL-004", "数字温度计", "DT-1", None, "质检部", "赵六", None, "c", "否",
         None, "一次性", 20250110, None, None, None, "外借", None],
        [],
        ["制表：王五", None, None, "审核：李四", None, None, "批准：赵六"],
    ]  # fmt: skip


def write_xlsx(path, rows, merge=None):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "台账"
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    workbook.save(path)
    return path


def messy_file(tmp_path, name="台账.xlsx", **changes):
    return write_xlsx(tmp_path / name, messy_rows(**changes), merge="A1:R1")


def write_csv(path, rows, encoding="utf-8-sig", delimiter=","):
    with open(path, "w", encoding=encoding, newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    return path


EVERYDAY_HEADER = [
    "编号",
    "管理编号",
    "器具名称",
    "规格型号",
    "制造厂家",
    "出厂编号",
    "使用部门",
    "领用人",
    "是否强检",
    "强检用途",
    "检定周期",
    "检定日期",
    "有效期至",
    "启用日期",
    "检定单位",
    "证书号",
    "量具\n状况",
    "备注",
]


def everyday_rows():
    """An everyday Chinese ledger with 40 valid instruments and 5 faulty rows, as firms keep them.

    A counter column (编号) beside the management number, headers in the firm's own words, 强检
    rows whose use is written elsewhere or nowhere, dates typed every way, status words of daily
    life, department names typed twice differently, pre-numbered empty rows and a signature footer.
    """
    # fmt: off
    rows = [
        ["XX精密机械有限公司计量器具台账"],
        ["编制部门：质检部", None, None, None, None, None, None, None, None, None, None, "更新日期：2026年3月1日"],
        EVERYDAY_HEADER,
    ]
    valid = [
        # number, name, model, maker, serial, dept, custodian, 强检, use, interval, last, valid, since, lab, cert, status, notes
        ("JL-001", "一般压力表", "Y-100", "红旗仪表厂", "P1", "动力车间", "张三", "是", "安全防护", "6个月", "2026.01.10", None, None, "市计量所", "JD-1", "在用", None),
        ("JL-002", "电子计价秤", "ACS-30", "上海友声", "S2", "仓库", "李四", "√", None, "12个月", "2026-02-01", None, None, "市计量所", "JD-2", "在用", "用于贸易结算"),
        ("JL-003", "电能表", "DDS666", "正泰", "E3", "动力车间", "王五", "是", None, "12", "2026-01-05", None, None, "供电局", "JD-3", "在用", None),
        ("JL-004", "血压计", "HEM-7121", "欧姆龙", "B4", "医务室", "赵六", "Y", None, "1年", "2026-02-20", None, None, "市计量所", "JD-4", "在用", None),
        ("JL-005", "声级计", "AWA5688", "爱华", "N5", "安环部", "钱七", "是", None, "12个月", "2026-01-15", None, None, "市计量所", "JD-5", "在用", None),
        ("JL-006", "专用检具", "ZJ-1", "自制", "Z6", "二车间", "孙八", "是", None, "12个月", "2026-01-20", None, None, "市计量所", "JD-6", "在用", None),
        ("JL-007", "可燃气体检测仪", "GT-1", "汉威", "G7", "安环部", "周九", "是", "安全防护", "12个月", "2026-02-02", None, None, "市计量所", "JD-7", "在用", None),
        ("JL-008", "流量计", "LWGY", "开封仪表", "F8", "动力车间", "吴十", "是", None, "24个月", "2025-12-01", None, None, "市计量所", "JD-8", "在用", "贸易结算用"),
        ("JL-009", "体温计", "MC-246", "欧姆龙", "T9", "医务室", "郑一", "是", "医疗卫生", "12个月", "2026-02-10", None, None, "市计量所", "JD-9", "在用", None),
        ("JL-010", "烟度计", "FBY-201", "佛分", "Y10", "安环部", "王二", "是", "环境监测", "12个月", "2026-01-30", None, None, "市计量所", "JD-10", "在用", None),
    ]
    dates = ["3.04.2026", "2026.03.04", date(2026, 2, 5), "2026年3月1日", "2026/2/14", 20260120, "2026-01-18"]
    makers = ["哈量", "成量", "桂林量具", "青量", "上量"]
    departments = ["二车间", "二 车间", "ＱＣ部", "QC部", "qc部"]
    statuses = ["在用", "在库", "备用", "闲置", "外借", "坏了", "报废", None]
    for n in range(11, 41):
        number = f"JL-{n:03d}"
        last = dates[n % len(dates)]
        interval, valid_until = ("12个月", None)
        if n % 10 == 1:
            interval, valid_until = (None, date(2026, 7, 18) if n == 11 else date(2026, 12, 31))
            last = date(2026, 1, 18) if n == 11 else date(2026, 1, 1)
        if n == 40:
            interval, last = None, None  # no interval, no dates: nothing to work one out from
        since = 2011.12 if n == 12 else None
        valid.append(
            (number, "外径千分尺" if n % 2 else "游标卡尺", "0-25mm", makers[n % len(makers)], f"S{n}",
             departments[n % len(departments)], "保管员", None, None, interval, last, valid_until, since,
             "/" if n % 3 else "市计量所", None, statuses[n % len(statuses)], None)
        )
    for counter, row in enumerate(valid, 1):
        rows.append([counter, *row])
    faulty = [
        ("JL-041", None, "M", "哈量", "X1", "二车间", None, None, None, "12个月", "2026-01-01", None, None, None, None, "在用", None),
        (None, "千分表", "M", "哈量", "X2", "二车间", None, None, None, "12个月", "2026-01-01", None, None, None, None, "在用", None),
        ("JL-001", "重复的压力表", "M", "哈量", "X3", "二车间", None, None, None, "12个月", "2026-01-01", None, None, None, None, "在用", None),
        ("JL-044", "百分表", "M", "哈量", "X4", "二车间", None, None, None, "12个月", "2024-13-45", None, None, None, None, "在用", None),
        ("JL-045", "深度尺", "M", "哈量", "X5", "二车间", None, None, None, "abc", "2026-01-01", None, None, None, None, "在用", None),
    ]
    for counter, row in enumerate(faulty, len(valid) + 1):
        rows.append([counter, *row])
    for counter in range(len(valid) + len(faulty) + 1, len(valid) + len(faulty) + 11):
        rows.append([counter])  # the form's pre-numbered empty rows
    rows.append([None, "编制/日期：", None, None, None, "审核/日期：", None, None, None, "批准人："])
    # fmt: on
    return rows


def everyday_file(tmp_path, name="日常台账.xlsx"):
    return write_xlsx(tmp_path / name, everyday_rows(), merge="A1:R1")


def far_cell_xlsx(path, cell="XFD190000", dimension="true"):
    """An .xlsx of a few kilobytes whose only cell is ``cell``: calamine builds a dense range up to it.

    At XFD190000 that range is 190,000 × 16,384 cells, about 99 GB: the reader aborts its process.
    ``dimension`` "true" keeps the sheet's ``<dimension ref=…>`` as written, None drops it, and any
    other text is written as a false ref (say "A1").
    """
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.add_worksheet("台账").write_string(cell, "管理编号")
    workbook.close()
    original = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for member in original.infolist():
            data = original.read(member)
            if member.filename == "xl/worksheets/sheet1.xml" and dimension != "true":
                element = b"" if dimension is None else f'<dimension ref="{dimension}"/>'.encode()
                data, replaced = re.subn(rb'<dimension ref="[^"]*"/>', element, data)
                assert replaced == 1
            out.writestr(member, data)
    return path


def xls_claiming_rows(source, path, rows=0xFFFFF, columns=0xFF):
    """Copy a real .xls with its sheet's DIMENSIONS record claiming ``rows`` × ``columns`` cells.

    calamine sizes the sheet's range from that record: at a million rows by 255 columns it asks
    for gigabytes and aborts its process, as byte-mutated .xls files do.
    """
    data = bytearray(Path(source).read_bytes())
    record = data.find(b"\x00\x02\x0e\x00")  # DIMENSIONS (0x0200), 14 bytes long
    assert record > 0, "no DIMENSIONS record"
    struct.pack_into("<IIHH", data, record + 4, 0, rows, 0, columns)
    Path(path).write_bytes(bytes(data))
    return Path(path)
