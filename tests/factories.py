"""Factories for the aggregates tests need: organisations, users, departments, instruments."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session

from models import Department, Instrument, Organization, User
from service.actors import Actor
from service.clock import today_in
from service.ledger import operations as ledger_ops
from service.tenancy import operations as tenancy_ops
from service.validation import credit_code_check_char

PASSWORD = "correct-horse-9"
_seq = itertools.count(1)


def credit_code(n: int) -> str:
    first17 = f"91410100MA{n:07d}"
    return first17 + credit_code_check_char(first17)


def make_org(session: Session, kind: str = "firm", slug: str | None = None, **profile) -> Organization:
    n = next(_seq)
    data = {"slug": slug or f"{kind}-{n}", "name": profile.pop("name", f"{kind.title()} {n}"), "kind": kind}
    return tenancy_ops.create_org(session, data | profile)


def make_user(session: Session, org: Organization, role: str = "admin", **details) -> User:
    n = next(_seq)
    data = {
        "email": details.pop("email", f"{role}{n}@{org.slug}.test"),
        "name": details.pop("name", f"{role} {n}"),
        "role": role,
    } | details
    return tenancy_ops.create_user(session, org, data, PASSWORD)


def make_department(session: Session, actor: Actor, name: str | None = None) -> Department:
    return tenancy_ops.create_department(session, actor, {"name": name or f"Dept {next(_seq)}"})


def make_instrument(session: Session, actor: Actor, today: date | None = None, **fields) -> Instrument:
    n = next(_seq)
    data = {"management_no": f"MN-{n:05d}", "name": "压力表", "interval_months": 12} | fields
    return ledger_ops.create_instrument(session, actor, data, today or today_in("Asia/Shanghai"))


def make_verified_instrument(session: Session, tenant: Tenant, today: date, **fields) -> Instrument:
    """Make an instrument verified every 12 months, last on 2025-11-20, and commit it."""
    values = {"last_done_on": date(2025, 11, 20), "interval_months": 12, "control_method": "verification"}
    instrument = make_instrument(session, tenant.actor(), today, **(values | fields))
    session.commit()
    return instrument


@dataclass
class Tenant:
    org: Organization
    admin: User
    metrology: User
    viewer: User
    department: Department
    instruments: list[Instrument] = field(default_factory=list)

    def actor(self, role: str = "metrology") -> Actor:
        return Actor.of(getattr(self, role))


@dataclass
class World:
    a: Tenant
    b: Tenant
    institute: Organization
    institute_admin: User
    institute_staff: User
    institute_technician: User

    @classmethod
    def build(cls, session: Session) -> World:
        tenants = []
        for _ in range(2):
            org = make_org(session, "firm")
            admin, metrology, viewer = (make_user(session, org, r) for r in ("admin", "metrology", "viewer"))
            dept = make_department(session, Actor.of(admin))
            tenant = Tenant(org, admin, metrology, viewer, dept)
            # Last verified a month ago: due in about eleven months, outside every recall window.
            last = (today_in("Asia/Shanghai") - timedelta(days=30)).isoformat()
            tenant.instruments = [
                make_instrument(session, tenant.actor(), department_id=dept.id, last_done_on=last)
                for _ in range(3)
            ]
            tenants.append(tenant)
        institute = make_org(session, "institute")
        inst_users = [make_user(session, institute, r) for r in ("admin", "staff", "technician")]
        tenancy_ops.link_client(session, institute.id, tenants[0].org.id)
        return cls(tenants[0], tenants[1], institute, *inst_users)


def make_record(session: Session, actor: Actor, instrument_id: int, storage, **fields):
    """Record a passed verification (with a one-page PDF attached) against an instrument."""
    import io
    from pathlib import Path

    from service.traceability import operations as records
    from tests.files import pdf_bytes

    payload = {
        "kind": "verification",
        "performed_on": "2026-01-05",
        "conclusion": "pass",
        "lab_name": "河南省计量测试科学研究院",
        "certificate_no": f"JD-{next(_seq)}",
    } | fields
    return records.record_result(
        session,
        actor,
        instrument_id,
        payload,
        today_in("Asia/Shanghai"),
        uploads=[(io.BytesIO(pdf_bytes()), "certificate.pdf")],
        storage=Path(storage),
    )
