"""Reading the institute's SME assistance: the plan of a year, the records, the progress per region.

Everything is the institute's (its own tenant rows) and reads only the client firms it serves now
through an active client link.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import extract, select
from sqlalchemy.orm import Session

from models import AssistancePlan, AssistanceRecord, Organization, ServiceOrder, Visit
from service.actors import Actor
from service.assistance import progress as rules
from service.assistance.schemas import AssistanceRecordFilterIn, AssistanceYearIn
from service.errors import NotFound
from service.i18n import N_
from service.schemas import load_or_invalid
from service.scoping import parse_id
from service.tenancy.queries import active_client_ids, active_link
from service.validation import henan_regions, region_name

#: Visits and orders that did not happen are no handling.
_UNDONE_VISITS = ("cancelled",)
_UNDONE_ORDERS = ("cancelled", "declined")


def parse_year(value, default: int) -> int:
    """Return the year given as a query value (``default`` when absent), or raise Invalid."""
    return load_or_invalid(AssistanceYearIn(), {"year": default if value in (None, "") else value})["year"]


@dataclass(frozen=True)
class PlanLine:
    """One region's quota for the year (zero when the plan has none for it)."""

    region_code: str
    region: str
    smes_to_help: int
    smes_for_mms_training: int


def get_plan(session: Session, actor: Actor, year: int) -> list[PlanLine]:
    """Return the year's quota of every region, in the regions' order (zeros where none is set)."""
    actor.require_institute("clients.view")
    quotas = plan_quotas(session, actor.home_org_id, year)
    return [PlanLine(r.code, r.name, *quotas.get(r.code, (0, 0))) for r in henan_regions()]


def has_plan(session: Session, actor: Actor, year: int) -> bool:
    """Whether the institute has entered a plan for ``year``."""
    actor.require_institute("clients.view")
    return bool(plan_quotas(session, actor.home_org_id, year))


def plan_quotas(session: Session, institute_id: int, year: int) -> dict[str, tuple[int, int]]:
    """Return the year's quotas by region code: (SMEs to help, SMEs for MMS training)."""
    rows = session.execute(
        select(
            AssistancePlan.region_code, AssistancePlan.smes_to_help, AssistancePlan.smes_for_mms_training
        ).where(AssistancePlan.org_id == institute_id, AssistancePlan.year == year)
    ).all()
    return {code: (help_, mms) for code, help_, mms in rows}


@dataclass(frozen=True)
class RecordRow:
    """A record with its firm as the lists show it."""

    record: AssistanceRecord
    firm: Organization

    @property
    def firm_name(self) -> str:
        """The firm's name."""
        return self.firm.name

    @property
    def region_code(self) -> str | None:
        """The firm's region."""
        return self.firm.region_code

    @property
    def region(self) -> str | None:
        """The name of the firm's region."""
        return region_name(self.firm.region_code)

    @property
    def size_class(self) -> str | None:
        """The firm's size class (None: unknown)."""
        return self.firm.size_class


def list_records(session: Session, actor: Actor, filters: Mapping) -> list[RecordRow]:
    """Return the institute's records of its served clients, newest first, filtered."""
    actor.require_institute("clients.view")
    wanted = load_or_invalid(AssistanceRecordFilterIn(), filters)
    stmt = (
        select(AssistanceRecord, Organization)
        .join(Organization, Organization.id == AssistanceRecord.firm_id)
        .where(
            AssistanceRecord.org_id == actor.home_org_id,
            AssistanceRecord.firm_id.in_(active_client_ids(actor.home_org_id)),
        )
        .order_by(AssistanceRecord.done_on.desc(), AssistanceRecord.id.desc())
    )
    if wanted.get("year"):
        stmt = stmt.where(extract("year", AssistanceRecord.done_on) == wanted["year"])
    if wanted.get("region"):
        stmt = stmt.where(Organization.region_code == wanted["region"])
    if wanted.get("kind"):
        stmt = stmt.where(AssistanceRecord.kind == wanted["kind"])
    if wanted.get("client") is not None:
        client = get_client(session, actor, wanted["client"])
        stmt = stmt.where(AssistanceRecord.firm_id == client.id)
    return [RecordRow(record, firm) for record, firm in session.execute(stmt).all()]


def get_client(session: Session, actor: Actor, firm_id) -> Organization:
    """Return a client firm the institute serves through an active link, or raise NotFound."""
    actor.require_institute("clients.view")
    firm_id = parse_id(firm_id)
    if firm_id is None or active_link(session, actor.home_org_id, firm_id) is None:
        raise NotFound(N_("Not found."))
    return session.get(Organization, firm_id)


def get_record(session: Session, actor: Actor, record_id) -> AssistanceRecord:
    """Return one of the institute's records of a served client, or raise NotFound."""
    actor.require_institute("clients.view")
    record_id = parse_id(record_id)
    record = None if record_id is None else session.get(AssistanceRecord, record_id)
    if (
        record is None
        or record.org_id != actor.home_org_id
        or active_link(session, actor.home_org_id, record.firm_id) is None
    ):
        raise NotFound(N_("Not found."))
    return record


def served_firms(session: Session, institute_id: int) -> dict[int, Organization]:
    """Return the firms the institute serves now, by id."""
    firms = session.scalars(select(Organization).where(Organization.id.in_(active_client_ids(institute_id))))
    return {firm.id: firm for firm in firms}


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    # An order belongs to the year it was submitted in (UTC; the few hours around New Year aside).
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def green_channel_work(session: Session, institute_id: int, year: int) -> list[int]:
    """Return a firm id per green-channel visit (planned in ``year``) and order (submitted in it)."""
    served = active_client_ids(institute_id)
    visits = session.scalars(
        select(Visit.firm_id).where(
            Visit.institute_id == institute_id,
            Visit.firm_id.in_(served),
            Visit.is_green_channel.is_(True),
            Visit.planned_on.between(date(year, 1, 1), date(year, 12, 31)),
            Visit.state.not_in(_UNDONE_VISITS),
        )
    ).all()
    start, end = _year_bounds(year)
    orders = session.scalars(
        select(ServiceOrder.firm_id).where(
            ServiceOrder.institute_id == institute_id,
            ServiceOrder.firm_id.in_(served),
            ServiceOrder.is_green_channel.is_(True),
            ServiceOrder.created_at >= start,
            ServiceOrder.created_at < end,
            ServiceOrder.state.not_in(_UNDONE_ORDERS),
        )
    ).all()
    return [*visits, *orders]


def year_progress(session: Session, actor: Actor, year: int) -> rules.Progress:
    """Return the year's progress per region against the plan (see service.assistance.progress)."""
    actor.require_institute("clients.view")
    institute_id = actor.home_org_id
    firms = {
        firm.id: rules.Firm(firm.id, firm.region_code, firm.size_class)
        for firm in served_firms(session, institute_id).values()
    }
    records = session.execute(
        select(AssistanceRecord.firm_id, AssistanceRecord.kind).where(
            AssistanceRecord.org_id == institute_id,
            AssistanceRecord.done_on.between(date(year, 1, 1), date(year, 12, 31)),
        )
    ).all()
    return rules.progress(
        year,
        [r.code for r in henan_regions()],
        plan_quotas(session, institute_id, year),
        firms,
        [(firm_id, kind) for firm_id, kind in records],
        green_channel_work(session, institute_id, year),
    )
