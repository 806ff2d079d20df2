"""Signing in with throttling, password resets and changes, and API tokens."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import ApiToken, PasswordReset, SignInAttempt, User
from models.base import utcnow
from service.actors import Actor
from service.auth.secrets import (
    check_password_rules,
    hash_password,
    needs_rehash,
    new_token,
    token_digest,
    verify_password,
)
from service.errors import FIX_FIELDS, Invalid, NotFound, Throttled, invalid_field
from service.i18n import N_
from service.scoping import get_in_org, parse_id

ALL = {"all_tenants": True}


@dataclass(frozen=True)
class ThrottlePolicy:
    """How failed sign-ins slow further attempts down.

    Failures are counted per account *and* client address, so that a stranger guessing at an
    account slows only themselves: the owner signing in from elsewhere is not affected. After
    ``free`` failures each further attempt must wait ``first_pause`` × 2ⁿ after the last failure,
    up to ``max_pause``. One address failing ``per_address`` times within ``window``, whatever the
    accounts, is refused for the window (guessing one password across many accounts).
    """

    free: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)
    first_pause: timedelta = timedelta(seconds=1)
    max_pause: timedelta = timedelta(minutes=15)

    def pause_after(self, failures: int) -> timedelta:
        """Return the wait after the last of ``failures`` failures of an account and address."""
        if failures < self.free:
            return timedelta(0)
        return min(self.max_pause, self.first_pause * 2 ** min(failures - self.free, 32))


def _failures(session: Session, since: datetime, *conditions) -> tuple[int, datetime | None]:
    """Count failed guesses and return the latest; refusals while throttled are not guesses."""
    count, last = session.execute(
        select(func.count(SignInAttempt.id), func.max(SignInAttempt.created_at)).where(
            *conditions,
            SignInAttempt.is_success.is_(False),
            SignInAttempt.reason != "throttled",
            SignInAttempt.created_at >= since,
        )
    ).one()
    return count, last


def _serialise_attempts(session: Session, email: str) -> None:
    """Make concurrent attempts on one account count one after another (PostgreSQL).

    Without it, parallel requests would all read the count before any of them is recorded. SQLite
    needs nothing: sign-in requests take the database's write lock at BEGIN.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(email))))


def _record(session, email, ip, user, success, reason, now) -> None:
    session.add(
        SignInAttempt(
            email=email,
            ip=ip,
            user_id=user.id if user else None,
            org_id=user.org_id if user else None,
            is_success=success,
            reason=reason,
            created_at=now,
        )
    )
    session.flush()


def _wait_message(wait: timedelta):
    seconds = max(1, math.ceil(wait.total_seconds()))
    if seconds < 60:
        return N_("Too many failed sign-ins. Please wait %(seconds)s seconds and try again.", seconds=seconds)
    return N_(
        "Too many failed sign-ins. Please wait %(minutes)s minutes and try again.",
        minutes=math.ceil(seconds / 60),
    )


def authenticate(
    session: Session, email: str, password: str, ip: str, now: datetime, policy: ThrottlePolicy
) -> User:
    """Return the user whose email and password match; record the attempt either way.

    Refuses with :class:`Throttled` while this account and address must pause, or while the
    address has failed too often, before checking the password, so guessing cannot continue. The
    failure that leaves one attempt before a pause says so.
    """
    email = (email or "").strip().lower()[:254]
    since = now - policy.window
    _serialise_attempts(session, email)
    user = session.scalar(select(User).where(User.email == email).execution_options(**ALL))
    pair = (SignInAttempt.email == email, SignInAttempt.ip == ip)
    last_success = session.scalar(
        select(func.max(SignInAttempt.created_at)).where(
            *pair, SignInAttempt.is_success.is_(True), SignInAttempt.created_at >= since
        )
    )
    failures, last_failure = _failures(session, max(since, last_success or since), *pair)
    wait = last_failure + policy.pause_after(failures) - now if last_failure else timedelta(0)
    if wait <= timedelta(0) and _failures(session, since, SignInAttempt.ip == ip)[0] >= policy.per_address:
        wait = policy.window
    if wait > timedelta(0):
        _record(session, email, ip, user, False, "throttled", now)
        raise Throttled(_wait_message(wait))
    if not verify_password(user.password_hash if user else None, password or ""):
        reason = "bad_password" if user else "unknown_email"
    elif not user.is_active:
        reason = "inactive"
    else:
        reason = None
    if reason:
        _record(session, email, ip, user, False, reason, now)
        if failures + 1 == policy.free - 1:
            raise Invalid(
                N_("Wrong email or password. One more wrong attempt and signing in pauses for a while.")
            )
        raise Invalid(N_("Wrong email or password."))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_sign_in_at = now
    _record(session, email, ip, user, True, None, now)
    return user


def load_session_user(session: Session, session_id: str) -> User | None:
    """Return the active user of a session cookie, unless its password or session version is stale."""
    user_id, _, _fingerprint = session_id.partition(":")
    if parse_id(user_id) is None:
        return None
    user = session.scalar(select(User).where(User.id == int(user_id)).execution_options(**ALL))
    if user is None or not user.is_active or user.get_id() != session_id:
        return None
    return user


def request_password_reset(
    session: Session, email: str, now: datetime, hours: int
) -> tuple[User, str] | None:
    """Create a reset link for an active user with this email; ``None`` when there is none.

    The caller says the same thing either way, so the form does not reveal who has an account.
    """
    email = (email or "").strip().lower()
    user = session.scalar(select(User).where(User.email == email).execution_options(**ALL))
    if user is None or not user.is_active:
        return None
    recent = session.scalar(
        select(func.count(PasswordReset.id))
        .where(PasswordReset.user_id == user.id, PasswordReset.created_at >= now - timedelta(hours=1))
        .execution_options(**ALL)
    )
    if recent >= 3:
        return None
    token = new_token("pwr")
    session.add(
        PasswordReset(
            org_id=user.org_id,
            user_id=user.id,
            token_hash=token_digest(token),
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    session.flush()
    return user, token


def open_password_reset(session: Session, token: str, now: datetime) -> PasswordReset:
    """Return the reset behind a token if it is unused and unexpired, else raise NotFound."""
    reset = session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == token_digest(token)).execution_options(**ALL)
    )
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        raise NotFound(N_("This password reset link is invalid or has expired."))
    return reset


def reset_password(session: Session, token: str, password: str, now: datetime) -> User:
    """Set a new password through a reset link; the link and every other open link are used up."""
    reset = open_password_reset(session, token, now)
    user = session.scalar(select(User).where(User.id == reset.user_id).execution_options(**ALL))
    check_password_rules(password, email=user.email, org_name=user.org.name)
    user.password_hash = hash_password(password)
    open_links = session.scalars(
        select(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .execution_options(**ALL)
    )
    for link in open_links:
        link.used_at = now
    session.flush()
    return user


def change_password(session: Session, user: User, current: str, new: str) -> User:
    """Change one's password; every other session of the user ends with the old fingerprint."""
    if not verify_password(user.password_hash, current or ""):
        raise invalid_field("current_password", N_("Wrong password."))
    check_password_rules(new, "new_password", email=user.email, org_name=user.org.name)
    user.password_hash = hash_password(new)
    session.flush()
    return user


#: How long a new token may work, in days; "never" must be chosen explicitly.
TOKEN_LIFETIMES = (30, 90, 365)
DEFAULT_TOKEN_DAYS = 90
NEVER = "never"


def create_api_token(
    session: Session,
    actor: Actor,
    name: str | None,
    days: int | str | None = DEFAULT_TOKEN_DAYS,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a personal API token; the token is returned once and only its hash is kept.

    It works for ``days`` (one of :data:`TOKEN_LIFETIMES`, as a number or text) or, given
    :data:`NEVER`, until it is revoked.
    """
    errors = {}
    name = (name or "").strip()
    if not name or len(name) > 100:
        errors["name"] = [N_("Give the token a name (at most 100 characters).")]
    lifetime = _lifetime(days)
    if lifetime is False:
        errors["days"] = [N_("Choose how long the token works: 30, 90 or 365 days, or until revoked.")]
    if errors:
        raise Invalid(FIX_FIELDS, errors)
    token, now = new_token("cal"), now or utcnow()
    api_token = ApiToken(
        org_id=actor.org_id,
        user_id=actor.user_id,
        name=name,
        token_hash=token_digest(token),
        prefix=token[:8],
        created_at=now,
        expires_at=now + timedelta(days=lifetime) if lifetime else None,
    )
    session.add(api_token)
    session.flush()
    return api_token, token


def _lifetime(days: int | str | None) -> int | None | bool:
    """Return the days a token works, None for until revoked, or False for anything else."""
    if days == NEVER:
        return None
    if isinstance(days, str) and days.isascii() and days.isdigit():
        days = int(days)
    return days if type(days) is int and days in TOKEN_LIFETIMES else False


def revoke_api_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    """Revoke one of the actor's own tokens."""
    api_token = get_in_org(session, ApiToken, token_id, actor)
    if api_token.user_id != actor.user_id:
        raise NotFound(N_("Not found."))
    api_token.revoked_at = api_token.revoked_at or utcnow()
    session.flush()
    return api_token


def user_for_api_token(session: Session, token: str, now: datetime) -> User | None:
    """Return the active user a bearer token belongs to, and note its use."""
    # One statement for the token and its user: it runs before every API request.
    found = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_digest(token))
        .execution_options(**ALL)
    ).first()
    if found is None:
        return None
    api_token, user = found
    if api_token.revoked_at is not None or api_token.is_expired(now) or not user.is_active:
        return None
    if api_token.last_used_at is None or now - api_token.last_used_at > timedelta(minutes=5):
        api_token.last_used_at = now
    return user
