"""The summary table of recommended nominations (推荐汇总表), as xlsx and as Word.

The table is the programme's own form, in Chinese whatever the reader's language: per recommender
a title line, the headers, and its accepted nominations in rank order, numbered from 1. The whole
campaign's table has one such block per recommender, in the order of the recommenders' names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from sqlalchemy.orm import Session

from models.nominations import Campaign, RecommendationList, Recommender
from service.actors import Actor
from service.ledger_io.columns import neutralise
from service.ledger_io.exporter import display_width, open_workbook
from service.nominations import queries

HEADERS = ("序号", "申报单位名称", "企业规模", "所处行业", "联系人", "联系方式", "邮箱")
#: How the form names the programme's size classes.
SIZE_WORDS = {"large": "大型企业", "small_medium": "中小企业"}
#: The font of East Asian text in the Word table (and of the rest, so that digits match).
FONT = "宋体"
DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class Block:
    """One recommender's part of the table: its title line and its rows, in rank order."""

    recommender: str
    submitted_at: datetime | None
    rows: list[tuple[int, str, str, str, str, str, str]]

    @property
    def heading(self) -> str:
        """The line above the block's headers, naming the recommender and the list's state."""
        state = f"名单已于 {self.submitted_at:%Y-%m-%d} 提交" if self.submitted_at else "名单尚未提交"
        return f"推荐单位：{self.recommender}（{state}）"


@dataclass(frozen=True)
class Summary:
    """The summary table of a campaign: its title and a block per recommender."""

    title: str
    blocks: list[Block]

    @property
    def row_count(self) -> int:
        """How many nominations the table lists."""
        return sum(len(block.rows) for block in self.blocks)


def summary_of(session: Session, campaign: Campaign, recommenders: list[Recommender]) -> Summary:
    """Return the table of ``recommenders``' accepted nominations in ``campaign`` (access checked before)."""
    blocks = []
    for recommender in sorted(recommenders, key=lambda r: r.name):
        listed: RecommendationList | None = queries.list_of(
            session, campaign.org_id, campaign.id, recommender.id
        )
        accepted = [
            n
            for n in queries.addressed_to(session, campaign.org_id, campaign.id, recommender.id)
            if n.recommendation == "accepted"
        ]
        rows = [
            (
                seq,
                n.unit_name or "",
                SIZE_WORDS.get(n.size_class, ""),
                n.industry or "",
                n.contact_name or "",
                n.contact_mobile or "",
                n.contact_email or "",
            )
            for seq, n in enumerate(accepted, start=1)
        ]
        blocks.append(Block(recommender.name, listed.submitted_at if listed else None, rows))
    return Summary(f"{campaign.title}推荐汇总表", blocks)


def recommender_summary(session: Session, actor: Actor, campaign_id: int, recommender_id: int) -> Summary:
    """Return one recommender's table, for its members and the institute's administrators."""
    found = queries.addressed(session, actor, campaign_id, recommender_id)
    return summary_of(session, found.campaign, [found.recommender])


def campaign_summary(session: Session, actor: Actor, campaign_id: int) -> Summary:
    """Return the whole campaign's table, every recommender's block, for the institute's administrators."""
    actor.require_institute("org.manage")
    campaign = queries.get_campaign(session, actor, campaign_id)
    return summary_of(session, campaign, queries.recommenders_of(session, campaign.org_id))


def file_stem(summary: Summary) -> str:
    """Return the download's file name without its suffix."""
    return summary.title.replace("/", "-")


def write_xlsx(summary: Summary, out: BinaryIO) -> int:
    """Write the table as one sheet: the title, then each block's heading, headers and rows.

    Every text cell is a neutralised string, so that nothing a firm typed runs as a formula.
    Returns the number of nominations written.
    """
    widths = [display_width(h) + 2 for h in HEADERS]
    for block in summary.blocks:
        for row in block.rows:
            for index, value in enumerate(row[1:], start=1):
                widths[index] = max(widths[index], min(display_width(value) + 2, 50))
    with open_workbook(out) as workbook:
        workbook.set_properties({"title": summary.title})
        title = workbook.add_format({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"})
        heading = workbook.add_format({"bold": True})
        header = workbook.add_format(
            {"bold": True, "border": 1, "align": "center", "valign": "vcenter", "bg_color": "#DDEBF7"}
        )
        text = workbook.add_format({"border": 1, "num_format": "@", "text_wrap": True, "valign": "vcenter"})
        number = workbook.add_format({"border": 1, "align": "center", "valign": "vcenter"})
        sheet = workbook.add_worksheet("推荐汇总表")
        for index, width in enumerate(widths):
            sheet.set_column(index, index, width)
        sheet.merge_range(0, 0, 0, len(HEADERS) - 1, summary.title, title)
        sheet.set_row(0, 28)
        row = 1
        for block in summary.blocks:
            row += 1  # a blank line between blocks
            sheet.write_string(row, 0, neutralise(block.heading), heading)
            row += 1
            for col, name in enumerate(HEADERS):
                sheet.write_string(row, col, name, header)
            for values in block.rows:
                row += 1
                sheet.write_number(row, 0, values[0], number)
                for col, value in enumerate(values[1:], start=1):
                    sheet.write_string(row, col, neutralise(value), text)
    return summary.row_count


def write_docx(summary: Summary, out: BinaryIO) -> int:
    """Write the table as a Word document on A4 landscape, East Asian text in 宋体.

    Returns the number of nominations written.
    """
    document = Document()
    document.core_properties.title = summary.title
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    for margin in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, margin, Mm(20))
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(10.5)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)

    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(title, summary.title, bold=True, size=Pt(16))
    for block in summary.blocks:
        _run(document.add_paragraph(), block.heading, bold=True)
        table = document.add_table(rows=1, cols=len(HEADERS))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cell, name in zip(table.rows[0].cells, HEADERS, strict=True):
            _run(cell.paragraphs[0], name, bold=True)
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        for values in block.rows:
            cells = table.add_row().cells
            for cell, value in zip(cells, values, strict=True):
                _run(cell.paragraphs[0], str(value))
            cells[0].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        if not block.rows:
            _run(document.add_paragraph(), "（无）")
    document.save(out)
    return summary.row_count


def _run(paragraph, text: str, bold: bool = False, size=None):
    """Add a run of ``text`` in :data:`FONT`, East Asian characters too (``font.name`` alone misses them)."""
    run = paragraph.add_run(text)
    run.bold = bold
    run.font.name = FONT
    if size is not None:
        run.font.size = size
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    return run
