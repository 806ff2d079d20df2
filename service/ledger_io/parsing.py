"""Reading a ledger sheet as people keep it: where the header is, what each column means, what each cell says.

Pure functions over rows of cell values (as :mod:`service.ledger_io.reader` returns them). Every
value parser returns the value or raises :class:`CellError` with a reason a metrology engineer
understands. Decisions worth knowing:

- A month without a day ("2025.3", "2025年3月") is read as the first day of that month, and the row
  carries a warning saying so. The first day is the cautious reading for both dates: a due date
  computed from it, or a valid-until date taken from it, is never later than the real one.
- 外借 / 借出 / 备用 are read as in service (the instrument is still in use somewhere and still
  falls due); the original word goes into the notes and the row carries a warning.
- Columns the layout does not know are kept: their values are appended to the notes as
  "列名: 值" lines. Columns such as 序号 or 状态标识 are ignored.
- Line breaks and tabs typed inside single-line cells (Alt+Enter) become spaces.
- "/", "—", "无" and the like in a typed column mean "not given"; in the interval column they mean
  0 (no periodic due date), in a yes/no column 无 means no.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any

from service.i18n import N_, Msg
from service.ledger.catalogue import typical_use, use_in_text
from service.ledger.dates import interval_between
from service.ledger_io.columns import BY_FIELD, CODE_NAMES, COLUMNS, normalise_header
from service.ledger_io.headers import IGNORED, UNKNOWN, match_header
from service.validation import is_valid_mobile, normalise_mobile

#: Plausible calendar years for a ledger date; anything else is a typo or a misread number.
FIRST_YEAR, LAST_YEAR = 1950, 2099
#: How many rows from the top are searched for the header.
HEADER_SCAN_ROWS = 30
#: The header the rejected-rows file adds; it is ignored when that file is imported again.
PROBLEM_HEADER = "导入问题"
ROW_NUMBER_HEADER = "原行号"

_EXCEL_EPOCH = date(1899, 12, 30)
_MAX_SERIAL = 2958465  # 9999-12-31
_PLACEHOLDERS = frozenset(
    {
        "/",
        "\\",
        "-",
        "--",
        "—",
        "——",
        "–",
        "*",
        "**",
        "n/a",
        "na",
        "n.a.",
        "nil",
        "不适用",
        "无",
        "空",
        "none",
    }
)
_SINGLE_LINE = re.compile(r"[\r\n\t]+")
_NEUTRALISED = re.compile(r"^'(?=[=+\-@\t\r])")


class CellError(ValueError):
    """A cell whose value cannot be read; ``reason`` says why, for the user."""

    def __init__(self, reason: Msg):
        super().__init__(str(reason))
        self.reason = reason


# Cell values ------------------------------------------------------------------------------------


def is_blank(value: Any) -> bool:
    """Whether a cell is empty (nothing, or only spaces)."""
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: Any) -> str:
    """Return a cell as the text a person sees: 12.0 as "12", dates as ISO, spaces stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    text = str(value).strip()
    # A value the rejected-rows file (or our export) protected against formula injection.
    return _NEUTRALISED.sub("", text)


def _folded(value: Any) -> str:
    """Return a cell's text folded for matching words: full-width to half-width, no spaces, lower case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", cell_text(value))).lower()


def _is_placeholder(value: Any) -> bool:
    return _folded(value) in _PLACEHOLDERS


#: The placeholders that are not ASCII, as typed: 无, dashes, and full-width forms such as ／.
_WIDE_PLACEHOLDERS = frozenset(
    {p for p in _PLACEHOLDERS if not p.isascii()} | {"／", "＼", "－", "－－", "＊", "＊＊", "ＮＡ", "Ｎ／Ａ"}
)


def _is_short_placeholder(text: str) -> bool:
    """Whether a text cell says "not given" ("/", "NA", "*", "无"), at a dictionary lookup for most cells."""
    if len(text) > 4:
        return False
    if text.isascii():
        return text.strip().lower() in _PLACEHOLDERS
    return text.strip() in _WIDE_PLACEHOLDERS


_PLAIN_TEXT = re.compile(r"[^\s'][^\r\n\t]*(?<=\S)|[^\s']")


def parse_text(value: Any, multiline: bool = False) -> str | None:
    """Return a text cell stripped, with line breaks turned into spaces unless ``multiline``."""
    if type(value) is str and _PLAIN_TEXT.fullmatch(value):
        return value  # the common case: nothing to strip, join or unprotect
    text = cell_text(value)
    if not multiline:
        text = _SINGLE_LINE.sub(" ", text).strip()
    return text or None


# Dates ------------------------------------------------------------------------------------------

_FULL_DATE = re.compile(
    r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*[日号]?\.?"
    r"(?:[\sT]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
#: The year last: 3.04.2026, 03-04-2026, 03/04/2026 (day first, as everywhere but the United States).
_YEAR_LAST = re.compile(
    r"^(\d{1,2})\s*([-./])\s*(\d{1,2})\s*\2\s*(\d{4})(?:[\sT]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_MONTH_ONLY = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*月?\.?$")
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")


def _make_date(year: int, month: int, day: int, shown: str) -> date:
    try:
        result = date(year, month, day)
    except ValueError:
        raise CellError(
            N_("No such date: %(value)s (month 1–12, day within the month).", value=shown)
        ) from None
    return _plausible(result, shown)


def _plausible(day: date, shown: str) -> date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise CellError(
            N_(
                "Implausible date %(value)s: the year should be between %(first)s and %(last)s.",
                value=shown,
                first=FIRST_YEAR,
                last=LAST_YEAR,
            )
        )
    return day


def excel_serial_date(serial: float) -> date:
    """Return the date of an Excel serial number (1900 date system, with its phantom 29 February 1900)."""
    whole = int(serial)
    if not 1 <= whole <= _MAX_SERIAL or whole == 60:
        raise CellError(N_("Not a date: %(value)s. Write it as 2025-03-15.", value=cell_text(serial)))
    # Excel counts the non-existent 1900-02-29 as day 60, so serials after it are one day ahead.
    day = _EXCEL_EPOCH + timedelta(days=whole) if whole > 60 else date(1899, 12, 31) + timedelta(days=whole)
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        # A small number in a date column is a slip, not a date of 1900.
        raise CellError(N_("Not a date: %(value)s. Write it as 2025-03-15.", value=cell_text(serial)))
    return day


def _date_from_number(number: float) -> date:
    if FIRST_YEAR <= number < LAST_YEAR + 1:
        # 2025.3 typed into a cell becomes the number 2025.3, and 2025.10 becomes 2025.1.
        raise CellError(
            N_(
                "%(value)s was stored as a number, so the month cannot be told for sure: "
                "write the full date, such as 2025-03-15.",
                value=cell_text(number),
            )
        )
    if not float(number).is_integer():
        return excel_serial_date(number)
    whole = int(number)
    found = _COMPACT_DATE.match(str(whole))
    if found:
        return _make_date(*map(int, found.groups()), shown=str(whole))
    return excel_serial_date(whole)


def is_month_only(value: Any) -> bool:
    """Whether a date cell gives a year and month without a day ("2025.3", "2025年3月")."""
    return isinstance(value, str) and bool(_MONTH_ONLY.match(unicodedata.normalize("NFKC", value).strip()))


def _year_last(found: re.Match, shown: str) -> date:
    """Read a date written with the year last: day first, unless only month first makes a date.

    Dots and dashes are always day first (3.04.2026 is 3 April); with slashes, 04/13/2026 can only be
    13 April written the American way, and is read so.
    """
    first, separator, second, year = int(found[1]), found[2], int(found[3]), int(found[4])
    if separator == "/" and second > 12 >= first:
        first, second = second, first
    return _make_date(year, second, first, shown=shown)


def parse_date(value: Any) -> date:
    """Read a date as people enter it: a real Excel date, a serial number, or typed text in many forms.

    A year and month alone is read as the first day of the month (see the module's notes).
    """
    if isinstance(value, datetime):
        return _plausible(value.date(), cell_text(value))
    if isinstance(value, date):
        return _plausible(value, value.isoformat())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _date_from_number(value)
    text = unicodedata.normalize("NFKC", cell_text(value)).strip()
    for pattern in (_FULL_DATE, _COMPACT_DATE):
        found = pattern.match(text)
        if found:
            return _make_date(*map(int, found.groups()), shown=text)
    found = _YEAR_LAST.match(text)
    if found:
        return _year_last(found, text)
    found = _MONTH_ONLY.match(text)
    if found:
        return _make_date(int(found.group(1)), int(found.group(2)), 1, shown=text)
    if _SERIAL.match(text):
        return excel_serial_date(float(text))
    raise CellError(N_("Not a date: %(value)s. Write it as 2025-03-15.", value=cell_text(value)))


# Intervals --------------------------------------------------------------------------------------

_NUMERALS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_ZERO_INTERVALS = frozenset(
    {"0", "一次性", "一次", "随坏随换", "长期", "长期有效", "不定期", "免检", "无周期", "不需要", "不检"}
)
_WORD_INTERVALS = {
    "半年": 6,
    "季度": 3,
    "一季度": 3,
    "每季度": 3,
    "每月": 1,
    "每年": 12,
    "每半年": 6,
    "monthly": 1,
    "quarterly": 3,
    "halfyearly": 6,
    "half-yearly": 6,
    "semiannual": 6,
    "semi-annual": 6,
    "semiannually": 6,
    "semi-annually": 6,
    "yearly": 12,
    "annual": 12,
    "annually": 12,
    "biennial": 24,
    "onceayear": 12,
    "twiceayear": 6,
}
_INTERVAL = re.compile(
    r"^(\d+(?:\.\d+)?|[零〇一二两三四五六七八九十]+)"
    r"(个月|月|m|mo|mon|mth|mths|months?|年|y|yr|yrs|years?|d|天|日|days?)?$"
)
_INTERVAL_DECORATION = re.compile(r"^(?:每|every|once(?:in|every|a)?)|(?:/|一|1)?次$|检定一次$|校准一次$")
#: Intervals written in days, as the months they mean; any other number of days is not read.
_DAYS_AS_MONTHS = {30: 1, 31: 1, 60: 2, 90: 3, 91: 3, 180: 6, 182: 6, 183: 6, 360: 12, 365: 12, 730: 24}


def chinese_number(text: str) -> int:
    """Return the value of a small Chinese numeral ("三", "十二", "二十四", "两")."""
    if not text or any(c not in _NUMERALS and c != "十" for c in text):
        raise ValueError(text)
    if "十" not in text:
        if len(text) != 1:
            raise ValueError(text)
        return _NUMERALS[text]
    tens, _, units = text.partition("十")
    if "十" in units or len(tens) > 1 or len(units) > 1:
        raise ValueError(text)
    return (_NUMERALS[tens] if tens else 1) * 10 + (_NUMERALS[units] if units else 0)


def _interval_text(text: str) -> int | None:
    if text in _ZERO_INTERVALS or text in _PLACEHOLDERS:
        return 0
    if text in _WORD_INTERVALS:
        return _WORD_INTERVALS[text]
    found = _INTERVAL.match(text)
    if not found:
        return None
    number, unit = found.groups()
    try:
        amount = float(number) if number[0].isdigit() else chinese_number(number)
    except ValueError:
        return None
    if unit and unit[0] in "d天日":
        return _DAYS_AS_MONTHS.get(amount)
    months = amount * 12 if unit and unit[0] in "年y" else amount
    if not float(months).is_integer():
        raise CellError(N_("The interval must be a whole number of months: %(value)s.", value=text))
    return int(months)


def parse_interval(value: Any) -> int:
    """Read a verification interval in months: 12, "12个月", "1年", "一年", "半年", "一次性" (0) and more."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not float(value).is_integer():
            raise CellError(
                N_("The interval must be a whole number of months: %(value)s.", value=cell_text(value))
            )
        return int(value)
    text = _folded(value)
    months = _interval_text(text)
    if months is None:
        months = _interval_text(_INTERVAL_DECORATION.sub("", text))
    if months is None:
        raise CellError(
            N_(
                "Unreadable interval: %(value)s. Write the number of months (12) or 1年, 半年, 24个月.",
                value=cell_text(value),
            )
        )
    return months


# Words ------------------------------------------------------------------------------------------

_TRUE = frozenset(
    {"是", "√", "✓", "✔", "y", "yes", "true", "1", "有", "对", "强检", "强制", "强制检定", "是(强检)"}
)
_FALSE = frozenset(
    {"否", "×", "✗", "✘", "x", "n", "no", "false", "0", "无", "非强检", "非强制", "不是", "/", "-", "—"}
)


def parse_flag(value: Any) -> bool:
    """Read yes/no: 是/否, √/×, Y/N, 有/无, true/false, 1/0."""
    if isinstance(value, bool):
        return value
    text = _folded(value)
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(N_("Not a yes/no value: %(value)s. Write 是 or 否.", value=cell_text(value)))


def _lookup(table: Mapping[str, str], value: Any, reason: Msg) -> str:
    text = _folded(value)
    if text in table:
        return table[text]
    raise CellError(reason)


def _table(entries: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Turn ``{code: words}`` into ``{folded word or code: code}``."""
    table = {}
    for code, words in entries.items():
        for word in (code, code.replace("_", " "), *words):
            table[_folded(word)] = code
    return table


#: Status words as people write them, in both languages, by the status they mean.
_STATUS_WORDS = {
    "in_service": (
        "在用", "使用", "使用中", "在用中", "正常", "正常使用", "启用",
        "active", "inuse", "in use", "inservice", "service", "ok", "working",
    ),
    "out_for_calibration": (
        "送检", "送检中", "在检", "检定中", "校准中", "送校", "外检中",
        "outforcalibration", "atcalibration", "sentforcalibration", "undercalibration", "calibration",
    ),
    "under_repair": ("维修", "维修中", "待修", "修理", "送修", "检修", "repair", "underrepair", "inrepair"),
    "suspended": ("停用", "暂停", "暂停使用", "inactive", "nonactive", "notinuse"),
    "sealed": ("封存", "已封存", "sealed", "mothballed"),
    "scrapped": ("报废", "已报废", "淘汰", "scrap", "scrapped"),
}  # fmt: skip
#: Words read with a liberty (lent out, in stock, idle, rejected …): the status they come closest
#: to; the word itself is kept in the notes, since it says more than the status.
_NOTED_STATUS_WORDS = {
    "in_service": ("外借", "借出", "备用", "在库", "库存", "stock", "instock", "spare", "available"),
    "suspended": ("闲置", "idle", "hold", "onhold", "blocked"),
    "scrapped": (
        "rejected", "rejection", "reject", "disposed", "discarded", "obsolete", "condemned", "writtenoff",
    ),
}  # fmt: skip
_STATUSES = _table({code: words + _NOTED_STATUS_WORDS.get(code, ()) for code, words in _STATUS_WORDS.items()})
NOTED_STATUSES = frozenset(_folded(word) for words in _NOTED_STATUS_WORDS.values() for word in words)


def parse_status(value: Any) -> str:
    """Read a status in Chinese or English: 在用/送检/维修/停用/封存/报废, Active, Stock, Scrap … or its code.

    外借, 备用, 在库, Stock and Spare count as in service; Rejected and Disposed as scrapped.
    """
    return _lookup(
        _STATUSES,
        value,
        N_("Unknown status: %(value)s. Use 在用, 送检, 维修, 停用, 封存 or 报废.", value=cell_text(value)),
    )


_CONCLUSIONS = _table(
    {
        "pass": ("合格", "检定合格", "校准合格", "确认合格", "符合", "符合要求", "满足要求", "满足使用要求"),
        "limited": ("准用", "限用", "准用/限用", "限用/准用", "降级", "降级使用", "限制使用"),
        "fail": ("不合格", "检定不合格", "不符合", "不符合要求", "不满足要求"),
        # A calibration awaiting the firm's metrological confirmation, as the export writes it.
        "pending": ("待确认", "待计量确认", "待确认中"),
    }
)


def parse_conclusion(value: Any) -> str:
    """Read a conclusion: 合格 → pass; 准用/限用/降级 → limited; 不合格 → fail."""
    return _lookup(
        _CONCLUSIONS,
        value,
        N_("Unknown conclusion: %(value)s. Use 合格, 准用, 限用 or 不合格.", value=cell_text(value)),
    )


def parse_abc(value: Any) -> str:
    """Read an ABC management class: "A", "a", "A类", "Ａ级"."""
    found = re.match(r"^([abc])(?:类|级|类别)?$", _folded(value))
    if not found:
        raise CellError(N_("Unknown ABC class: %(value)s. Use A, B or C.", value=cell_text(value)))
    return found.group(1).upper()


_CONTROL_METHODS = _table(
    {
        "verification": ("检定", "强检", "强制检定", "周期检定", "检定证书"),
        "calibration": ("校准", "外校", "校验", "校准证书"),
        "self_check": (
            "自校",
            "自检",
            "内校",
            "内部校准",
            "测试",
            "检测",
            "比对",
            "核查",
            "测试/自校",
            "自校/测试",
        ),
        "one_off": ("一次性", "一次性检定", "免检", "仅验证", "验证", "使用前验证", "免检/仅验证"),
    }
)


def parse_control_method(value: Any) -> str:
    """Read how the instrument is controlled: 检定, 校准, 自校/测试, 一次性/免检."""
    return _lookup(
        _CONTROL_METHODS,
        value,
        N_("Unknown control method: %(value)s. Use 检定, 校准, 自校 or 一次性.", value=cell_text(value)),
    )


_MANDATORY_USES = _table(
    {
        "trade": ("贸易结算", "贸易", "结算"),
        "safety": ("安全防护", "安全", "防护"),
        "medical": ("医疗卫生", "医疗", "卫生"),
        "environment": ("环境监测", "环境", "环保", "环境保护", "监测"),
    }
)


def parse_mandatory_use(value: Any) -> str:
    """Read the use that makes verification compulsory: 贸易结算, 安全防护, 医疗卫生, 环境监测."""
    parts = [p for p in re.split(r"[、,，/;；\s]+", cell_text(value)) if p]
    if len(parts) > 1 and all(_folded(p) in _MANDATORY_USES for p in parts):
        raise CellError(N_("Give one mandatory use only: %(value)s.", value=cell_text(value)))
    return _lookup(
        _MANDATORY_USES,
        value,
        N_(
            "Unknown mandatory use: %(value)s. Use 贸易结算, 安全防护, 医疗卫生 or 环境监测.",
            value=cell_text(value),
        ),
    )


_CERTIFICATE_TYPES = _table(
    {
        "verification_certificate": ("检定证书",),
        "verification_notice": ("检定结果通知书", "结果通知书", "不合格通知书", "检定不合格通知书"),
        "calibration_certificate": ("校准证书", "校准报告"),
        "test_report": ("测试报告", "检测报告", "测试证书", "检验报告"),
    }
)


def parse_certificate_type(value: Any) -> str:
    """Read a certificate type: 检定证书, 检定结果通知书, 校准证书, 测试报告."""
    return _lookup(
        _CERTIFICATE_TYPES,
        value,
        N_(
            "Unknown certificate type: %(value)s. Use 检定证书, 检定结果通知书, 校准证书 or 测试报告.",
            value=cell_text(value),
        ),
    )


def parse_mobile(value: Any) -> str:
    """Read a mainland mobile number written with spaces, dashes or +86."""
    number = normalise_mobile(unicodedata.normalize("NFKC", cell_text(value)))
    if not is_valid_mobile(number):
        raise CellError(
            N_("Not a mobile number: %(value)s (11 digits, starting with 1).", value=cell_text(value))
        )
    return number


_NAME_AND_MOBILE = re.compile(r"^(.*?)[\s,，/、:：()（）]*((?:\+?86)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4})[)）]?$")


def split_custodian(value: Any) -> tuple[str | None, str | None]:
    """Split "张三 138 0000 1111" into name and mobile; a cell without a number is all name."""
    text = parse_text(value)
    if text is None:
        return None, None
    found = _NAME_AND_MOBILE.match(unicodedata.normalize("NFKC", text))
    if not found or not found.group(1).strip():
        return text, None
    return found.group(1).strip(), normalise_mobile(found.group(2))


#: The parser of each column kind of :mod:`service.ledger_io.columns`.
PARSERS = {
    "date": parse_date,
    "interval": parse_interval,
    "flag": parse_flag,
    "abc": parse_abc,
    "status": parse_status,
    "conclusion": parse_conclusion,
    "control_method": parse_control_method,
    "mandatory_use": parse_mandatory_use,
    "certificate_type": parse_certificate_type,
    "mobile": parse_mobile,
}


def parse_cell(field_name: str, value: Any) -> Any:
    """Return a cell's value for ``field_name``; ``None`` when the cell is blank or says "not given"."""
    kind = BY_FIELD[field_name].kind
    if is_blank(value):
        return None
    if kind == "text":
        return parse_text(value, multiline=field_name == "notes")
    if kind not in ("interval", "flag") and _is_placeholder(value):
        return None
    return PARSERS[kind](value)


def cell_warning(field_name: str, value: Any) -> Msg | None:
    """Return a note about a value read with a liberty (a month without a day, 外借), if any."""
    kind = BY_FIELD[field_name].kind
    if kind == "date" and is_month_only(value):
        return N_("Month without a day: %(value)s was read as the first day of the month.", value=value)
    if kind == "status" and _folded(value) in NOTED_STATUSES:
        return N_(
            "%(value)s was imported as %(status)s; the word is kept in the notes.",
            value=cell_text(value),
            status=CODE_NAMES["status"][parse_status(value)],
        )
    return None


# The header -------------------------------------------------------------------------------------

#: ``{folded header: field}`` given by the user for a file (``--map "Functional Location=management_no"``).
HeaderNames = Mapping[str, "str | None"]


def _field_of(cell: Any, names: HeaderNames | None) -> str | None:
    if names:
        folded = normalise_header(cell_text(cell))
        if folded in names:
            return names[folded]
    return match_header(cell)


def header_fields(cells: Sequence[Any], names: HeaderNames | None = None) -> dict[int, str]:
    """Return ``{column index: field}`` for the cells of a row that name a ledger field."""
    found = {}
    for index, cell in enumerate(cells):
        if isinstance(cell, str) and cell.strip():
            field_name = _field_of(cell, names)
            if field_name not in (UNKNOWN, IGNORED):
                found[index] = field_name
    return found


def header_score(cells: Sequence[Any], names: HeaderNames | None = None) -> int:
    """Return how many distinct ledger fields a row names (a header row names many)."""
    return len(set(header_fields(cells, names).values()))


def _looks_like_header(fields: set[str]) -> bool:
    return len(fields) >= 3 or (len(fields) == 2 and "management_no" in fields)


def find_header(
    rows: Sequence[Sequence[Any]], scan: int = HEADER_SCAN_ROWS, names: HeaderNames | None = None
) -> int | None:
    """Return the index of the header row among the first ``scan`` rows, or ``None`` if there is none."""
    found = best_header(rows, scan, names)
    return found[0] if found else None


def best_header(
    rows: Sequence[Sequence[Any]], scan: int = HEADER_SCAN_ROWS, names: HeaderNames | None = None
) -> tuple[int, int] | None:
    """Return ``(row index, score)`` of the best header among the first ``scan`` rows, if any row is one."""
    best = None
    for index, cells in enumerate(rows[:scan]):
        fields = set(header_fields(cells, names).values())
        if _looks_like_header(fields) and (best is None or len(fields) > best[1]):
            best = (index, len(fields))
    return best


@dataclass(frozen=True)
class Layout:
    """Where the header is and what each column of the sheet holds."""

    #: 0-based indexes of the header row(s); two when a header is split over two rows.
    header_rows: tuple[int, ...]
    #: Each column's header text as in the file ("" when the column has none).
    headers: tuple[str, ...]
    #: Column index → field; columns kept in the notes map to ``UNKNOWN``, ignored ones to ``None``.
    columns: dict[int, str | None]
    #: Columns that count the rows (1, 2, 3 …): a row with nothing else filled in is blank.
    counters: frozenset[int] = frozenset()
    #: A class split over sub-columns (分级管理 over A | B | C): column → the class its mark gives.
    abc_marks: dict[int, str] = field(default_factory=dict)
    #: The header of a counter column read as the management number, when no other column gives one.
    numbered_by: str | None = None

    @property
    def data_start(self) -> int:
        """Return the index of the first row below the header."""
        return max(self.header_rows) + 1

    @property
    def header_row_number(self) -> int:
        """Return the sheet row number (1-based) of the main header row."""
        return self.header_rows[0] + 1

    @cached_property
    def fields(self) -> dict[str, list[int]]:
        """Return ``{field: [column index, ...]}`` in column order."""
        found: dict[str, list[int]] = {}
        for index, name in sorted(self.columns.items()):
            if name not in (UNKNOWN, IGNORED):
                found.setdefault(name, []).append(index)
        return found

    @cached_property
    def key_columns(self) -> list[int]:
        """Return the indexes of the columns holding the management number and the name."""
        return [i for f in ("management_no", "name") for i in self.fields.get(f, [])]

    @cached_property
    def unknown_columns(self) -> list[int]:
        """Return the indexes of the columns whose values go into the notes."""
        return [i for i, name in sorted(self.columns.items()) if name == UNKNOWN]

    def ignored_columns(self) -> list[int]:
        """Return the indexes of the columns deliberately left out."""
        return [i for i, name in sorted(self.columns.items()) if name is IGNORED and self.headers[i]]

    @property
    def holds_notes(self) -> bool:
        """Whether the sheet's columns make up the whole notes (a notes column or columns kept in them)."""
        return "notes" in self.fields or bool(self.unknown_columns)

    def header_of(self, field_name: str) -> str:
        """Return the header of the (first) column holding ``field_name``, or the template's header."""
        columns = self.fields.get(field_name)
        return self.headers[columns[0]] if columns else BY_FIELD[field_name].header

    def mapping(self) -> dict[str, str | None]:
        """Return ``{header: field}`` for display; unknown columns map to "notes"."""
        shown = {}
        for index, name in sorted(self.columns.items()):
            if self.headers[index]:
                shown[self.headers[index]] = "notes" if name == UNKNOWN else name
        return shown


def column_letter(index: int) -> str:
    """Return the spreadsheet letter of a 0-based column index (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _companion_fields(
    cells: Sequence[Any], taken: set[str], names: HeaderNames | None
) -> dict[int, str] | None:
    """Return the new fields a row adjacent to the header adds, if it is a second header row."""
    named = header_fields(cells, names)
    new = {i: f for i, f in named.items() if f not in taken}
    others = sum(1 for i, c in enumerate(cells) if not is_blank(c) and i not in named)
    return new if new and len(named) >= others else None


def _width(rows: Sequence[Sequence[Any]], start: int) -> int:
    return max((len(r) for r in rows[start : start + 1000]), default=0)


def _abc_marks(header: Sequence[Any], below: Sequence[Any], columns: dict[int, str | None]) -> dict[int, str]:
    """Return the sub-columns A | B | C under a class header (分级管理), or nothing.

    The header names the class over the first sub-column (the cells over the others are blank: one
    merged cell) and the row below holds A, B and C.
    """
    letters = {i: _folded(c).rstrip("类级") for i, c in enumerate(below) if not is_blank(c)}
    for i, letter in letters.items():
        group = [i, i + 1, i + 2]
        if (
            letter == "a"
            and [letters.get(j) for j in group] == ["a", "b", "c"]
            and columns.get(i) in ("abc_class", UNKNOWN)
            and all(is_blank(_at(header, j)) for j in group[1:])
            and (columns.get(i) == "abc_class" or not is_blank(_at(header, i)))
        ):
            return dict(zip(group, "ABC", strict=True))
    return {}


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 6:
        return int(value)
    return None


def _counts_rows(rows: Sequence[Sequence[Any]], index: int) -> bool:
    """Whether a column holds a row counter: whole numbers, most of them one more than the last."""
    numbers = []
    for row in rows:
        value = _at(row, index)
        if is_blank(value):
            continue
        number = _integer(value)
        if number is None:
            if _is_footer_text(value):
                continue  # the signature line under the form
            return False
        numbers.append(number)
    if len(numbers) < 2:
        return bool(numbers) and numbers[0] <= 2
    steps = sum(1 for a, b in itertools.pairwise(numbers) if b == a + 1)
    return steps >= 0.8 * (len(numbers) - 1)


def _any_filled(rows: Sequence[Sequence[Any]], index: int) -> bool:
    return any(not is_blank(_at(row, index)) for row in rows)


def _counters(rows: Sequence[Sequence[Any]], columns: dict[int, str | None]) -> tuple[set[int], int | None]:
    """Find the row counters among the ignored and management-number columns.

    Return the counters, and the counter still read as the management number because no other
    column gives one (None when another does: the counter is then left out).
    """
    numbers = [i for i, f in columns.items() if f == "management_no"]
    counters = {i for i, f in columns.items() if f in (IGNORED, "management_no") and _counts_rows(rows, i)}
    counting_numbers = [i for i in numbers if i in counters]
    if not counting_numbers:
        return counters, None
    if any(_any_filled(rows, i) for i in numbers if i not in counters):
        for i in counting_numbers:
            columns[i] = IGNORED  # a bare counter is never the number while another column gives one
        return counters, None
    return counters, counting_numbers[0]


def detect_layout(
    rows: Sequence[Sequence[Any]],
    header_row: int | None = None,
    overrides: Mapping[int, str | None] | None = None,
    names: HeaderNames | None = None,
) -> Layout | None:
    """Find the header and map its columns to fields; ``None`` when no row looks like a header.

    ``header_row`` (1-based, as the sheet shows it) forces the header row; ``overrides`` maps a
    column index to a field, to :data:`UNKNOWN` (keep it in the notes) or to :data:`IGNORED`
    (leave it out), as the user corrects it; ``names`` maps folded header texts to fields the
    same way. A counter column (1, 2, 3 …) is left out when another column holds the management
    number.
    """
    index = header_row - 1 if header_row else find_header(rows, names=names)
    if index is None or not 0 <= index < len(rows):
        return None
    header_rows = [index]
    cells = list(rows[index])
    columns: dict[int, str | None] = {}
    for i, cell in enumerate(cells):
        columns[i] = _field_of(cell, names) if not is_blank(cell) else UNKNOWN
    abc_marks = _abc_marks(cells, rows[index + 1], columns) if index + 1 < len(rows) else {}
    if abc_marks:
        header_rows.append(index + 1)
        group = cell_text(cells[min(abc_marks)])
        cells.extend([""] * (max(abc_marks) + 1 - len(cells)))
        for i, letter in abc_marks.items():
            columns[i] = "abc_class"
            cells[i] = f"{group} {letter}".strip()
    for neighbour in (index - 1, index + 1):
        if not header_row and not abc_marks and 0 <= neighbour < len(rows):
            taken = {f for f in columns.values() if f not in (UNKNOWN, IGNORED)}
            extra = _companion_fields(rows[neighbour], taken, names)
            # A second header row fills columns the main one leaves blank or labels as a group.
            if extra and all(columns.get(i, UNKNOWN) == UNKNOWN for i in extra):
                header_rows.append(neighbour)
                for i, field_name in extra.items():
                    columns[i] = field_name
                    cells.extend([""] * (i + 1 - len(cells)))
                    cells[i] = rows[neighbour][i]
    width = max(_width(rows, index), len(cells))
    # 量具\n状况: a header typed over two lines of its cell reads as one.
    headers = tuple(_SINGLE_LINE.sub(" ", cell_text(_at(cells, i))).strip() for i in range(width))
    for i in range(width):
        columns.setdefault(i, UNKNOWN)
    for i, field_name in (overrides or {}).items():
        if field_name not in (IGNORED, UNKNOWN) and field_name not in BY_FIELD:
            raise ValueError(f"unknown field {field_name!r}")
        if not 0 <= int(i) < width:
            raise ValueError(f"no column {i}")
        columns[int(i)] = field_name
    data = rows[max(header_rows) + 1 :]
    counters, numbered_by = _counters(data, columns)
    if overrides:
        # What the user chose stands: a counter they named the number stays the number.
        for i, field_name in overrides.items():
            columns[int(i)] = field_name
    abc_marks = {i: letter for i, letter in abc_marks.items() if columns.get(i) == "abc_class"}
    return Layout(
        tuple(sorted(header_rows)),
        headers,
        columns,
        frozenset(counters),
        abc_marks if len(abc_marks) == 3 else {},
        headers[numbered_by]
        if numbered_by is not None and columns.get(numbered_by) == "management_no"
        else None,
    )


def _at(cells: Sequence[Any], index: int) -> Any:
    return cells[index] if index < len(cells) else None


# Rows -------------------------------------------------------------------------------------------

_META = re.compile(
    r"^(制表|编制|填表|填报|审核|复核|审批|批准|核准|负责人|部门负责人|主管|经办|编制部门|编制单位|填报单位|单位"
    r"|更新日期|填表日期|编制日期|制表日期|打印日期|日期)人?\s*(?:[/／、和及]\s*日期)?\s*[:：]"
    r"|^(prepared|checked|approved|reviewed|verified|compiled|issued|authori[sz]ed)\s*(by\b|[:：])",
    re.IGNORECASE,
)
_TOTAL = re.compile(r"^(合计|总计|小计|共计)")
_NOTE = re.compile(r"^(注|说明|备注)\s*[:：\d]")
_SECTION = re.compile(
    r"^([一二三四五六七八九十]+\s*[、.．]|[(（][一二三四五六七八九十]+[)）]|第.{1,4}[部分类章节])"
)


_DIGIT = re.compile(r"\d")


def _names_a_key_column(value: Any) -> bool:
    """Whether a cell repeats the header of the management number or the name (no header has digits)."""
    return (
        isinstance(value, str)
        and not _DIGIT.search(value)
        and match_header(value) in ("management_no", "name")
    )


def _filled_count(cells: Sequence[Any]) -> int:
    """Return how many cells are not blank (as :func:`is_blank` says), with the counting done in C."""
    texts = [c for c in cells if isinstance(c, str)]
    return len(cells) - cells.count(None) - texts.count("") - sum(map(str.isspace, texts))


def row_kind(cells: Sequence[Any], layout: Layout) -> str:
    """Classify a row below the header: "data", "blank", "footer", "section" or "header" (a repeated one)."""
    if _filled_count(cells) <= 6:  # an instrument's row fills more: most rows skip the closer look
        kind = _short_row_kind(cells, layout)
        if kind is not None:
            return kind
    if any(_names_a_key_column(_at(cells, i)) for i in layout.key_columns):
        return "header"
    return "data"


def _is_footer_text(value: Any) -> bool:
    text = unicodedata.normalize("NFKC", cell_text(value))
    return bool(_META.match(text) or _TOTAL.match(text) or _NOTE.match(text))


def _short_row_kind(cells: Sequence[Any], layout: Layout) -> str | None:
    """Return "blank", "footer" or "section" for a row of a few cells that is one; else None.

    A number in a counter or ignored (序号) column does not count, nor does a "/" (which a merged
    cell may have repeated down the form): a form's pre-numbered empty rows are blank.
    """
    filled = [
        (i, c)
        for i, c in enumerate(cells)
        if not is_blank(c)
        and not (
            (i in layout.counters or layout.columns.get(i, UNKNOWN) is IGNORED) and _integer(c) is not None
        )
        and not (isinstance(c, str) and _is_short_placeholder(c))
    ]
    if not filled:
        return "blank"
    first = unicodedata.normalize("NFKC", cell_text(filled[0][1]))
    if _is_footer_text(first):
        return "footer"
    if len(filled) == 1 and (_SECTION.match(first) or filled[0][0] not in layout.key_columns):
        return "section"
    return None


def is_numbering(cells: Sequence[Any]) -> bool:
    """Whether a row numbers the columns: 1, 2, 3 … (at least three) and nothing else."""
    filled = [c for c in cells if not is_blank(c)]
    numbers = [_integer(c) for c in filled]
    return (
        len(numbers) >= 3 and None not in numbers and all(b == a + 1 for a, b in itertools.pairwise(numbers))
    )


@dataclass
class Problem:
    """What is wrong with (or was assumed about) one cell or row."""

    column: str | None
    reason: Msg


@dataclass
class ParsedRow:
    """One data row: its sheet row number, its cells as read, and its values by field."""

    number: int
    cells: list[Any]
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    #: Fields the file does not give that the import filled in, and from where: "row" (the row's own
    #: words), "catalogue" (the catalogue's typical use) or "dates" (the interval the dates imply).
    inferred: dict[str, str] = field(default_factory=dict)

    @property
    def management_no(self) -> str | None:
        """Return the row's management number, if it has one."""
        return self.values.get("management_no")


def _column_value(row: ParsedRow, layout: Layout, columns: list[int]) -> tuple[Any, list[str]]:
    """Return the first non-blank cell of the columns mapped to a field, and notes for the others."""
    if len(columns) == 1:  # the usual sheet: one column per field
        index = columns[0]
        value = row.cells[index] if index < len(row.cells) else None
        return (None if is_blank(value) else (index, value)), []
    chosen, extra = None, []
    for i in columns:
        value = _at(row.cells, i)
        if is_blank(value):
            continue
        if chosen is None:
            chosen = (i, value)
        elif cell_text(value) != cell_text(chosen[1]):
            extra.append(f"{layout.headers[i]}: {parse_text(value)}")
    return chosen, extra


#: Text fields read as one line (the notes keep their line breaks).
_SINGLE_LINE_TEXT = frozenset(c.field for c in COLUMNS if c.kind == "text" and c.field != "notes")
#: Text fields where "/", "-", "NA" or "*" mean "not given" (a name or a number is never a placeholder).
OPTIONAL_TEXT = _SINGLE_LINE_TEXT - {"management_no", "name"}
#: A mobile number written as it is stored: 11 digits, nothing to normalise.
_PLAIN_MOBILE = re.compile(r"1[3-9][0-9]{9}")
#: For the fields whose cells are usually typed as they are stored, the form of such a cell: it
#: reads as itself (what :func:`parse_text` or :func:`parse_mobile` would return, with no warning).
_AS_STORED = {name: _PLAIN_TEXT for name in _SINGLE_LINE_TEXT} | {
    c.field: _PLAIN_MOBILE for c in COLUMNS if c.kind == "mobile"
}
#: Kinds of cell whose few distinct values repeat down a sheet (dates, codes): read each value once.
CACHED_KINDS = frozenset(
    {
        "date",
        "interval",
        "flag",
        "abc",
        "status",
        "conclusion",
        "control_method",
        "mandatory_use",
        "certificate_type",
    }
)
#: A sheet of random values must not grow the cache without end.
MAX_CACHED = 50_000


def _read_cell(field_name: str, value: Any, cache: dict | None) -> tuple[Any, Msg | None, Msg | None]:
    """Return ``(value, reason it is unreadable, warning)`` for a cell, from the cache when it holds it."""
    if BY_FIELD[field_name].kind == "text":  # no warnings, never unreadable; values rarely repeat
        if field_name in OPTIONAL_TEXT and isinstance(value, str) and _is_short_placeholder(value):
            return None, None, None  # "/", "-", "NA", "*": not given
        return parse_text(value, multiline=field_name == "notes"), None, None
    key = (field_name, type(value), value)
    if cache is not None:
        found = cache.get(key)
        if found is not None:
            return found
    try:
        result = (parse_cell(field_name, value), None, cell_warning(field_name, value))
    except CellError as exc:
        result = (None, exc.reason, None)
    if cache is not None and BY_FIELD[field_name].kind in CACHED_KINDS and len(cache) < MAX_CACHED:
        cache[key] = result
    return result


#: The fields the due date is computed from: an unreadable value there rejects the row; elsewhere it
#: goes to the notes with a warning.
DUE_DATE_FIELDS = frozenset({"last_done_on", "valid_until", "interval_months"})


def _read_field(
    row: ParsedRow, layout: Layout, field_name: str, columns: list[int], cache: dict | None = None
) -> list[str]:
    chosen, extra = _column_value(row, layout, columns)
    if chosen is None:
        row.values[field_name] = None
        return extra
    index, value = chosen
    header = layout.headers[index] or column_letter(index)
    parsed, error, warning = _read_cell(field_name, value, cache)
    if error is not None and field_name in DUE_DATE_FIELDS:
        row.errors.append(Problem(header, error))
        return extra
    if error is not None:
        # Only what the due date depends on makes a row unusable: the rest is kept for a person.
        row.values[field_name] = None
        row.warnings.append(
            Problem(
                header, N_("%(value)s could not be read: it was kept in the notes.", value=cell_text(value))
            )
        )
        extra.append(f"{header}: {parse_text(value)}")
        return extra
    row.values[field_name] = parsed
    if warning:
        row.warnings.append(Problem(header, warning))
        if field_name == "status":
            extra.append(f"{header}: {cell_text(value)}")
    return extra


def _unknown_notes(row: ParsedRow, layout: Layout) -> list[str]:
    notes = []
    for i in layout.unknown_columns:
        value = _at(row.cells, i)
        if not is_blank(value):
            notes.append(f"{layout.headers[i] or '列' + column_letter(i)}: {parse_text(value)}")
    return notes


def _custodian(row: ParsedRow) -> None:
    """Split "name mobile" written in one custodian cell when the mobile column does not say otherwise."""
    name = row.values.get("custodian")
    if name is None:
        return
    person, mobile = split_custodian(name)
    if mobile and row.values.get("custodian_mobile") is None:
        row.values["custodian"] = person
        row.values["custodian_mobile"] = mobile


def _too_long(row: ParsedRow, layout: Layout, limit: int) -> bool:
    texts = [value for value in row.cells if isinstance(value, str)]
    if not texts or max(map(len, texts)) <= limit:
        return False  # the usual row
    for i, value in enumerate(row.cells):
        if isinstance(value, str) and len(value) > limit:
            header = layout.headers[i] if i < len(layout.headers) and layout.headers[i] else column_letter(i)
            row.errors.append(
                Problem(
                    header,
                    N_(
                        "Cell too long: %(length)s characters (at most %(limit)s).",
                        length=len(value),
                        limit=limit,
                    ),
                )
            )
            return True
    return False


def _required(row: ParsedRow, layout: Layout) -> None:
    missing = []
    if not row.values.get("management_no"):
        missing.append(Problem(layout.header_of("management_no"), N_("Missing management number.")))
    if "name" in layout.fields and not row.values.get("name"):
        missing.append(Problem(layout.header_of("name"), N_("Missing instrument name.")))
    row.errors[:0] = missing


def parse_row(
    number: int, cells: Sequence[Any], layout: Layout, max_cell_chars: int = 2000, cache: dict | None = None
) -> ParsedRow:
    """Read one data row into field values, collecting every problem instead of stopping at the first.

    ``cache`` (a dict kept across the rows of a sheet) saves reading the same date or code twice.
    """
    row = ParsedRow(number, list(cells))
    if _too_long(row, layout, max_cell_chars):
        row.values["management_no"] = parse_text(_first(row, layout, "management_no"))
        return row
    notes: list[str] = []
    values, cells, width = row.values, row.cells, len(row.cells)
    for field_name, columns in layout.fields.items():
        if len(columns) == 1:
            # The common cells, read inline: a blank, a cell as stored, or a date or code read before.
            value = cells[columns[0]] if columns[0] < width else None
            if value is None or (value.__class__ is str and not value.strip()):
                values[field_name] = None
                continue
            stored = _AS_STORED.get(field_name)
            if (
                stored is not None
                and value.__class__ is str
                and stored.fullmatch(value)
                and (len(value) > 4 or not _is_short_placeholder(value))
            ):
                values[field_name] = value
                continue
            known = cache.get((field_name, value.__class__, value)) if cache is not None else None
            if known is not None and known[1] is None and known[2] is None:
                values[field_name] = known[0]
                continue
        if field_name == "abc_class" and layout.abc_marks:
            notes += _read_marks(row, layout)
            continue
        notes += _read_field(row, layout, field_name, columns, cache)
    notes += _unknown_notes(row, layout)
    if layout.holds_notes or notes:
        own = row.values.get("notes")
        row.values["notes"] = "\n".join(([own] if own else []) + notes) or None
    _custodian(row)
    if values.get("is_mandatory"):
        _mandatory(row, layout)
    if values.get("interval_months") is None and values.get("last_done_on") and values.get("valid_until"):
        _interval_from_dates(row)
    _required(row, layout)
    return row


_USE_NAMES = CODE_NAMES["mandatory_use"]
_CONTROL_NAMES = CODE_NAMES["control_method"]


def _read_marks(row: ParsedRow, layout: Layout) -> list[str]:
    """Read a class marked in one of its sub-columns (√ under B); two marks are kept in the notes."""
    marked = [letter for i, letter in sorted(layout.abc_marks.items()) if not is_blank(_at(row.cells, i))]
    row.values["abc_class"] = marked[0] if len(marked) == 1 else None
    if len(marked) > 1:
        header = layout.headers[min(layout.abc_marks)]
        row.warnings.append(
            Problem(
                header, N_("%(value)s could not be read: it was kept in the notes.", value="/".join(marked))
            )
        )
        return [f"{header}: {'/'.join(marked)}"]
    return []


def _mandatory(row: ParsedRow, layout: Layout) -> None:
    """Complete a row marked 强检: its use, from its own words or the catalogue; its method, 检定."""
    values = row.values
    use_header = layout.header_of("mandatory_use")
    if not values.get("mandatory_use"):
        use = use_in_text(values.get("notes")) or use_in_text(values.get("catalog_item"))
        if use is not None:
            values["mandatory_use"] = use
            row.inferred["mandatory_use"] = "row"
            row.warnings.append(
                Problem(
                    use_header,
                    N_("Mandatory use taken from the row's own words: %(use)s.", use=_USE_NAMES[use]),
                )
            )
        elif (entry := typical_use(values.get("name"))) is not None:
            values["mandatory_use"] = entry.use
            row.inferred["mandatory_use"] = "catalogue"
            row.warnings.append(
                Problem(
                    use_header,
                    N_(
                        "No mandatory use given: %(use)s, the catalogue's typical use of %(item)s, was "
                        "assumed; check it.",
                        use=_USE_NAMES[entry.use],
                        item=entry.item,
                    ),
                )
            )
        else:
            row.warnings.append(
                Problem(
                    use_header,
                    N_(
                        "Marked mandatory (强检) without a use: imported with the use open; complete it in "
                        "the ledger (needs attention)."
                    ),
                )
            )
    method = values.get("control_method")
    if method not in (None, "verification"):
        header = layout.header_of("control_method")
        word = _CONTROL_NAMES[method]
        values["control_method"] = "verification"
        values["notes"] = "\n".join(filter(None, [values.get("notes"), f"{header}: {word}"]))
        row.warnings.append(
            Problem(
                header,
                N_(
                    "Mandatory instruments are verified (检定): %(value)s was kept in the notes.",
                    value=word,
                ),
            )
        )


def _interval_from_dates(row: ParsedRow) -> None:
    """Give a row without an interval the one its last and valid-until dates imply, if they imply one."""
    months = interval_between(row.values["last_done_on"], row.values["valid_until"])
    if months is not None:
        row.values["interval_months"] = months
        row.inferred["interval_months"] = "dates"


def _first(row: ParsedRow, layout: Layout, field_name: str) -> Any:
    columns = layout.fields.get(field_name, [])
    return _at(row.cells, columns[0]) if columns else None


@dataclass
class SheetReading:
    """A sheet read below its header: the data rows and how many other rows were skipped."""

    rows: list[ParsedRow]
    skipped: dict[str, int]


def read_sheet(
    rows: Sequence[Sequence[Any]],
    layout: Layout,
    max_cell_chars: int = 2000,
    progress: Callable[[int], None] | None = None,
    every: int = 1000,
) -> SheetReading:
    """Read every row below the header; count the blank, footer, section and repeated header rows.

    ``progress(rows_done)`` is called every ``every`` rows and at the end.
    """
    reading, cache = SheetReading([], {}), {}
    for index in range(layout.data_start, len(rows)):
        kind = row_kind(rows[index], layout)
        if index < layout.data_start + 2 and kind == "data" and is_numbering(rows[index]):
            kind = "header"  # the columns' numbers (1, 2, 3 …) printed under the header
        if kind == "data":
            reading.rows.append(parse_row(index + 1, rows[index], layout, max_cell_chars, cache))
        else:
            reading.skipped[kind] = reading.skipped.get(kind, 0) + 1
        done = index + 1 - layout.data_start
        if progress and done % every == 0:
            progress(done)
    if progress:
        progress(len(rows) - layout.data_start)
    return reading
