"""The page templates hold no inline code: scripts and styles are files under ``service/static/``.

The Content-Security-Policy allows scripts and styles from the site only (no nonce, no
``'unsafe-inline'``), so an inline ``<style>``, a ``<script>`` with a body, a ``style="…"`` or an
``on…="…"`` attribute would be blocked in the browser. A JSON data island
(``<script type="application/json">``) is data, not code, and the policy does not apply to it.

Mail templates are not pages: mail clients ignore linked stylesheets and scripts, no policy
applies to them, and their inline styles are the only styles they honour.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
#: Templates of mails, not of pages.
MAIL_TEMPLATES = ("email", "reminders/messages")

_JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.DOTALL)
_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)\b([^>]*)>")
_STYLE_ATTRIBUTE = re.compile(r"\s(style)\s*=", re.IGNORECASE)
_HANDLER = re.compile(r"\s(on[a-z]+)\s*=", re.IGNORECASE)
_JSON_ISLAND = re.compile(r"""\stype\s*=\s*["']application/json["']""", re.IGNORECASE)
_SRC = re.compile(r"\ssrc\s*=", re.IGNORECASE)


def _blank(match: re.Match) -> str:
    """Return the match as spaces, keeping its newlines so that line numbers stay true."""
    return re.sub(r"[^\n]", " ", match.group(0))


def inline_code(text: str) -> list[tuple[int, str]]:
    """Return ``(line, what)`` for each inline style or script of an HTML template's text."""
    # Jinja's own syntax goes first: `{{ field(only=True) }}` is no attribute, `{% if a > b %}` no tag end.
    html = _JINJA.sub(_blank, text)
    found = []

    def line_of(position: int) -> int:
        return html.count("\n", 0, position) + 1

    for tag in _TAG.finditer(html):
        name, attributes = tag.group(1).lower(), tag.group(2)
        if name == "style":
            found.append((line_of(tag.start()), "an inline <style> element"))
        elif name == "script" and not _SRC.search(attributes) and not _JSON_ISLAND.search(attributes):
            end = html.find("</script", tag.end())
            if html[tag.end() : end if end >= 0 else len(html)].strip():
                found.append((line_of(tag.start()), "an inline <script> with a body"))
        for attribute in _STYLE_ATTRIBUTE.finditer(attributes):
            found.append((line_of(tag.start(2) + attribute.start(1)), f'a style="…" attribute on <{name}>'))
        for handler in _HANDLER.finditer(attributes):
            found.append(
                (line_of(tag.start(2) + handler.start(1)), f'an {handler.group(1)}="…" attribute on <{name}>')
            )
    return found


def _page_templates() -> list[Path]:
    mail = [TEMPLATES / folder for folder in MAIL_TEMPLATES]
    return [p for p in sorted(TEMPLATES.rglob("*.html")) if not any(p.is_relative_to(m) for m in mail)]


def test_no_template_holds_inline_styles_or_scripts():
    problems = [
        f"templates/{path.relative_to(TEMPLATES)}:{line}: {what}"
        for path in _page_templates()
        for line, what in inline_code(path.read_text(encoding="utf-8"))
    ]
    assert not problems, (
        "The Content-Security-Policy blocks inline code; move it to a file under service/static/ "
        "(a class in app.css, a data-* attribute read by a script):\n" + "\n".join(problems)
    )


def test_the_scan_walks_the_page_templates():
    names = {str(p.relative_to(TEMPLATES)) for p in _page_templates()}
    assert {"base.html", "check/_page.html", "labels/label.html", "ledger/list.html"} <= names
    assert not any(name.startswith(("email/", "reminders/messages/")) for name in names)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<style>\nbody { color: red; }\n</style>", [(1, "an inline <style> element")]),
        ('<p>\n<script nonce="x">\nalert(1)\n</script>', [(2, "an inline <script> with a body")]),
        ("<div\n  class=\"a\"\n  style='color:red'>", [(3, 'a style="…" attribute on <div>')]),
        ('<tr{% if late %} style="color:red"{% endif %}>', [(1, 'a style="…" attribute on <tr>')]),
        ('<button onclick="go()">', [(1, 'an onclick="…" attribute on <button>')]),
        ('<body\nonload="go()">', [(2, 'an onload="…" attribute on <body>')]),
    ],
)
def test_the_scan_finds_inline_code(text, expected):
    assert inline_code(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        '<script src="/static/app.js"></script>',
        '<script type="application/json" id="data">{{ data|tojson }}</script>',
        "{{ input('kind', only=True) }} <p data-kind-only=\"a b\" data-disable-on-submit>",
        '{% if a > b %}<p class="x">{% endif %}',
        "{# <style> in a comment #}",
        "<p>Do not style= your text; online = fine</p>",
    ],
)
def test_the_scan_lets_files_data_and_jinja_be(text):
    assert inline_code(text) == []
