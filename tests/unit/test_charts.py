"""The chart description: one value per category, the table's text, and the data charts.js draws."""

import pytest

from service.reports.charts import Chart, Series, share


def test_the_table_shows_each_series_value_with_its_link():
    chart = Chart(
        key="due",
        title="Due",
        kind="bar",
        categories=["2026-12", "2027-01"],
        series=[Series("green", [3, 0], links=["/a", None]), Series("red", [1, None])],
    )
    assert chart.rows() == [("2026-12", [("3", "/a"), ("1", None)]), ("2027-01", [("0", None), ("—", None)])]
    assert not chart.is_empty


def test_percentages_read_with_one_decimal_and_the_target_travels_in_the_spec():
    chart = Chart(
        key="rate",
        title="Rate",
        kind="hbar",
        categories=["郑州市"],
        series=[Series("rate", [95.14])],
        unit="%",
        target=95,
        target_label="target",
    )
    assert chart.rows() == [("郑州市", [("95.1%", None)])]
    assert chart.format(chart.target) == "95.0%"
    spec = chart.spec()
    assert (spec["kind"], spec["target"], spec["unit"]) == ("hbar", 95, "%")
    assert spec["series"][0] == {
        "name": "rate",
        "values": [95.14],
        "links": None,
        "stack": None,
        "color": None,
        "asLine": False,
    }


def test_a_chart_of_zeros_is_empty():
    assert Chart(key="e", title="E", kind="pie", categories=["a"], series=[Series("n", [0])]).is_empty
    assert Chart(key="e", title="E", kind="bar", categories=[], series=[]).is_empty


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Chart(key="k", title="t", kind="radar", categories=[], series=[]), "unknown chart kind"),
        (
            lambda: Chart(key="k", title="t", kind="bar", categories=["a", "b"], series=[Series("s", [1])]),
            "one value per category",
        ),
        (lambda: Series("s", [1, 2], links=["/a"]), "one link"),
    ],
)
def test_a_malformed_chart_is_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_share_is_a_percentage_with_one_decimal():
    assert share(2, 3) == 66.7
    assert share(0, 0) is None


def test_marks_travel_in_the_spec_and_default_to_none():
    plain = Chart(key="p", title="P", kind="line", categories=["a"], series=[Series("m", [1.0])])
    assert plain.spec()["marks"] == []
    assert plain.spec()["zeroBased"] is True
    banded = Chart(
        key="b",
        title="B",
        kind="line",
        categories=["a", "b"],
        series=[Series("m", [5.01, 5.02])],
        marks=((5.0, "lower"), (5.05, "upper")),
        zero_based=False,
    )
    assert banded.spec()["zeroBased"] is False
    assert banded.spec()["marks"] == [{"value": 5.0, "label": "lower"}, {"value": 5.05, "label": "upper"}]


def test_mark_lines_and_highlights_are_optional_and_travel_in_the_spec():
    from service.reports.charts import MarkLine

    plain = Chart("p", "t", "line", ["a", "b"], [Series("s", [1, 2])])
    assert "markLines" not in plain.spec()
    assert "fractional" not in plain.spec()
    assert "highlights" not in plain.spec()["series"][0]
    chart = Chart(
        "c",
        "Control chart",
        "line",
        ["1", "2", "3"],
        [Series("dev", [0.1, -0.2, 0.5], highlights=[2])],
        mark_lines=[MarkLine(0.0, "centre", "solid"), MarkLine(0.3, "+3σ", "action")],
        fractional=True,
    )
    spec = chart.spec()
    assert spec["markLines"] == [
        {"value": 0.0, "label": "centre", "style": "solid"},
        {"value": 0.3, "label": "+3σ", "style": "action"},
    ]
    assert spec["series"][0]["highlights"] == [2]
    assert spec["fractional"] is True
    assert spec["valueRange"] == pytest.approx([-0.27, 0.57])
    assert chart.highlighted(0, 2)
    assert not chart.highlighted(0, 1)
    with pytest.raises(ValueError, match="highlights"):
        Chart("x", "t", "line", ["a"], [Series("s", [1], highlights=[3])])
    with pytest.raises(ValueError, match="style"):
        MarkLine(1.0, "x", "wavy")


def test_error_bars_reach_the_spec_the_table_and_the_value_range():
    chart = Chart(
        key="doe",
        title="Degrees of equivalence",
        kind="dots",
        categories=["A", "B"],
        series=[Series("d", [0.000344, -0.1], errors=[0.001413, 0.05])],
        fractional=True,
    )
    assert chart.spec()["series"][0]["errors"] == [0.001413, 0.05]
    assert chart.spec()["kind"] == "dots"
    # Small differences read as decimals, never 3.44e-04; each with its ± U.
    assert [cells[0][0] for _category, cells in chart.rows()] == ["0.000344 ± 0.001413", "-0.1 ± 0.05"]
    low, high = chart.value_range()
    assert low < -0.15
    assert high > 0.001757
    with pytest.raises(ValueError, match="one error"):
        Series("d", [1.0], errors=[])


def test_a_mark_lines_value_reads_as_a_decimal_with_four_significant_digits():
    from service.reports.charts import Chart

    assert Chart.format_mark(0.0749079) == "0.07491"
    assert Chart.format_mark(5e-06) == "0.000005"  # a centre line near zero, not 5e-06
    assert Chart.format_mark(-0.00038516) == "-0.0003852"
    assert Chart.format_mark(0.0) == "0"
