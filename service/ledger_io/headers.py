"""What a column header names: the exact names of the columns, then the words it contains.

People name a ledger's columns in their own words: 制造厂家 or 生产厂家 for the manufacturer,
检具编号 or 资产编号 for the management number, 量具状况 with a line break inside, and in English
"IMTE", "Item Make", "Next Cal. Date" or "CALIB. FREQUENCY in month". A header is matched:

1. exactly, against every header and synonym that :data:`~service.ledger_io.columns.COLUMNS`
   lists (after folding spaces, width, brackets and case), with and without a bracketed part;
2. in Chinese, by the words it contains (:data:`CHINESE_WORDS`, tried in order: 出厂编号 is a
   serial number before 编号 is a management number, 保管人电话 a mobile before 保管人 a custodian);
3. in English, by the phrase it is (:data:`ENGLISH_PHRASES`): whole phrases, not any word inside,
   so that "Part Name" or "SAP Status" stay columns of their own (kept in the notes) instead of
   competing with "Description" and "Items Status".

What no rule names is ``UNKNOWN`` (kept in the notes); row counters and the labels the system
derives are ``IGNORED``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

from service.ledger_io.columns import HEADER_INDEX, normalise_header

UNKNOWN = "?"  # a column kept in the notes
IGNORED = None  # a column deliberately left out

#: Headers of row counters and of labels the system derives: known, and left out.
IGNORED_HEADERS = frozenset(
    normalise_header(h)
    for h in ("序号", "序", "No", "No.", "状态标识", "标识", "原行号", "导入问题", "项次", "行号", "#")
)

#: Chinese words a header may contain, in the order they are tried, and the field each names.
CHINESE_WORDS: tuple[tuple[str | None, tuple[str, ...]], ...] = (
    (IGNORED, ("状态标识", "标识颜色", "三色标识")),
    ("serial_no", ("出厂编号", "出厂号", "序列号", "机身号", "出厂序号")),
    ("certificate_no", ("证书编号", "证书号", "报告编号", "报告号", "证书/报告")),
    ("certificate_type", ("证书类型", "报告类型", "证书种类")),
    ("custodian_mobile", ("手机", "电话", "联系方式")),
    ("notes", ("备注", "说明", "附注")),
    ("in_service_on", ("启用", "投用", "投入使用", "投运")),
    ("valid_until", ("有效期", "下次检定", "下次校准", "下次溯源", "到期")),
    ("last_done_on", ("检定日期", "校准日期", "检定时间", "校准时间", "检测日期", "溯源日期", "上次")),
    ("interval_months", ("周期",)),
    ("mandatory_use", ("强检用途", "强管类型", "强检类型", "强检类别", "强制检定用途")),
    ("is_mandatory", ("强检", "强制检定", "强管")),
    ("catalog_item", ("目录",)),
    ("control_method", ("送检类型", "溯源方式", "溯源类型", "检校类型", "检定/校准", "管理方式")),
    ("conclusion", ("结论", "检定结果", "校准结果")),
    ("status", ("状况", "状态")),
    ("abc_class", ("abc", "分级管理", "管理级别", "管理类别", "管理等级")),
    ("lab", ("检定单位", "校准单位", "检定机构", "校准机构", "溯源单位", "检测单位", "鉴定单位", "送检单位")),
    ("manufacturer", ("制造", "生产厂", "生产单位", "厂家", "厂商", "品牌")),
    ("accuracy", ("精度", "准确度", "允许误差", "不确定度")),
    ("resolution", ("分辨", "分度值")),
    ("measuring_range", ("量程", "测量范围", "范围")),
    ("model", ("型号", "规格")),
    ("department", ("部门", "科室", "车间")),
    ("location", ("地点", "位置", "存放", "安装")),
    ("custodian", ("领用人", "使用人", "保管人", "责任人", "负责人", "保管")),
    ("management_no", ("编号", "编码", "管理号", "计量号", "资产号", "设备号")),
    ("name", ("名称", "品名")),
)

_Q = r"(?:items?|instruments?|equipments?|gauges?|devices?|assets?|sensor|tx|full)"
_CAL = r"(?:calibration|calib|cal|calibrated)"
#: English phrases a whole header may be (after folding punctuation and case), in the order tried.
ENGLISH_PHRASES: tuple[tuple[str | None, str], ...] = (
    (UNKNOWN, rf"{_CAL} status|{_CAL} state"),  # OK / OVER DUE: the sheet's own due flag, not a status
    (IGNORED, r"(?:p )?(?:s|sl|sr)? ?no|sno|slno|srno|sr|line no|row no|sequence|#"),
    (
        "valid_until",
        rf"(?:next|due) {_CAL}(?: due)? date|next {_CAL}(?: due)?|{_CAL} due(?: date| on)?|"
        r"due date|next due(?: date)?|valid (?:until|till|up to|upto)|expiry(?: date)?|expiration(?: date)?",
    ),
    (
        "last_done_on",
        rf"(?:last|latest|previous)? ?{_CAL} (?:date|done|done on|on)|(?:last|latest) {_CAL}|"
        rf"date of {_CAL}|last done(?: on)?|{_CAL} date",
    ),
    (
        "interval_months",
        rf"{_CAL} (?:frequency|freq|interval|period|cycle)(?: in months?)?|"
        r"frequency(?: in months?)?|interval(?: in months?)?|periodicity",
    ),
    ("certificate_no", r"(?:cal |calibration )?(?:cert|certificate|report) (?:no|number|#)|certificate|cert"),
    ("serial_no", rf"(?:{_Q} )?serial(?: no| number| #)?|s ?n|mfg (?:no|sl no)"),
    ("model", rf"(?:{_Q} )?(?:model|type model|model type)(?: no| number)?|{_Q} sl no model"),
    ("manufacturer", rf"(?:{_Q} )?(?:make|manufacturer|mfr|mfg|brand|maker|manufactured by)"),
    ("measuring_range", rf"(?:{_Q} )?(?:range|measuring range|measurement range|capacity)"),
    ("resolution", r"least count|resolution|division|graduation"),
    ("accuracy", r"accuracy|accuracy class|class of accuracy"),
    ("location", rf"(?:{_Q} )?location|area|installed at|place"),
    ("department", r"department|dept|plant|section|division|business unit"),
    ("status", rf"(?:{_Q} )?status|condition"),
    ("notes", r"remarks?|comments?|notes?"),
    (
        "lab",
        rf"{_CAL} (?:source|agency|lab|laboratory|vendor|provider|by)|service provider|"
        r"calibrated by|lab|laboratory|vendor|external agency",
    ),
    ("control_method", rf"{_CAL} (?:type|method)|traceability|inhouse external|internal external"),
    ("conclusion", rf"{_CAL} result|result|conclusion"),
    (
        "in_service_on",
        r"(?:in service|commissioning|installation|put into use) date|date of (?:commissioning|installation)",
    ),
    ("custodian", r"custodian|user|responsible(?: person)?|owner|issued to|holder|in charge"),
    (
        "management_no",
        rf"id|id no|(?:{_Q} )?(?:id|no|number|code|tag|tag no|tag number)|asset|imte(?: no| id)?|"
        r"control no|identification(?: no)?",
    ),
    ("name", rf"description|(?:{_Q} )?(?:name|description)|{_Q}"),
)
_ENGLISH = tuple((name, re.compile(f"(?:{pattern})")) for name, pattern in ENGLISH_PHRASES)
_DATE_WORDS = ("日期", "时间")
#: The fields a header with 日期 in it may name.
DATE_FIELDS = frozenset({"last_done_on", "valid_until", "in_service_on"})
_LATIN = re.compile(r"[a-z]")
_NON_WORD = re.compile(r"[^a-z0-9#]+")
_BRACKETED = re.compile(r"\([^)]*\)")


def _english_words(text: str) -> str:
    """Fold an English header to lower-case words: "CALIB. FREQUENCY in month" → "calib frequency …"."""
    return _NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


@functools.lru_cache(maxsize=4096)
def match_header_text(text: str) -> str | None:
    """Return the field a header's text names, ``IGNORED`` for a column to leave out, or ``UNKNOWN``."""
    name = normalise_header(text).strip("*★☆※▲△·:：")
    if not name:
        return UNKNOWN
    for candidate in (name, _BRACKETED.sub("", name)):
        if candidate in HEADER_INDEX:
            return HEADER_INDEX[candidate]
        if candidate in IGNORED_HEADERS:
            return IGNORED
    if _LATIN.search(name) and not re.search(r"[\u4e00-\u9fff]", name):
        words = _english_words(text)
        for field_name, pattern in _ENGLISH:
            if pattern.fullmatch(words):
                return field_name
        return UNKNOWN
    is_date = any(word in name for word in _DATE_WORDS)
    for field_name, words in CHINESE_WORDS:
        if any(word in name for word in words):
            # 安装日期 or 出厂日期 is a date, not a location or a serial number.
            return field_name if not is_date or field_name in DATE_FIELDS else UNKNOWN
    return UNKNOWN


def match_header(value: Any) -> str | None:
    """Return the field a header cell names (see :func:`match_header_text`)."""
    if value is None:
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return match_header_text(str(value))
