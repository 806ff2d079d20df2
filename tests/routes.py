"""Helpers for the tests that walk every registered route."""

from __future__ import annotations


def fill_path(rule, values: dict) -> str:
    """Return ``rule``'s path with each ``<param>`` replaced by ``values[param]``."""
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<int:{name}>", str(values[name])).replace(f"<{name}>", str(values[name]))
    return path
