"""Appending events to an organisation's hash chain and verifying the chain."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Event, HistoryHead
from models.base import utcnow
from service.bulk import BulkWrites, EncodedJSON

if TYPE_CHECKING:
    from service.actors import Actor

GENESIS_HASH = "0" * 64


_PLAIN = frozenset({str, int, float, bool, type(None)})


def jsonable(value):
    """Return ``value`` as plain JSON data: keys as strings, dates as ISO strings, decimals as strings."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, dict):
        # Plain values and string keys are taken as they are, without a call each (an import
        # makes 100,000 events of 24 fields).
        return {
            k if type(k) is str else str(k): v if type(v) in _PLAIN else jsonable(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [v if type(v) in _PLAIN else jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


#: The columns an event's hash covers.
HASHED_COLUMNS = (
    "org_id",
    "seq",
    "kind",
    "subject_type",
    "subject_id",
    "actor_id",
    "actor_name",
    "occurred_at",
    "data",
    "prev_hash",
)


def event_hash(event: Event) -> str:
    """Return the SHA-256 of an event's content and its predecessor's hash."""
    return hash_of_row({name: getattr(event, name) for name in HASHED_COLUMNS})


#: The canonical form an event is hashed in: sorted keys, no spaces, characters as they are.
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def hash_of_row(row: dict) -> str:
    """Return the hash of an event given as its column values (:data:`HASHED_COLUMNS`)."""
    payload = {name: row[name] for name in HASHED_COLUMNS}
    payload["occurred_at"] = _occurred(row["occurred_at"])
    return _sha256(_CANONICAL.encode(payload))


def _occurred(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _sha256(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def start_chain(session: Session, org_id: int) -> None:
    """Create the head of a new organisation's chain."""
    session.add(HistoryHead(org_id=org_id, last_seq=0, last_hash=GENESIS_HASH))


def lock_chain(session: Session, org_id: int) -> HistoryHead:
    """Lock the organisation's chain head (PostgreSQL row lock; SQLite holds its write lock).

    Operations that append take it before touching any other row: always head first, then
    instruments, so two writers can never wait for each other in opposite orders (a deadlock).
    """
    head = session.execute(
        select(HistoryHead)
        .where(HistoryHead.org_id == org_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if head is None:
        head = HistoryHead(org_id=org_id, last_seq=0, last_hash=GENESIS_HASH)
        session.add(head)
    return head


def records_history(operation):
    """Decorate an operation ``(session, actor, ...)`` to lock the actor's chain before it runs."""

    @functools.wraps(operation)
    def locked(session: Session, actor, *args, **kwargs):
        lock_chain(session, actor.org_id)
        return operation(session, actor, *args, **kwargs)

    return locked


def append_event(
    session: Session,
    org_id: int,
    kind: str,
    subject: tuple[str, int],
    data: dict,
    actor_id: int | None = None,
    actor_name: str | None = None,
) -> Event:
    """Append one event to ``org_id``'s chain; the head row lock serialises concurrent appends."""
    head = lock_chain(session, org_id)
    row = chained_row(
        head.last_seq + 1, head.last_hash, org_id, kind, subject, data, actor_id, actor_name, utcnow()
    )
    event = Event(**row)
    head.last_seq, head.last_hash = event.seq, event.hash
    session.add(event)
    return event


def record_event(session: Session, actor: Actor, kind: str, subject: tuple[str, int], data: dict) -> Event:
    """Append an event ``actor`` caused to the chain of the actor's organisation."""
    return append_event(session, actor.org_id, kind, subject, data, actor.user_id, actor.name)


def chained_row(
    seq: int,
    prev_hash: str,
    org_id: int,
    kind: str,
    subject: tuple[str, int],
    data: dict,
    actor_id: int | None,
    actor_name: str | None,
    occurred_at: datetime,
) -> dict:
    """Return an event's columns, its data made plain JSON and its hash linking it to ``prev_hash``."""
    subject_type, subject_id = subject
    row = {
        "org_id": org_id,
        "seq": seq,
        "kind": kind,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "actor_id": actor_id,
        "actor_name": actor_name,
        "occurred_at": occurred_at,
        "data": jsonable(data),
        "prev_hash": prev_hash,
    }
    row["hash"] = hash_of_row(row)
    return row


#: Rows per INSERT statement when appending in bulk.
BULK_CHUNK = 5000
EVENT_COLUMNS = (*HASHED_COLUMNS, "hash")


def append_events_in_bulk(
    writes: BulkWrites,
    head: HistoryHead,
    entries: Iterable[tuple[str, tuple[str, int], dict]],
    actor_id: int | None = None,
    actor_name: str | None = None,
    occurred_at: datetime | None = None,
) -> int:
    """Append many events ``(kind, subject, data)`` to ``head``'s chain in order, in bulk; return how many.

    For bulk work (an import of 100,000 rows): the events and the chain are exactly those
    :func:`append_event` would make one by one, at the same timestamp (``occurred_at``, by default
    now). The caller holds the head's lock (:func:`lock_chain`), and flushes the head once
    ``writes`` have finished. The rows are inserted below the ORM (and its tenancy net): they
    carry the head's ``org_id``.
    """
    occurred_at = occurred_at or utcnow()
    rows = bulk_event_rows(
        head.last_seq, head.last_hash, head.org_id, entries, actor_id, actor_name, occurred_at
    )
    seq, previous = head.last_seq, head.last_hash
    for chunk in _batched(rows, BULK_CHUNK):
        writes.insert(Event.__table__, EVENT_COLUMNS, chunk)
        seq, previous = chunk[-1]["seq"], chunk[-1]["hash"]
    appended = seq - head.last_seq
    head.last_seq, head.last_hash = seq, previous
    return appended


#: The hashed columns whose keys sort before "data" in the canonical text.
_BEFORE_DATA = tuple(name for name in HASHED_COLUMNS if name < "data")
#: And those after it.
_AFTER_DATA = tuple(name for name in HASHED_COLUMNS if name > "data")


def bulk_event_rows(
    last_seq: int,
    last_hash: str,
    org_id: int,
    entries: Iterable[tuple[str, tuple[str, int], dict]],
    actor_id: int | None,
    actor_name: str | None,
    occurred_at: datetime,
) -> Iterator[dict]:
    """Yield the rows of events chained after ``last_seq``/``last_hash``, as :func:`chained_row` makes them.

    The hash covers the same canonical text :func:`hash_of_row` encodes, put together from the
    columns sorted before "data", the data's own canonical text and the columns after it: the data,
    made plain JSON by :func:`jsonable` as for one event, is encoded once, and that text is also
    what its column stores (:class:`EncodedJSON`, its keys sorted).
    """
    seq, previous = last_seq, last_hash
    fixed = {"org_id": org_id, "actor_id": actor_id, "actor_name": actor_name, "occurred_at": occurred_at}
    before = _CANONICAL.encode({name: fixed[name] for name in _BEFORE_DATA})[:-1] + ',"data":'
    occurred, encode = _occurred(occurred_at), _CANONICAL.encode
    for kind, (subject_type, subject_id), data in entries:
        seq += 1
        text = EncodedJSON(encode(jsonable(data)))
        row = {**fixed, "seq": seq, "kind": kind, "subject_type": subject_type, "subject_id": subject_id}
        row["prev_hash"] = previous
        after = {name: row[name] for name in _AFTER_DATA}
        after["occurred_at"] = occurred
        previous = row["hash"] = _sha256(before + text + "," + encode(after)[1:])
        row["data"] = text
        yield row


def _batched(rows: Iterable[dict], size: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass(frozen=True)
class ChainReport:
    """The outcome of verifying one organisation's chain."""

    checked: int
    broken_seq: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        """Whether every event checked out."""
        return self.broken_seq is None


def verify_chain(session: Session, org_id: int) -> ChainReport:
    """Recompute every event's hash in order; report the first event that does not fit."""
    stmt = select(Event).where(Event.org_id == org_id).order_by(Event.seq).execution_options(yield_per=1000)
    # Streamed with a server-side cursor on PostgreSQL; closed even when we stop at a broken event.
    with closing(session.execute(stmt)) as result:
        report, last_seq, last_hash = _walk(result.scalars())
    if report is not None:
        return report
    head = session.get(HistoryHead, org_id)
    if head is not None and (head.last_seq != last_seq or head.last_hash != last_hash):
        return ChainReport(last_seq, last_seq + 1, f"event {last_seq + 1} is missing (removed from the end)")
    return ChainReport(last_seq)


def _walk(events) -> tuple[ChainReport | None, int, str]:
    """Check events in order; return a report at the first break, else the tip's seq and hash."""
    expected_seq, prev_hash = 1, GENESIS_HASH
    for event in events:
        checked = expected_seq - 1
        if event.seq != expected_seq:
            return ChainReport(checked, expected_seq, f"event {expected_seq} is missing (removed)"), 0, ""
        if event.prev_hash != prev_hash:
            reason = f"event {event.seq} does not link to event {event.seq - 1}"
            return ChainReport(checked, event.seq, reason), 0, ""
        if event_hash(event) != event.hash:
            return ChainReport(checked, event.seq, f"event {event.seq} (id {event.id}) was altered"), 0, ""
        prev_hash = event.hash
        expected_seq += 1
    return None, expected_seq - 1, prev_hash
