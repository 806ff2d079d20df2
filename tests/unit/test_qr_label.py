"""QR labels: the code encodes the check URL, and the label SVG escapes every text it prints."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest
import segno

from service.traceability import labels

URL = "https://calrecall.example.cn/c/AbC-dEf_0123456789xyzQ"
SVG = "{http://www.w3.org/2000/svg}"
RUN = re.compile(r"M(\d+) (\d+)h(\d+)v1h-(\d+)z")


def _dark_cells(path: str) -> set[tuple[int, int]]:
    """Read the dark modules back from a path of runs, checking that the path is nothing but runs."""
    assert RUN.sub("", path) == ""
    cells = set()
    for x, y, width, back in RUN.findall(path):
        assert width == back
        cells |= {(int(x) + dx, int(y)) for dx in range(int(width))}
    return cells


def _expected_cells(url: str, error: str = "q") -> set[tuple[int, int]]:
    matrix = segno.make(url, error=error, boost_error=False, micro=False).matrix
    return {(x, y) for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark}


def _svg_path(svg: str) -> str:
    root = ET.fromstring(svg)
    paths = [p.get("d") for p in root.iter(f"{SVG}path")]
    assert len(paths) == 1
    return paths[0]


def _label(**changes) -> labels.Label:
    values = {
        "url": URL,
        "firm_name": "郑州示例精密机械有限公司",
        "management_no": "YL-0001",
        "name": "压力表",
        "colour": "green",
        "valid_until": date(2027, 1, 4),
        "certificate_no": "JD2026-00451",
        "limits": None,
        "outdated": None,
    }
    return labels.Label(**(values | changes))


def test_check_url_is_absolute_under_the_base_url():
    assert labels.check_url("https://calrecall.example.cn/", "tok") == "https://calrecall.example.cn/c/tok"
    assert labels.check_url("http://testserver", "tok") == "http://testserver/c/tok"


def test_the_inline_code_draws_segnos_matrix_of_the_url():
    svg = labels.qr_svg(URL)
    size, _path = labels.qr_path(URL)
    root = ET.fromstring(svg)
    full = size + 2 * labels.QR_BORDER
    assert root.get("viewBox") == f"0 0 {full} {full}"
    assert _dark_cells(_svg_path(svg)) == _expected_cells(URL)
    # Error correction Q, not boosted: the M code of the same URL is a different matrix.
    assert labels.qr_code(URL).error == "Q"
    assert _dark_cells(_svg_path(svg)) != _expected_cells(URL, "m")


def test_another_url_draws_another_code():
    other = URL[:-1] + "R"
    assert _dark_cells(_svg_path(labels.qr_svg(other))) == _expected_cells(other)
    assert _dark_cells(_svg_path(labels.qr_svg(other))) != _dark_cells(_svg_path(labels.qr_svg(URL)))


def test_the_inline_code_escapes_its_title():
    svg = labels.qr_svg(URL, title='A<1> & "B"')
    assert "<1>" not in svg
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}title").text == 'A<1> & "B"'
    assert root.get("aria-label") == 'A<1> & "B"'


def test_the_label_svg_is_60_by_40_mm_with_the_code_and_the_texts():
    svg = labels.label_svg(_label(), str, "合格")
    root = ET.fromstring(svg)
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("60mm", "40mm", "0 0 60 40")
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts[:4] == ["合格", "郑州示例精密机械有限公司", "YL-0001", "压力表"]
    assert texts[4:] == ["Valid until", "2027-01-04", "Certificate no.: JD2026-00451"]
    assert _dark_cells(_svg_path(svg)) == _expected_cells(URL)
    band = [r for r in root.iter(f"{SVG}rect") if r.get("height") == "8"]
    assert band[0].get("fill") == labels.LABEL_COLOURS["green"][0]


@pytest.mark.parametrize("colour", ["yellow", "red"])
def test_the_band_takes_the_labels_colour(colour):
    root = ET.fromstring(labels.label_svg(_label(colour=colour), str, "x"))
    band = [r for r in root.iter(f"{SVG}rect") if r.get("height") == "8"]
    assert band[0].get("fill") == labels.LABEL_COLOURS[colour][0]


def test_the_label_svg_escapes_and_cleans_user_text():
    hostile = _label(
        firm_name="</text><script>alert(1)</script>",
        management_no="A&B<1>",
        name='压力表 "x" \x07\u2028',
        certificate_no="]]><!--",
        limits="仅用于 <0.6 MPa & 室温",
    )
    svg = labels.label_svg(hostile, str, "准用<")
    assert "<script>" not in svg
    root = ET.fromstring(svg)  # still well-formed XML
    assert [s for s in root.iter() if s.tag.endswith("script")] == []
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts[0] == "准用<"
    assert "A&B<1>" in texts
    assert '压力表 "x"' in texts  # control and separator characters are dropped at the end, spaces trimmed
    assert "Certificate no.: ]]><!--" in texts
    assert any(t.startswith("Limits of use: 仅用于 <0.6 MPa & 室温") for t in texts)


def test_long_texts_are_cut_with_an_ellipsis_and_limits_take_two_lines():
    long_limits = "仅用于0–1 MPa范围内的过程监视，不得用于贸易结算和安全防护，" * 3
    svg = labels.label_svg(_label(firm_name="很长的企业名称" * 6, limits=long_limits), str, "准用")
    texts = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]
    assert texts[1].endswith("…")
    assert len(texts[1]) < 20
    limit_lines = texts[-2:]
    assert limit_lines[0].startswith("Limits of use: ")
    assert limit_lines[1].endswith("…")


def test_no_due_date_is_said_in_words():
    texts = [
        t.text
        for t in ET.fromstring(labels.label_svg(_label(valid_until=None), str, "合格")).iter(f"{SVG}text")
    ]
    assert texts[4:6] == ["Valid until", "No periodic due date"]
