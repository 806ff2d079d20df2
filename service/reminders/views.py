"""Reminder pages: the firm's policy, the outbox, one's own reminders and channels, a test message."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import login_required

from models.reminders import CHANNELS, NOTIFICATION_STATES
from service.clock import now_utc
from service.errors import DomainError, Invalid
from service.reminders import operations as ops
from service.reminders import queries
from service.reminders.policy import get_policy, policy_view, update_policy
from service.reminders.rules import calendar_covers
from service.web.background import send_after_commit
from service.web.context import actor, db, signed_in_user, today
from service.web.forms import flash_failure, form_data, form_error_page

bp = Blueprint("reminders", __name__, url_prefix="/reminders")


def _policy_page(values=None, errors=None, status=200):
    who = actor()
    policy = get_policy(db(), who.org_id)
    view = policy_view(policy, who)
    if values is None:
        values = {
            **view,
            "offsets_days": ", ".join(str(d) for d in view["offsets_days"]),
            "mandatory_offsets_days": ", ".join(str(d) for d in view["mandatory_offsets_days"] or []),
        }
    horizon = today() + timedelta(days=60)
    page = render_template(
        "reminders/policy.html",
        values=values,
        errors=errors or {},
        can_edit=who.can("org.manage"),
        calendar_gap=None if calendar_covers(horizon) else horizon.year,
        user=signed_in_user(),
    )
    return page, status


@bp.route("/policy", methods=["GET", "POST"])
@login_required
def policy():
    """The firm's reminder policy (admins change it; metrology staff read it)."""
    actor().require("ledger.write")
    if request.method == "GET":
        return _policy_page()
    values = form_data()
    for flag in ("to_custodian", "to_metrology", "to_department_head", "working_days_only"):
        values[flag] = flag in values  # an unticked checkbox is not posted at all
    try:
        update_policy(db(), actor(), values)
    except Invalid as exc:
        return form_error_page(
            "reminders/policy.html",
            exc.field_errors,
            values=values,
            can_edit=True,
            calendar_gap=None,
            user=signed_in_user(),
        )
    flash(gettext("Saved."), "success")
    return redirect(url_for("reminders.policy"), code=303)


@bp.get("/outbox")
@login_required
def outbox():
    """The firm's outbox: each message's state, attempts and last error."""
    state = request.args.get("state") or None
    channel = request.args.get("channel") or None
    try:
        rows, next_before = queries.list_outbox(db(), actor(), state, channel, request.args.get("before"))
    except Invalid:
        abort(400)
    return render_template(
        "reminders/outbox.html",
        rows=rows,
        names=queries.recipient_names(db(), actor(), rows),
        next_before=next_before,
        counts=queries.outbox_counts(db(), actor()),
        states=NOTIFICATION_STATES,
        channels=CHANNELS,
        state=state,
        channel=channel,
        can_manage=actor().can("org.manage"),
    )


@bp.get("/outbox/<int:notification_id>")
@login_required
def show_message(notification_id: int):
    """One message: its words, its instruments, and what the provider said."""
    message = queries.get_message(db(), actor(), notification_id)
    return render_template(
        "reminders/message.html",
        message=message,
        items=queries.items_of(db(), actor(), message.id),
        can_manage=actor().can("org.manage"),
    )


@bp.post("/outbox/<int:notification_id>/retry")
@login_required
def retry(notification_id: int):
    """Queue a dead or failed message again."""
    try:
        ops.retry_message(db(), actor(), notification_id, now_utc())
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("The message will be sent again."), "success")
    return redirect(url_for("reminders.show_message", notification_id=notification_id), code=303)


@bp.post("/outbox/release")
@login_required
def release():
    """Send the SMS held by the daily ceiling after all."""
    try:
        count = ops.release_held(db(), actor(), now_utc())
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("%(count)s held messages will be sent.", count=count), "success")
    return redirect(url_for("reminders.outbox", state="held"), code=303)


@bp.get("")
@login_required
def mine():
    """The signed-in user's reminders, their channels and a test message."""
    user = signed_in_user()
    return render_template(
        "reminders/mine.html",
        reminders=queries.my_reminders(db(), user),
        unread=queries.unread_count(db(), user),
        user=user,
        sms_stopped=ops.sms_opted_out(db(), user.mobile),
    )


@bp.post("/read")
@login_required
def mark_read():
    """Mark one's in-app reminders read."""
    ops.mark_read(db(), signed_in_user(), now_utc())
    return redirect(url_for("reminders.mine"), code=303)


@bp.post("/channels")
@login_required
def channels():
    """Choose the channels one's reminders come by."""
    values = {key: key in request.form for key in ("notify_sms", "notify_email", "notify_in_app")}
    ops.set_channels(db(), signed_in_user(), values)
    flash(gettext("Saved."), "success")
    return redirect(url_for("reminders.mine"), code=303)


@bp.post("/test")
@login_required
def send_test():
    """Send oneself a test message on SMS or email, at once."""
    try:
        message = ops.send_test_message(
            db(), actor(), signed_in_user(), request.form.get("channel", ""), now_utc()
        )
    except DomainError as exc:
        flash_failure(exc)
    else:
        send_after_commit(message.id)
        flash(gettext("Test message queued; it goes out at once."), "success")
    return redirect(request.referrer or url_for("reminders.mine"), code=303)
