"""Snapshot files: rendered text kept under ``tests/snapshots`` and compared on every run.

A missing or different snapshot fails the test. After a deliberate change to a template, rewrite
the files with ``UPDATE_SNAPSHOTS=1 make test`` and review the diff like any other change.
"""

from __future__ import annotations

import os
from pathlib import Path

SNAPSHOTS = Path(__file__).parent / "snapshots"


def assert_snapshot(name: str, text: str) -> None:
    """Assert that ``text`` equals the stored snapshot ``name`` (a path under ``tests/snapshots``)."""
    path = SNAPSHOTS / name
    text = text.rstrip("\n") + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"no snapshot {path}; create it with UPDATE_SNAPSHOTS=1"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from its snapshot (UPDATE_SNAPSHOTS=1 rewrites it)"
