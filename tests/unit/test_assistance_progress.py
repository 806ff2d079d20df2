"""The SME assistance figures per region, on worked examples with known answers."""

from service.assistance import operations
from service.assistance.progress import NO_REGION, Firm, is_sme, progress, ranked

ZHENGZHOU, KAIFENG, LUOYANG = "410100", "410200", "410300"
REGIONS = [ZHENGZHOU, KAIFENG, LUOYANG]


def _firms(*firms: Firm) -> dict[int, Firm]:
    return {f.id: f for f in firms}


def test_unknown_size_counts_and_large_does_not():
    assert is_sme("small_medium")
    assert is_sme(None)
    assert not is_sme("large")


def test_a_firm_helped_twice_counts_once_and_a_large_firm_not_at_all():
    firms = _firms(Firm(1, ZHENGZHOU, "small_medium"), Firm(2, ZHENGZHOU, "large"), Firm(3, ZHENGZHOU, None))
    records = [(1, "survey"), (1, "consultation"), (2, "survey"), (3, "training")]
    found = progress(2026, REGIONS, {ZHENGZHOU: (4, 2)}, firms, records, [])
    zhengzhou = found.rows[0]
    assert zhengzhou.helped == {1, 3}
    assert zhengzhou.helped_size_unknown == {3}
    assert zhengzhou.help_rate.as_dict() == {"rate": 0.5, "numerator": 2, "denominator": 4}
    # The large firm's record is in no count; the SMEs' records are counted by kind.
    assert zhengzhou.kinds["survey"] == 1
    assert zhengzhou.kinds["consultation"] == 1
    assert zhengzhou.kinds["training"] == 1
    assert zhengzhou.trained == set()
    assert zhengzhou.training_rate.as_dict() == {"rate": 0.0, "numerator": 0, "denominator": 2}


def test_quota_progress_per_region_and_totals():
    firms = _firms(
        Firm(1, ZHENGZHOU, "small_medium"),
        Firm(2, KAIFENG, "small_medium"),
        Firm(3, KAIFENG, "small_medium"),
        Firm(4, None, "small_medium"),
    )
    records = [(1, "mms_training"), (1, "mms_training"), (2, "survey"), (3, "mms_training"), (4, "survey")]
    quotas = {ZHENGZHOU: (80, 24), KAIFENG: (40, 12)}
    found = progress(2026, REGIONS, quotas, firms, records, [])
    by_region = {r.region_code: r for r in found.rows}
    assert [r.region_code for r in found.rows] == [*REGIONS, NO_REGION]
    assert by_region[ZHENGZHOU].help_rate.rate == round(1 / 80, 4)
    assert by_region[ZHENGZHOU].trained == {1}
    assert by_region[ZHENGZHOU].kinds["mms_training"] == 2
    assert by_region[KAIFENG].help_rate.rate == 0.05
    assert by_region[KAIFENG].training_rate.rate == round(1 / 12, 4)
    assert by_region[LUOYANG].help_rate.rate is None  # no quota: nothing to measure
    assert by_region[NO_REGION].helped == {4}
    total = found.total
    assert (total.smes_to_help, total.smes_for_mms_training) == (120, 36)
    assert (len(total.helped), len(total.trained)) == (4, 2)
    assert total.kinds["mms_training"] == 3
    # Ranked by progress, regions with a quota only.
    assert [r.region_code for r in ranked(found.rows)] == [KAIFENG, ZHENGZHOU]


def test_green_channel_work_helps_the_firm_and_has_its_own_count():
    firms = _firms(Firm(1, ZHENGZHOU, "small_medium"), Firm(2, ZHENGZHOU, "large"))
    found = progress(2026, REGIONS, {ZHENGZHOU: (2, 0)}, firms, [(1, "green_channel")], [1, 1, 2])
    zhengzhou = found.rows[0]
    assert zhengzhou.helped == {1}
    assert zhengzhou.green_channel_work == 2  # the large firm's visit is not counted
    assert zhengzhou.kinds["green_channel"] == 1
    assert zhengzhou.help_rate.rate == 0.5


def test_records_of_firms_no_longer_served_are_left_out():
    found = progress(2026, REGIONS, {}, _firms(Firm(1, ZHENGZHOU, None)), [(9, "survey")], [9])
    assert found.total.helped == set()


def test_the_shipped_2020_plan_reads_whole():
    lines, problems = operations.read_plan_file(
        "seq,region,smes_to_help,smes_for_mms_training\n1,郑州市,80,24\n2,济源示范区,40,12\n".encode()
    )
    assert problems == []
    assert lines == [
        {"region_code": "410100", "smes_to_help": 80, "smes_for_mms_training": 24},
        {"region_code": "419001", "smes_to_help": 40, "smes_for_mms_training": 12},
    ]


def test_bad_plan_lines_are_reported_with_reasons():
    content = (
        "seq,region,smes_to_help,smes_for_mms_training\n"
        "1,郑州市,80,24\n2,火星市,40,12\n3,开封市,-5,12\n4,郑州市,1,1\n5,洛阳市,8,x\n"
    ).encode("gb18030")
    lines, problems = operations.read_plan_file(content)
    assert [p.line for p in problems] == [3, 4, 5, 6]
    assert "火星市" in str(problems[0].message.render())
    assert [line["region_code"] for line in lines] == ["410100"]


def test_a_plan_file_without_its_columns_is_refused():
    _lines, problems = operations.read_plan_file(b"a,b\n1,2\n")
    assert [p.line for p in problems] == [1]
