"""Reading ledger cells and sheets as people type them: dates, intervals, words, headers, stray rows."""

from datetime import date, datetime

import pytest

from service.ledger_io.parsing import (
    IGNORED,
    UNKNOWN,
    CellError,
    cell_text,
    cell_warning,
    chinese_number,
    column_letter,
    detect_layout,
    excel_serial_date,
    find_header,
    match_header,
    parse_abc,
    parse_cell,
    parse_certificate_type,
    parse_conclusion,
    parse_control_method,
    parse_date,
    parse_flag,
    parse_interval,
    parse_mandatory_use,
    parse_mobile,
    parse_row,
    parse_status,
    read_sheet,
    row_kind,
    split_custodian,
)


def reason(excinfo) -> str:
    return excinfo.value.reason.render()


# Dates ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2025, 3, 15), date(2025, 3, 15)),
        (datetime(2025, 3, 15, 14, 30), date(2025, 3, 15)),
        (45731, date(2025, 3, 15)),
        (45731.0, date(2025, 3, 15)),
        (45731.75, date(2025, 3, 15)),
        ("45731", date(2025, 3, 15)),
        (20250315, date(2025, 3, 15)),
        (20250315.0, date(2025, 3, 15)),
        ("2025.03.15", date(2025, 3, 15)),
        ("2025.3.15.", date(2025, 3, 15)),
        ("2025/3/15", date(2025, 3, 15)),
        ("2025-3-5", date(2025, 3, 5)),
        ("2025-03-05", date(2025, 3, 5)),
        ("20250315", date(2025, 3, 15)),
        ("2025年3月15日", date(2025, 3, 15)),
        ("2025年03月15号", date(2025, 3, 15)),
        ("2025 年 3 月 15 日", date(2025, 3, 15)),
        ("２０２５－０３－１５", date(2025, 3, 15)),
        ("2025-03-15 00:00:00", date(2025, 3, 15)),
        ("2025-03-15T08:30", date(2025, 3, 15)),
        (" 2025.03.15 ", date(2025, 3, 15)),
    ],
)
def test_dates_in_every_form_people_use(value, expected):
    assert parse_date(value) == expected


def test_a_month_without_a_day_is_the_first_of_the_month_with_a_warning():
    for value in ("2025.3", "2025年3月", "2025-03", "2025/3"):
        assert parse_date(value) == date(2025, 3, 1)
        assert "first day" in cell_warning("last_done_on", value).render()
    assert cell_warning("last_done_on", "2025.03.15") is None


def test_excel_serial_numbers_follow_the_1900_system():
    assert excel_serial_date(45658) == date(2025, 1, 1)
    assert excel_serial_date(36526) == date(2000, 1, 1)
    with pytest.raises(CellError):
        excel_serial_date(60)  # Excel's phantom 1900-02-29


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2024-13-45", "No such date: 2024-13-45"),
        ("2025-02-30", "No such date"),
        ("20251301", "No such date"),
        ("abc", "Not a date: abc"),
        ("31.02.2026", "No such date"),
        ("1900-01-01", "Implausible date"),
        ("2205.03.15", "Implausible date"),
        (12, "Not a date: 12"),
        (2025.3, "stored as a number"),
        (2025.1, "stored as a number"),
        (True, "Not a date"),
    ],
)
def test_impossible_dates_are_refused_with_a_reason(value, words):
    with pytest.raises(CellError) as excinfo:
        parse_date(value)
    assert words in reason(excinfo)


# Intervals --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "months"),
    [
        (12, 12),
        (12.0, 12),
        ("12", 12),
        ("12.0", 12),
        ("12个月", 12),
        ("12 个月", 12),
        ("１２个月", 12),
        ("12月", 12),
        ("12M", 12),
        ("1年", 12),
        ("一年", 12),
        ("半年", 6),
        ("2年", 24),
        ("两年", 24),
        ("二年", 24),
        ("24个月", 24),
        ("6年", 72),
        ("10年", 120),
        ("十年", 120),
        ("三个月", 3),
        ("十二个月", 12),
        ("二十四个月", 24),
        ("1.5年", 18),
        ("每年", 12),
        ("季度", 3),
        ("每12个月", 12),
        ("12个月/次", 12),
        ("一年一次", 12),
        ("0", 0),
        (0, 0),
        ("一次性", 0),
        ("随坏随换", 0),
        ("长期", 0),
        ("免检", 0),
        ("/", 0),
    ],
)
def test_intervals_as_people_write_them(value, months):
    assert parse_interval(value) == months


@pytest.mark.parametrize("value", ["abc", "12周", "十十个月", "1.5", 1.5, "每隔一阵"])
def test_unreadable_intervals_are_refused(value):
    with pytest.raises(CellError) as excinfo:
        parse_interval(value)
    assert str(value) in reason(excinfo)


def test_chinese_numbers():
    assert [chinese_number(t) for t in ("一", "两", "十", "十二", "二十", "二十四")] == [1, 2, 10, 12, 20, 24]
    for bad in ("", "十十", "一二", "百"):
        with pytest.raises(ValueError, match=f"^{bad}$"):
            chinese_number(bad)


# Words ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("是", True),
        ("否", False),
        ("√", True),
        ("×", False),
        ("Y", True),
        ("N", False),
        ("y", True),
        ("有", True),
        ("无", False),
        ("true", True),
        ("FALSE", False),
        (True, True),
        (False, False),
        (1.0, True),
        (0, False),
        ("强检", True),
        ("非强检", False),
    ],
)
def test_yes_and_no(value, expected):
    assert parse_flag(value) is expected


def test_an_unreadable_yes_no_is_refused():
    with pytest.raises(CellError) as excinfo:
        parse_flag("也许")
    assert "也许" in reason(excinfo)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("在用", "in_service"),
        ("停用", "suspended"),
        ("封存", "sealed"),
        ("维修", "under_repair"),
        ("报废", "scrapped"),
        ("送检", "out_for_calibration"),
        ("送检中", "out_for_calibration"),
        ("外借", "in_service"),
        ("备用", "in_service"),
        ("in_service", "in_service"),
        ("Out_For_Calibration", "out_for_calibration"),
        ("scrapped", "scrapped"),
    ],
)
def test_statuses(value, code):
    assert parse_status(value) == code


def test_lent_out_is_in_service_with_a_warning():
    assert parse_cell("status", "外借") == "in_service"
    assert "外借" in cell_warning("status", "外借").render()
    assert cell_warning("status", "在用") is None


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("合格", "pass"),
        ("准用", "limited"),
        ("限用", "limited"),
        ("降级", "limited"),
        ("不合格", "fail"),
        ("待确认", "pending"),  # as the export writes a calibration awaiting its confirmation
    ],
)
def test_conclusions(value, code):
    assert parse_conclusion(value) == code


@pytest.mark.parametrize(("value", "code"), [("A", "A"), ("A类", "A"), ("a", "A"), ("Ａ", "A"), ("b级", "B")])
def test_abc_classes(value, code):
    assert parse_abc(value) == code


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("检定", "verification"),
        ("校准", "calibration"),
        ("自校", "self_check"),
        ("测试", "self_check"),
        ("一次性", "one_off"),
        ("免检", "one_off"),
    ],
)
def test_control_methods(value, code):
    assert parse_control_method(value) == code


@pytest.mark.parametrize(
    ("value", "code"),
    [("贸易结算", "trade"), ("安全防护", "safety"), ("医疗卫生", "medical"), ("环境监测", "environment")],
)
def test_mandatory_uses(value, code):
    assert parse_mandatory_use(value) == code


def test_two_mandatory_uses_are_refused():
    with pytest.raises(CellError) as excinfo:
        parse_mandatory_use("安全防护、环境监测")
    assert "one mandatory use" in reason(excinfo)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("检定证书", "verification_certificate"),
        ("检定结果通知书", "verification_notice"),
        ("校准证书", "calibration_certificate"),
        ("测试报告", "test_report"),
    ],
)
def test_certificate_types(value, code):
    assert parse_certificate_type(value) == code


@pytest.mark.parametrize(
    ("parser", "value"),
    [
        (parse_status, "坏了"),
        (parse_conclusion, "还行"),
        (parse_abc, "D"),
        (parse_control_method, "看看"),
        (parse_mandatory_use, "办公"),
        (parse_certificate_type, "发票"),
        (parse_mobile, "0371-6612345"),
        (parse_mobile, "1380013800"),
    ],
)
def test_unknown_words_are_refused_naming_the_value(parser, value):
    with pytest.raises(CellError) as excinfo:
        parser(value)
    assert value in reason(excinfo)


@pytest.mark.parametrize(
    "value",
    ["13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000", "0086-13800138000", 13800138000.0],
)
def test_mobile_numbers(value):
    assert parse_mobile(value) == "13800138000"


def test_custodian_name_and_mobile_in_one_cell():
    assert split_custodian("张三 138 0013 8000") == ("张三", "13800138000")
    assert split_custodian("张三（13800138000）") == ("张三", "13800138000")
    assert split_custodian("张三") == ("张三", None)
    assert split_custodian("") == (None, None)


def test_placeholders_mean_not_given_in_typed_columns():
    assert parse_cell("valid_until", "/") is None
    assert parse_cell("conclusion", "—") is None
    assert parse_cell("custodian_mobile", "无") is None
    assert parse_cell("interval_months", "/") == 0
    assert parse_cell("is_mandatory", "无") is False
    assert parse_cell("serial_no", "/") == "/"  # text is kept as written


def test_cell_text_shows_what_a_person_sees():
    assert cell_text(2023051234.0) == "2023051234"
    assert cell_text(0.05) == "0.05"
    assert cell_text(datetime(2025, 3, 15)) == "2025-03-15"
    assert cell_text("  JL-001 ") == "JL-001"
    assert cell_text("'=1+1") == "=1+1"  # our own formula neutralisation, undone
    assert cell_text("'-40~120℃") == "-40~120℃"
    assert cell_text("'s Gravesande") == "'s Gravesande"


def test_line_breaks_in_single_line_cells_become_spaces():
    assert parse_cell("model", "Y-100\n0~1.6MPa") == "Y-100 0~1.6MPa"
    assert parse_cell("notes", "第一行\n第二行") == "第一行\n第二行"


# Headers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("管理编号", "management_no"),
        ("计量编号", "management_no"),
        ("厂内编号", "management_no"),
        ("设备编号", "management_no"),
        ("*管理编号", "management_no"),
        ("管理编号(计量编号/厂内编号)", "management_no"),
        ("器具名称", "name"),
        ("设备名称", "name"),
        ("仪器名称", "name"),
        ("有效期至", "valid_until"),
        ("下次检定日期", "valid_until"),
        ("到期日期", "valid_until"),
        ("有效日期", "valid_until"),
        ("有效期至/下次检定日期", "valid_until"),
        ("有效期至（年/月/日）", "valid_until"),
        ("检定周期", "interval_months"),
        ("校准周期", "interval_months"),
        ("周期(月)", "interval_months"),
        ("周期（月）", "interval_months"),
        ("检定周期（月）", "interval_months"),
        ("检定单位", "lab"),
        ("校准单位", "lab"),
        ("检定机构", "lab"),
        ("使用状态", "status"),
        ("状态", "status"),
        ("是否强检", "is_mandatory"),
        ("强检", "is_mandatory"),
        ("责任人/保管人", "custodian"),
        ("检定结论/确认结论", "conclusion"),
        ("ABC 管理类别", "abc_class"),
        ("联系电话：", "custodian_mobile"),
        ("序号", IGNORED),
        ("状态标识", IGNORED),
        ("下次到期日(系统计算)", IGNORED),
        ("供应商", UNKNOWN),
        ("", UNKNOWN),
    ],
)
def test_headers_and_their_synonyms(header, field):
    assert match_header(header) == field


TITLE = ["XX机械有限公司计量器具台账", None, None, None, None, None]
META = ["编制部门：质检部", None, None, "更新日期：2025年3月1日", None, None]
HEADER = ["序号", "计量编号", "设备名称", "规格型号", "有效期至", "供应商"]
ROW = [1, "JL-001", "压力表", "Y-100", date(2025, 9, 9), "红旗仪表"]


def test_the_header_is_found_below_a_title_and_a_meta_line():
    rows = [TITLE, META, [], HEADER, ROW]
    assert find_header(rows) == 3
    layout = detect_layout(rows)
    assert layout.header_row_number == 4
    assert layout.data_start == 4
    assert layout.fields == {"management_no": [1], "name": [2], "model": [3], "valid_until": [4]}
    assert layout.unknown_columns == [5]
    assert layout.ignored_columns() == [0]


def test_no_header_when_no_row_names_ledger_columns():
    assert find_header([TITLE, META, ["a", "b", "c"]]) is None
    assert detect_layout([TITLE, META]) is None


def test_a_header_split_over_two_rows():
    top = ["管理编号", "器具名称", "检定情况", None, None, "备注"]
    bottom = [None, None, "检定日期", "有效期至", "证书编号", None]
    layout = detect_layout(
        [TITLE, top, bottom, ["JL-1", "表", date(2025, 1, 2), date(2026, 1, 1), "Z-1", ""]]
    )
    assert layout.header_rows == (1, 2)
    assert layout.data_start == 3
    assert layout.fields["last_done_on"] == [2]
    assert layout.fields["valid_until"] == [3]
    assert layout.fields["certificate_no"] == [4]
    assert layout.headers[2] == "检定日期"


def test_the_user_corrects_the_mapping():
    rows = [HEADER, ROW]
    layout = detect_layout(rows, overrides={5: "manufacturer", 3: None})
    assert layout.fields["manufacturer"] == [5]
    assert "model" not in layout.fields
    assert layout.unknown_columns == []
    with pytest.raises(ValueError, match="nonsense"):
        detect_layout(rows, overrides={5: "nonsense"})


def test_the_user_names_the_header_row():
    rows = [["管理编号", "器具名称", "x"], ["编号", "名称", "型号"], ["JL-1", "表", "Y"]]
    assert detect_layout(rows, header_row=2).fields == {"management_no": [0], "name": [1], "model": [2]}


@pytest.mark.parametrize(
    ("cells", "kind"),
    [
        ([None, "", "  "], "blank"),
        (["制表：王五", None, "审核：", None, "批准："], "footer"),
        (["制表人:王五"], "footer"),
        ([None, "合计", None, "3台"], "footer"),
        (["注：本台账每月更新"], "footer"),
        (["二、温度仪表"], "section"),
        (["第二部分 温度类"], "section"),
        (["热工类", None, None], "section"),  # one cell in the 序号 column
        (["序号", "计量编号", "设备名称"], "header"),  # repeated on each printed page
        ([1, "JL-001", "压力表"], "data"),
        ([None, None, "压力表"], "data"),  # a name without a number is a row to reject, not to skip
    ],
)
def test_rows_below_the_header(cells, kind):
    layout = detect_layout([HEADER, ROW])
    assert row_kind(cells, layout) == kind


def test_a_messy_sheet_reads_only_the_instruments():
    rows = [
        TITLE,
        META,
        HEADER,
        ROW,
        [],
        ["二、温度仪表"],
        [2, "JL-002", "温度计", None, "2025.3", None],
        [3, "JL-003", None, None, "2024-13-45", "某厂"],
        ["制表：王五", None, "审核：李四", None, "批准：赵六"],
    ]
    layout = detect_layout(rows)
    reading = read_sheet(rows, layout)
    assert [r.number for r in reading.rows] == [4, 7, 8]
    assert reading.skipped == {"blank": 1, "section": 1, "footer": 1}
    first, second, third = reading.rows
    assert first.values["valid_until"] == date(2025, 9, 9)
    assert first.values["notes"] == "供应商: 红旗仪表"
    assert not first.errors
    assert second.values["valid_until"] == date(2025, 3, 1)
    assert [w.column for w in second.warnings] == ["有效期至"]
    assert second.values["notes"] is None
    assert {(p.column, p.reason.split(":")[0]) for p in third.errors} == {
        ("有效期至", "No such date"),
        ("设备名称", "Missing instrument name."),
    }


def test_a_row_reports_every_problem_at_once():
    layout = detect_layout([["管理编号", "器具名称", "检定周期", "有效期至", "使用状态"]])
    row = parse_row(9, ["", "", "abc", "2024-13-45", "坏了"], layout)
    assert [p.column for p in row.errors] == ["管理编号", "器具名称", "检定周期", "有效期至"]
    # A status it cannot read does not make the row unusable: the word goes to the notes.
    assert [p.column for p in row.warnings] == ["使用状态"]
    assert row.values["notes"] == "使用状态: 坏了"


def test_an_oversized_cell_rejects_its_row():
    layout = detect_layout([["管理编号", "器具名称", "备注"]])
    row = parse_row(5, ["JL-1", "表", "长" * 30], layout, max_cell_chars=20)
    assert row.management_no == "JL-1"
    assert len(row.errors) == 1
    assert row.errors[0].column == "备注"
    assert "30 characters" in row.errors[0].reason.render()


def test_columns_mapped_twice_take_the_first_value_and_keep_the_other():
    layout = detect_layout([["管理编号", "器具名称", "检定日期", "校准日期"]])
    row = parse_row(2, ["JL-1", "表", None, "2025-01-02"], layout)
    assert row.values["last_done_on"] == date(2025, 1, 2)
    row = parse_row(3, ["JL-2", "表", "2025-01-02", "2025-02-03"], layout)
    assert row.values["last_done_on"] == date(2025, 1, 2)
    assert row.values["notes"] == "校准日期: 2025-02-03"


def test_custodian_cell_with_a_number_fills_the_mobile():
    layout = detect_layout([["管理编号", "器具名称", "保管人"]])
    row = parse_row(2, ["JL-1", "表", "张三 13800138000"], layout)
    assert (row.values["custodian"], row.values["custodian_mobile"]) == ("张三", "13800138000")


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]
