import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest

from service.traceability.chain_svg import (
    BOX_H,
    BOX_W,
    TITLE_SIZE,
    ChainLink,
    ChainNode,
    chain_levels,
    fit_text,
    render_chain,
    text_width,
)

NS = "{http://www.w3.org/2000/svg}"
LABELS = {
    "chain": "溯源链",
    "certificate": "证书",
    "valid_until": "有效期至",
    "expired_when_used": "使用时已过期",
    "used_on": "使用日期",
    "cycle": "循环",
}
DAY = date(2025, 4, 1)
ALLOWED_TAGS = {"svg", "title", "desc", "g", "a", "rect", "text", "path", "polygon"}


def node(
    key, title=None, *, href=None, external=False, certificate="JD2025-00017", subtitle="BZ-001 · 计量室"
):
    return ChainNode(
        key=key,
        title=title or f"标准器 {key}",
        subtitle=subtitle,
        certificate=certificate,
        valid_until=date(2026, 3, 1),
        href=href,
        external=external,
    )


def link(child, parent, *, expired=False, note=None, used_on=DAY):
    return ChainLink(child=child, parent=parent, used_on=used_on, expired=expired, note=note)


def render(nodes, links, root="i1", labels=LABELS):
    svg = render_chain(nodes, links, root, labels=labels)
    assert isinstance(svg, str)
    return ET.fromstring(svg), svg


def node_groups(tree):
    return {g.get("data-key"): g for g in tree.iter(f"{NS}g") if "trace-node" in g.get("class", "").split()}


def link_groups(tree):
    return {
        (g.get("data-child"), g.get("data-parent")): g
        for g in tree.iter(f"{NS}g")
        if "trace-link" in g.get("class", "").split()
    }


def box(group):
    rect = group.find(f"{NS}rect")
    return float(rect.get("x")), float(rect.get("y"))


def all_text(tree):
    return [
        "".join(el.itertext()) for el in tree.iter() if el.tag in (f"{NS}text", f"{NS}title", f"{NS}desc")
    ]


def path_points(group):
    d = group.find(f"{NS}path").get("d")
    return [(float(x), float(y)) for x, y in re.findall(r"(-?[\d.]+),(-?[\d.]+)", d)]


def test_single_node_is_a_valid_accessible_svg():
    tree, svg = render([node("i1", "活塞式压力计")], [])

    assert tree.tag == f"{NS}svg"
    assert tree.get("class") == "trace-chain"
    assert tree.get("role") == "img"
    assert tree[0].tag == f"{NS}title"
    assert tree[0].text == "溯源链: 活塞式压力计"
    width, height = float(tree.get("width")), float(tree.get("height"))
    assert tree.get("viewBox") == f"0 0 {tree.get('width')} {tree.get('height')}"
    assert width >= BOX_W
    assert height >= BOX_H
    assert list(node_groups(tree)) == ["i1"]
    assert "trace-root" in node_groups(tree)["i1"].get("class")
    assert not link_groups(tree)
    assert {el.tag.removeprefix(NS) for el in tree.iter()} <= ALLOWED_TAGS
    for forbidden in ("script", "foreignObject", "<image", "<use", "url(", "xlink", "<style"):
        assert forbidden not in svg
    texts = all_text(tree)
    assert "证书 JD2025-00017 · 有效期至 2026-03-01" in texts
    assert chain_levels([], "i1") == [["i1"]]


def test_three_level_chain_goes_up_from_the_root():
    links = [link("i1", "s1"), link("s1", "n")]
    assert chain_levels(links, "i1") == [["i1"], ["s1"], ["n"]]

    tree, _ = render([node("i1"), node("s1"), node("n", external=True)], links)

    groups = node_groups(tree)
    assert box(groups["i1"])[1] > box(groups["s1"])[1] > box(groups["n"])[1]
    assert set(link_groups(tree)) == {("i1", "s1"), ("s1", "n")}
    assert "trace-external" in groups["n"].get("class")
    assert groups["n"].find(f"{NS}rect").get("stroke-dasharray")
    assert groups["s1"].find(f"{NS}rect").get("stroke-dasharray") is None
    # The line starts at the top of the child and ends under the parent, pointing up.
    points = path_points(link_groups(tree)[("i1", "s1")])
    assert points[0][1] == box(groups["i1"])[1]
    assert points[-1][1] > box(groups["s1"])[1] + BOX_H
    assert points[-1][1] < points[0][1]
    assert float(tree.get("height")) >= 3 * BOX_H


def test_node_with_two_parents_puts_them_side_by_side():
    links = [link("i1", "a"), link("i1", "b")]
    assert chain_levels(links, "i1") == [["i1"], ["a", "b"]]

    tree, _ = render([node("i1"), node("a"), node("b")], links)

    groups = node_groups(tree)
    (ax, ay), (bx, by), (rx, _) = box(groups["a"]), box(groups["b"]), box(groups["i1"])
    assert ay == by
    assert bx - ax >= BOX_W
    assert ax < rx < bx  # the root is centred under its parents
    assert float(tree.get("width")) >= 2 * BOX_W


def test_shared_higher_standard_is_drawn_once_at_its_highest_level():
    links = [link("i1", "a"), link("i1", "b"), link("a", "n"), link("b", "n")]
    assert chain_levels(links, "i1") == [["i1"], ["a", "b"], ["n"]]

    tree, svg = render([node("i1"), node("a"), node("b"), node("n")], links)

    assert svg.count('data-key="n"') == 1
    assert len(link_groups(tree)) == 4


def test_link_skipping_a_level_places_the_standard_above_and_runs_between_boxes():
    links = [link("i1", "a"), link("a", "n"), link("i1", "n")]
    assert chain_levels(links, "i1") == [["i1"], ["a"], ["n"]]

    tree, _ = render([node("i1"), node("a"), node("n")], links)

    ax, ay = box(node_groups(tree)["a"])
    points = path_points(link_groups(tree)[("i1", "n")])
    assert len(points) == 4  # through a lane in the middle level
    for x, y in points:
        if ay <= y <= ay + BOX_H:
            assert not ax <= x <= ax + BOX_W


def test_cycle_terminates_and_is_drawn_as_a_cycle():
    links = [link("i1", "a"), link("a", "b"), link("b", "a"), link("b", "i1"), link("a", "a")]
    assert chain_levels(links, "i1") == [["i1"], ["a"], ["b"]]

    tree, svg = render([node("i1"), node("a"), node("b")], links)

    assert set(node_groups(tree)) == {"i1", "a", "b"}
    groups = link_groups(tree)
    assert "trace-cycle" in groups[("b", "a")].get("class")
    assert "trace-cycle" in groups[("b", "i1")].get("class")
    assert "trace-cycle" not in groups[("a", "b")].get("class")
    assert ("a", "a") not in groups
    assert "循环" in all_text(tree)
    # Curves bulge to the right; the canvas grows to hold them and their label.
    right = max(x + BOX_W for x, _ in map(box, node_groups(tree).values()))
    assert float(tree.get("width")) > right + 30


def test_levels_use_the_longest_path_and_ignore_unreachable_nodes():
    links = [link("i1", "a"), link("a", "b"), link("b", "c"), link("i1", "c"), link("x", "y")]
    assert chain_levels(links, "i1") == [["i1"], ["a"], ["b"], ["c"]]
    assert chain_levels(links, "x") == [["x"], ["y"]]


def test_hostile_text_is_escaped_and_not_interpreted():
    hostile = "<script>&\"'</script>"
    nodes = [
        ChainNode("i1", hostile, "]]><!-- -->", 'J"D<1>', date(2026, 1, 1), '/i/1?a=1&b="2"'),
        ChainNode('s"1<', "<svg onload=x>", "A & B", None, None, None),
    ]
    links = [ChainLink("i1", 's"1<', DAY, True, "<b onclick='x'>&amp;</b>\x00")]
    labels = {**LABELS, "chain": "<chain>", "expired_when_used": "<em>expired</em>"}

    tree, svg = render(nodes, links, labels=labels)

    for injected in ("<script", "<b ", "<svg onload", "<em>"):
        assert injected not in svg
    assert {el.tag.removeprefix(NS) for el in tree.iter()} <= ALLOWED_TAGS
    texts = all_text(tree)
    assert hostile in texts
    assert "<svg onload=x>" in texts
    assert "]]><!-- -->" in texts
    assert "A & B" in texts
    assert '证书 J"D<1> · 有效期至 2026-01-01' in texts
    assert "<b onclick='x'>&amp;</b>" in texts
    assert "⚠ <em>expired</em>" in texts
    assert tree[0].text == f"<chain>: {hostile}"
    anchor = tree.find(f".//{NS}a")
    assert anchor.get("href") == '/i/1?a=1&b="2"'
    assert 's"1<' in node_groups(tree)


def test_expired_link_is_red_thick_with_warning_and_note():
    links = [link("i1", "a", expired=True, note="expired 2025-03-01"), link("i1", "b")]

    tree, _ = render([node("i1"), node("a"), node("b")], links)

    groups = link_groups(tree)
    bad, good = groups[("i1", "a")], groups[("i1", "b")]
    assert "trace-expired" in bad.get("class")
    bad_path, good_path = bad.find(f"{NS}path"), good.find(f"{NS}path")
    assert bad_path.get("stroke") == "#b02a37"
    assert bad.find(f"{NS}polygon").get("fill") == "#b02a37"
    assert float(bad_path.get("stroke-width")) > float(good_path.get("stroke-width"))
    assert good_path.get("stroke") != "#b02a37"
    texts = all_text(tree)
    assert "⚠ 使用时已过期" in texts
    assert "expired 2025-03-01" in texts
    assert "使用日期 2025-04-01" in texts
    labels = [g for g in tree.iter(f"{NS}g") if "trace-link-label" in g.get("class", "").split()]
    assert len(labels) == 1  # plain links carry no text beside them, only a tooltip
    assert all(t.get("fill") == "#b02a37" for t in labels[0].iter(f"{NS}text"))
    assert "使用时已过期" in tree.find(f"{NS}desc").text


def test_hrefs_only_where_given_and_safe():
    nodes = [
        node("i1", href="/instruments/1"),
        node("a", href="https://example.org/s/2"),
        node("b"),
        node("c", href="javascript:alert(1)"),
        node("d", href=" java\tscript:alert(1)"),
        node("n", external=True),
    ]
    links = [link("i1", p) for p in "abcd"] + [link("a", "n")]

    tree, _ = render(nodes, links)

    anchors = list(tree.iter(f"{NS}a"))
    assert sorted(a.get("href") for a in anchors) == ["/instruments/1", "https://example.org/s/2"]
    linked = {a.find(f"{NS}g").get("data-key") for a in anchors}
    assert linked == {"i1", "a"}
    assert all(not k.startswith("{") for a in anchors for k in a.attrib)  # SVG 2 href, no xlink


def test_long_text_is_truncated_with_ellipsis_but_kept_in_the_tooltip():
    title = "二等活塞式压力计标准装置及其配套的数字压力计校准系统" * 2
    tree, _ = render([node("i1", title, certificate="JD2025-0001234567890")], [])

    group = node_groups(tree)["i1"]
    shown = group.find(f"{NS}text").text
    assert shown.endswith("…")
    assert title.startswith(shown[:-1])
    assert text_width(shown, TITLE_SIZE, bold=True) <= BOX_W
    assert group.find(f"{NS}title").text.startswith(title)
    certificate_line = group.findall(f"{NS}text")[2].text
    assert certificate_line.endswith("有效期至 2026-03-01")  # the date survives, the number gives way


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("abc", 21, "abc"),
        ("abcdef", 28, "abc…"),
        ("计量测试", 52, "计量测试"),
        ("计量测试", 40, "计量…"),
    ],
)
def test_fit_text(text, width, expected):
    assert fit_text(text, width) == expected
    assert text_width(fit_text(text, width)) <= width


def test_unknown_keys_are_refused():
    with pytest.raises(ValueError, match="root"):
        render_chain([node("a")], [], "i1", labels=LABELS)
    with pytest.raises(ValueError, match="unknown"):
        render_chain([node("i1")], [link("i1", "zz")], "i1", labels=LABELS)
    with pytest.raises(ValueError, match="duplicate"):
        render_chain([node("i1"), node("i1")], [], "i1", labels=LABELS)


def test_missing_labels_fall_back_to_english():
    tree, _ = render([node("i1"), node("a")], [link("i1", "a", expired=True)], labels={})

    texts = all_text(tree)
    assert "标准器 i1\nBZ-001 · 计量室\nCertificate JD2025-00017 · Valid until 2026-03-01" in texts
    assert "JD2025-00017 · Valid until 2026-03-01" in texts  # too wide for the box with the word
    assert "⚠ Expired when used" in texts


def test_repeated_links_are_drawn_once_preferring_the_expired_one():
    links = [
        link("i1", "a"),
        link("i1", "a", expired=True, note="late"),
        link("i1", "a", used_on=date(2025, 6, 1)),
    ]

    tree, _ = render([node("i1"), node("a")], links)

    groups = link_groups(tree)
    assert list(groups) == [("i1", "a")]
    assert "trace-expired" in groups[("i1", "a")].get("class")
    assert "late" in all_text(tree)
