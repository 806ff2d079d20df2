"""The Simplified Chinese catalog is complete, keeps its placeholders, and is what the app serves.

The compiled ``.mo`` is build output (ignored by git). It is compiled here when it is missing or older
than the ``.po``, at import time: Flask-Babel caches loaded translations on the process-wide ``Babel``
instance, so the catalog must exist before any test of the session issues a request, and pytest
collects (imports) every module before it runs the first test.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import flask_babel
import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

import service
from service.app import create_app
from service.config import Config

LOCALE = "zh_Hans_CN"
CATALOG_DIR = Path(service.__file__).resolve().parent / "translations" / LOCALE / "LC_MESSAGES"
PO_FILE = CATALOG_DIR / "messages.po"
MO_FILE = CATALOG_DIR / "messages.mo"

SIGN_IN = "登录"
FORGOT_PASSWORD = "忘记密码？"

#: A printf-style conversion with a mapping key, e.g. ``%(count)s`` or ``%(total)d``.
NAMED = re.compile(r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def read_catalog():
    with PO_FILE.open("rb") as f:
        return read_po(f, locale=LOCALE)


def compile_catalog() -> None:
    """Compile the ``.po`` into the ``.mo`` if the ``.mo`` is missing or stale (atomic, so parallel-safe)."""
    if MO_FILE.exists() and MO_FILE.stat().st_mtime >= PO_FILE.stat().st_mtime:
        return
    catalog = read_catalog()
    fd, tmp = tempfile.mkstemp(dir=CATALOG_DIR, suffix=".mo.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write_mo(f, catalog)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; it is an ordinary build artefact
        os.replace(tmp, MO_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


compile_catalog()


def messages():
    return [m for m in read_catalog() if m.id]


def placeholders(text: str) -> list[str]:
    return sorted(NAMED.findall(text))


def stray_percent(text: str) -> str:
    """What remains of ``%`` after removing named conversions and ``%%`` (should be nothing)."""
    return "%" if "%" in NAMED.sub("", text).replace("%%", "") else ""


def test_catalog_has_messages():
    assert len(messages()) > 300


def _forms(message) -> list[tuple[str, str]]:
    """Pair each translated form with its msgid (Chinese has one plural form: the plural msgid)."""
    if isinstance(message.id, str):
        return [(message.id, message.string)]
    return [(message.id[-1], form) for form in message.string]


@pytest.mark.parametrize(
    "message", messages(), ids=lambda m: (m.id if isinstance(m.id, str) else m.id[0])[:60]
)
def test_every_message_is_translated_and_keeps_its_placeholders(message):
    assert not message.fuzzy, "fuzzy"
    for msgid, string in _forms(message):
        assert string.strip(), "untranslated"
        assert placeholders(string) == placeholders(msgid)
        # Jinja's new-style gettext always %-formats, so a literal percent sign must stay doubled.
        assert string.count("%%") == msgid.count("%%")
        assert not stray_percent(string)


def test_catalog_header_is_not_fuzzy():
    assert not read_catalog().fuzzy


@pytest.fixture
def app(tmp_path):
    app = create_app(Config(database_url=f"sqlite:///{tmp_path / 't.sqlite3'}", secret_key="x"))
    app.config["TESTING"] = True
    yield app
    app.extensions["calrecall.engine"].dispose()


def test_default_locale_is_chinese_and_english_is_selectable(app):
    with app.test_request_context("/"):
        assert str(flask_babel.get_locale()) == LOCALE
        assert flask_babel.gettext("Sign in") == SIGN_IN
        with flask_babel.force_locale("en"):
            assert flask_babel.gettext("Sign in") == "Sign in"


def test_parameters_are_interpolated_after_translation(app):
    with app.test_request_context("/"):
        assert flask_babel.gettext("%(count)s due", count=3) == "3台到期"


def test_login_page_is_chinese_by_default(app):
    response = app.test_client().get("/login")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert SIGN_IN in page
    assert FORGOT_PASSWORD in page
    assert 'lang="zh-CN"' in page
