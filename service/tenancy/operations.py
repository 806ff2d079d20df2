"""Changing organisations, client links, users, invitations and departments."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from marshmallow import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import (
    ClientLink,
    Department,
    Instrument,
    Invitation,
    Organization,
    ServiceOrder,
    ServiceOrderStep,
    User,
    Visit,
)
from models.base import utcnow
from models.tenancy import FIRM_ROLES, INSTITUTE_ROLES
from service.actors import Actor
from service.auth.secrets import check_password_rules, hash_password, new_token, token_digest
from service.db import across_tenants
from service.errors import FIX_FIELDS, Conflict, Invalid, NotFound, invalid_field
from service.history.chain import append_event, lock_chain, record_event, records_history, start_chain
from service.i18n import N_
from service.schemas import field_errors, load_or_invalid
from service.scoping import get_in_org
from service.tenancy.queries import (
    has_account,
)
from service.tenancy.schemas import (
    DepartmentIn,
    InvitationIn,
    OrgCreateIn,
    OrgProfileIn,
    ProfileIn,
    UserIn,
    UserUpdateIn,
)


def roles_for(kind: str) -> tuple[str, ...]:
    """Return the roles an organisation of ``kind`` has."""
    return INSTITUTE_ROLES if kind == "institute" else FIRM_ROLES


def _check_role(org: Organization, role: str) -> None:
    if role not in roles_for(org.kind):
        raise invalid_field("role", N_("This role does not exist in this kind of organisation."))


def _check_unique_org(session: Session, data: dict, org_id: int | None = None) -> None:
    errors = {}
    if "slug" in data and session.scalar(select(Organization.id).where(Organization.slug == data["slug"])):
        errors["slug"] = [N_("This short name is taken.")]
    if data.get("credit_code"):
        owner = session.scalar(select(Organization.id).where(Organization.credit_code == data["credit_code"]))
        if owner is not None and owner != org_id:
            errors["credit_code"] = [N_("Another organisation is registered with this credit code.")]
    if errors:
        raise Invalid(FIX_FIELDS, errors)


def create_org(session: Session, payload: Mapping) -> Organization:
    """Register an organisation (CLI and institute onboarding); starts its history chain."""
    data = load_or_invalid(OrgCreateIn(), payload)
    _check_unique_org(session, data)
    org = Organization(**data)
    session.add(org)
    session.flush()
    start_chain(session, org.id)
    return org


def update_org_profile(
    session: Session, actor: Actor, payload: Mapping, partial: bool = False
) -> Organization:
    """Change the actor's organisation's profile (admins only); ``partial`` keeps absent fields."""
    actor.require("org.manage")
    data = load_or_invalid(OrgProfileIn(), payload, partial=partial)
    org = session.get(Organization, actor.org_id)
    _check_unique_org(session, data, org.id)
    for key, value in data.items():
        setattr(org, key, value)
    session.flush()
    return org


# Client links -----------------------------------------------------------------------------------


def link_client(session: Session, institute_id: int, firm_id: int) -> ClientLink:
    """Link an institute to a client firm (a link that ended before is reopened)."""
    institute, firm = session.get(Organization, institute_id), session.get(Organization, firm_id)
    if institute is None or firm is None or institute.kind != "institute" or firm.kind != "firm":
        raise Invalid(N_("A client link joins an institute to a firm."))
    link = session.scalar(
        select(ClientLink).where(ClientLink.institute_id == institute_id, ClientLink.firm_id == firm_id)
    )
    if link is None:
        link = ClientLink(institute_id=institute_id, firm_id=firm_id)
        session.add(link)
    link.ended_at = None
    session.flush()
    return link


def end_client_link(session: Session, actor: Actor, link_id: int) -> ClientLink:
    """End a client link, from either side (institute or firm admins)."""
    actor.require("org.manage")
    link = session.get(ClientLink, link_id)
    if (
        link is None
        or actor.home_org_id not in (link.institute_id, link.firm_id)
        or link.ended_at is not None
    ):
        raise NotFound(N_("Not found."))
    pair = (ServiceOrder.institute_id == link.institute_id, ServiceOrder.firm_id == link.firm_id)
    held = session.scalar(
        select(ServiceOrder.id)
        .where(*pair, ServiceOrder.holds_instruments(), ServiceOrder.state.not_in(("submitted", "accepted")))
        .limit(1)
    )
    if held is not None:
        # The instruments are at the institute: the link ends once they are back, not before.
        raise Conflict(
            N_("Service order #%(no)s still holds instruments: end the link once they are returned.", no=held)
        )
    link.ended_at = utcnow()
    # Orders not yet under way end with the link, each with its step; so do planned visits, which
    # would hold technicians' time nobody could release.
    waiting = session.scalars(
        select(ServiceOrder).where(*pair, ServiceOrder.state.in_(("submitted", "accepted")))
    ).all()
    for order in waiting:
        order.state = "cancelled"
        session.add(
            ServiceOrderStep(
                order_id=order.id,
                firm_id=order.firm_id,
                state="cancelled",
                side="institute" if actor.home_org_id == link.institute_id else "firm",
                actor_name=actor.name,
                reason=None,  # the step names who ended the link
                at=utcnow(),
            )
        )
    session.execute(
        update(Visit)
        .where(
            Visit.institute_id == link.institute_id,
            Visit.firm_id == link.firm_id,
            Visit.state.in_(("proposed", "confirmed", "reschedule_requested")),
        )
        .values(state="cancelled")
    )
    session.flush()
    return link


def onboard_client(session: Session, actor: Actor, payload: Mapping, now: datetime, days: int):
    """Register a client firm, link it to the actor's institute and invite its first admin."""
    actor.require("clients.manage")
    data = dict(payload)
    admin_email = (data.pop("admin_email", None) or "").strip().lower()
    try:
        InvitationIn().load({"email": admin_email, "role": "admin"})
    except ValidationError as exc:
        raise Invalid(FIX_FIELDS, {"admin_email": field_errors(exc).get("email", [])}) from exc
    if has_account(session, admin_email):
        raise invalid_field("admin_email", N_("A user with this email already exists."))
    with across_tenants(session):  # the invitation belongs to the new firm, not to the institute
        firm = create_org(session, {**data, "kind": "firm"})
        link_client(session, actor.home_org_id, firm.id)
        invitation, token = _new_invitation(session, firm.id, admin_email, "admin", None, now, days)
    return firm, invitation, token


# Users -------------------------------------------------------------------------------------------


def create_user(session: Session, org: Organization, payload: Mapping, password: str) -> User:
    """Create a user in ``org`` (CLI, demo data and invitation acceptance)."""
    data = load_or_invalid(UserIn(), payload)
    data["email"] = data["email"].lower()
    _check_role(org, data["role"])
    check_password_rules(password, email=data["email"], org_name=org.name)
    if has_account(session, data["email"]):
        raise invalid_field("email", N_("A user with this email already exists."))
    lock_chain(session, org.id)
    user = User(org_id=org.id, password_hash=hash_password(password), **data)
    session.add(user)
    session.flush()
    append_event(session, org.id, "user.created", ("user", user.id), {"email": user.email, "role": user.role})
    return user


@records_history
def update_user(session: Session, actor: Actor, user_id: int, payload: Mapping) -> User:
    """Change a user's name, role, mobile or active flag (admins only; never to lock oneself out)."""
    actor.require("users.manage")
    user = get_in_org(session, User, user_id, actor)
    data = load_or_invalid(UserUpdateIn(), payload, partial=True)
    if "role" in data:
        _check_role(user.org, data["role"])
    if user.id == actor.user_id and (data.get("role", "admin") != "admin" or data.get("is_active") is False):
        raise Conflict(N_("You cannot remove your own administrator rights."))
    changes = {key: [getattr(user, key), value] for key, value in data.items() if getattr(user, key) != value}
    for key, value in data.items():
        setattr(user, key, value)
    if changes.get("is_active") == [True, False]:
        user.end_sessions()  # signed out now, and still signed out if reactivated later
    session.flush()
    if changes:
        # Roles and activation decide who may approve: they belong in the tamper-evident history.
        record_event(session, actor, "user.updated", ("user", user.id), {"changes": changes})
    return user


def update_own_profile(session: Session, user: User, payload: Mapping) -> User:
    """Change one's own name, mobile and language."""
    data = load_or_invalid(ProfileIn(), payload)
    for key, value in data.items():
        setattr(user, key, value)
    session.flush()
    return user


# Invitations --------------------------------------------------------------------------------------


def _new_invitation(session, org_id, email, role, invited_by_id, now, days) -> tuple[Invitation, str]:
    token = new_token("inv")
    invitation = Invitation(
        org_id=org_id,
        email=email,
        role=role,
        token_hash=token_digest(token),
        invited_by_id=invited_by_id,
        expires_at=now + timedelta(days=days),
    )
    session.add(invitation)
    session.flush()
    return invitation, token


def invite_user(
    session: Session, actor: Actor, payload: Mapping, now: datetime, days: int
) -> tuple[Invitation, str]:
    """Invite someone by email to join the actor's organisation; returns the token to email.

    An open invitation to the same address is replaced by this one (one link, the newest). A user
    of another organisation is invited like any address, so that no firm can find out who has an
    account elsewhere: the caller emails that person :func:`has_account` instead of the link.
    """
    actor.require("users.manage")
    data = load_or_invalid(InvitationIn(), payload)
    email = data["email"].lower()
    org = session.get(Organization, actor.org_id)
    _check_role(org, data["role"])
    if session.scalar(select(User.id).where(User.org_id == org.id, func.lower(User.email) == email)):
        raise invalid_field("email", N_("A user with this email already exists."))
    for pending in session.scalars(
        select(Invitation).where(
            Invitation.org_id == org.id,
            func.lower(Invitation.email) == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
    ):
        pending.revoked_at = now  # the fresh link replaces it
    return _new_invitation(session, org.id, email, data["role"], actor.user_id, now, days)


def revoke_invitation(session: Session, actor: Actor, invitation_id: int, now: datetime) -> Invitation:
    """Withdraw an invitation that has not been accepted."""
    actor.require("users.manage")
    invitation = get_in_org(session, Invitation, invitation_id, actor)
    if invitation.accepted_at is not None:
        raise Conflict(N_("This invitation has already been accepted."))
    invitation.revoked_at = now
    session.flush()
    return invitation


def reissue_invitation(
    session: Session, actor: Actor, invitation_id: int, now: datetime, days: int
) -> tuple[Invitation, str]:
    """Replace an open invitation with a fresh link (tokens are stored hashed: none can be re-sent)."""
    actor.require("users.manage")
    old = get_in_org(session, Invitation, invitation_id, actor)
    if old.accepted_at is not None:
        raise Conflict(N_("This invitation has already been accepted."))
    old.revoked_at = old.revoked_at or now
    return _new_invitation(session, actor.org_id, old.email, old.role, actor.user_id, now, days)


def open_invitation(session: Session, token: str, now: datetime) -> Invitation:
    """Return the invitation behind a token if it can still be accepted, else raise NotFound."""
    invitation = session.scalar(
        select(Invitation)
        .where(Invitation.token_hash == token_digest(token))
        .execution_options(all_tenants=True)
    )
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= now
    ):
        raise NotFound(N_("This invitation link is invalid or has expired."))
    if has_account(session, invitation.email):
        # Accepted elsewhere meanwhile (another firm's invitation): the address has an account.
        raise Conflict(
            N_("An account with this email already exists: sign in with it, or ask for another invitation.")
        )
    return invitation


def accept_invitation(session: Session, token: str, payload: Mapping, password: str, now: datetime) -> User:
    """Create the invited user with the name and password they chose; the link is then used up."""
    invitation = open_invitation(session, token, now)
    details = {k: v for k, v in payload.items() if k in ("name", "mobile", "locale")}
    user = create_user(
        session, invitation.org, {**details, "email": invitation.email, "role": invitation.role}, password
    )
    invitation.accepted_at = now
    session.flush()
    return user


# Departments --------------------------------------------------------------------------------------


def _save_department(
    session: Session, actor: Actor, department: Department, payload: Mapping, partial: bool = False
) -> Department:
    data = {"name": department.name, "head_user_id": department.head_user_id} if partial else {}
    data |= load_or_invalid(DepartmentIn(), payload, partial=partial)
    if data.get("head_user_id") is not None:
        get_in_org(session, User, data["head_user_id"], actor)
    clash = session.scalar(
        select(Department.id).where(
            Department.org_id == actor.org_id,
            Department.name == data["name"],
            Department.id != (department.id or 0),
        )
    )
    if clash is not None:
        raise invalid_field("name", N_("A department with this name already exists."))
    department.name = data["name"]
    department.head_user_id = data.get("head_user_id")
    session.add(department)
    session.flush()
    return department


def create_department(session: Session, actor: Actor, payload: Mapping) -> Department:
    """Add a department to the actor's firm."""
    actor.require("departments.manage")
    return _save_department(session, actor, Department(org_id=actor.org_id), payload)


def update_department(
    session: Session, actor: Actor, department_id: int, payload: Mapping, partial: bool = False
) -> Department:
    """Rename a department or change its head."""
    actor.require("departments.manage")
    return _save_department(
        session, actor, get_in_org(session, Department, department_id, actor), payload, partial
    )


def delete_department(session: Session, actor: Actor, department_id: int) -> None:
    """Remove a department that no instrument belongs to."""
    actor.require("departments.manage")
    department = get_in_org(session, Department, department_id, actor)
    used = session.scalar(
        select(func.count(Instrument.id)).where(
            Instrument.org_id == actor.org_id, Instrument.department_id == department.id
        )
    )
    if used:
        raise Conflict(N_("%(count)s instruments still belong to this department.", count=used))
    session.delete(department)
    session.flush()
