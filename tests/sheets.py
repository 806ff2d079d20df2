"""Ledger files as firms keep them, built by the tests: messy xlsx sheets and CSV."""

import csv
import io
import re
import zipfile
from datetime import date

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
