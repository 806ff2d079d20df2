"""The nomination's paper forms as Word documents, and a winner's honour certificate (荣誉证书).

The firm prints them, signs and stamps them, and scans them back into its nomination; reviewers read
the scan beside the frozen figures. Both are in Chinese whatever the reader's language, as the
programme's forms are, and laid out on A4 with 宋体 for East Asian text so that Word and LibreOffice
render them alike. The layout lives here, in code (python-docx's blank template supplies the styles).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from io import BytesIO

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from models.nominations import Campaign, Nomination
from service.figures import percent

#: The fonts of every run: 宋体 for Chinese (``w:eastAsia``), Times New Roman for Latin and digits.
EAST_ASIAN_FONT = "宋体"
LATIN_FONT = "Times New Roman"
#: How the self-check table marks an answer (是 / 否 / 不适用).
MARKS = {"yes": "✓", "no": "×", "na": "—"}
SIZE_NAMES = {"large": "大型", "small_medium": "中小型"}
#: The blank a signature, stamp or date line leaves.
BLANK = "\u3000" * 8
DATE_LINE = "日期：\u3000\u3000\u3000\u3000年\u3000\u3000月\u3000\u3000日"


@dataclass(frozen=True)
class SelfCheckRow:
    """One item of the self-check table as the form prints it."""

    seq: int
    category: str
    item: str
    question: str
    answer: str | None
    note: str | None


@dataclass(frozen=True)
class FormData:
    """What the recommendation form prints, gathered by the caller from the nomination and its dossier.

    ``figures`` is the dossier as the API dumps it (``DossierOut``): the frozen one once submitted,
    today's for a draft.
    """

    nomination: Nomination
    campaign: Campaign
    recommender: str
    figures: dict
    self_check: Sequence[SelfCheckRow]
    head_hash: str | None


def recommendation_form(data: FormData) -> bytes:
    """Return the recommendation form (推荐表) as a .docx."""
    nomination, campaign = data.nomination, data.campaign
    doc = _document()
    _title(doc, campaign.title)
    _title(doc, "推荐表", size=16)
    _paragraph(doc, f"推荐单位：{data.recommender}")
    _heading(doc, "一、申报单位基本信息")
    _unit_table(doc, nomination)
    _heading(doc, "二、主要成果")
    for index, category in enumerate(campaign.categories):
        _paragraph(doc, f"（{_chinese_number(index + 1)}）{category}", bold=True)
        text = nomination.narratives[index] if index < len(nomination.narratives) else ""
        for line in (text or "").splitlines() or [""]:
            _paragraph(doc, line, indent=True)
    as_of = data.figures.get("as_of")
    _heading(doc, "三、计量数据证据")
    _paragraph(
        doc,
        f"以下数据截至 {as_of}，由系统依据本单位计量器具台账与溯源记录计算，统计期为此前 12 个月；"
        "每项比率注明分子与分母。",
        size=9,
    )
    _table(doc, ("指标", "结果", "计算依据"), evidence_rows(data.figures), widths=(60, 35, 75))
    _heading(doc, "四、企业计量情况自我检查表")
    _paragraph(doc, "结果：✓ 是　× 否　— 不适用", size=9)
    _table(
        doc,
        ("序号", "类别", "检查项目", "检查内容", "结果", "说明"),
        (
            (
                str(row.seq),
                row.category,
                row.item,
                row.question,
                MARKS.get(row.answer or "", ""),
                row.note or "",
            )
            for row in data.self_check
        ),
        widths=(10, 22, 28, 70, 12, 28),
        size=9,
    )
    if campaign.conditions:
        _heading(doc, "五、基本条件")
        for condition, declared in zip(
            campaign.conditions, _padded(nomination.declarations, campaign), strict=True
        ):
            _paragraph(doc, f"{'☑' if declared else '☐'} {condition}")
    _signatures(
        doc,
        (
            f"申报单位（盖章）：{BLANK}",
            f"法定代表人或负责人（签字）：{BLANK}",
            DATE_LINE,
            "",
            "推荐单位意见：",
            "",
            "",
            f"推荐单位（盖章）：{BLANK}",
            DATE_LINE,
        ),
    )
    if data.head_hash:
        _paragraph(doc, f"追溯历史链头哈希：{data.head_hash}", size=8)
    return _bytes(doc)


def commitment_letter(nomination: Nomination, campaign: Campaign, institute: str, today: date) -> bytes:
    """Return the commitment letter (承诺书) the firm signs and stamps, as a .docx."""
    doc = _document()
    _title(doc, "承诺书")
    _paragraph(doc, f"{institute}：")
    _paragraph(
        doc,
        f"本单位自愿参加“{campaign.title}”，对所提交的申报材料郑重承诺如下：",
        indent=True,
    )
    promises = [
        "所提交的推荐表、证明材料及计量数据真实、准确、完整，数据来源于本单位计量器具台账与溯源记录，"
        "无虚假、隐瞒或误导内容；",
        *(f"{condition}；" for condition in campaign.conditions),
        "积极配合评审专家对申报材料的核查，如实提供所需资料；",
        "如有不实，本单位愿承担由此产生的一切后果，接受取消评选资格及相应处理。",
    ]
    for index, promise in enumerate(promises, start=1):
        _paragraph(doc, f"{_chinese_number(index)}、{promise}", indent=True)
    _signatures(
        doc,
        (
            f"申报单位（盖章）：{nomination.unit_name or BLANK}",
            f"统一社会信用代码：{nomination.credit_code or BLANK}",
            f"法定代表人或负责人（签字）：{BLANK}",
            f"日期：{today.year}年\u3000\u3000月\u3000\u3000日",
        ),
    )
    return _bytes(doc)


def evidence_rows(figures: dict) -> list[tuple[str, str, str]]:
    """Return the dossier's figures as rows: name, result, and what it was computed from."""
    counts = figures["instruments"]
    inspection = figures["inspection"]
    nonconformity = figures["nonconformity"]
    reviews = figures["interval_reviews"]
    changes = figures["status_changes"]
    history = figures["history"]
    rows = [
        ("台账在册计量器具", str(counts["total"]), "台账全部器具"),
        ("在用计量器具", str(counts["in_use"]), _by_abc(counts["by_abc"])),
        ("周期受控器具（在用）", str(counts["periodic"]), "在用且有检定/校准周期"),
        ("强制检定器具（在用）", str(counts["mandatory"]), "在用且属强检"),
        _rate_row("周期受控覆盖率", figures["coverage"], "有效期内的周期受控器具 / 全部在用周期受控器具"),
        _rate_row("按期检定/校准率", figures["on_time"], "统计期内到期日按期完成的次数 / 到期总次数"),
        _rate_row(
            "强检器具受检率",
            inspection,
            f"检定有效期内的在用强检器具 / 全部在用强检器具；目标 {percent(inspection['target'])}",
        ),
        _rate_row(
            "　其中：户用水、电、气、热表",
            inspection["household"],
            f"目标 {percent(inspection['household']['target'])}",
        ),
        _rate_row(
            "　其中：其他强检器具", inspection["other"], f"目标 {percent(inspection['other']['target'])}"
        ),
        (
            "证书（统计期内）",
            str(figures["certificates"]["total"]),
            _by_lab(figures["certificates"]["by_lab"]),
        ),
        _rate_row("带有原始（调整前）数据的结果", figures["as_found"], "统计期内的结果"),
        _rate_row("标准器溯源链完整且使用当日有效", figures["standards"], "统计期内使用的标准器"),
        _rate_row("注明所用标准器的证书", figures["complete_records"], "统计期内的证书"),
        _rate_row("已做计量确认的校准", figures["confirmations"], "统计期内的校准"),
        (
            "不合格案例 开立 / 关闭",
            f"{nonconformity['opened']} / {nonconformity['closed']}",
            "关闭用时中位数：" + _or_dash(nonconformity.get("median_days_to_close"), " 天"),
        ),
        (
            "周期评审决定（采纳 / 不采纳）",
            f"{reviews['decided']}（{reviews['accepted']} / {reviews['rejected']}）",
            "统计期内",
        ),
        (
            "状态变更审批（其中由申请人以外的人批准）",
            f"{changes['approved']}（{changes['approved_by_other']['numerator']}）",
            "统计期内",
        ),
        ("到期提醒送达", str(figures["reminders"]["sent"]), "统计期内，短信、邮件与站内"),
        (
            "追溯历史事件校验",
            f"{history['events']}（{'链完整' if history['verified'] else '链断裂'}）",
            f"链头哈希 {(history.get('head_hash') or '—')[:16]}…",
        ),
    ]
    return rows


def _rate_row(name: str, rate: dict, basis: str) -> tuple[str, str, str]:
    return name, f"{percent(rate['rate'])}（{rate['numerator']}/{rate['denominator']}）", basis


def _by_abc(by_abc: dict) -> str:
    parts = [f"{cls}类 {by_abc.get(cls, 0)}" for cls in ("A", "B", "C")]
    return "，".join([*parts, f"未分类 {by_abc.get('none', 0)}"])


def _by_lab(by_lab: Iterable[dict]) -> str:
    return "；".join(f"{lab['lab'] or '未注明机构'} {lab['count']}" for lab in by_lab) or "—"


def _or_dash(value, unit: str = "") -> str:
    return "—" if value is None else f"{value}{unit}"


def _padded(declarations: list, campaign: Campaign) -> list[bool]:
    given = list(declarations)[: len(campaign.conditions)]
    return given + [False] * (len(campaign.conditions) - len(given))


def _unit_table(doc, nomination: Nomination) -> None:
    size = SIZE_NAMES.get(nomination.size_class or "", "—")
    rows = (
        ("单位名称", nomination.unit_name, None, None),
        ("统一社会信用代码", nomination.credit_code, "所处行业", nomination.industry),
        ("单位地址", nomination.address, None, None),
        ("职工人数", nomination.employees, "营业收入（万元）", nomination.annual_revenue_wan),
        (
            "企业规模",
            f"{size}（职工 {_text(nomination.employees)} 人，"
            f"营业收入 {_text(nomination.annual_revenue_wan)} 万元）",
            None,
            None,
        ),
        ("联系人", nomination.contact_name, "手机", nomination.contact_mobile),
        ("电子邮箱", nomination.contact_email, None, None),
    )
    table = doc.add_table(rows=len(rows), cols=4)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for row, (label, value, label2, value2) in zip(table.rows, rows, strict=True):
        cells = row.cells
        _cell(cells[0], label, bold=True)
        if label2 is None:
            merged = cells[1].merge(cells[3])
            _cell(merged, _text(value))
        else:
            _cell(cells[1], _text(value))
            _cell(cells[2], label2, bold=True)
            _cell(cells[3], _text(value2))
    _widths(table, (35, 55, 30, 50))


@dataclass(frozen=True)
class CertificateData:
    """What a winner's honour certificate says."""

    unit_name: str
    campaign_title: str
    institute: str
    co_organisers: list[str]
    certificate_no: str
    #: The day the campaign was decided, printed under the issuers.
    issued_on: date


def honour_certificate(data: CertificateData) -> bytes:
    """Return a winner's honour certificate (荣誉证书), A4 landscape, as a .docx."""
    doc = _document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.left_margin = section.right_margin = Mm(30)
    section.top_margin = section.bottom_margin = Mm(25)
    number = doc.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _run(number, f"证书编号：{data.certificate_no}", size=11)
    _title(doc, "荣 誉 证 书", size=36)
    doc.add_paragraph()
    _paragraph(doc, f"{data.unit_name}：", bold=True, size=20)
    _paragraph(doc, f"贵单位在“{data.campaign_title}”中，经推荐、评审和公示，", indent=True, size=18)
    _paragraph(doc, "被评为：", indent=True, size=18)
    _title(doc, _honour(data.campaign_title), size=26)
    _paragraph(doc, "特发此证，以资鼓励。", indent=True, size=18)
    doc.add_paragraph()
    for issuer in (data.institute, *data.co_organisers):
        paragraph = doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _run(paragraph, issuer, size=16)
    day = doc.add_paragraph()
    day.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _run(day, f"{data.issued_on.year}年{data.issued_on.month}月{data.issued_on.day}日", size=16)
    return _bytes(doc)


def _honour(title: str) -> str:
    """Return the honour a campaign confers, from its title.

    ``2026年度计量溯源先进单位评选`` → ``计量溯源先进单位``.
    """
    honour = title.removesuffix("评选").removesuffix("活动").strip()
    if "年度" in honour:
        honour = honour.split("年度", 1)[1]
    return honour or title


def _text(value) -> str:
    return "" if value is None else str(value)


def _document():
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.orientation = WD_ORIENT.PORTRAIT
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin = section.bottom_margin = Mm(20)
    for name in ("Normal", "Table Grid"):
        _set_fonts(doc.styles[name].element, doc.styles[name].font)
    doc.styles["Normal"].font.size = Pt(11)
    return doc


def _set_fonts(element, font) -> None:
    font.name = LATIN_FONT
    fonts = element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)


def _run(paragraph, text: str, *, bold: bool = False, size: float | None = None):
    run = paragraph.add_run(text)
    run.bold = bold
    if size is not None:
        run.font.size = Pt(size)
    _set_fonts(run._element, run.font)
    return run


def _title(doc, text: str, size: float = 18) -> None:
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(paragraph, text, bold=True, size=size)


def _heading(doc, text: str) -> None:
    paragraph = doc.add_paragraph()
    paragraph.paragraph_format.space_before = Pt(10)
    _run(paragraph, text, bold=True, size=13)


def _paragraph(
    doc, text: str, *, bold: bool = False, indent: bool = False, size: float | None = None
) -> None:
    paragraph = doc.add_paragraph()
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(22)
    _run(paragraph, text, bold=bold, size=size)


def _signatures(doc, lines: Iterable[str]) -> None:
    doc.add_paragraph()
    for line in lines:
        paragraph = doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if line.startswith("日期") else WD_ALIGN_PARAGRAPH.LEFT
        _run(paragraph, line)


def _cell(cell, text: str, *, bold: bool = False, size: float | None = None) -> None:
    paragraph = cell.paragraphs[0]
    _run(paragraph, text, bold=bold, size=size)


def _table(doc, headers: Sequence[str], rows: Iterable[Sequence[str]], widths, size: float | None = None):
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, header in zip(table.rows[0].cells, headers, strict=True):
        _cell(cell, header, bold=True, size=size)
    _repeat_header(table.rows[0])
    for values in rows:
        for cell, value in zip(table.add_row().cells, values, strict=True):
            _cell(cell, value, size=size)
    _widths(table, widths)
    return table


def _repeat_header(row) -> None:
    """Repeat the header row on every page the table spans (``w:tblHeader``)."""
    properties = row._tr.get_or_add_trPr()
    header = properties.makeelement(qn("w:tblHeader"), {})
    properties.append(header)


def _widths(table, millimetres: Sequence[float]) -> None:
    """Fix the columns' widths: the grid (LibreOffice lays out by it) and each cell (Word does)."""
    table.autofit = False
    for column, width in zip(table.columns, millimetres, strict=True):
        column.width = Mm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, millimetres, strict=False):
            cell.width = Mm(width)


def _chinese_number(number: int) -> str:
    """Return 1–99 in Chinese numerals (一, 十二, 二十三), as forms number their sections."""
    digits = "零一二三四五六七八九"
    tens, ones = divmod(number, 10)
    if tens == 0:
        return digits[ones]
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def _bytes(doc) -> bytes:
    out = BytesIO()
    doc.save(out)
    return out.getvalue()
