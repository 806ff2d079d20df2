"""API: the users of the caller's organisation, and invitations to join it."""

from __future__ import annotations

from flask import current_app, jsonify

from service.api import bp
from service.api.docs import doc, items_of
from service.api.helpers import json_body
from service.clock import now_utc
from service.tenancy import operations as ops
from service.tenancy import queries
from service.tenancy.schemas import InvitationIn, InvitationOut, UserOut, UserUpdateIn
from service.web.context import actor, db
from service.web.mail import send_invitation


@bp.get("/users")
@doc(tags=["users"], responses={200: items_of(UserOut)})
def list_users():
    """List the users of the caller's organisation, by name."""
    return jsonify({"items": UserOut(many=True).dump(queries.list_users(db(), actor()))})


@bp.get("/users/<int:user_id>")
@doc(tags=["users"], responses={200: UserOut}, errors=(404,))
def get_user(user_id: int):
    """Return one user of the caller's organisation."""
    return jsonify(UserOut().dump(queries.get_user(db(), actor(), user_id)))


@bp.patch("/users/<int:user_id>")
@doc(
    tags=["users"],
    summary="Change the given fields only; administrators cannot demote or deactivate themselves.",
    body=UserUpdateIn,
    responses={200: UserOut},
    errors=(400, 403, 404, 409),
)
def update_user(user_id: int):
    """Change a user's name, role, mobile number or active flag (administrators)."""
    queries.get_user(db(), actor(), user_id)  # another firm's id is 404 whatever the body
    return jsonify(UserOut().dump(ops.update_user(db(), actor(), user_id, json_body())))


@bp.post("/invitations")
@doc(
    tags=["users"],
    summary="Email an invitation link; the link itself is never returned.",
    body=InvitationIn,
    responses={201: InvitationOut},
    errors=(400, 403),
)
def invite_user():
    """Invite someone by email to join the organisation with a role (administrators)."""
    who = actor()
    days = current_app.config["CALRECALL"].invitation_days
    invitation, token = ops.invite_user(db(), who, json_body(), now_utc(), days)
    # Commit before emailing, as the web page does: a link must never point to a rolled-back invitation.
    db().commit()
    sent = send_invitation(invitation, token, who.name, queries.get_org(db(), who))
    return jsonify(InvitationOut(email_sent=sent).dump(invitation)), 201
