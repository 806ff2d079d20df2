"""Pages an outside expert may open: its campaign work, its account, and signing in and out.

An institute's outside experts (an alliance's members, reviewers) are users of the institute with
no permission at all; instead of auditing every page for them, every page is closed to them unless
its view says otherwise with :func:`open_to_experts`, and each such view checks the membership or
assignment that gives the expert its work.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, request

from service.actors import Actor


def open_to_experts(view: Callable) -> Callable:
    """Mark a view as one an outside expert may open (put it right under the route decorator)."""
    view.open_to_experts = True
    return view


def closed_to(who: Actor) -> bool:
    """Whether the request's page is closed to ``who`` (an outside expert off its campaign work)."""
    if not who.confined:
        return False
    view = current_app.view_functions.get(request.endpoint)
    return not getattr(view, "open_to_experts", False)
