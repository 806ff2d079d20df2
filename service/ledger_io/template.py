"""The downloadable import template: the export's header, one example row, and a sheet of notes."""

from __future__ import annotations

from datetime import date
from typing import BinaryIO

from service.ledger_io.columns import CODE_NAMES, COLUMNS, COMPUTED_HEADERS, FLAG_NAMES, Column
from service.ledger_io.exporter import LedgerSheet, Value, open_workbook

NOTES_SHEET = "说明"

#: The example row: a safety-protection pressure gauge as firms actually list one.
EXAMPLE: dict[str, Value] = {
    "management_no": "JL-ZJ-PG-0012",
    "name": "一般压力表",
    "model": "Y-100",
    "serial_no": "2308145",
    "manufacturer": "红旗仪表有限公司",
    "measuring_range": "(0~1.6)MPa",
    "accuracy": "1.6级",
    "resolution": "0.05MPa",
    "department": "动力车间",
    "location": "空压站储气罐",
    "custodian": "张伟",
    "custodian_mobile": "13800138000",
    "abc_class": "A",
    "is_mandatory": FLAG_NAMES[True],
    "mandatory_use": CODE_NAMES["mandatory_use"]["safety"],
    "catalog_item": "压力表",
    "control_method": CODE_NAMES["control_method"]["verification"],
    "interval_months": 6,
    "last_done_on": date(2025, 3, 15),
    "valid_until": date(2025, 9, 14),
    "lab": "市计量测试所",
    "certificate_no": "JD2025-031542",
    "certificate_type": CODE_NAMES["certificate_type"]["verification_certificate"],
    "conclusion": CODE_NAMES["conclusion"]["pass"],
    "status": CODE_NAMES["status"]["in_service"],
    "in_service_on": date(2023, 6, 1),
    "notes": "储气罐安全阀配套",
}

_KIND_NOTES = {
    "text": "文字",
    "date": "日期，如 2025-03-15（Excel 日期单元格最好）",
    "interval": "整数月数，如 12；0 表示不定期（一次性、随坏随换）",
    "flag": " / ".join(FLAG_NAMES.values()),
    "abc": "A / B / C",
    "mobile": "11 位手机号",
}
_FIELD_NOTES = {
    "management_no": "本企业内唯一；再次导入时按管理编号更新已有器具，不会重复新建",
    "department": "部门名称",
    "custodian": "保管人姓名",
    "valid_until": "证书上的有效期；填写后优先于按周期推算的日期",
    "status": "不填则为" + CODE_NAMES["status"]["in_service"],
    "control_method": "不填则为" + CODE_NAMES["control_method"]["verification"],
}
_GENERAL_NOTES = (
    "每行一台器具；第一行是表头，列的顺序可以调整，列名也可以用“也认作”中的名称。",
    "导出文件中以 = + - @ 开头的文字前面加了一个单引号 '，防止被表格软件当作公式执行。",
)


def describe(column: Column) -> str:
    """Return what a column accepts, in the words of the notes sheet."""
    accepted = "、".join(CODE_NAMES[column.kind].values()) if column.kind in CODE_NAMES else None
    parts = [accepted or _KIND_NOTES.get(column.kind, _KIND_NOTES["text"])]
    if column.field in _FIELD_NOTES:
        parts.append(_FIELD_NOTES[column.field])
    return "；".join(parts)


def import_template(out: BinaryIO) -> None:
    """Write the import template to ``out``: header and example row, then a sheet of notes."""
    with open_workbook(out) as workbook:
        workbook.set_properties({"title": "计量器具台账导入模板"})
        sheet = LedgerSheet(workbook)
        sheet.write_row([EXAMPLE.get(column.field) for column in COLUMNS] + [None] * len(COMPUTED_HEADERS))
        sheet.finish()

        notes = workbook.add_worksheet(NOTES_SHEET)
        bold = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        plain = workbook.add_format({})  # the notes below the table run across the columns
        for index, (title, width) in enumerate((("列名", 22), ("必填", 6), ("填写说明", 60), ("也认作", 50))):
            notes.set_column(index, index, width, wrap)
            notes.write_string(0, index, title, bold)
        row = 0
        for column in COLUMNS:
            row += 1
            notes.write_string(row, 0, column.header)
            notes.write_string(row, 1, FLAG_NAMES[column.required])
            notes.write_string(row, 2, describe(column))
            notes.write_string(row, 3, "、".join(column.synonyms))
        for title in COMPUTED_HEADERS.values():
            row += 1
            notes.write_string(row, 0, title)
            notes.write_string(row, 1, FLAG_NAMES[False])
            notes.write_string(row, 2, "导出时由系统计算填写；导入时忽略，可留空")
        row += 1
        for line in _GENERAL_NOTES:
            row += 1
            notes.write_string(row, 0, line, plain)
        notes.freeze_panes(1, 0)
