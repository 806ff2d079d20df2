"""Writing an import's rows in bulk, by the same rules as one edit at a time.

An import of 100,000 rows cannot afford an ORM object, a uniqueness query, a flush and a history
append per row. This writer decides each row in Python — the schema's checks (through
:func:`~service.schemas.plain_loader`, falling back to the schema itself for anything unusual),
the ledger's rules (:func:`~service.ledger.operations.rule_errors`), the derived columns
(:func:`~service.ledger.operations.derived_fields`) and the status lifecycle — exactly as
``create_instrument`` and ``update_instrument`` do, and writes the outcome a few thousand rows
at a time with a few bulk statements: the new instruments, the changed ones, and one history
event per change appended to the firm's hash chain in row order. On SQLite the statements run on
a second thread while the next rows are decided (:class:`~service.bulk.BulkWrites`).

Rows are decided in file order, so a department the file names for the first time is created
with the first valid row that names it, and a management number seen twice is rejected the
second time. The statements run on the session's connection below the ORM; every row carries the
actor's ``org_id`` and every UPDATE is confined to it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from models import Instrument, User
from models.base import utcnow
from service.actors import Actor
from service.bulk import BulkWrites, NewIds, bulk_writes
from service.errors import FIX_FIELDS, Invalid, invalid_field
from service.history.chain import append_events_in_bulk, lock_chain
from service.i18n import N_
from service.ledger import status as lifecycle
from service.ledger.operations import TRACKED_FIELDS, created_fields, derived_fields, rule_errors
from service.ledger.schemas import InstrumentIn
from service.ledger_io.columns import BY_FIELD
from service.schemas import load_or_invalid, plain_loader
from service.tenancy import operations as tenancy_ops
from service.tenancy import queries as tenancy_queries

#: Rows per statement.
CHUNK = 5000
#: Files naming more instruments than this read the firm's whole ledger instead of looking each up.
LOOKUP_LIMIT = 500
#: The columns a new instrument is written with.
INSERTED_COLUMNS = ("id", "org_id", "created_at", "updated_at", *TRACKED_FIELDS)
#: Parsed fields whose blank cell keeps the current value on update (they have defaults on create).
DEFAULTED_FIELDS = ("is_mandatory", "control_method", "interval_months", "status")
_NEEDS_APPROVAL = N_("This status change needs an approved request (suspend, seal, scrap, …).")
_CREATE_SCHEMA, _UPDATE_SCHEMA = InstrumentIn(), InstrumentIn(partial=True)
_NONE: Mapping[str, str] = {}
_LOAD_NEW, _LOAD_CHANGES = plain_loader(_CREATE_SCHEMA), plain_loader(_UPDATE_SCHEMA, partial=True)


@dataclass
class Decision:
    """What one row does: create an instrument, change one, or leave it as it is."""

    outcome: str  # "created", "updated" or "unchanged"
    values: dict
    instrument_id: int | None = None
    changes: dict | None = None
    new_department: str | None = None
    #: The defaults a new instrument took for fields the file does not give, ``{field: value}``.
    defaults: dict | None = None
    #: What the row could not apply and kept in the notes instead, as warnings ``{field: message}``.
    warnings: dict | None = None


def department_key(name: str) -> str:
    """Fold a department's name as the import compares it: width, case and spaces do not count."""
    return "".join(unicodedata.normalize("NFKC", name).casefold().split())


class LedgerWriter:
    """Decides rows one by one (raising :class:`Invalid` for a rejected row); writes them in chunks.

    The rows decided inside :meth:`writing` are written a chunk at a time as they are decided.
    """

    def __init__(
        self, session: Session, actor: Actor, today: date, management_numbers: list[str], filename: str = ""
    ):
        self.session, self.actor, self.today = session, actor, today
        #: Named in every history event, so the timeline says where a change came from.
        self.source = {"file": filename} if filename else {}
        # The chain's head first, then instruments: the order every writer takes.
        self._head = lock_chain(session, actor.org_id)
        self.existing = self._current_rows(management_numbers)
        #: The firm's departments by :func:`department_key`: 二车间, 二 车间 and ＡＢ are 二车间 and AB.
        self.departments = {
            department_key(d.name): d.id for d in tenancy_queries.list_departments(session, actor)
        }
        self.users = {
            row.id: (row.name, row.mobile)
            for row in session.execute(
                select(User.id, User.name, User.mobile).where(User.org_id == actor.org_id)
            )
        }
        #: Rows decided and not yet handed to the bulk writes.
        self.pending: list[Decision] = []
        self.updated_ids: list[int] = []
        self._writes: BulkWrites | None = None

    def _current_rows(self, numbers: list[str]) -> dict[str, dict]:
        """Return the instruments the file names, as ``{management_no: {column: value}}``.

        A short file looks its numbers up in the (org_id, management_no) index; a long one reads
        the firm's ledger once, which costs less than thousands of lookups (and does not depend
        on the planner's statistics, stale right after a large import).
        """
        table = Instrument.__table__
        columns = [table.c[name] for name in ("id", *TRACKED_FIELDS)]
        wanted = set(filter(None, numbers))
        statement = select(*columns).where(table.c.org_id == self.actor.org_id)
        if len(wanted) <= LOOKUP_LIMIT:
            statement = statement.where(table.c.management_no.in_(sorted(wanted)))
        rows = self.session.connection().execute(statement).mappings()
        return {row["management_no"]: dict(row) for row in rows if row["management_no"] in wanted}

    # Deciding -----------------------------------------------------------------------------------

    def decide(self, values: dict, layout_holds_notes: bool, inferred: Mapping[str, str] = _NONE) -> Decision:
        """Decide a parsed row's fate; raise :class:`Invalid` (with field messages) to reject it.

        The caller has rejected rows with reading problems and repeated management numbers.
        ``inferred`` names the fields the reading filled in (a use from the catalogue, an interval
        from the dates): they never overwrite what an instrument already has.
        """
        current = self.existing.get(values.get("management_no"))
        if current is None:
            decision = self._create(values)
        else:
            values = {k: v for k, v in values.items() if k not in inferred or current.get(k) is None}
            decision = self._update(current, values, layout_holds_notes)
        if decision.outcome != "unchanged":
            self.pending.append(decision)
            if len(self.pending) == CHUNK and self._writes is not None:
                self._write_pending()
        return decision

    def _create(self, values: dict) -> Decision:
        payload = {k: v for k, v in values.items() if v is not None}
        # An interval the file does not give (nor its dates imply) stays unknown: none is invented.
        payload.setdefault("interval_months", None)
        data = _LOAD_NEW(payload) or load_or_invalid(_CREATE_SCHEMA, payload)
        defaults = {name: data[name] for name in DEFAULTED_FIELDS if name not in payload}
        row = dict.fromkeys(TRACKED_FIELDS)
        warnings = self._soft_department(data)
        new_department = self._apply(row, data)
        if new_department is not None:
            row["department_id"] = self._create_department(new_department)
        return Decision("created", row, new_department=new_department, defaults=defaults, warnings=warnings)

    def _update(self, current: dict, values: dict, layout_holds_notes: bool) -> Decision:
        payload = self._update_payload(current, values, layout_holds_notes)
        data = _LOAD_CHANGES(payload) or load_or_invalid(_UPDATE_SCHEMA, payload, partial=True)
        if not lifecycle.is_direct_change(current["status"], data.get("status", current["status"])):
            raise invalid_field("status", _NEEDS_APPROVAL)
        row = {name: current[name] for name in TRACKED_FIELDS}
        warnings = self._soft_department(data, current["notes"])
        new_department = self._apply(row, data)
        if new_department is not None:
            row["department_id"] = self._create_department(new_department)
        changes = {k: [current[k], row[k]] for k in TRACKED_FIELDS if current[k] != row[k]}
        outcome = "updated" if changes else "unchanged"
        return Decision(outcome, row, current["id"], changes, new_department, warnings=warnings)

    def _apply(self, row: dict, data: dict) -> str | None:
        """Apply loaded input to ``row`` and check the rules; return a department name still to create.

        A new department is created only once the row is known to be valid.
        """
        new_department = self._department(data)
        if "custodian" in data:
            data["custodian_name"] = data.pop("custodian")
        row.update(data)
        row.update(derived_fields(row))
        errors = rule_errors(row, self.today, require_use=False)
        if errors:
            raise Invalid(FIX_FIELDS, errors)
        return new_department

    def _update_payload(self, current: dict, values: dict, layout_holds_notes: bool) -> dict:
        """Adapt a row to an update.

        Blank defaulted columns keep their value; a linked custodian stays linked.
        """
        payload = {k: v for k, v in values.items() if not (k in DEFAULTED_FIELDS and v is None)}
        linked = current["custodian_user_id"]
        if linked is not None and "custodian" in payload:
            name, mobile = self.users.get(linked, (None, None))
            if payload["custodian"] == name:
                # The file shows the linked user, as the export writes it: nothing to change.
                del payload["custodian"]
                if payload.get("custodian_mobile") == mobile:
                    del payload["custodian_mobile"]
            else:
                payload["custodian_user_id"] = None
        if payload.get("notes") and not layout_holds_notes:
            # Only a remark the import added (外借): keep the notes already there and add it once.
            lines = (current["notes"] or "").splitlines()
            payload["notes"] = "\n".join(lines + [n for n in payload["notes"].splitlines() if n not in lines])
        return payload

    def _department(self, data: dict) -> str | None:
        """Replace the department's name by its id; return the name when it must be created."""
        if "department" not in data:
            return None
        name = data.pop("department")
        if name is None:
            data["department_id"] = None
            return None
        key = department_key(name)
        if key in self.departments:
            data["department_id"] = self.departments[key]
            return None
        return name

    def _soft_department(self, data: dict, notes: str | None = None) -> dict | None:
        """Keep a department the actor may not create in the notes instead of rejecting the row.

        Return the warning to report, if any.
        """
        name = data.get("department")
        if name is None or department_key(name) in self.departments or self.actor.can("departments.manage"):
            return None
        del data["department"]
        line = f"{BY_FIELD['department'].header}: {name}"
        kept = data.get("notes", notes)
        if line not in (kept or "").splitlines():
            data["notes"] = "\n".join(filter(None, [kept, line]))
        return {
            "department": N_(
                "No such department: %(name)s. It was kept in the notes; an administrator can add it.",
                name=name,
            )
        }

    def _create_department(self, name: str) -> int:
        if self._writes is not None:
            self._writes.drain()  # the session's connection is ours again meanwhile
        try:
            department = tenancy_ops.create_department(self.session, self.actor, {"name": name})
        except Invalid as exc:
            raise Invalid(exc.message, {"department": exc.field_errors.get("name", [exc.message])}) from None
        self.departments[department_key(name)] = department.id
        return department.id

    # Writing ------------------------------------------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Write the rows decided inside the block, a chunk at a time while the next are decided.

        The new instruments, the changed ones and their history events go to
        :class:`~service.bulk.BulkWrites` in row order, every :data:`CHUNK` decided rows; on
        leaving, the rest, and the chain's head once they have all run.
        """
        connection = self.session.connection()
        table = Instrument.__table__
        self._now = now = utcnow()
        self._ids = NewIds(connection, table)
        self._stamp = {"org_id": self.actor.org_id, "created_at": now, "updated_at": now}
        self._update_statement = (
            update(table)
            .where(table.c.org_id == self.actor.org_id, table.c.id == bindparam("_id"))
            .values({name: bindparam(name) for name in TRACKED_FIELDS} | {"updated_at": now})
        )
        with bulk_writes(connection) as writes:
            self._writes = writes
            try:
                yield
                self._write_pending()
            finally:
                self._writes = None
        self.session.flush()  # the chain's head
        self._forget_loaded(self.updated_ids)

    def _write_pending(self) -> None:
        """Hand the rows decided since the last time to the bulk writes."""
        created = [d for d in self.pending if d.outcome == "created"]
        updated = [d for d in self.pending if d.outcome == "updated"]
        for decision, instrument_id in zip(created, self._ids.take(len(created)), strict=True):
            decision.instrument_id = instrument_id
        table = Instrument.__table__
        if created:
            rows = [{**d.values, **self._stamp, "id": d.instrument_id} for d in created]
            self._writes.insert(table, INSERTED_COLUMNS, rows)
        if updated:
            changes = [{**d.values, "_id": d.instrument_id} for d in updated]
            self._writes.execute(self._update_statement, changes)
            self.updated_ids += [d.instrument_id for d in updated]
        events = self._events(self.pending)
        append_events_in_bulk(
            self._writes, self._head, events, self.actor.user_id, self.actor.name, self._now
        )
        self.pending = []

    def _events(self, decisions: list[Decision]) -> Iterator[tuple[str, tuple[str, int], dict]]:
        for decision in decisions:
            subject = ("instrument", decision.instrument_id)
            if decision.outcome == "created":
                yield (
                    "instrument.created",
                    subject,
                    {"fields": created_fields(decision.values), **self.source},
                )
            elif decision.outcome == "updated":
                yield "instrument.updated", subject, {"changes": decision.changes, **self.source}

    def _forget_loaded(self, instrument_ids) -> None:
        """Expire instruments the session holds that the bulk UPDATE changed below the ORM."""
        changed = set(instrument_ids)
        for obj in list(self.session.identity_map.values()):
            if isinstance(obj, Instrument) and obj.id in changed:
                self.session.expire(obj)
