"""Password hashing (argon2) and opaque tokens stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from service.errors import Invalid
from service.i18n import N_

_hasher = PasswordHasher()
MIN_PASSWORD = 8
MAX_PASSWORD = 128
#: Verified against when the email is unknown, so that timing does not reveal which emails exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def use_hasher(hasher: PasswordHasher) -> None:
    """Replace the hasher (tests use cheap parameters; production keeps argon2-cffi's defaults)."""
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    """Return the argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (a missing hash still costs one verification)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


def check_password_rules(password: str | None, field: str = "password") -> str:
    """Return ``password`` if it is acceptable, else raise :class:`Invalid`."""
    if not password or len(password) < MIN_PASSWORD:
        raise Invalid(
            N_("Please correct the marked fields."),
            {field: [N_("At least %(count)s characters.", count=MIN_PASSWORD)]},
        )
    if len(password) > MAX_PASSWORD:
        raise Invalid(
            N_("Please correct the marked fields."),
            {field: [N_("At most %(limit)s characters.", limit=MAX_PASSWORD)]},
        )
    return password


def new_token(prefix: str) -> str:
    """Return a fresh random token, e.g. ``cal_3k…``."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> str:
    """Return the SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
