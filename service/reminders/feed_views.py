"""The calendar feed: its secret address for calendar apps, and creating or stopping it."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_babel import force_locale, gettext
from flask_login import login_required

from service.clock import today_in
from service.reminders.calendar_feed import feed_ics, issue_feed, revoke_feed, user_for_token
from service.web.context import db, signed_in_user
from service.web.mail import external_url

bp = Blueprint("calendar_feed", __name__)


@bp.get("/calendar/<token>.ics")
def feed(token: str):
    """Serve a user's due dates to a calendar app; the address is the only credential."""
    # A session of its own: whoever might be signed in in this browser has nothing to do with the feed.
    session = current_app.extensions["calrecall.sessions"]()
    try:
        user = user_for_token(session, token)
        if user is None:
            abort(404)
        with force_locale(user.locale):  # the feed speaks its owner's language, not the caller's
            body = feed_ics(session, user, today_in(user.org.timezone), gettext)
    finally:
        session.close()
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Disposition"] = 'inline; filename="calrecall-due-dates.ics"'
    return response


@bp.post("/reminders/calendar")
@login_required
def manage():
    """Create a new feed address (shown once) or stop the feed."""
    user = signed_in_user()
    action = request.form.get("action")
    if action == "issue":
        token = issue_feed(db(), user)
        address = external_url(url_for("calendar_feed.feed", token=token))
        flash(
            gettext(
                "Your calendar address is %(url)s — it is shown only once. "
                "Add it to your calendar app now as a subscription.",
                url=address,
            ),
            "success",
        )
    elif action == "revoke":
        revoke_feed(db(), user)
        flash(gettext("The calendar feed has been stopped; its address no longer works."), "success")
    else:
        abort(400)
    return redirect(url_for("reminders.mine"), code=303)
