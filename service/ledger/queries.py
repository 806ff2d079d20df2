"""Reading the ledger: filtered, sorted, keyset-paged lists; counts; the due calendar."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

from marshmallow import ValidationError, fields
from sqlalchemy import Select, and_, case, func, literal_column, not_, or_, select, tuple_
from sqlalchemy.orm import Session

from models import Department, Instrument, StatusRequest
from models.ledger import ABC_CLASSES, LABELS, RECALLED_STATUSES, STATUSES
from service.actors import Actor
from service.errors import invalid_field
from service.i18n import N_
from service.schemas import Choice, Flag, StrictSchema, Text, int_range, load_or_invalid
from service.scoping import get_in_org, parse_id

#: The orders of an instrument list (its ``sort`` parameter), in the order the ledger page offers them.
SORTS = (
    "next_due_on",
    "-next_due_on",
    "management_no",
    "-management_no",
    "name",
    "-name",
    "updated_at",
    "-updated_at",
)
DEFAULT_SORT = "next_due_on"
DEFAULT_LIMIT = 50
#: The ledger's total is counted up to this many rows; beyond, it shows as "10,000+" (a COUNT over a
#: million instruments with a search text would scan them all).
COUNT_CAP = 10_000
MAX_LIMIT = 500


class InstrumentFilter(StrictSchema):
    """The filters, sort and cursor of an instrument list (web query string and API alike)."""

    q = Text(100, metadata={"description": "Part of the name, management number or serial number."})
    management_no = Text(64)
    status = Choice(STATUSES)
    department = Text(100, metadata={"description": "A department's id or name."})
    label = Choice(LABELS)
    abc_class = Choice(ABC_CLASSES)
    is_mandatory = Flag(allow_none=True)
    due_within = fields.Integer(
        allow_none=True,
        validate=int_range(0, 3650),
        metadata={"description": "Instruments in use falling due between today and today + N days."},
    )
    overdue = Flag(allow_none=True, metadata={"description": "Instruments in use past their due date."})
    #: Only instruments still in use (in service, out for calibration, under repair).
    in_use = Flag(
        allow_none=True,
        metadata={"description": "Only instruments in service, out for calibration or under repair."},
    )
    #: Only instruments whose data is incomplete (:meth:`Instrument.needs_attention`).
    needs_attention = Flag(allow_none=True)
    due_from = fields.Date(allow_none=True)
    due_to = fields.Date(allow_none=True)
    sort = Choice(SORTS, load_default=DEFAULT_SORT)
    cursor = Text(500)
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=int_range(1, MAX_LIMIT))


#: Query parameters an export honours: the list's filters and sort, not its paging.
EXPORT_PARAMS = frozenset(InstrumentFilter().fields) - {"cursor", "limit"}


def parse_filters(args: Mapping) -> dict:
    """Validate list parameters; raise :class:`Invalid` with a message per parameter."""
    return load_or_invalid(InstrumentFilter(), {k: v for k, v in args.items() if k != "page"})


@dataclass(frozen=True)
class Page:
    """One page of a keyset-paged list."""

    items: list
    next_cursor: str | None
    #: Set when the page was asked for with a cursor: the cursor of the page before it, ``""`` for
    #: the first page (no cursor).
    prev_cursor: str | None = None


def _department_id(session: Session, actor: Actor, value: str) -> int:
    """Resolve a department filter given as an id (foreign ids are 404) or as a name."""
    if value.isascii() and value.isdigit():
        return get_in_org(session, Department, int(value), actor).id
    dept_id = session.scalar(
        select(Department.id).where(Department.org_id == actor.org_id, Department.name == value)
    )
    if dept_id is None:
        raise invalid_field("department", N_("No such department."))
    return dept_id


#: The search's bigram column (models.ledger.SEARCH_PAIRS_DDL): PostgreSQL's alone, so not mapped.
SEARCH_PAIRS = literal_column("instruments.search_pairs")


def filtered(session: Session, actor: Actor, filters: Mapping, today: date) -> Select:
    """Return the SELECT of the actor's instruments that match ``filters`` (unsorted)."""
    stmt = select(Instrument).where(Instrument.org_id == actor.org_id)
    if q := filters.get("q"):
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        stmt = stmt.where(
            or_(
                Instrument.name.ilike(pattern, escape="\\"),
                Instrument.management_no.ilike(pattern, escape="\\"),
                Instrument.serial_no.ilike(pattern, escape="\\"),
            )
        )
        if len(q) >= 2 and session.get_bind().dialect.name == "postgresql":
            # Lets PostgreSQL find a rare term through the bigram index instead of reading the firm;
            # on the stored column, so that the index serves under row-level security too.
            stmt = stmt.where(SEARCH_PAIRS.op("@>", is_comparison=True)(func.search_bigrams(q)))
    if management_no := filters.get("management_no"):
        stmt = stmt.where(Instrument.management_no == management_no)
    if status := filters.get("status"):
        stmt = stmt.where(Instrument.status == status)
    if department := filters.get("department"):
        stmt = stmt.where(Instrument.department_id == _department_id(session, actor, department))
    if label := filters.get("label"):
        stmt = stmt.where(Instrument.label_is(label, today))
    if abc := filters.get("abc_class"):
        stmt = stmt.where(Instrument.abc_class == abc)
    if filters.get("is_mandatory") is not None:
        stmt = stmt.where(Instrument.is_mandatory.is_(filters["is_mandatory"]))
    if filters.get("overdue"):
        stmt = stmt.where(Instrument.status.in_(RECALLED_STATUSES), Instrument.next_due_on < today)
    if filters.get("due_within") is not None:
        stmt = stmt.where(
            Instrument.status.in_(RECALLED_STATUSES),
            Instrument.next_due_on.between(today, today + timedelta(days=filters["due_within"])),
        )
    if filters.get("in_use"):
        stmt = stmt.where(Instrument.status.in_(RECALLED_STATUSES))
    if filters.get("needs_attention") is not None:
        attention = Instrument.needs_attention()
        stmt = stmt.where(attention if filters["needs_attention"] else not_(attention))
    if due_from := filters.get("due_from"):
        stmt = stmt.where(Instrument.next_due_on >= due_from)
    if due_to := filters.get("due_to"):
        stmt = stmt.where(Instrument.next_due_on <= due_to)
    return stmt


def _encode_cursor(sort: str, value, row_id: int) -> str:
    raw = json.dumps([sort, value.isoformat() if hasattr(value, "isoformat") else value, row_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple:
    invalid = invalid_field("cursor", N_("Invalid cursor."))
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, value, row_id = json.loads(raw)
    except (ValueError, binascii.Error, TypeError, UnicodeDecodeError) as exc:
        raise invalid from exc
    if cursor_sort != sort or parse_id(row_id) is None or not isinstance(value, str | None):
        raise invalid
    column = Instrument.__table__.c[sort.lstrip("-")]
    try:
        if value is not None and sort.lstrip("-") == "next_due_on":
            value = date.fromisoformat(value)
        elif value is not None and sort.lstrip("-") == "updated_at":
            value = fields.DateTime().deserialize(value)
    except (ValueError, ValidationError) as exc:
        raise invalid from exc
    if value is None and not column.nullable:
        raise invalid
    return value, row_id


def ordered_segments(stmt: Select, sort: str, cursor: str | None) -> list[Select]:
    """Return the ordered queries that together list ``stmt`` after ``cursor``, in display order.

    A nullable sort column (next_due_on) is split into its dated rows, compared as the row value
    ``(next_due_on, id)`` that the index serves, and its undated rows, ordered by id: undated rows
    come last ascending and first descending. An ``OR next_due_on IS NULL`` in one query would
    make PostgreSQL scan the whole firm instead of seeking to the cursor.
    """
    descending = sort.startswith("-")
    column = getattr(Instrument, sort.lstrip("-"))
    key = tuple_(column, Instrument.id)
    value, row_id = _decode_cursor(cursor, sort) if cursor else (None, None)

    def dated(after: bool) -> Select:
        ordered = (
            stmt.order_by(column.desc(), Instrument.id.desc())
            if descending
            else stmt.order_by(column.asc(), Instrument.id.asc())
        )
        if column.nullable:
            ordered = ordered.where(column.is_not(None))
        if after:
            ordered = ordered.where(
                key < tuple_(value, row_id) if descending else key > tuple_(value, row_id)
            )
        return ordered

    def undated(after: bool) -> Select:
        ordered = stmt.where(column.is_(None)).order_by(
            Instrument.id.desc() if descending else Instrument.id.asc()
        )
        if after:
            ordered = ordered.where(Instrument.id < row_id if descending else Instrument.id > row_id)
        return ordered

    if not column.nullable:
        return [dated(after=cursor is not None)]
    in_undated = cursor is not None and value is None
    in_dated = cursor is not None and value is not None
    if descending:
        return (
            [undated(after=True)] + [dated(after=False)]
            if in_undated
            else ([dated(after=True)] if in_dated else [undated(after=False), dated(after=False)])
        )
    return [undated(after=True)] if in_undated else [dated(after=in_dated), undated(after=False)]


def list_instruments(session: Session, actor: Actor, filters: Mapping, today: date) -> Page:
    """Return one page of the actor's instruments matching ``filters``."""
    actor.require("ledger.read")
    sort, limit = filters.get("sort", DEFAULT_SORT), filters.get("limit", DEFAULT_LIMIT)
    rows: list[Instrument] = []
    for segment in ordered_segments(filtered(session, actor, filters, today), sort, filters.get("cursor")):
        rows += session.scalars(segment.limit(limit + 1 - len(rows))).unique()
        if len(rows) > limit:
            break
    prev_cursor = None
    if filters.get("cursor") and rows:
        prev_cursor = _previous_cursor(session, actor, filters, today, sort, limit, rows[0])
    if len(rows) <= limit:
        return Page(rows, None, prev_cursor)
    rows = rows[:limit]
    last = rows[-1]
    return Page(rows, _encode_cursor(sort, getattr(last, sort.lstrip("-")), last.id), prev_cursor)


def _flipped(sort: str) -> str:
    return sort[1:] if sort.startswith("-") else f"-{sort}"


def _previous_cursor(
    session: Session, actor: Actor, filters: Mapping, today: date, sort: str, limit: int, first: Instrument
) -> str:
    """Return the cursor of the page before the one starting at ``first`` (``""``: the first page).

    The rows before ``first`` are read backwards, by the same index, with the reversed sort: the
    one ``limit + 1`` rows back is the row the previous page continues after.
    """
    backwards = _flipped(sort)
    cursor = _encode_cursor(backwards, getattr(first, sort.lstrip("-")), first.id)
    column = getattr(Instrument, sort.lstrip("-"))
    ids: list[int] = []
    values: list = []
    for segment in ordered_segments(filtered(session, actor, filters, today), backwards, cursor):
        found = session.execute(
            segment.with_only_columns(Instrument.id, column).limit(limit + 1 - len(ids))
        ).all()
        ids += [row[0] for row in found]
        values += [row[1] for row in found]
        if len(ids) > limit:
            return _encode_cursor(sort, values[limit], ids[limit])
    return ""


def count_instruments(
    session: Session, actor: Actor, filters: Mapping, today: date, cap: int = COUNT_CAP
) -> tuple[int, bool]:
    """Return how many instruments match ``filters``, counted up to ``cap``, and whether there are more."""
    actor.require("ledger.read")
    matching = filtered(session, actor, filters, today).with_only_columns(Instrument.id).limit(cap + 1)
    total = session.scalar(select(func.count()).select_from(matching.subquery())) or 0
    return min(total, cap), total > cap


def get_instrument(session: Session, actor: Actor, instrument_id: int) -> Instrument:
    """Return one of the actor's instruments or raise NotFound."""
    actor.require("ledger.read")
    return get_in_org(session, Instrument, instrument_id, actor)


@dataclass(frozen=True)
class LedgerCounts:
    """The dashboard's figures for one organisation."""

    total: int
    in_service: int
    due_30: int
    overdue: int
    red: int
    yellow: int
    #: Instruments whose data is incomplete (an import left their use, interval or due date open).
    needs_attention: int
    pending_requests: int


def ledger_counts(session: Session, actor: Actor, today: date) -> LedgerCounts:
    """Count instruments in service, due within 30 days, overdue, red- or yellow-labelled; and requests."""
    counts = instrument_counts(session, actor, today)
    return replace(counts, pending_requests=pending_requests(session, actor))


def instrument_counts(session: Session, actor: Actor, today: date) -> LedgerCounts:
    """The ledger's counts without the requests awaiting a decision (``pending_requests`` is 0)."""
    actor.require("ledger.read")
    recalled = Instrument.status.in_(RECALLED_STATUSES)

    def count_if(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = session.execute(
        select(
            func.count(Instrument.id),
            count_if(Instrument.status == "in_service"),
            count_if(and_(recalled, Instrument.next_due_on.between(today, today + timedelta(days=30)))),
            count_if(and_(recalled, Instrument.next_due_on < today)),
            count_if(Instrument.label_is("red", today)),
            count_if(Instrument.label_is("yellow", today)),
            count_if(Instrument.needs_attention()),
        ).where(Instrument.org_id == actor.org_id)
    ).one()
    return LedgerCounts(*(int(v) for v in row), pending_requests=0)


def pending_requests(session: Session, actor: Actor) -> int:
    """Count the status requests awaiting a decision (a request changes no history until decided)."""
    actor.require("ledger.read")
    pending = session.scalar(
        select(func.count(StatusRequest.id)).where(
            StatusRequest.org_id == actor.org_id, StatusRequest.state == "pending"
        )
    )
    return int(pending or 0)


def due_calendar(session: Session, actor: Actor, first: date, last: date) -> dict[date, int]:
    """Count the instruments still in use that fall due on each day from ``first`` to ``last``."""
    actor.require("ledger.read")
    rows = session.execute(
        select(Instrument.next_due_on, func.count(Instrument.id))
        .where(
            Instrument.org_id == actor.org_id,
            Instrument.status.in_(RECALLED_STATUSES),
            Instrument.next_due_on.between(first, last),
        )
        .group_by(Instrument.next_due_on)
    ).all()
    return {day: count for day, count in rows}


def list_status_requests(
    session: Session, actor: Actor, state: str | None = "pending"
) -> list[StatusRequest]:
    """Return the actor's organisation's status requests, newest first."""
    actor.require("ledger.read")
    stmt = select(StatusRequest).where(StatusRequest.org_id == actor.org_id)
    if state:
        stmt = stmt.where(StatusRequest.state == state)
    return list(
        session.scalars(stmt.order_by(StatusRequest.requested_at.desc(), StatusRequest.id.desc()).limit(500))
    )


def requests_for_instrument(session: Session, actor: Actor, instrument_id: int) -> list[StatusRequest]:
    """Return every status request of one instrument, newest first."""
    actor.require("ledger.read")
    stmt = select(StatusRequest).where(
        StatusRequest.org_id == actor.org_id, StatusRequest.instrument_id == instrument_id
    )
    return list(session.scalars(stmt.order_by(StatusRequest.id.desc())))


def get_status_request(session: Session, actor: Actor, request_id: int) -> StatusRequest:
    """Return one of the actor's organisation's status requests or raise NotFound."""
    actor.require("ledger.read")
    return get_in_org(session, StatusRequest, request_id, actor)
