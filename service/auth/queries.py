"""Reading what sign-in leaves behind: one's own API tokens, the organisation's sign-in log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ApiToken, SignInAttempt
from service.actors import Actor


def list_api_tokens(session: Session, actor: Actor) -> list[ApiToken]:
    """Return the actor's own tokens, newest first."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.org_id == actor.org_id, ApiToken.user_id == actor.user_id)
            .order_by(ApiToken.created_at.desc())
        )
    )


def recent_sign_ins(session: Session, actor: Actor, limit: int = 200) -> list[SignInAttempt]:
    """Return the latest sign-in attempts of the actor's organisation's users (admins' audit)."""
    actor.require("users.manage")
    return list(
        session.scalars(
            select(SignInAttempt)
            .where(SignInAttempt.org_id == actor.org_id)
            .order_by(SignInAttempt.created_at.desc())
            .limit(limit)
        )
    )
