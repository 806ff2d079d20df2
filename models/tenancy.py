"""Organisations (tenants), the institute–client links, users and their credentials."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, TenantScoped, in_org, org_fk, utcnow

ORG_KINDS = ("firm", "institute")
FIRM_ROLES = ("admin", "metrology", "viewer")
#: ``expert``: someone outside the institute (an alliance's member, a reviewer) invited for an award
#: campaign's work only: recommending or reviewing, nothing else of the institute.
INSTITUTE_ROLES = ("admin", "staff", "technician", "expert")
ROLES = ("admin", "metrology", "viewer", "staff", "technician", "expert")
LOCALES = ("zh_Hans_CN", "en")

#: Benchmark programme rule: under 1000 employees or under 400 million yuan revenue is small/medium.
LARGE_MIN_EMPLOYEES = 1000
LARGE_MIN_REVENUE_WAN_YUAN = Decimal(40000)


def size_class_of(employees: int | None, annual_revenue_wan: Decimal | None) -> str | None:
    """Return ``small_medium`` or ``large`` by the benchmark rule, ``None`` when undetermined."""
    small = (employees is not None and employees < LARGE_MIN_EMPLOYEES) or (
        annual_revenue_wan is not None and annual_revenue_wan < LARGE_MIN_REVENUE_WAN_YUAN
    )
    if small:
        return "small_medium"
    if employees is not None and annual_revenue_wan is not None:
        return "large"
    return None


class Organization(Base):
    """A tenant: a client firm or a metrology institute."""

    __tablename__ = "organizations"
    __table_args__ = (CheckConstraint("kind IN ('firm', 'institute')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    #: 统一社会信用代码, 18 characters with a GB 32100 check character.
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    #: GB/T 2260 code of a Henan city or county.
    region_code: Mapped[str | None] = mapped_column(String(6))
    industry: Mapped[str | None] = mapped_column(String(100))
    employees: Mapped[int | None] = mapped_column(Integer)
    #: Annual revenue in 万元 (ten thousand yuan).
    annual_revenue_wan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def size_class(self) -> str | None:
        """Return ``small_medium`` or ``large`` by the benchmark rule, ``None`` when undetermined."""
        return size_class_of(self.employees, self.annual_revenue_wan)


class ClientLink(Base):
    """An institute serving a client firm. Staff see the firm's ledger only while it is active."""

    __tablename__ = "client_links"
    __table_args__ = (UniqueConstraint("institute_id", "firm_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institute_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    firm_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set when either side ends the link; an ended link grants nothing.
    ended_at: Mapped[datetime | None]

    institute: Mapped[Organization] = relationship(foreign_keys=[institute_id])
    firm: Mapped[Organization] = relationship(foreign_keys=[firm_id])

    @property
    def is_active(self) -> bool:
        """Whether the link currently grants the institute access."""
        return self.ended_at is None


class User(TenantScoped, Base):
    """A person who signs in; belongs to exactly one organisation."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("org_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-cased; unique across all organisations because sign-in asks only for the email.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    mobile: Mapped[str | None] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(16), default="zh_Hans_CN")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Part of every session's id: raising it (sign-out, deactivation) ends the user's sessions.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None]
    #: The channels the user wants reminders on; switching one off is an opt-out.
    notify_sms: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    notify_email: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    notify_in_app: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: SHA-256 of the secret in the user's calendar feed address; ``None`` when there is no feed.
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    org: Mapped[Organization] = relationship(lazy="joined")

    #: Flask-Login's protocol: a loaded user is always authenticated, never anonymous.
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        """Return the session identifier: the id, the session version and a fingerprint of the password.

        Changing the password changes the fingerprint and signing out or deactivation raises the
        version; either makes every session cookie issued before unusable, copies included.
        """
        fingerprint = hashlib.sha256(self.password_hash.encode("utf-8")).hexdigest()[:16]
        return f"{self.id}:{self.session_version}:{fingerprint}"

    def end_sessions(self) -> None:
        """Make every session of this user invalid (the cookies stay, the server refuses them)."""
        self.session_version = (self.session_version or 1) + 1


class Department(TenantScoped, Base):
    """A department of a firm (使用部门), which instruments belong to."""

    __tablename__ = "departments"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        UniqueConstraint("org_id", "name"),
        org_fk("head_user_id", "users"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    #: The department's head, who may receive reminders for its instruments.
    head_user_id: Mapped[int | None] = mapped_column(Integer)

    head: Mapped[User | None] = in_org("User", "Department", "head_user_id")


class ApiToken(TenantScoped, Base):
    """A personal API token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"
    __table_args__ = (org_fk("user_id", "users", ondelete="CASCADE"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters of the token, so a user can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    #: When it stops working; None for a token made to last (chosen explicitly).
    expires_at: Mapped[datetime | None]

    user: Mapped[User] = in_org("User", "ApiToken", "user_id")

    def is_expired(self, now: datetime) -> bool:
        """Whether the token has stopped working by ``now``."""
        return self.expires_at is not None and self.expires_at <= now


class Invitation(TenantScoped, Base):
    """An emailed invitation to join an organisation with a role."""

    __tablename__ = "invitations"
    __table_args__ = (org_fk("invited_by_id", "users"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    org: Mapped[Organization] = relationship(viewonly=True, lazy="joined")


class PasswordReset(TenantScoped, Base):
    """A single-use, expiring password reset link; only its SHA-256 is stored."""

    __tablename__ = "password_resets"
    __table_args__ = (org_fk("user_id", "users", ondelete="CASCADE"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = in_org("User", "PasswordReset", "user_id")


class SignInAttempt(Base):
    """One sign-in attempt: the audit trail of sign-ins and the counter behind throttling.

    Not tenant-scoped: an attempt for an unknown email belongs to no organisation.
    """

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index("ix_sign_in_attempts_email_created_at", "email", "created_at"),
        Index("ix_sign_in_attempts_ip_created_at", "ip", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(45))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    is_success: Mapped[bool] = mapped_column(Boolean)
    #: Why it failed (bad_password, unknown_email, throttled, inactive), for the audit view.
    reason: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
