"""The institute's view across its linked clients: the directory's counts and the due board.

Reads across tenants on purpose, and only so far: every query here names the firms with an active
client link to the actor's institute (``org_id IN`` those firms) and opts out of the session's
tenant filter with ``all_tenants``. A firm that ends its link drops out of every answer at once;
a firm that was never linked is never read. Institute users only: a firm's user (or an institute
user inside a client's ledger) finds nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import BinaryIO

from marshmallow import fields
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from models import ClientLink, Instrument, Organization, TechnicianDayOff, User
from models.ledger import RECALLED_STATUSES
from service.actors import Actor
from service.errors import NotFound, invalid_field
from service.i18n import N_, Gettext, render
from service.ledger_io.columns import neutralise
from service.ledger_io.exporter import DATE_FORMAT, display_width, open_workbook
from service.names import STATUS_NAMES
from service.schemas import Choice, Flag, StrictSchema, WholeNumber, int_range, load_or_invalid
from service.tenancy import queries as tenancy_queries
from service.validation import henan_regions, region_name
from service.visits.disciplines import DISCIPLINE_NAMES, DISCIPLINES, discipline_of
from service.visits.proposals import linked_clients

log = logging.getLogger(__name__)

#: The windows a board offers at a click; any other from 1 to ``MAX_WINDOW`` days may be typed.
WINDOWS = (30, 60, 90)
DEFAULT_WINDOW = 30
MAX_WINDOW = 366
#: The directory's "due soon" columns.
SOON_DAYS = (30, 90)
SME = "small_medium"


def require_institute(actor: Actor) -> None:
    """Refuse anyone but an institute's own users (404): these are the institute's tools."""
    if actor.home_org_kind != "institute" or actor.via_client_link:
        raise NotFound(N_("Not found."))
    actor.require("clients.view")


def _region_codes() -> tuple[str, ...]:
    return tuple(r.code for r in henan_regions())


def _region_order(code: str | None) -> tuple[int, str]:
    """Cities first, then the directly administered counties, in the reference list's order; none last."""
    order = {c: i for i, c in enumerate(_region_codes())}
    return (order.get(code, len(order)), code or "")


# -- The client directory ------------------------------------------------------------------------


class DirectoryFilter(StrictSchema):
    """The filters of the client directory (web query string and API alike)."""

    region = Choice(_region_codes(), metadata={"description": "A GB/T 2260 code of a Henan region."})
    sme = Flag(allow_none=True, metadata={"description": "true: SMEs only; false: the others only."})


@dataclass(frozen=True)
class ClientCounts:
    """A client's instruments and how many of those still in use fall due soon or are overdue."""

    instruments: int = 0
    due_30: int = 0
    due_90: int = 0
    overdue: int = 0
    mandatory_overdue: int = 0


@dataclass(frozen=True)
class Contact:
    """An administrator of a client firm: whom the institute calls."""

    name: str
    mobile: str | None
    email: str


@dataclass(frozen=True)
class ClientEntry:
    """One client of the directory: the link, the firm, its counts and its contacts."""

    link: ClientLink
    firm: Organization
    counts: ClientCounts
    contacts: tuple[Contact, ...]

    @property
    def region(self) -> str | None:
        """Return the name of the firm's city or directly administered county."""
        return region_name(self.firm.region_code)

    @property
    def is_sme(self) -> bool:
        """Whether the firm is small or medium-sized (中小企业绿色通道: its work comes first in plans)."""
        return self.firm.size_class == SME


def parse_directory_filters(args: Mapping) -> dict:
    """Validate the directory's filters; raise :class:`Invalid` with a message per filter."""
    return load_or_invalid(DirectoryFilter(), args)


def client_counts(session: Session, firm_ids: list[int], today: date) -> dict[int, ClientCounts]:
    """Count each firm's instruments, due within 30 and 90 days, overdue, mandatory overdue: one query.

    Due and overdue count only instruments still expected back (in service, out for calibration,
    under repair), as the firm's own recall lists do; "due within" runs from today.
    """
    if not firm_ids:
        return {}

    def count_if(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    recalled = Instrument.status.in_(RECALLED_STATUSES)
    overdue = and_(recalled, Instrument.next_due_on < today)
    due_within = [
        count_if(and_(recalled, Instrument.next_due_on.between(today, today + timedelta(days=days))))
        for days in SOON_DAYS
    ]
    rows = session.execute(
        select(
            Instrument.org_id,
            func.count(Instrument.id),
            *due_within,
            count_if(overdue),
            count_if(and_(overdue, Instrument.is_mandatory.is_(True))),
        )
        .where(Instrument.org_id.in_(firm_ids))
        .group_by(Instrument.org_id)
        .execution_options(all_tenants=True)  # the linked firms only, named above
    )
    return {org_id: ClientCounts(*(int(v) for v in values)) for org_id, *values in rows}


def client_contacts(session: Session, firm_ids: list[int]) -> dict[int, tuple[Contact, ...]]:
    """Return the active administrators of each firm, by name: one query."""
    if not firm_ids:
        return {}
    found: dict[int, list[Contact]] = defaultdict(list)
    rows = session.execute(
        select(User.org_id, User.name, User.mobile, User.email)
        .where(User.org_id.in_(firm_ids), User.role == "admin", User.is_active.is_(True))
        .order_by(User.org_id, User.name, User.id)
        .execution_options(all_tenants=True)  # the linked firms only, named above
    )
    for org_id, name, mobile, email in rows:
        found[org_id].append(Contact(name, mobile, email))
    return {org_id: tuple(contacts) for org_id, contacts in found.items()}


def client_directory(
    session: Session, actor: Actor, today: date, filters: Mapping | None = None
) -> list[ClientEntry]:
    """Return the institute's linked clients, filtered by region and SME flag, with counts and contacts."""
    require_institute(actor)
    filters = filters or {}
    clients = [
        (link, firm)
        for link, firm in tenancy_queries.list_clients(session, actor)
        if (not filters.get("region") or firm.region_code == filters["region"])
        and (filters.get("sme") is None or (firm.size_class == SME) == filters["sme"])
    ]
    ids = [firm.id for _link, firm in clients]
    counts, contacts = client_counts(session, ids, today), client_contacts(session, ids)
    return [
        ClientEntry(link, firm, counts.get(firm.id, ClientCounts()), contacts.get(firm.id, ()))
        for link, firm in clients
    ]


# -- The due board -------------------------------------------------------------------------------


class BoardFilter(StrictSchema):
    """The window and filters of the due board (web query string and API alike)."""

    within = WholeNumber(
        load_default=DEFAULT_WINDOW,
        validate=int_range(1, MAX_WINDOW),
        metadata={"description": "Days from today; overdue instruments are always included."},
    )
    region = Choice(_region_codes(), metadata={"description": "A GB/T 2260 code of a Henan region."})
    client = fields.Integer(
        allow_none=True, validate=int_range(1, 2**31 - 1), metadata={"description": "A linked client's id."}
    )
    discipline = Choice(tuple(DISCIPLINES))
    mandatory = Flag(allow_none=True, metadata={"description": "Mandatory verification (强检) only."})
    overdue = Flag(allow_none=True, metadata={"description": "Overdue instruments only."})


@dataclass(frozen=True)
class BoardItem:
    """A due instrument of a linked client, as the board lists it."""

    id: int
    client_id: int
    client_slug: str
    client_name: str
    region_code: str | None
    management_no: str
    name: str
    model: str | None
    serial_no: str | None
    location: str | None
    discipline: str
    next_due_on: date
    is_mandatory: bool
    status: str
    days_left: int

    @property
    def is_overdue(self) -> bool:
        """Whether the due date has passed."""
        return self.days_left < 0


@dataclass(frozen=True)
class Group:
    """One line of a grouping: a city, a client or a discipline, with its counts."""

    key: str | int | None
    count: int
    overdue: int
    mandatory: int


@dataclass(frozen=True)
class Board:
    """The due board: the window, the filters, the instruments, and their counts by group."""

    today: date
    last: date
    filters: dict
    items: list[BoardItem]
    by_region: list[Group]
    by_client: list[Group]
    by_discipline: list[Group]
    clients: dict[int, Organization]

    @property
    def overdue(self) -> int:
        """Return how many of the listed instruments are overdue."""
        return sum(1 for item in self.items if item.is_overdue)

    @property
    def mandatory(self) -> int:
        """Return how many of the listed instruments are under mandatory verification."""
        return sum(1 for item in self.items if item.is_mandatory)


def parse_board_filters(args: Mapping) -> dict:
    """Validate the board's window and filters; raise :class:`Invalid` with a message per filter."""
    return load_or_invalid(BoardFilter(), args)


def _groups(items: list[BoardItem], key, order) -> list[Group]:
    found: dict = defaultdict(lambda: [0, 0, 0])
    for item in items:
        counts = found[key(item)]
        counts[0] += 1
        counts[1] += item.is_overdue
        counts[2] += item.is_mandatory
    return [Group(k, *found[k]) for k in sorted(found, key=order)]


def due_board(session: Session, actor: Actor, today: date, filters: Mapping) -> Board:
    """Return the linked clients' instruments due by ``today + within`` days, overdue ones included.

    Only instruments still expected back (in service, out for calibration, under repair) with a
    due date; the discipline is read from each instrument's name and catalogue item, so its filter
    applies after the query. Items are ordered by due date, the most urgent first.
    """
    require_institute(actor)
    last = today + timedelta(days=filters.get("within") or DEFAULT_WINDOW)
    clients = {firm.id: firm for firm in linked_clients(session, actor)}
    if filters.get("client") is not None and filters["client"] not in clients:
        # The same answer for an unlinked firm and for no firm at all.
        raise invalid_field("client", N_("No such client."))
    ids = [
        firm_id
        for firm_id, firm in clients.items()
        if (filters.get("client") is None or firm_id == filters["client"])
        and (not filters.get("region") or firm.region_code == filters["region"])
    ]
    items: list[BoardItem] = []
    if ids:
        stmt = (
            select(
                Instrument.id,
                Instrument.org_id,
                Instrument.management_no,
                Instrument.name,
                Instrument.model,
                Instrument.serial_no,
                Instrument.location,
                Instrument.catalog_item,
                Instrument.next_due_on,
                Instrument.is_mandatory,
                Instrument.status,
            )
            .where(
                Instrument.org_id.in_(ids),
                Instrument.status.in_(RECALLED_STATUSES),
                Instrument.next_due_on <= last,
            )
            .order_by(Instrument.next_due_on, Instrument.org_id, Instrument.management_no, Instrument.id)
            .execution_options(all_tenants=True)  # the linked firms only, named above
        )
        if filters.get("overdue"):
            stmt = stmt.where(Instrument.next_due_on < today)
        if filters.get("mandatory"):
            stmt = stmt.where(Instrument.is_mandatory.is_(True))
        for row in session.execute(stmt):
            discipline = discipline_of(row.name, row.catalog_item)
            if filters.get("discipline") and discipline != filters["discipline"]:
                continue
            firm = clients[row.org_id]
            items.append(
                BoardItem(
                    row.id,
                    firm.id,
                    firm.slug,
                    firm.name,
                    firm.region_code,
                    row.management_no,
                    row.name,
                    row.model,
                    row.serial_no,
                    row.location,
                    discipline,
                    row.next_due_on,
                    bool(row.is_mandatory),
                    row.status,
                    (row.next_due_on - today).days,
                )
            )
    discipline_order = {code: i for i, code in enumerate(DISCIPLINES)}
    return Board(
        today=today,
        last=last,
        filters=dict(filters),
        items=items,
        by_region=_groups(items, lambda i: i.region_code, _region_order),
        by_client=_groups(items, lambda i: i.client_id, lambda k: (clients[k].name, k)),
        by_discipline=_groups(items, lambda i: i.discipline, lambda k: discipline_order.get(k, 99)),
        clients=clients,
    )


# -- The board as xlsx ---------------------------------------------------------------------------

ITEM_COLUMNS = (
    (N_("Client"), 24),
    (N_("City / county"), 12),
    (N_("Management no."), 16),
    (N_("Name"), 18),
    (N_("Model / specification"), 14),
    (N_("Serial no."), 14),
    (N_("Discipline"), 12),
    (N_("Mandatory verification"), 10),
    (N_("Next due"), 12),
    (N_("Days left"), 10),
    (N_("Overdue"), 8),
    (N_("Status"), 12),
    (N_("Location"), 16),
)
GROUP_COLUMNS = ((N_("Grouping"), 12), (N_("Group"), 24), (N_("Due"), 8), (N_("Overdue"), 8))


def _headers(sheet, columns, header_format, translate: Callable[[str], str]) -> None:
    for index, (title, width) in enumerate(columns):
        title = translate(title)
        sheet.set_column(index, index, max(width, display_width(title) + 2))
        sheet.write_string(0, index, title, header_format)
    sheet.freeze_panes(1, 0)


def _write(sheet, row: int, values, text_format, date_format, translate: Callable[[str], str]) -> None:
    """Write one row: text as neutralised string cells, dates as dates, numbers as numbers."""
    for col, value in enumerate(values):
        if value is None or value == "":
            continue
        if isinstance(value, bool):  # before int: a bool is an int
            sheet.write_string(row, col, translate(N_("Yes") if value else N_("No")), text_format)
        elif isinstance(value, date):
            sheet.write_datetime(row, col, value, date_format)
        elif isinstance(value, int):
            sheet.write_number(row, col, value)
        else:
            sheet.write_string(row, col, neutralise(str(value)), text_format)


def write_board_xlsx(board: Board, out: BinaryIO, gettext: Gettext) -> int:
    """Write the board to ``out`` as xlsx in the language of ``gettext``: its instruments, then its groups.

    Every text cell is a neutralised string, so that nothing a client typed runs as a formula.
    Returns the number of instruments written.
    """
    translate = partial(render, gettext=gettext)
    with open_workbook(out) as workbook:
        workbook.set_properties({"title": translate(N_("Due board"))})
        header = workbook.add_format({"bold": True, "border": 1, "bg_color": "#DDEBF7", "text_wrap": True})
        text = workbook.add_format({"num_format": "@"})
        day = workbook.add_format({"num_format": DATE_FORMAT, "align": "left"})
        sheet = workbook.add_worksheet(translate(N_("Due instruments")))
        _headers(sheet, ITEM_COLUMNS, header, translate)
        for row, item in enumerate(board.items, start=1):
            values = (
                item.client_name,
                region_name(item.region_code),
                item.management_no,
                item.name,
                item.model,
                item.serial_no,
                translate(DISCIPLINE_NAMES.get(item.discipline, item.discipline)),
                item.is_mandatory,
                item.next_due_on,
                item.days_left,
                item.is_overdue,
                translate(STATUS_NAMES.get(item.status, item.status)),
                item.location,
            )
            _write(sheet, row, values, text, day, translate)
        sheet.autofilter(0, 0, len(board.items), len(ITEM_COLUMNS) - 1)
        groups = workbook.add_worksheet(translate(N_("Counts")))
        _headers(groups, GROUP_COLUMNS, header, translate)
        row = 0
        for title, lines, name in (
            (N_("City / county"), board.by_region, lambda k: region_name(k) or "—"),
            (N_("Client"), board.by_client, lambda k: board.clients[k].name),
            (N_("Discipline"), board.by_discipline, lambda k: translate(DISCIPLINE_NAMES.get(k, k))),
        ):
            for group in lines:
                row += 1
                _write(
                    groups,
                    row,
                    (translate(title), name(group.key), group.count, group.overdue),
                    text,
                    day,
                    translate,
                )
    log.info("exported a due board of %d instruments", len(board.items))
    return len(board.items)


# -- Technicians' days off -----------------------------------------------------------------------


def upcoming_days_off(
    session: Session, actor: Actor, first: date, last: date, technician_id: int | None = None
) -> dict[int, list[TechnicianDayOff]]:
    """Return each technician's days off (with their reasons) from ``first`` to ``last``, by day."""
    require_institute(actor)
    stmt = (
        select(TechnicianDayOff)
        .where(TechnicianDayOff.org_id == actor.org_id, TechnicianDayOff.day.between(first, last))
        .order_by(TechnicianDayOff.day)
    )
    if technician_id is not None:
        stmt = stmt.where(TechnicianDayOff.technician_id == technician_id)
    found: dict[int, list[TechnicianDayOff]] = defaultdict(list)
    for day_off in session.scalars(stmt):
        found[day_off.technician_id].append(day_off)
    return dict(found)
