"""Factories for the aggregates tests need: organisations, users, instruments, visits, orders, records."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from models import Department, Instrument, Organization, ServiceOrder, Technician, User, Visit
from service.actors import Actor
from service.clock import now_utc, today_in
from service.ledger import operations as ledger_ops
from service.orders import operations as order_ops
from service.tenancy import operations as tenancy_ops
from service.validation import credit_code_check_char
from service.visits import operations as visit_ops
from service.visits import technicians as visit_technicians

PASSWORD = "correct-horse-9"
#: The address links in notices point at, unless a test says otherwise.
BASE_URL = "https://ledger.example.cn"
#: The parcel of a mail-in order, unless a test says otherwise.
PARCEL = {"courier": "顺丰速运", "tracking_no": "SF1234567890"}
#: The world's instruments were last verified 30 days ago: a result of yesterday renews them,
RENEWING_ON = (today_in("Asia/Shanghai") - timedelta(days=1)).isoformat()
#: and its certificate runs for a year from that day.
RENEWED_UNTIL = (today_in("Asia/Shanghai") + timedelta(days=363)).isoformat()
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


def make_technician(session: Session, actor: Actor, **fields) -> Technician:
    """Add a technician to the acting institute: pressure, eight instruments a day, unless told otherwise."""
    data = {"name": f"技术员{next(_seq)}", "disciplines": ["pressure"], "daily_capacity": 8} | fields
    return visit_technicians.save_technician(session, actor, data)


def make_visit(
    session: Session,
    actor: Actor,
    firm_id: int,
    assignments: Mapping[int, int | None],
    planned_on: date | None = None,
    *,
    today: date | None = None,
    base_url: str = BASE_URL,
    now: datetime | None = None,
) -> Visit:
    """Propose a visit of the acting institute to a linked firm (on ``today`` unless told).

    ``assignments`` maps each instrument's id to its technician's id (or None); the firm's people
    are told.
    """
    today = today or today_in("Asia/Shanghai")
    new = visit_ops.NewVisit(firm_id, planned_on or today, dict(assignments))
    [visit] = visit_ops.create_visits(session, actor, [new], today, base_url, now or now_utc())
    return visit


#: The steps of an order that went the whole way, as its pages and the API list them.
RETURNED_ORDER_STEPS = ["submitted", "accepted", "received", "in_progress", "completed", "returned"]


def make_order(
    session: Session,
    actor: Actor,
    institute_id: int,
    instruments: Iterable[Instrument],
    method: str = "drop_off",
    *,
    today: date | None = None,
    base_url: str = BASE_URL,
    now: datetime | None = None,
    **fields,
) -> ServiceOrder:
    """Submit an order of the acting firm to a linked institute, listing the instruments' numbers.

    A mail-in order comes with a parcel unless ``fields`` says otherwise; the institute is told.
    """
    payload = {
        "institute_id": institute_id,
        "method": method,
        "management_nos": [i.management_no for i in instruments],
        **(PARCEL if method == "mail_in" else {}),
        **fields,
    }
    return order_ops.submit_order(
        session, actor, payload, today or today_in("Asia/Shanghai"), base_url, now or now_utc()
    )


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
