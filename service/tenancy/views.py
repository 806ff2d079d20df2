"""Organisation pages: profile, users and invitations, departments, client links, sign-in audit."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import login_required

from service.auth.queries import recent_sign_ins
from service.clock import now_utc
from service.errors import DomainError, Invalid
from service.tenancy import operations as ops
from service.tenancy import queries
from service.validation import benchmark_industries, henan_regions
from service.visits import board
from service.web.context import actor, db, today
from service.web.forms import flash_failure, form_data, form_error_page
from service.web.i18n import translate_errors
from service.web.mail import send_invitation

bp = Blueprint("tenancy", __name__, url_prefix="/org")


def _config():
    return current_app.config["CALRECALL"]


def _profile_values(org) -> dict:
    fields = ("name", "credit_code", "region_code", "industry", "employees", "annual_revenue_wan")
    return {f: getattr(org, f) for f in fields}


def _page(**context):
    who = actor()
    org = queries.get_org(db(), who)
    base = {
        "org": org,
        "regions": henan_regions(),
        "industries": benchmark_industries(),
        "values": _profile_values(org),
        "errors": {},
        "users": queries.list_users(db(), who),
        "invitations": queries.list_invitations(db(), who, now_utc()) if who.can("users.manage") else [],
        "roles": ops.roles_for(org.kind),
        "institutes": queries.list_institutes(db(), who) if org.kind == "firm" else [],
    }
    return base | context


@bp.route("", methods=["GET", "POST"])
@login_required
def organisation():
    """The organisation's profile (admins edit it), its users, invitations and client links."""
    if request.method == "GET":
        return render_template("tenancy/organisation.html", **_page())
    values = form_data()
    try:
        ops.update_org_profile(db(), actor(), values)
    except Invalid as exc:
        return form_error_page("tenancy/organisation.html", exc.field_errors, **{**_page(), "values": values})
    flash(gettext("Saved."), "success")
    return redirect(url_for("tenancy.organisation"), code=303)


def _deliver_invitation(invitation, token: str) -> None:
    """Commit (the link must exist before anyone follows it), email the link and say how it went."""
    db().commit()
    org = queries.get_org(db(), actor())
    if send_invitation(invitation, token, actor().name, org):
        flash(gettext("Invitation sent to %(email)s.", email=invitation.email), "success")
    else:
        message = gettext(
            "The invitation to %(email)s could not be emailed; use Resend to try again.",
            email=invitation.email,
        )
        flash(message, "warning")


@bp.post("/invitations")
@login_required
def invite():
    """Invite someone by email with a role."""
    values = form_data()
    try:
        invitation, token = ops.invite_user(db(), actor(), values, now_utc(), _config().invitation_days)
    except Invalid as exc:
        return form_error_page(
            "tenancy/organisation.html",
            exc.field_errors,
            **{**_page(), "invite_values": values},
        )
    _deliver_invitation(invitation, token)
    return redirect(url_for("tenancy.organisation"), code=303)


@bp.post("/invitations/<int:invitation_id>/resend")
@login_required
def resend_invitation(invitation_id: int):
    """Send a fresh link (the old one stops working): for lost or undelivered invitations."""
    invitation, token = ops.reissue_invitation(
        db(), actor(), invitation_id, now_utc(), _config().invitation_days
    )
    _deliver_invitation(invitation, token)
    return redirect(url_for("tenancy.organisation"), code=303)


@bp.post("/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(invitation_id: int):
    """Withdraw an open invitation."""
    ops.revoke_invitation(db(), actor(), invitation_id, now_utc())
    flash(gettext("Invitation withdrawn."), "success")
    return redirect(url_for("tenancy.organisation"), code=303)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def edit_user(user_id: int):
    """Change a user's role, mobile number or active flag (admins)."""
    user = queries.get_user(db(), actor(), user_id)
    actor().require("users.manage")
    if request.method == "GET":
        values = {"name": user.name, "role": user.role, "mobile": user.mobile, "is_active": user.is_active}
        return render_template(
            "tenancy/user.html", user=user, values=values, errors={}, roles=ops.roles_for(user.org.kind)
        )
    values = form_data()
    payload = {k: values.get(k) for k in ("name", "role", "mobile")} | {
        "is_active": values.get("is_active") == "on"
    }
    try:
        ops.update_user(db(), actor(), user_id, payload)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return form_error_page(
            "tenancy/user.html",
            exc.field_errors or {"_schema": [exc.message]},
            user=user,
            values=values,
            roles=ops.roles_for(user.org.kind),
        )
    flash(gettext("Saved."), "success")
    return redirect(url_for("tenancy.organisation"), code=303)


@bp.route("/departments", methods=["GET", "POST"])
@login_required
def departments():
    """The firm's departments: list and add."""
    who = actor()
    context = {
        "departments": queries.list_departments(db(), who),
        "users": queries.list_users(db(), who),
        "errors": {},
        "values": {},
    }
    if request.method == "GET":
        return render_template("tenancy/departments.html", **context)
    values = form_data()
    try:
        ops.create_department(db(), who, values)
    except Invalid as exc:
        return form_error_page("tenancy/departments.html", exc.field_errors, **{**context, "values": values})
    flash(gettext("Department added."), "success")
    return redirect(url_for("tenancy.departments"), code=303)


@bp.post("/departments/<int:department_id>")
@login_required
def update_department(department_id: int):
    """Rename a department or change its head."""
    try:
        ops.update_department(db(), actor(), department_id, form_data())
    except Invalid as exc:
        flash_failure(exc)
    else:
        flash(gettext("Saved."), "success")
    return redirect(url_for("tenancy.departments"), code=303)


@bp.post("/departments/<int:department_id>/delete")
@login_required
def delete_department(department_id: int):
    """Remove a department no instrument belongs to."""
    try:
        ops.delete_department(db(), actor(), department_id)
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("Department removed."), "success")
    return redirect(url_for("tenancy.departments"), code=303)


@bp.post("/links/<int:link_id>/end")
@login_required
def end_link(link_id: int):
    """End a client link (the firm stops sharing its ledger, or the institute drops the client)."""
    ops.end_client_link(db(), actor(), link_id)
    flash(gettext("The link has been ended."), "success")
    target = "tenancy.clients" if actor().can("clients.view") else "tenancy.organisation"
    return redirect(url_for(target), code=303)


@bp.route("/clients", methods=["GET", "POST"])
@login_required
def clients():
    """The institute's client firms with their counts and contacts; admins register and invite a new one."""
    who = actor()
    who.require("clients.view")
    args = request.args.to_dict() if request.method == "GET" else {}
    filter_errors: dict = {}
    try:
        filters = board.parse_directory_filters(args)
    except Invalid as exc:
        filter_errors, filters = translate_errors(exc.field_errors), {}
    context = {
        "clients": board.client_directory(db(), who, today(), filters),
        "args": args,
        "filter_errors": filter_errors,
        "regions": henan_regions(),
        "industries": benchmark_industries(),
        "values": {},
        "errors": {},
    }
    if request.method == "GET":
        return render_template("tenancy/clients.html", **context), (422 if filter_errors else 200)
    values = form_data()
    try:
        firm, invitation, token = ops.onboard_client(db(), who, values, now_utc(), _config().invitation_days)
    except Invalid as exc:
        return form_error_page("tenancy/clients.html", exc.field_errors, **{**context, "values": values})
    db().commit()
    if send_invitation(invitation, token, who.name, firm):
        message = gettext(
            "%(name)s registered; an invitation went to %(email)s.", name=firm.name, email=invitation.email
        )
        flash(message, "success")
    else:
        message = gettext(
            "%(name)s registered, but the invitation to %(email)s could not be emailed.",
            name=firm.name,
            email=invitation.email,
        )
        flash(message, "warning")
    return redirect(url_for("tenancy.clients"), code=303)


@bp.get("/sign-ins")
@login_required
def sign_ins():
    """The latest sign-in attempts of the organisation's users (admins)."""
    return render_template("tenancy/sign_ins.html", attempts=recent_sign_ins(db(), actor()))
