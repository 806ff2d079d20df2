"""The status lifecycle: which changes are direct and which need an approved request."""

from __future__ import annotations

#: Changes a metrology engineer makes directly (sent out, back, under repair).
DIRECT_TRANSITIONS: dict[str, frozenset[str]] = {
    "in_service": frozenset({"out_for_calibration", "under_repair"}),
    "out_for_calibration": frozenset({"in_service", "under_repair"}),
    "under_repair": frozenset({"in_service", "out_for_calibration"}),
}

#: For each request action: the statuses it may start from and the status it leads to.
ACTION_RULES: dict[str, tuple[frozenset[str], str]] = {
    "suspend": (frozenset({"in_service", "out_for_calibration", "under_repair"}), "suspended"),
    "resume": (frozenset({"suspended"}), "in_service"),
    "seal": (frozenset({"in_service", "suspended", "under_repair"}), "sealed"),
    "unseal": (frozenset({"sealed"}), "in_service"),
    "replace": (
        frozenset({"in_service", "out_for_calibration", "suspended", "sealed", "under_repair"}),
        "scrapped",
    ),
    "scrap": (
        frozenset({"in_service", "out_for_calibration", "suspended", "sealed", "under_repair"}),
        "scrapped",
    ),
}


def is_direct_change(current: str, target: str) -> bool:
    """Whether ``current`` → ``target`` may be made without an approval."""
    return current == target or target in DIRECT_TRANSITIONS.get(current, frozenset())


def action_allowed(action: str, current: str) -> bool:
    """Whether ``action`` may be requested for an instrument in status ``current``."""
    sources, _target = ACTION_RULES[action]
    return current in sources


def action_target(action: str) -> str:
    """Return the status an approved ``action`` leads to."""
    return ACTION_RULES[action][1]


def actions_for(current: str) -> list[str]:
    """Return the actions that may be requested from status ``current``, in display order."""
    return [a for a in ACTION_RULES if current in ACTION_RULES[a][0]]
