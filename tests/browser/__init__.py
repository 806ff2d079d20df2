"""Browser tests: Playwright driving Debian's Chromium."""

from __future__ import annotations

import shutil

import pytest

#: Why browser tests skip, and how to run them.
NO_CHROMIUM = (
    "Chromium is missing: install Debian's package with `apt-get install chromium` "
    "(`make test` does); Playwright's own browser download is never used"
)

NO_CHINESE_FONT = (
    "no Chinese font: the pages are in Chinese and their layout is measured with real glyphs; "
    "install Debian's `fonts-wqy-zenhei` (`make test` does)"
)


def playwright_expect():
    """Skip the calling test module unless Chromium and Playwright are installed; return ``expect``."""
    if shutil.which("chromium") is None:
        pytest.skip(NO_CHROMIUM, allow_module_level=True)
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is missing: pip install -e '.[test]'"
    )
    return sync_api.expect
