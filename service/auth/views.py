"""Sign-in, sign-out, password reset, invitations, one's own account and API tokens: the pages."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext, ngettext
from flask_login import LoginManager, current_user, login_required, login_user, logout_user

from models.tenancy import LOCALES
from service.auth import operations as auth_ops
from service.auth import queries as auth_queries
from service.clock import now_utc
from service.db import allow_all_tenants
from service.errors import Invalid, Throttled
from service.tenancy import operations as tenancy_ops
from service.web.access import open_to_experts
from service.web.context import actor, db
from service.web.forms import form_data, form_error_page, safe_next
from service.web.i18n import translate, translate_errors
from service.web.mail import external_url, send_email

bp = Blueprint("auth", __name__)
login_manager = LoginManager()


def init_login(app) -> None:
    """Bind Flask-Login: strong session protection, users loaded across tenants by id."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    login_manager.login_message = None

    @login_manager.user_loader
    def _load(session_id: str):
        return auth_ops.load_session_user(db(), session_id)


def _throttle_policy() -> auth_ops.ThrottlePolicy:
    from datetime import timedelta

    config = current_app.config["CALRECALL"]
    return auth_ops.ThrottlePolicy(
        free=config.sign_in_attempts_before_pause,
        per_address=config.max_failed_sign_ins_per_address,
        window=timedelta(minutes=config.sign_in_window_minutes),
        max_pause=timedelta(minutes=config.longest_sign_in_pause_minutes),
    )


def start_session(user) -> None:
    """Sign ``user`` in with a fresh session (Flask-Login does not rotate it by itself)."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME without activity
    login_user(user)


def _signed_in(user, message: str):
    """Start ``user``'s session after the link they followed, and greet them on the dashboard."""
    start_session(user)
    flash(message, "success")
    return redirect(url_for("main.dashboard"), code=303)


def _confirmation_errors(password: str | None, confirmation: str | None) -> dict:
    """Return the form errors when the confirmation differs from the chosen password (none when equal)."""
    return {} if password == confirmation else {"password_confirm": [gettext("The passwords differ.")]}


@bp.route("/login", methods=["GET", "POST"])
@open_to_experts
def login():
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    if request.method != "POST":  # HEAD too: a monitor's probe is not a failed sign-in
        return render_template("auth/login.html", email="", next=request.args.get("next", ""))
    email = request.form.get("email", "")
    session_db = db()
    allow_all_tenants(session_db)
    try:
        user = auth_ops.authenticate(
            session_db,
            email,
            request.form.get("password", ""),
            request.remote_addr or "-",
            now_utc(),
            _throttle_policy(),
        )
    except (Invalid, Throttled) as exc:
        # Keep the failed attempt: it is the audit trail and the throttle's counter.
        session_db.commit()
        flash(translate(exc.message), "danger")
        status = 429 if isinstance(exc, Throttled) else 401
        return render_template("auth/login.html", email=email, next=request.form.get("next", "")), status
    start_session(user)
    return redirect(safe_next(request.form.get("next")), code=303)


@bp.post("/logout")
@open_to_experts
def logout():
    """Sign out: the user's sessions end on the server too, so a copied cookie is worthless."""
    if current_user.is_authenticated:
        current_user.end_sessions()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"), code=303)


@bp.post("/language")
@open_to_experts
def set_language():
    """Switch the interface language (stored on the user when signed in)."""
    locale = request.form.get("locale")
    if locale in LOCALES:
        session["locale"] = locale
        if current_user.is_authenticated:
            current_user.locale = locale
    return redirect(safe_next(request.form.get("next")), code=303)


@bp.route("/password/forgot", methods=["GET", "POST"])
@open_to_experts
def forgot_password():
    """Ask for a password reset link by email; the answer never reveals who has an account."""
    if request.method == "GET":
        return render_template("auth/forgot.html")
    session_db = db()
    allow_all_tenants(session_db)
    config = current_app.config["CALRECALL"]
    created = auth_ops.request_password_reset(
        session_db, request.form.get("email", ""), now_utc(), config.password_reset_hours
    )
    if created:
        user, token = created
        session_db.commit()
        send_email(
            user.email,
            "password_reset",
            user.locale,
            f"pwreset-{token[-12:]}",
            org_slug=user.org.slug,
            user=user,
            link=external_url(url_for("auth.reset_password", token=token)),
            hours=config.password_reset_hours,
        )
    flash(gettext("If an account exists for that email, a reset link is on its way."), "info")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@open_to_experts
def reset_password(token: str):
    """Choose a new password through an emailed link."""
    session_db = db()
    allow_all_tenants(session_db)
    auth_ops.open_password_reset(session_db, token, now_utc())
    if request.method == "GET":
        return render_template("auth/reset.html", errors={})
    if errors := _confirmation_errors(request.form.get("password"), request.form.get("password_confirm")):
        return form_error_page("auth/reset.html", errors)
    try:
        user = auth_ops.reset_password(session_db, token, request.form.get("password", ""), now_utc())
    except Invalid as exc:
        return form_error_page("auth/reset.html", exc.field_errors)
    session_db.commit()
    return _signed_in(user, gettext("Your password has been changed."))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@open_to_experts
def accept_invitation(token: str):
    """Join an organisation through an emailed invitation: choose a name and a password."""
    session_db = db()
    allow_all_tenants(session_db)
    invitation = tenancy_ops.open_invitation(session_db, token, now_utc())
    if request.method == "GET":
        return render_template("auth/accept.html", invitation=invitation, errors={}, values={})
    values = form_data()
    if errors := _confirmation_errors(values.get("password"), values.get("password_confirm")):
        return form_error_page("auth/accept.html", errors, invitation=invitation, values=values)
    try:
        user = tenancy_ops.accept_invitation(
            session_db,
            token,
            {k: values.get(k) for k in ("name", "mobile")} | {"locale": session.get("locale", "zh_Hans_CN")},
            values.get("password", ""),
            now_utc(),
        )
    except Invalid as exc:
        return form_error_page("auth/accept.html", exc.field_errors, invitation=invitation, values=values)
    session_db.commit()
    return _signed_in(user, gettext("Welcome! Your account is ready."))


@bp.route("/account", methods=["GET", "POST"])
@open_to_experts
@login_required
def account():
    """One's own name, mobile number and language."""
    if request.method == "GET":
        return render_template("auth/account.html", errors={}, values={})
    values = form_data()
    try:
        tenancy_ops.update_own_profile(db(), current_user, values)
    except Invalid as exc:
        return form_error_page("auth/account.html", exc.field_errors, values=values)
    session["locale"] = current_user.locale
    flash(gettext("Saved."), "success")
    return redirect(url_for("auth.account"), code=303)


@bp.get("/account/password")
@open_to_experts
@login_required
def password_form():
    """The address a refused change is shown at: reloading it goes back to the account page."""
    return redirect(url_for("auth.account"), code=303)


@bp.post("/account/password")
@open_to_experts
@login_required
def change_password():
    """Change one's password; other sessions end, this one continues."""
    values = form_data()
    if errors := _confirmation_errors(values.get("new_password"), values.get("password_confirm")):
        return form_error_page("auth/account.html", errors, values={})
    try:
        auth_ops.change_password(
            db(), current_user, values.get("current_password", ""), values.get("new_password", "")
        )
    except Invalid as exc:
        return form_error_page("auth/account.html", exc.field_errors, values={})
    start_session(current_user._get_current_object())
    flash(gettext("Your password has been changed; other sessions have been signed out."), "success")
    return redirect(url_for("auth.account"), code=303)


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """List, create and revoke one's API tokens; a new token is shown once."""
    new_token = None
    status = 200
    errors: dict = {}
    values = {"days": auth_ops.DEFAULT_TOKEN_DAYS}
    if request.method == "POST":
        default = str(auth_ops.DEFAULT_TOKEN_DAYS)  # a form without the choice gets the default
        values = {"name": request.form.get("name", ""), "days": request.form.get("days", default)}
        try:
            _api_token, new_token = auth_ops.create_api_token(db(), actor(), values["name"], values["days"])
            values = {"days": auth_ops.DEFAULT_TOKEN_DAYS}
        except Invalid as exc:
            errors, status = translate_errors(exc.field_errors), 422
    listed = auth_queries.list_api_tokens(db(), actor())
    lifetimes = [(str(d), ngettext("%(num)s day", "%(num)s days", d)) for d in auth_ops.TOKEN_LIFETIMES]
    lifetimes.append((auth_ops.NEVER, gettext("Until revoked")))
    return render_template(
        "auth/tokens.html",
        tokens=listed,
        new_token=new_token,
        errors=errors,
        values=values,
        lifetimes=lifetimes,
        now=now_utc(),
    ), status


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke one of one's API tokens."""
    auth_ops.revoke_api_token(db(), actor(), token_id)
    flash(gettext("The token has been revoked."), "success")
    return redirect(url_for("auth.tokens"), code=303)
