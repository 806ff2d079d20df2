"""The periodic plan as the xlsx firms file: in Chinese whatever the reader's language.

Two sheets: the plan (周期检定校准计划) and the intermediate checks due in the period (期间核查计划),
each with a merged title row, the organisation and the period, the header row (frozen, and
repeated on every printed page), a row per line, the totals, and the signature row (编制 / 审核 /
批准 with their dates). Printed on A4 landscape, one page wide. Every text cell is a neutralised
string, so that nothing a firm typed runs as a formula.
"""

from __future__ import annotations

from typing import BinaryIO

from service.figures import percent
from service.ledger_io.columns import CODE_NAMES, neutralise
from service.ledger_io.exporter import display_width, open_workbook
from service.reports import plan

HEADERS = (
    "序号",
    "管理编号",
    "器具名称",
    "型号规格",
    "测量范围",
    "准确度等级/不确定度",
    "使用部门",
    "检定/校准机构",
    "控制方式",
    "强检",
    "有效期至/应检日期",
    "计划月份",
    "执行情况",
    "完成日期",
    "备注",
)
CHECK_HEADERS = (
    "序号",
    "管理编号",
    "器具名称",
    "使用部门",
    "核查标准/核查对象",
    "核查人",
    "计划核查日期",
    "计划月份",
    "执行情况",
    "完成日期",
    "备注",
)
CHECK_SHEET = "期间核查计划"
#: How the form names each execution state.
STATE_WORDS = {
    plan.ON_TIME: "按期完成",
    plan.LATE: "逾期完成",
    plan.OVERDUE: "未完成（已超期）",
    plan.PENDING: "未到期",
}
#: Narrowest and widest column, in character cells.
MIN_WIDTH, MAX_WIDTH = 6, 40
#: The signature row: who prepared, reviewed and approved the plan, each with a date.
SIGNATURES = (" " * 16).join(("编制：", "日期：", "审核：", "日期：", "批准：", "日期："))


def title_of(period: plan.Period, what: str = "周期检定与校准计划") -> str:
    """Return the plan's title: 2026年度… for a year, 2026年3月… for a month."""
    when = f"{period.year}年{period.month}月" if period.month else f"{period.year}年度"
    return f"{when}{what}"


def subtitle_of(found) -> str:
    """Return the line under the title: the organisation, the period, the department, the day read."""
    parts = [
        f"单位：{found.org_name}",
        f"计划期：{found.period.start:%Y-%m-%d} 至 {found.period.end:%Y-%m-%d}",
    ]
    if found.department is not None:
        parts.append(f"部门：{found.department.name}")
    parts.append(f"执行情况截至：{found.today:%Y-%m-%d}")
    return "    ".join(parts)


def totals_of(found) -> str:
    """Return the totals line: lines planned, done on time, late, not done, and the completion rate."""
    total = found.total
    return (
        f"计划 {total.planned} 项：按期完成 {total.on_time} 项，逾期完成 {total.late} 项，"
        f"未完成 {total.not_done} 项（其中已超期 {total.overdue} 项）；"
        f"计划完成率 {percent(total.completion.rate)}，按期完成率 {percent(total.on_time_completion.rate)}"
    )


def check_totals_of(found) -> str:
    """Return the checks' totals line, counted as the plan's lines are."""
    total = found.check_total
    return (
        f"期间核查 {total.planned} 次：按期完成 {total.on_time} 次，逾期完成 {total.late} 次，"
        f"未完成 {total.not_done} 次（其中已超期 {total.overdue} 次）；"
        f"完成率 {percent(total.completion.rate)}"
    )


def check_values(seq: int, check) -> list:
    """Return one check's cells, in the order of :data:`CHECK_HEADERS`."""
    due = check.due
    notes = [
        words for flag, words in ((due.overdue_at_start, "期初已超期"), (due.projected, "按周期推算")) if flag
    ]
    return [
        seq,
        check.management_no,
        check.name,
        check.department or "",
        check.check_object,
        due.done_by or check.performer or "计量管理人员",
        due.due_on,
        f"{due.planned_month}月",
        STATE_WORDS[due.state],
        due.done_on,
        "；".join(notes),
    ]


def line_values(seq: int, line: plan.Line) -> list:
    """Return one line's cells, in the order of :data:`HEADERS`."""
    entry, row = line.entry, line.row
    return [
        seq,
        row.management_no,
        row.name,
        row.model or "",
        row.measuring_range or "",
        row.accuracy or "",
        row.department or "",
        row.lab or "",
        CODE_NAMES["control_method"].get(row.control_method or "", row.control_method or ""),
        "是" if row.is_mandatory else "否",
        entry.due_on,
        f"{entry.planned_month}月",
        STATE_WORDS[entry.state],
        entry.done_on,
        "期初已超期" if entry.overdue_at_start else "",
    ]


def write_xlsx(found, out: BinaryIO) -> int:
    """Write the plan ``found`` (a :class:`~service.reports.queries.Plan`) to ``out``; return its lines."""
    rows = [line_values(seq, line) for seq, line in enumerate(found.lines, start=1)]
    checks = [check_values(seq, check) for seq, check in enumerate(found.checks, start=1)]
    with open_workbook(out) as workbook:
        workbook.set_properties({"title": title_of(found.period), "company": found.org_name})
        formats = _formats(workbook)
        _sheet(
            workbook,
            formats,
            "周期检定校准计划",
            title_of(found.period),
            subtitle_of(found),
            HEADERS,
            rows,
            totals_of(found),
            centred_cols=(9, 11),
        )
        _sheet(
            workbook,
            formats,
            CHECK_SHEET,
            title_of(found.period, CHECK_SHEET),
            subtitle_of(found),
            CHECK_HEADERS,
            checks,
            check_totals_of(found),
            centred_cols=(7,),
        )
    return len(rows)


def _formats(workbook) -> dict:
    return {
        "title": workbook.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"}),
        "subtitle": workbook.add_format({"align": "left", "valign": "vcenter"}),
        "header": workbook.add_format(
            {
                "bold": True,
                "border": 1,
                "align": "center",
                "valign": "vcenter",
                "text_wrap": True,
                "bg_color": "#DDEBF7",
            }
        ),
        "text": workbook.add_format({"border": 1, "num_format": "@", "text_wrap": True, "valign": "vcenter"}),
        "centred": workbook.add_format({"border": 1, "align": "center", "valign": "vcenter"}),
        "day": workbook.add_format(
            {"border": 1, "align": "center", "valign": "vcenter", "num_format": "yyyy-mm-dd"}
        ),
        "plain": workbook.add_format({"valign": "vcenter"}),
    }


def _sheet(workbook, f: dict, name, title, subtitle, headers, rows, totals, centred_cols) -> None:
    """Write one sheet: title, subtitle, header row, the rows, the totals and the signature row."""
    widths = [display_width(h) + 2 for h in headers]
    for values in rows:
        for index, value in enumerate(values):
            text = value.isoformat() if hasattr(value, "isoformat") else str(value)
            widths[index] = max(widths[index], display_width(text) + 2)
    last = len(headers) - 1
    sheet = workbook.add_worksheet(name)
    for index, width in enumerate(widths):
        sheet.set_column(index, index, max(MIN_WIDTH, min(width, MAX_WIDTH)))
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    sheet.repeat_rows(2)
    sheet.fit_to_pages(1, 0)
    sheet.freeze_panes(3, 0)
    sheet.set_row(0, 30)
    sheet.merge_range(0, 0, 0, last, title, f["title"])
    sheet.merge_range(1, 0, 1, last, neutralise(subtitle), f["subtitle"])
    sheet.set_row(2, 30)
    for col, header in enumerate(headers):
        sheet.write_string(2, col, header, f["header"])
    row = 2
    for values in rows:
        row += 1
        for col, value in enumerate(values):
            if col == 0:
                sheet.write_number(row, col, value, f["centred"])
            elif hasattr(value, "isoformat"):
                sheet.write_datetime(row, col, value, f["day"])
            elif value is None:
                sheet.write_blank(row, col, None, f["day"])
            elif col in centred_cols:
                sheet.write_string(row, col, value, f["centred"])
            else:
                sheet.write_string(row, col, neutralise(value), f["text"])
    row += 2
    sheet.merge_range(row, 0, row, last, totals, f["plain"])
    row += 2
    sheet.set_row(row, 28)
    sheet.merge_range(row, 0, row, last, SIGNATURES, f["plain"])


def file_name(found, slug: str) -> tuple[str, str]:
    """Return the download's Chinese file name and its plain fallback."""
    stem = f"{found.period.year}" + (f"-{found.period.month:02d}" if found.period.month else "")
    return f"{title_of(found.period)}-{slug}.xlsx", f"plan-{slug}-{stem}.xlsx"
