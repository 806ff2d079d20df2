"""Password hashing (argon2) and opaque tokens stored only as hashes."""

from __future__ import annotations

import gzip
import hashlib
import re
import secrets
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from service.errors import invalid_field
from service.i18n import N_

_hasher = PasswordHasher()
MIN_PASSWORD = 8
MAX_PASSWORD = 128
#: Verified against when the email is unknown, so that timing does not reveal which emails exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
DATA = Path(__file__).resolve().parent.parent / "data"


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


@cache
def common_passwords() -> frozenset[str]:
    """Return the shipped list of common passwords, lower-cased (Django's 20,000 and ours)."""
    with gzip.open(DATA / "common_passwords.txt.gz", "rt", encoding="utf-8") as listed:
        words = {line.strip() for line in listed}
    words |= {line.strip() for line in (DATA / "common_passwords_cn.txt").read_text("utf-8").splitlines()}
    return frozenset(w for w in words if w)


def _squeezed(text: str) -> str:
    """Return ``text`` lower-cased without spaces, for finding a name inside a password."""
    return re.sub(r"\s+", "", text).casefold()


def check_password_rules(
    password: str | None, field: str = "password", *, email: str | None = None, org_name: str | None = None
) -> str:
    """Return ``password`` if it is acceptable, else raise :class:`Invalid` saying why.

    Too short or too long, one of the common passwords, or containing the user's email (or the
    part before the @) or the organisation's name are refused.
    """
    if not password or len(password) < MIN_PASSWORD:
        raise invalid_field(field, N_("At least %(count)s characters.", count=MIN_PASSWORD))
    if len(password) > MAX_PASSWORD:
        raise invalid_field(field, N_("At most %(limit)s characters.", limit=MAX_PASSWORD))
    if password.strip().lower() in common_passwords():
        common = N_("This is a common password that is easy to guess; please choose another.")
        raise invalid_field(field, common)
    squeezed = _squeezed(password)
    email = (email or "").strip().lower()
    names = [email, email.partition("@")[0], _squeezed(org_name or "")]
    if any(len(name) >= 3 and name in squeezed for name in names):
        raise invalid_field(
            field, N_("The password must not contain your email or your organisation's name.")
        )
    return password


def new_token(prefix: str) -> str:
    """Return a fresh random token, e.g. ``cal_3k…``."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> str:
    """Return the SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
