"""Reading organisations, client links, users, invitations and departments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    ClientLink,
    Department,
    Invitation,
    Organization,
    User,
)
from service.actors import Actor
from service.errors import NotFound
from service.i18n import N_
from service.scoping import get_in_org


def linked_institutes(session: Session, actor: Actor) -> list[Organization]:
    """Return the institutes the actor's firm is linked to (candidates for the laboratory)."""
    return list(
        session.scalars(
            select(Organization)
            .join(ClientLink, ClientLink.institute_id == Organization.id)
            .where(ClientLink.firm_id == actor.org_id, ClientLink.ended_at.is_(None))
            .order_by(Organization.name)
        )
    )


def get_org(session: Session, actor: Actor) -> Organization:
    """Return the organisation the actor acts on."""
    return session.get(Organization, actor.org_id)


def active_link(session: Session, institute_id: int, firm_id: int) -> ClientLink | None:
    """Return the active link between an institute and a firm, if there is one."""
    return session.scalar(
        select(ClientLink).where(
            ClientLink.institute_id == institute_id,
            ClientLink.firm_id == firm_id,
            ClientLink.ended_at.is_(None),
        )
    )


def client_actor(session: Session, actor: Actor, firm_id: int) -> Actor:
    """Return the actor acting on a client firm, or raise NotFound when no active link exists.

    NotFound, not Forbidden, also for users who may not view clients at all: the answer must not
    depend on whether the firm exists.
    """
    if not actor.can("clients.view") or active_link(session, actor.home_org_id, firm_id) is None:
        raise NotFound(N_("Not found."))
    return actor.for_client(firm_id)


def list_clients(session: Session, actor: Actor) -> list[tuple[ClientLink, Organization]]:
    """Return the institute's active client links with their firms, by name."""
    actor.require("clients.view")
    return _active_links(session, ClientLink.institute_id, actor.home_org_id, ClientLink.firm_id)


def list_institutes(session: Session, actor: Actor) -> list[tuple[ClientLink, Organization]]:
    """Return the institutes that serve the actor's firm through an active link."""
    return _active_links(session, ClientLink.firm_id, actor.org_id, ClientLink.institute_id)


def _active_links(
    session: Session, own_side, org_id: int, other_side
) -> list[tuple[ClientLink, Organization]]:
    """Return the active links with ``org_id`` on ``own_side``, and the organisations on the other side."""
    rows = session.execute(
        select(ClientLink, Organization)
        .join(Organization, Organization.id == other_side)
        .where(own_side == org_id, ClientLink.ended_at.is_(None))
        .order_by(Organization.name)
    ).all()
    return [(link, org) for link, org in rows]


def active_client_ids(institute_id: int):
    """Return a subquery of the firms with an active link to ``institute_id`` (for ``IN``).

    Every cross-tenant read of the institute goes through it: a firm that ends its link leaves
    every list, board and plan at once.
    """
    return select(ClientLink.firm_id).where(
        ClientLink.institute_id == institute_id, ClientLink.ended_at.is_(None)
    )


def list_users(session: Session, actor: Actor) -> list[User]:
    """Return the users of the actor's organisation, by name."""
    return list(session.scalars(select(User).where(User.org_id == actor.org_id).order_by(User.name, User.id)))


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    """Return a user of the actor's organisation or raise NotFound."""
    return get_in_org(session, User, user_id, actor)


def has_account(session: Session, email: str) -> bool:
    """Whether ``email`` already belongs to a user (of any organisation): it cannot be invited."""
    return (
        session.scalar(
            select(User.id).where(func.lower(User.email) == email.lower()).execution_options(all_tenants=True)
        )
        is not None
    )


def list_invitations(session: Session, actor: Actor, now: datetime) -> list[Invitation]:
    """Return the organisation's open invitations."""
    actor.require("users.manage")
    return list(
        session.scalars(
            select(Invitation)
            .where(
                Invitation.org_id == actor.org_id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
            .order_by(Invitation.created_at.desc())
        )
    )


def list_departments(session: Session, actor: Actor) -> list[Department]:
    """Return the departments of the actor's organisation, by name."""
    return list(
        session.scalars(select(Department).where(Department.org_id == actor.org_id).order_by(Department.name))
    )


def get_department(session: Session, actor: Actor, department_id: int) -> Department:
    """Return one department of the actor's organisation or raise NotFound."""
    return get_in_org(session, Department, department_id, actor)
