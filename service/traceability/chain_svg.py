"""The traceability chain of an instrument, drawn as a server-side SVG diagram.

Pure functions over plain data: no database, no Flask. The caller collects the chain (cutting it at
a depth and marking cycles) and passes the already-translated words; this module lays the chain out
and XML-escapes every piece of text and every attribute value it writes.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import deque
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

__all__ = ["ChainLink", "ChainNode", "chain_levels", "render_chain"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChainNode:
    """An instrument or standard in the diagram."""

    #: Unique id within the diagram, e.g. ``"i42"``.
    key: str
    #: E.g. ``"活塞式压力计"``.
    title: str
    #: Management number and organisation, e.g. ``"BZ-001 · 河南省计量测试科学研究院"``.
    subtitle: str
    #: Certificate number of the latest record used for this link.
    certificate: str | None
    valid_until: date | None
    #: Link to the node's page; ``None`` when the viewer may not open it.
    href: str | None
    #: An outside lab's or a national standard with no page in the system: drawn dashed.
    external: bool = False


@dataclass(frozen=True)
class ChainLink:
    """A calibration of ``child`` that used the standard ``parent``."""

    child: str
    parent: str
    #: The calibration date.
    used_on: date
    #: The parent's certificate was not valid on ``used_on``.
    expired: bool
    #: Text drawn near the edge, e.g. ``"expired 2025-03-01"``.
    note: str | None = None


# Geometry, in px. Levels are stacked bottom-up with room between them for the link labels.
BOX_W = 260
BOX_H = 78
PAD = 6
H_GAP = 24
V_GAP = 68
MARGIN = 16
#: Width reserved in an intermediate level for a link that skips it, so it runs between boxes.
LANE_W = 24
PORT_STEP = 28
ARROW_LEN = 9
ARROW_HALF = 4.5
CYCLE_BULGE = 36
CYCLE_STEP = 14

TITLE_SIZE = 13
TEXT_SIZE = 11
LABEL_SIZE = 11
LABEL_MAX_W = 200

INK = "#212529"
MUTED = "#495057"
LINE = "#6c757d"
WARN = "#b02a37"
FILL = "#ffffff"
EXTERNAL_FILL = "#f8f9fa"
HALO = "#ffffff"
FONTS = "system-ui, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif"
SVG_NS = "http://www.w3.org/2000/svg"

#: Fallbacks for words the caller did not pass.
DEFAULT_LABELS = {
    "chain": "Traceability chain",
    "certificate": "Certificate",
    "valid_until": "Valid until",
    "used_on": "Used on",
    "expired_when_used": "Expired when used",
    "cycle": "Cycle",
}

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ELLIPSIS = "…"
_SAFE_SCHEMES = frozenset({"", "http", "https"})


# --- levels ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Graph:
    levels: list[list[str]]
    level_of: dict[str, int]
    #: Links that go up the chain, as (child, parent), each drawn from a lower to a higher level.
    edges: list[tuple[str, str]]
    #: Links that close a cycle (the parent is already below the child in the chain).
    back_edges: list[tuple[str, str]]


def _analyse(links: Iterable[ChainLink], root: str) -> _Graph:
    parents: dict[str, list[str]] = {}
    for link in links:
        if link.child == link.parent:
            continue
        listed = parents.setdefault(link.child, [])
        if link.parent not in listed:
            listed.append(link.parent)

    # Depth-first walk up from the root: a link to a node still on the path closes a cycle and is
    # set aside, which leaves a DAG whose reversed post-order is a topological order.
    on_path: set[str] = {root}
    done: set[str] = set()
    post_order: list[str] = []
    edges: list[tuple[str, str]] = []
    back_edges: list[tuple[str, str]] = []
    stack = [(root, iter(parents.get(root, ())))]
    while stack:
        node, pending = stack[-1]
        parent = next(pending, None)
        if parent is None:
            stack.pop()
            on_path.discard(node)
            done.add(node)
            post_order.append(node)
        elif parent in on_path:
            back_edges.append((node, parent))
        else:
            edges.append((node, parent))
            if parent not in done:
                on_path.add(parent)
                stack.append((parent, iter(parents.get(parent, ()))))

    up: dict[str, list[str]] = {}
    for child, parent in edges:
        up.setdefault(child, []).append(parent)

    # Longest distance from the root, so a standard reached by several paths sits above all of
    # the instruments it calibrated.
    level_of = {root: 0}
    for node in reversed(post_order):
        for parent in up.get(node, ()):
            level_of[parent] = max(level_of.get(parent, 0), level_of[node] + 1)

    # Breadth-first discovery order keeps each level in the order the links were given.
    seen, queue, discovered = {root}, deque([root]), []
    while queue:
        node = queue.popleft()
        discovered.append(node)
        for parent in up.get(node, ()):
            if parent not in seen:
                seen.add(parent)
                queue.append(parent)

    levels: list[list[str]] = [[] for _ in range(max(level_of.values()) + 1)]
    for node in discovered:
        levels[level_of[node]].append(node)
    return _Graph(levels, level_of, edges, back_edges)


def chain_levels(links: Iterable[ChainLink], root: str) -> list[list[str]]:
    """Return the node keys by level upward from ``root`` (level 0 is ``[root]``).

    A node's level is its longest distance from the root, so a standard shared by several paths
    appears once, above everything it calibrated. Links that close a cycle are ignored, as are
    self-links and nodes not reachable from the root. Within a level, nodes keep the order in which
    a breadth-first walk over ``links`` finds them.
    """
    return _analyse(links, root).levels


# --- text --------------------------------------------------------------------------------------


def _clean(text: str) -> str:
    """Drop characters XML cannot carry and fold whitespace runs into single spaces."""
    return " ".join(_NOT_XML.sub("", text).split())


def _char_width(char: str, size: float) -> float:
    wide = unicodedata.east_asian_width(char) in ("W", "F")
    return (13 if wide else 7) * size / 12


def text_width(text: str, size: float = 12, *, bold: bool = False) -> float:
    """Estimate the rendered width of ``text`` in px (a CJK character ≈ 13 px at 12 px, others ≈ 7)."""
    width = sum(_char_width(char, size) for char in text)
    return width * 1.08 if bold else width


def fit_text(text: str, max_width: float, size: float = 12, *, bold: bool = False) -> str:
    """Return ``text``, cut and ended with "…" if its estimated width exceeds ``max_width``."""
    if text_width(text, size, bold=bold) <= max_width:
        return text
    budget = max_width - text_width(_ELLIPSIS, size, bold=bold)
    kept = []
    for char in text:
        budget -= text_width(char, size, bold=bold)
        if budget < 0:
            break
        kept.append(char)
    return "".join(kept).rstrip() + _ELLIPSIS


def _certificate_line(node: ChainNode, words: Mapping[str, str], max_width: float) -> str:
    """Return "certificate · valid until", shortening the certificate part before the date."""
    number = _clean(node.certificate or "")
    valid = f"{words['valid_until']} {node.valid_until.isoformat()}" if node.valid_until else ""
    if not number:
        return fit_text(valid or "—", max_width, TEXT_SIZE)
    full = f"{words['certificate']} {number}"
    for cert in (full, number):
        line = f"{cert} · {valid}" if valid else cert
        if text_width(line, TEXT_SIZE) <= max_width:
            return line
    if not valid:
        return fit_text(full, max_width, TEXT_SIZE)
    # The validity date matters more than the tail of the certificate number.
    tail = f" · {valid}"
    return fit_text(number, max_width - text_width(tail, TEXT_SIZE), TEXT_SIZE) + tail


def _certificate_text(node: ChainNode, words: Mapping[str, str]) -> str:
    parts = []
    if node.certificate:
        parts.append(f"{words['certificate']} {_clean(node.certificate)}")
    if node.valid_until:
        parts.append(f"{words['valid_until']} {node.valid_until.isoformat()}")
    return " · ".join(parts)


def _link_facts(link: ChainLink, words: Mapping[str, str], *, cycle: bool) -> list[str]:
    """Return everything known about a link, for its tooltip and the text description."""
    facts = [f"{words['used_on']} {link.used_on.isoformat()}"]
    if link.expired:
        facts.append(f"⚠ {words['expired_when_used']}")
    if note := _clean(link.note or ""):
        facts.append(note)
    if cycle:
        facts.append(words["cycle"])
    return facts


def _link_label(link: ChainLink, words: Mapping[str, str], *, cycle: bool) -> list[str]:
    """Return the lines drawn beside a link: only warnings, notes and cycles, to keep it legible."""
    lines = []
    if link.expired:
        lines += [f"⚠ {words['expired_when_used']}", f"{words['used_on']} {link.used_on.isoformat()}"]
    if note := _clean(link.note or ""):
        lines.append(note)
    if cycle:
        lines.append(words["cycle"])
    return [fit_text(line, LABEL_MAX_W, LABEL_SIZE) for line in lines]


def _safe_href(href: str | None) -> str | None:
    """Return ``href`` if it is relative or http(s); ``javascript:`` and the like are dropped."""
    if not href:
        return None
    href = _NOT_XML.sub("", href).strip()
    try:
        scheme = urlsplit(href).scheme.lower()
    except ValueError:
        return None
    if scheme not in _SAFE_SCHEMES:
        logger.warning("dropping link with scheme %r from the traceability chain", scheme)
        return None
    return href or None


# --- drawing -----------------------------------------------------------------------------------


def _n(value: float) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _attrs(**values: object) -> str:
    """Return ` name="value"` pairs, escaped; ``class_`` becomes ``class``, ``_`` becomes ``-``."""
    out = []
    for name, value in values.items():
        if value is None:
            continue
        name = "class" if name == "class_" else name.replace("_", "-")
        text = _n(value) if isinstance(value, float) else str(value)
        out.append(f" {name}={quoteattr(_NOT_XML.sub('', text))}")
    return "".join(out)


def _text(x: float, y: float, content: str, **attrs: object) -> str:
    return f"<text{_attrs(x=float(x), y=float(y), **attrs)}>{escape(content)}</text>"


def _arrowhead(tip: tuple[float, float], before: tuple[float, float], colour: str) -> str:
    (x, y), (bx, by) = tip, before
    length = max(((x - bx) ** 2 + (y - by) ** 2) ** 0.5, 1e-9)
    ux, uy = (x - bx) / length, (y - by) / length
    base_x, base_y = x - ux * ARROW_LEN, y - uy * ARROW_LEN
    points = [
        (x, y),
        (base_x - uy * ARROW_HALF, base_y + ux * ARROW_HALF),
        (base_x + uy * ARROW_HALF, base_y - ux * ARROW_HALF),
    ]
    return f"<polygon{_attrs(points=' '.join(f'{_n(px)},{_n(py)}' for px, py in points), fill=colour)}/>"


def _pick_links(links: Iterable[ChainLink]) -> dict[tuple[str, str], ChainLink]:
    """Keep one link per (child, parent): an expired one if any, else the latest."""
    chosen: dict[tuple[str, str], ChainLink] = {}
    for link in links:
        pair = (link.child, link.parent)
        current = chosen.get(pair)
        if current is None or (link.expired, link.used_on) > (current.expired, current.used_on):
            chosen[pair] = link
    return chosen


def _spread(count: int) -> list[float]:
    if count <= 1:
        return [0.0]
    span = min(BOX_W - 6 * PORT_STEP, PORT_STEP * (count - 1))
    return [-span / 2 + span * i / (count - 1) for i in range(count)]


def _node_svg(node: ChainNode, x: float, y: float, *, is_root: bool, words: Mapping[str, str]) -> str:
    inner = BOX_W - 2 * PAD
    title, subtitle = _clean(node.title), _clean(node.subtitle)
    tooltip = "\n".join(part for part in (title, subtitle, _certificate_text(node, words)) if part)
    classes = ["trace-node"] + (["trace-root"] * is_root) + (["trace-external"] * node.external)
    cx = x + BOX_W / 2
    rect = _attrs(
        x=float(x),
        y=float(y),
        width=BOX_W,
        height=BOX_H,
        rx=6,
        fill=EXTERNAL_FILL if node.external else FILL,
        stroke=INK if is_root else LINE,
        stroke_width=2 if is_root else 1,
        stroke_dasharray="6 4" if node.external else None,
    )
    body = [
        f"<g{_attrs(class_=' '.join(classes), data_key=node.key)}>",
        f"<title>{escape(tooltip)}</title>",
        f"<rect{rect}/>",
        _text(
            cx,
            y + 22,
            fit_text(title, inner, TITLE_SIZE, bold=True),
            class_="trace-title",
            text_anchor="middle",
            font_size=TITLE_SIZE,
            font_weight="bold",
            fill=INK,
        ),
        _text(
            cx,
            y + 44,
            fit_text(subtitle, inner, TEXT_SIZE),
            class_="trace-subtitle",
            text_anchor="middle",
            font_size=TEXT_SIZE,
            fill=MUTED,
        ),
        _text(
            cx,
            y + 64,
            _certificate_line(node, words, inner),
            class_="trace-certificate",
            text_anchor="middle",
            font_size=TEXT_SIZE,
            fill=MUTED,
        ),
        "</g>",
    ]
    href = _safe_href(node.href)
    if href:
        body = [f"<a{_attrs(href=href)}>", *body, "</a>"]
    return "".join(body)


def _link_svg(
    link: ChainLink,
    points: list[tuple[float, float]],
    *,
    cycle: bool,
    words: Mapping[str, str],
    child: ChainNode,
    parent: ChainNode,
) -> tuple[str, str]:
    """Return the link's line and its label, each as SVG (labels are drawn above the boxes)."""
    colour = WARN if link.expired else LINE
    lines = _link_label(link, words, cycle=cycle)
    classes = "trace-link" + " trace-expired" * link.expired + " trace-cycle" * cycle
    facts = _link_facts(link, words, cycle=cycle)
    tooltip = f"{_clean(child.title)} → {_clean(parent.title)}\n" + "\n".join(facts)
    tip, before = points[-1], points[-2]
    # End the line at the arrowhead's base so a thick line does not blunt the tip.
    length = max(((tip[0] - before[0]) ** 2 + (tip[1] - before[1]) ** 2) ** 0.5, 1e-9)
    shorten = min(ARROW_LEN - 1, length) / length
    end = (tip[0] - (tip[0] - before[0]) * shorten, tip[1] - (tip[1] - before[1]) * shorten)
    if cycle:
        (x0, y0), (c1x, c1y), (c2x, c2y) = points[0], points[1], points[2]
        d = f"M{_n(x0)},{_n(y0)} C{_n(c1x)},{_n(c1y)} {_n(c2x)},{_n(c2y)} {_n(end[0])},{_n(end[1])}"
    else:
        d = "M" + " L".join(f"{_n(px)},{_n(py)}" for px, py in [*points[:-1], end])
    path = _attrs(
        d=d,
        fill="none",
        stroke=colour,
        stroke_width=3 if link.expired else 1.5,
        stroke_dasharray="5 4" if cycle else None,
        stroke_linejoin="round",
    )
    line = "".join(
        [
            f"<g{_attrs(class_=classes, data_child=link.child, data_parent=link.parent)}>",
            f"<title>{escape(tooltip)}</title>",
            f"<path{path}/>",
            _arrowhead(tip, before, colour),
            "</g>",
        ]
    )

    if cycle:
        # Beside the bulge of the curve, reading away from the diagram.
        x, y, anchor = points[1][0] + 4, (points[0][1] + points[-1][1]) / 2, "start"
    else:
        # Halfway across the gap above the child, on the line.
        (x0, y0), (x1, y1) = points[0], points[1]
        x, y, anchor = (x0 + x1) / 2, (y0 + y1) / 2, "middle"
    top = y - (len(lines) - 1) * (LABEL_SIZE + 3) / 2 + LABEL_SIZE / 3
    texts = [
        _text(
            x,
            top + i * (LABEL_SIZE + 3),
            text,
            text_anchor=anchor,
            font_size=LABEL_SIZE,
            fill=WARN if link.expired else LINE,
            font_weight="bold" if link.expired and i == 0 else None,
            stroke=HALO,
            stroke_width=3,
            paint_order="stroke",
            stroke_linejoin="round",
        )
        for i, text in enumerate(lines)
    ]
    if not texts:
        return line, ""
    label = f"<g{_attrs(class_='trace-link-label' + ' trace-expired' * link.expired)}>{''.join(texts)}</g>"
    return line, label


def render_chain(
    nodes: Sequence[ChainNode], links: Sequence[ChainLink], root: str, *, labels: Mapping[str, str]
) -> str:
    """Return the traceability chain above ``root`` as an SVG document fragment.

    The root sits at the bottom, the standards used to calibrate it in the level above, and so on
    upward; a standard reached by several paths is drawn once, at its highest level. Links whose
    parent's certificate was expired when used are drawn red and thick with the warning and their
    note. ``labels`` holds the translated words ("chain", "certificate", "valid_until", "used_on",
    "expired_when_used", "cycle"); missing ones fall back to English.

    All text and attribute values are XML-escaped here, and hrefs other than relative or http(s)
    ones are dropped, so the caller may mark the result safe (``Markup``) in a template. The SVG
    has no scripts, styles, external resources or ``foreignObject``.

    Raises ``ValueError`` for duplicate node keys, an unknown root, or a link naming an unknown node.
    """
    by_key: dict[str, ChainNode] = {}
    for node in nodes:
        if node.key in by_key:
            raise ValueError(f"duplicate node key {node.key!r}")
        by_key[node.key] = node
    if root not in by_key:
        raise ValueError(f"root {root!r} is not among the nodes")
    for link in links:
        for key in (link.child, link.parent):
            if key not in by_key:
                raise ValueError(f"link names unknown node {key!r}")
    words = {**DEFAULT_LABELS, **{k: _clean(v) for k, v in labels.items()}}
    chosen = _pick_links(links)
    graph = _analyse(chosen.values(), root)
    n_levels = len(graph.levels)

    # Lay out level by level from the root up. A link that skips levels gets a narrow lane in each
    # level it crosses so it runs between the boxes; each level is ordered by the mean position of
    # what it connects to below (one barycentre pass), then centred.
    items: list[list[Hashable]] = [list(level) for level in graph.levels]
    level_of: dict[Hashable, int] = dict(graph.level_of)
    rank: dict[Hashable, int] = {key: i for i, key in enumerate(k for level in graph.levels for k in level)}
    below: dict[Hashable, list[Hashable]] = {}
    routes: list[list[Hashable]] = []
    for index, (child, parent) in enumerate(graph.edges):
        low, high = graph.level_of[child], graph.level_of[parent]
        lanes: list[Hashable] = [("lane", index, level) for level in range(low + 1, high)]
        for lane in lanes:
            items[lane[2]].append(lane)
            level_of[lane] = lane[2]
            rank[lane] = rank[parent]
        route = [child, *lanes, parent]
        for lower, upper in zip(route, route[1:], strict=False):
            below.setdefault(upper, []).append(lower)
        routes.append(route)

    def width(item: Hashable) -> int:
        return BOX_W if isinstance(item, str) else LANE_W

    level_widths = [sum(map(width, level)) + H_GAP * (len(level) - 1) for level in items]
    inner_w = max(level_widths)
    centre: dict[Hashable, float] = {}
    for number, level in enumerate(items):
        if number:
            level.sort(key=lambda item: (sum(centre[b] for b in below[item]) / len(below[item]), rank[item]))
        x = MARGIN + (inner_w - level_widths[number]) / 2
        for item in level:
            centre[item] = x + width(item) / 2
            x += width(item) + H_GAP

    def top(level: int) -> float:
        return MARGIN + (n_levels - 1 - level) * (BOX_H + V_GAP)

    # Spread the ends of several links along a box's edge, in the order of their other ends.
    leaving: dict[str, list[int]] = {}
    arriving: dict[str, list[int]] = {}
    for index, route in enumerate(routes):
        leaving.setdefault(route[0], []).append(index)
        arriving.setdefault(route[-1], []).append(index)
    start_dx: dict[int, float] = {}
    end_dx: dict[int, float] = {}
    for ends, offsets, other in ((leaving, start_dx, 1), (arriving, end_dx, -2)):
        for indices in ends.values():
            indices.sort(key=lambda i, other=other: centre[routes[i][other]])
            for i, dx in zip(indices, _spread(len(indices)), strict=True):
                offsets[i] = dx

    edge_svg, label_svg, summary = [], [], []
    for index, route in enumerate(routes):
        child, parent = route[0], route[-1]
        points = [(centre[child] + start_dx[index], top(level_of[child]))]
        for lane in route[1:-1]:
            points += [(centre[lane], top(level_of[lane]) + BOX_H), (centre[lane], top(level_of[lane]))]
        points.append((centre[parent] + end_dx[index], top(level_of[parent]) + BOX_H))
        line, label = _link_svg(
            chosen[(child, parent)],
            points,
            cycle=False,
            words=words,
            child=by_key[child],
            parent=by_key[parent],
        )
        edge_svg.append(line)
        label_svg.append(label)

    right_edge = MARGIN + inner_w
    for index, (child, parent) in enumerate(graph.back_edges):
        link = chosen[(child, parent)]
        y0 = top(level_of[child]) + BOX_H / 2
        y1 = top(level_of[parent]) + BOX_H / 2
        x0, x1 = centre[child] + BOX_W / 2, centre[parent] + BOX_W / 2
        bulge = max(x0, x1) + CYCLE_BULGE + CYCLE_STEP * index
        points = [(x0, y0), (bulge, y0), (bulge, y1), (x1, y1)]
        line, label = _link_svg(
            link, points, cycle=True, words=words, child=by_key[child], parent=by_key[parent]
        )
        edge_svg.append(line)
        label_svg.append(label)
        widest = max(text_width(text, LABEL_SIZE) for text in _link_label(link, words, cycle=True))
        right_edge = max(right_edge, bulge + 4 + widest)

    for pairs, cycle in ((graph.edges, False), (graph.back_edges, True)):
        for child, parent in pairs:
            facts = _link_facts(chosen[(child, parent)], words, cycle=cycle)
            summary.append(
                f"{_clean(by_key[child].title)} → {_clean(by_key[parent].title)} · " + " · ".join(facts)
            )

    node_svg = [
        _node_svg(by_key[key], centre[key] - BOX_W / 2, top(level), is_root=key == root, words=words)
        for level, keys in enumerate(graph.levels)
        for key in keys
    ]

    total_w = right_edge + MARGIN
    total_h = 2 * MARGIN + n_levels * BOX_H + (n_levels - 1) * V_GAP
    name = f"{words['chain']}: {_clean(by_key[root].title)}"
    svg_attrs = _attrs(
        xmlns=SVG_NS,
        class_="trace-chain",
        role="img",
        width=float(total_w),
        height=float(total_h),
        viewBox=f"0 0 {_n(total_w)} {_n(total_h)}",
        font_family=FONTS,
        font_size=12,
    )
    parts = [
        f"<svg{svg_attrs}>",
        f"<title>{escape(name)}</title>",
        f"<desc>{escape(chr(10).join(summary))}</desc>" if summary else "",
        f'<g class="trace-links">{"".join(edge_svg)}</g>',
        f'<g class="trace-nodes">{"".join(node_svg)}</g>',
        f'<g class="trace-link-labels">{"".join(label_svg)}</g>',
        "</svg>",
    ]
    return "".join(parts)
