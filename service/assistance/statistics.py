"""The campaign's statistics table (活动情况统计表) per region, as xlsx.

The table is the programme's own form, in Chinese whatever the reader's language: the title, the
year, then a row per region with its quota to help, the firms helped and the share, the quota of
measurement-management-system training, the firms trained and the share, the records by kind and
the green-channel visits and orders; a totals row last.
"""

from __future__ import annotations

from typing import BinaryIO

from models.assistance import ASSISTANCE_KINDS
from service.assistance.progress import NO_REGION, Progress, RegionProgress
from service.ledger_io.exporter import open_workbook
from service.validation import region_name

#: How the form names the kinds of help.
KIND_WORDS = {
    "survey": "调研",
    "training": "培训",
    "consultation": "咨询",
    "calibration_service": "校准服务",
    "mms_training": "测量管理体系培训",
    "green_channel": "绿色通道",
}
HEADERS = (
    "序号",
    "地区",
    "计划帮扶中小企业数",
    "已帮扶企业数",
    "帮扶完成率",
    "计划测量管理体系培训企业数",
    "已培训企业数",
    "培训完成率",
    *(f"{KIND_WORDS[k]}（次）" for k in ASSISTANCE_KINDS),
    "绿色通道上门/委托（次）",
    "其中规模未知企业数",
)
NO_REGION_WORDS = "未填地区"


def title_of(year: int) -> str:
    """Return the table's title."""
    return f"{year}年计量服务中小企业行活动情况统计表"


def _cells(row: RegionProgress) -> list:
    return [
        row.smes_to_help,
        len(row.helped),
        row.help_rate.rate,
        row.smes_for_mms_training,
        len(row.trained),
        row.training_rate.rate,
        *(row.kinds[k] for k in ASSISTANCE_KINDS),
        row.green_channel_work,
        len(row.helped_size_unknown),
    ]


def write_xlsx(progress: Progress, out: BinaryIO) -> int:
    """Write the table as one sheet; return the number of region rows written (totals aside)."""
    with open_workbook(out) as workbook:
        title = title_of(progress.year)
        workbook.set_properties({"title": title})
        title_format = workbook.add_format(
            {"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"}
        )
        header = workbook.add_format(
            {
                "bold": True,
                "border": 1,
                "align": "center",
                "valign": "vcenter",
                "bg_color": "#DDEBF7",
                "text_wrap": True,
            }
        )
        text = workbook.add_format({"border": 1, "num_format": "@", "valign": "vcenter"})
        number = workbook.add_format({"border": 1, "align": "center", "valign": "vcenter"})
        share = workbook.add_format(
            {"border": 1, "align": "center", "valign": "vcenter", "num_format": "0.0%"}
        )
        bold_text = workbook.add_format({"border": 1, "bold": True, "valign": "vcenter"})
        sheet = workbook.add_worksheet("活动情况统计表")
        sheet.set_column(0, 0, 6)
        sheet.set_column(1, 1, 14)
        sheet.set_column(2, len(HEADERS) - 1, 12)
        sheet.merge_range(0, 0, 0, len(HEADERS) - 1, title, title_format)
        sheet.set_row(0, 28)
        sheet.write_string(1, 0, f"年度：{progress.year}")
        sheet.set_row(2, 45)
        for col, name in enumerate(HEADERS):
            sheet.write_string(2, col, name, header)
        row_index = 2
        for seq, row in enumerate(progress.rows, start=1):
            row_index += 1
            name = (
                NO_REGION_WORDS
                if row.region_code == NO_REGION
                else region_name(row.region_code) or row.region_code
            )
            sheet.write_number(row_index, 0, seq, number)
            sheet.write_string(row_index, 1, name, text)
            _write_figures(sheet, row_index, _cells(row), number, share)
        row_index += 1
        sheet.write_string(row_index, 0, "", bold_text)
        sheet.write_string(row_index, 1, "合计", bold_text)
        _write_figures(sheet, row_index, _cells(progress.total), number, share)
        sheet.freeze_panes(3, 2)
    return len(progress.rows)


def _write_figures(sheet, row: int, values: list, number, share) -> None:
    for col, value in enumerate(values, start=2):
        if value is None:
            sheet.write_string(row, col, "—", number)
        elif col in (4, 7):
            sheet.write_number(row, col, value, share)
        else:
            sheet.write_number(row, col, value, number)
