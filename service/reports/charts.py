"""A chart's figures, described once and drawn twice: as an ECharts canvas and as a table.

A page builds a :class:`Chart` from figures it already has; ``templates/reports/_chart.html``
renders the same object as the canvas's data (read by ``service/static/charts.js``) and as the
table beside it, so the picture and the numbers a screen reader or a printer gets cannot differ.
Links take a bar to the instruments behind it, in the chart (a click) and in the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

#: "dots": a point per category, no line between them (values with error bars, say).
KINDS = ("bar", "hbar", "line", "pie", "dots")


@dataclass(frozen=True)
class Series:
    """One series of a chart: a value per category, and where each value leads."""

    name: str
    values: Sequence[float | int | None]
    links: Sequence[str | None] | None = None
    #: Series with the same stack are drawn on top of each other (bar charts).
    stack: str | None = None
    #: A colour for every bar of the series (e.g. a label's green, yellow or red).
    color: str | None = None
    #: Draw this series as a line over a bar chart (a target per category, say).
    as_line: bool = False
    #: Indexes of values to mark (a control chart's signals): drawn larger and red, bold in the table.
    highlights: Sequence[int] = ()
    #: An error bar per value: the half-width drawn either side (an expanded uncertainty), or None.
    errors: Sequence[float | None] | None = None

    def __post_init__(self) -> None:
        if self.links is not None and len(self.links) != len(self.values):
            raise ValueError("a series needs one link (or None) per value")
        if self.errors is not None and len(self.errors) != len(self.values):
            raise ValueError("a series needs one error (or None) per value")


#: How a mark line is drawn: its dash and colour.
MARK_STYLES = ("solid", "dashed", "dotted", "warning", "action", "band")


@dataclass(frozen=True)
class MarkLine:
    """A horizontal line across a chart (a control chart's centre, warning and action limits)."""

    value: float
    label: str
    #: "solid", "dashed" or "dotted" (grey); "warning" (amber dashed), "action" (red), "band" (blue dotted).
    style: str = "dashed"

    def __post_init__(self) -> None:
        if self.style not in MARK_STYLES:
            raise ValueError(f"unknown mark line style {self.style!r}")


@dataclass(frozen=True)
class Chart:
    """A chart: its categories, its series, and how to read its values."""

    key: str
    title: str
    kind: str
    categories: Sequence[str]
    series: Sequence[Series]
    #: "%" for shares given as 0–100, "" for counts.
    unit: str = ""
    #: A horizontal (vertical for "hbar") target line, in the values' unit.
    target: float | None = None
    target_label: str | None = None
    #: The heading of the table's first column (what the categories are).
    category_title: str = ""
    #: A colour per category (pie charts: a label's green, yellow or red).
    colors: Sequence[str | None] | None = None
    #: Further horizontal mark lines, each ``(value, label)``: the edges of an allowed band, say.
    marks: Sequence[tuple[float, str]] = ()
    #: False for measured values: the value axis fits them instead of starting at zero.
    zero_based: bool = True
    #: Horizontal lines besides the target (line and bar charts), listed under the table too.
    mark_lines: Sequence[MarkLine] = ()
    #: Values with decimals (no whole-number ticks); the value axis then spans the values and lines.
    fractional: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown chart kind {self.kind!r}")
        for series in self.series:
            if len(series.values) != len(self.categories):
                raise ValueError(f"series {series.name!r} needs one value per category")
            if any(not 0 <= i < len(self.categories) for i in series.highlights):
                raise ValueError(f"series {series.name!r} highlights a value it does not have")

    @property
    def is_empty(self) -> bool:
        """Whether there is nothing to draw (no category, or every value zero or missing)."""
        return not any(value for series in self.series for value in series.values)

    def spec(self) -> dict:
        """Return what ``charts.js`` draws, as plain JSON-able data.

        The optional parts (mark lines, highlights, fractional values) are there only when used,
        so charts without them keep the spec they had.
        """
        spec = self._spec()
        if self.mark_lines:
            spec["markLines"] = [
                {"value": m.value, "label": m.label, "style": m.style} for m in self.mark_lines
            ]
        if self.fractional:
            spec["fractional"] = True
            spec["valueRange"] = self.value_range()
        for drawn, series in zip(spec["series"], self.series, strict=True):
            if series.highlights:
                drawn["highlights"] = sorted(series.highlights)
            if series.errors is not None:
                drawn["errors"] = list(series.errors)
        return spec

    def value_range(self) -> list[float] | None:
        """The span of the values and mark lines, with a margin of a tenth on each side."""
        numbers = [v for s in self.series for v in s.values if v is not None]
        for series in self.series:
            for value, error in zip(series.values, series.errors or (), strict=False):
                if value is not None and error is not None:
                    numbers += [value - error, value + error]
        numbers += [m.value for m in self.mark_lines]
        if not numbers:
            return None
        low, high = min(numbers), max(numbers)
        margin = (high - low) / 10 or abs(high) / 10 or 1
        return [low - margin, high + margin]

    def highlighted(self, series_index: int, index: int) -> bool:
        """Whether the table marks this value (a signal)."""
        return index in self.series[series_index].highlights

    def _spec(self) -> dict:
        return {
            "kind": self.kind,
            "title": self.title,
            "categories": list(self.categories),
            "unit": self.unit,
            "target": self.target,
            "targetLabel": self.target_label,
            "colors": list(self.colors) if self.colors is not None else None,
            "marks": [{"value": value, "label": label} for value, label in self.marks],
            "zeroBased": self.zero_based,
            "series": [
                {
                    "name": series.name,
                    "values": list(series.values),
                    "links": list(series.links) if series.links is not None else None,
                    "stack": series.stack,
                    "color": series.color,
                    "asLine": series.as_line,
                }
                for series in self.series
            ],
        }

    def rows(self) -> list[tuple[str, list[tuple[str, str | None]]]]:
        """Return the table: per category, each series' value as text with its link."""
        table = []
        for index, category in enumerate(self.categories):
            cells = []
            for series in self.series:
                link = series.links[index] if series.links is not None else None
                text = self.format(series.values[index])
                error = series.errors[index] if series.errors is not None else None
                if error is not None and series.values[index] is not None:
                    text = f"{text} ± {self.format(error)}"
                cells.append((text, link))
            table.append((category, cells))
        return table

    def format(self, value: float | int | None) -> str:
        """Return a value as the table shows it (95.1%, 12, or — when there is none)."""
        if value is None:
            return "—"
        if self.unit == "%":
            return f"{value:.1f}%"
        if not isinstance(value, float):
            return str(value)
        text = f"{value:g}"
        # Small measured differences (4.4e-05) read as decimals, like the tables beside them.
        return f"{value:.10f}".rstrip("0").rstrip(".") if "e" in text else text

    @staticmethod
    def format_mark(value: float) -> str:
        """Return a mark line's value with four significant digits, as a decimal (0.07491, 0.000005)."""
        return format(Decimal(f"{value:.4g}"), "f")


def share(numerator: int, denominator: int) -> float | None:
    """Return a share as a percentage with one decimal for a chart (3 of 4 → 75.0), None of nothing."""
    return round(100 * numerator / denominator, 1) if denominator else None
