"""The ledger's spreadsheet layout: one column per instrument field, with the headers people use.

The export and the import template write ``header``; the import recognises ``header`` and every
synonym (after normalising spaces, brackets and case), so that a file exported here and edited
comes back without loss, and so do the ledgers firms have kept for years under other names.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One instrument field as a spreadsheet column."""

    field: str  # the instrument field name of DESIGN.md §5
    header: str  # what the template and the export write
    synonyms: tuple[str, ...] = ()
    #: How a cell is read: text, date, interval, flag, abc, status, conclusion, control_method,
    #: mandatory_use, certificate_type, mobile.
    kind: str = "text"
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column(
        "management_no",
        "管理编号",
        ("计量编号", "厂内编号", "设备编号", "器具编号", "管理号", "编号"),
        required=True,
    ),
    Column(
        "name", "器具名称", ("设备名称", "仪器名称", "计量器具名称", "仪器设备名称", "名称"), required=True
    ),
    Column("model", "型号规格", ("规格型号", "型号", "规格", "型号/规格")),
    Column("serial_no", "出厂编号", ("出厂号", "序列号", "设备出厂编号")),
    Column("manufacturer", "制造厂", ("生产厂家", "制造商", "生产厂", "厂家", "制造单位")),
    Column("measuring_range", "测量范围", ("量程", "测量范围(量程)")),
    Column(
        "accuracy",
        "准确度等级",
        ("准确度", "精度", "精度等级", "最大允许误差", "不确定度", "准确度等级/最大允许误差/不确定度"),
    ),
    Column("resolution", "分辨力", ("分度值", "分辨率", "分辨力/分度值")),
    Column("department", "使用部门", ("部门", "所属部门", "使用单位", "使用科室")),
    Column("location", "存放地点", ("安装地点", "使用地点", "存放/安装地点", "安装位置", "位置")),
    Column(
        "custodian",
        "保管人",
        (
            "责任人",
            "使用人",
            "保管人/使用人",
            "负责人",
            "责任人/保管人",
            "保管人/责任人",
            "使用保管人",
            "使用保管人姓名",
        ),
    ),
    Column(
        "custodian_mobile",
        "保管人手机",
        (
            "手机",
            "手机号",
            "手机号码",
            "联系电话",
            "电话",
            "保管人电话",
            "责任人电话",
            "保管人手机号",
            "使用保管人手机号",
        ),
        kind="mobile",
    ),
    Column("abc_class", "ABC分类", ("ABC管理类别", "管理类别", "ABC类", "ABC类别", "类别"), kind="abc"),
    Column("is_mandatory", "是否强检", ("强检", "是否强制检定", "强制检定"), kind="flag"),
    Column("mandatory_use", "强检用途", ("强管类型", "强检类型", "强制检定用途"), kind="mandatory_use"),
    Column("catalog_item", "强检目录项别", ("目录项别", "强检目录", "强检目录项别/种别")),
    Column(
        "control_method",
        "溯源方式",
        ("检定/校准", "管理方式", "工作性质", "检定或校准"),
        kind="control_method",
    ),
    Column(
        "interval_months",
        "检定周期(月)",
        ("检定周期", "校准周期", "周期(月)", "周期", "检定/校准周期(月)", "检定/校准周期"),
        kind="interval",
    ),
    Column(
        "last_done_on",
        "上次检定日期",
        ("检定日期", "校准日期", "上次检定/校准日期", "最近检定日期", "上次校准日期", "检定/校准日期"),
        kind="date",
    ),
    Column(
        "valid_until",
        "有效期至",
        (
            "下次检定日期",
            "到期日期",
            "有效日期",
            "证书有效期",
            "有效期",
            "下次校准日期",
            "有效期至/下次检定日期",
            "下次检定/校准日期",
            "证书有效日期",
            "有效期止",
        ),
        kind="date",
    ),
    Column("lab", "检定单位", ("校准单位", "检定机构", "检定/校准单位", "校准机构", "检定/校准机构")),
    Column("certificate_no", "证书编号", ("证书号", "检定证书编号", "校准证书编号")),
    Column("certificate_type", "证书类型", (), kind="certificate_type"),
    Column(
        "conclusion",
        "检定结论",
        ("结论", "确认结论", "检定/校准结论", "检定结论/确认结论", "检定结果", "校准结论"),
        kind="conclusion",
    ),
    Column("status", "使用状态", ("状态",), kind="status"),
    Column("in_service_on", "启用日期", ("投用日期", "启用时间", "投入使用日期"), kind="date"),
    Column("notes", "备注", ("说明",)),
)

#: Columns the export adds after the ledger's own: computed by the system, ignored on import.
COMPUTED_HEADERS: dict[str, str] = {"next_due_on": "下次到期日(系统计算)", "label": "状态标识(系统)"}

BY_FIELD = {column.field: column for column in COLUMNS}


def normalise_header(text: str) -> str:
    """Fold a header as people type it: full-width to half-width, no spaces, brackets unified."""
    text = unicodedata.normalize("NFKC", str(text or ""))
    text = re.sub(r"\s+", "", text).lower()
    text = text.replace("（", "(").replace("）", ")").replace("*", "")
    return text


#: Every known header, normalised, to its field; computed headers map to ``None`` (ignored).
HEADER_INDEX: dict[str, str | None] = {
    **{normalise_header(h): None for h in COMPUTED_HEADERS.values()},
    **{
        normalise_header(name): column.field
        for column in COLUMNS
        for name in (column.header, *column.synonyms)
    },
}

#: The Chinese name of every coded value, keyed by column kind (and ``label`` for the computed
#: label column): what the export and the template write, and what the import reads back. They
#: are the zh_Hans_CN catalogue's names of the codes, fixed here because a ledger file is written
#: in Chinese whatever the language of the page that asked for it.
CODE_NAMES: dict[str, dict[str, str]] = {
    "status": {
        "in_service": "在用",
        "out_for_calibration": "送检中",
        "suspended": "停用",
        "sealed": "封存",
        "under_repair": "维修",
        "scrapped": "报废",
    },
    "conclusion": {"pass": "合格", "limited": "准用", "fail": "不合格", "pending": "待确认"},
    "control_method": {
        "verification": "检定",
        "calibration": "校准",
        "self_check": "自校",
        "one_off": "一次性",
    },
    "mandatory_use": {
        "trade": "贸易结算",
        "safety": "安全防护",
        "medical": "医疗卫生",
        "environment": "环境监测",
    },
    "certificate_type": {
        "verification_certificate": "检定证书",
        "verification_notice": "检定结果通知书",
        "calibration_certificate": "校准证书",
        "test_report": "测试报告",
    },
    "label": {"green": "合格", "yellow": "准用", "red": "停用", "pending": "待确认"},
}

#: How the export and the template write a yes/no column (``is_mandatory``).
FLAG_NAMES: dict[bool, str] = {True: "是", False: "否"}


#: Text starting with these is taken for a formula by spreadsheets (CSV included).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Prefix an apostrophe to text that a spreadsheet would otherwise run as a formula."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text
