"""The chain of standards on an instrument's page, and the institute's reverse traceability pages.

``/standards/<instrument_id>/affected`` lists what one of the institute's standards verified or
calibrated in its linked clients' ledgers since a day, and sends each firm a notice. It is an
institute tool: a firm's users get 404, like for any id that is not theirs.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import login_required

from service.clock import now_utc
from service.errors import DomainError
from service.traceability import reverse
from service.web.context import actor, base_url, db
from service.web.forms import flash_failure

bp = Blueprint("standards", __name__)


def _since_arg(value: str | None) -> tuple[date | None, dict]:
    """Parse the ``since`` query parameter (YYYY-MM-DD; empty for the default)."""
    value = (value or "").strip()
    if not value:
        return None, {}
    try:
        return date.fromisoformat(value), {}
    except ValueError:
        return None, {"since": [gettext("Enter a date as YYYY-MM-DD.")]}


@bp.get("/standards/<int:instrument_id>/affected")
@login_required
def affected(instrument_id: int):
    """List the client instruments one of the institute's standards calibrated since a day, by firm."""
    who = actor()
    reverse.get_standard(db(), who, instrument_id)  # 404 for firms and for other ledgers' ids
    since, errors = _since_arg(request.args.get("since"))
    found = reverse.affected_by_standard(db(), who, instrument_id, since)
    return render_template(
        "traceability/affected.html",
        affected=found,
        since_value=request.args.get("since", "")
        if errors
        else (found.since.isoformat() if found.since else ""),
        errors=errors,
    ), (400 if errors else 200)


@bp.post("/standards/<int:instrument_id>/notices")
@login_required
def send_notices(instrument_id: int):
    """Send each affected firm its notice through the outbox (once per standard and day)."""
    who = actor()
    reverse.get_standard(db(), who, instrument_id)
    since = request.form.get("since", "")
    back = url_for("standards.affected", instrument_id=instrument_id, since=since or None)
    try:
        summary = reverse.notify_affected(
            db(),
            who,
            instrument_id,
            since or None,
            request.form.get("reason", ""),
            now_utc(),
            base_url=base_url(),
        )
    except DomainError as exc:
        flash_failure(exc)
        return redirect(back, code=303)
    firms = len(summary.firms)
    if summary.created:
        flash(
            ngettext(
                "Notices sent to %(num)s firm (%(count)s messages).",
                "Notices sent to %(num)s firms (%(count)s messages).",
                firms,
                count=summary.created,
            ),
            "success",
        )
    elif firms:
        flash(gettext("These notices were sent before; nothing was sent again."), "info")
    else:
        flash(
            gettext("No client firm is affected; the finding is recorded in the standard's history."), "info"
        )
    return redirect(back, code=303)
