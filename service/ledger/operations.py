"""Changing the ledger: instruments, bulk edits and maker-checker status requests."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Department, Instrument, StatusRequest, User
from models.base import utcnow
from models.ledger import STATUS_ACTIONS
from service.actors import Actor
from service.errors import FIX_FIELDS, Conflict, Forbidden, Invalid, invalid_field
from service.history.chain import record_event, records_history
from service.i18n import N_
from service.ledger import status as lifecycle
from service.ledger.dates import next_due_on
from service.ledger.schemas import MAX_BULK, InstrumentIn
from service.schemas import load_or_invalid
from service.scoping import get_in_org

log = logging.getLogger(__name__)

#: The columns whose changes the history records, in ledger order.
TRACKED_FIELDS = (
    "management_no",
    "name",
    "model",
    "serial_no",
    "manufacturer",
    "measuring_range",
    "accuracy",
    "resolution",
    "department_id",
    "location",
    "custodian_user_id",
    "custodian_name",
    "custodian_mobile",
    "abc_class",
    "is_mandatory",
    "mandatory_use",
    "catalog_item",
    "control_method",
    "interval_months",
    "last_done_on",
    "valid_until",
    "next_due_on",
    "lab",
    "certificate_no",
    "certificate_type",
    "conclusion",
    "status",
    "in_service_on",
    "notes",
)
MAX_REASON = 1000


def _snapshot(instrument: Instrument) -> dict:
    return {name: getattr(instrument, name) for name in TRACKED_FIELDS}


def created_fields(values: dict) -> dict:
    """Return the fields an ``instrument.created`` event names: those that say something.

    A blank, a no (False) or a zero is left out. The values are scalars, so their truth is the
    test (a bulk import asks it 2.4 million times).
    """
    return {name: value for name, value in values.items() if value}


def _resolve_department(session: Session, actor: Actor, data: dict) -> None:
    """Turn ``department`` (a name) or ``department_id`` into a department of the actor's firm."""
    if "department" in data:
        name = data.pop("department")
        if name is None:
            data["department_id"] = None
        else:
            dept = session.scalar(
                select(Department).where(Department.org_id == actor.org_id, Department.name == name)
            )
            if dept is None:
                raise invalid_field("department", N_("No such department."))
            data["department_id"] = dept.id
    if data.get("department_id") is not None:
        get_in_org(session, Department, data["department_id"], actor)


def _resolve_custodian(session: Session, actor: Actor, data: dict) -> None:
    """Link the custodian to a user of the firm, or keep a free name and mobile."""
    if "custodian" in data:
        data["custodian_name"] = data.pop("custodian")
    if data.get("custodian_user_id") is not None:
        get_in_org(session, User, data["custodian_user_id"], actor)


def _apply(instrument: Instrument, data: dict) -> None:
    for name, value in data.items():
        setattr(instrument, name, value)
    for name, value in derived_fields(_snapshot(instrument)).items():
        setattr(instrument, name, value)


def derived_fields(values: Mapping) -> dict:
    """Return the columns that follow from the others: the next due date, and no use unless mandatory."""
    return {
        "mandatory_use": values["mandatory_use"] if values["is_mandatory"] else None,
        "next_due_on": next_due_on(values["last_done_on"], values["interval_months"], values["valid_until"]),
    }


#: Changing either of these requires the use to be given (see :func:`rule_errors`).
USE_FIELDS = frozenset({"is_mandatory", "mandatory_use"})


def rule_errors(values: Mapping, today: date, require_use: bool = True) -> dict[str, list[str]]:
    """Return the rules of the ledger that an instrument's values break, by field.

    The uniqueness of the management number is the caller's to check (it needs the database). An
    import passes ``require_use=False``: a ledger's 强检 instrument whose use nobody wrote down is
    still an instrument, kept as needing attention (:meth:`Instrument.needs_attention`).
    """
    errors: dict[str, list[str]] = {}
    if values["last_done_on"] and values["last_done_on"] > today:
        errors["last_done_on"] = [N_("The last verification date cannot be in the future.")]
    if values["is_mandatory"]:
        if require_use and not values["mandatory_use"]:
            errors["mandatory_use"] = [N_("Give the use that makes verification compulsory.")]
        if values["control_method"] != "verification":
            errors["control_method"] = [N_("Mandatory instruments must be verified (检定).")]
    if values["valid_until"] and values["last_done_on"] and values["valid_until"] < values["last_done_on"]:
        errors["valid_until"] = [N_("The valid-until date is before the last verification date.")]
    return errors


def _check_rules(session: Session, instrument: Instrument, today: date, require_use: bool = True) -> None:
    errors = rule_errors(_snapshot(instrument), today, require_use)
    clash = session.scalar(
        select(Instrument.id).where(
            Instrument.org_id == instrument.org_id,
            Instrument.management_no == instrument.management_no,
            Instrument.id != (instrument.id or 0),
        )
    )
    if clash is not None:
        errors["management_no"] = [N_("Another instrument already has this management number.")]
    if errors:
        raise Invalid(FIX_FIELDS, errors)


@records_history
def create_instrument(session: Session, actor: Actor, payload: Mapping, today: date) -> Instrument:
    """Add an instrument to the actor's ledger and record its creation in the history."""
    actor.require("ledger.write")
    data = load_or_invalid(InstrumentIn(), payload)
    _resolve_department(session, actor, data)
    _resolve_custodian(session, actor, data)
    instrument = Instrument(org_id=actor.org_id)
    _apply(instrument, data)
    with session.no_autoflush:
        _check_rules(session, instrument, today)
    session.add(instrument)
    session.flush()
    fields = created_fields(_snapshot(instrument))
    record_event(session, actor, "instrument.created", ("instrument", instrument.id), {"fields": fields})
    return instrument


@records_history
def update_instrument(
    session: Session, actor: Actor, instrument_id: int, payload: Mapping, today: date, partial: bool = False
) -> Instrument:
    """Change an instrument's columns; status changes that need approval are refused here."""
    actor.require("ledger.write")
    instrument = get_in_org(session, Instrument, instrument_id, actor)
    data = load_or_invalid(InstrumentIn(), payload, partial=partial)
    _resolve_department(session, actor, data)
    _resolve_custodian(session, actor, data)
    target = data.get("status", instrument.status)
    if not lifecycle.is_direct_change(instrument.status, target):
        raise invalid_field(
            "status", N_("This status change needs an approved request (suspend, seal, scrap, …).")
        )
    return _change(session, actor, instrument, data, today)


def _change(session: Session, actor: Actor, instrument: Instrument, data: dict, today: date) -> Instrument:
    apply_change(session, actor, instrument, data, today)
    return instrument


def apply_change(
    session: Session,
    actor: Actor,
    instrument: Instrument,
    data: dict,
    today: date,
    kind: str = "instrument.updated",
    details: dict | None = None,
) -> dict:
    """Change checked columns of ``instrument`` and record it as one ``kind`` event; return the changes.

    ``details`` go into the event beside the changes (a record's number, say); with details, the
    event is written even when no column changed, since the details are news of their own.
    """
    before = _snapshot(instrument)
    with session.no_autoflush:
        _apply(instrument, data)
        # An imported instrument still missing its use can be calibrated, moved or suspended; the
        # use is required of whoever sets the mandatory flag or the use.
        _check_rules(session, instrument, today, require_use=not USE_FIELDS.isdisjoint(data))
    after = _snapshot(instrument)
    changes = {k: [before[k], after[k]] for k in TRACKED_FIELDS if before[k] != after[k]}
    if changes or details:
        session.flush()
        # The view-only relationships still hold the rows loaded before the change.
        session.expire(instrument, ["department", "custodian_user"])
        record_event(
            session,
            actor,
            kind,
            ("instrument", instrument.id),
            {**(details or {}), **({"changes": changes} if changes else {})},
        )
    return changes


#: How many instruments one bulk edit may change (web and API alike).
BULK_FIELDS = (
    "department_id",
    "custodian_user_id",
    "custodian",
    "custodian_mobile",
    "interval_months",
    "status",
)


@records_history
def bulk_edit(
    session: Session, actor: Actor, instrument_ids: Sequence[int], payload: Mapping, today: date
) -> list[Instrument]:
    """Apply the same department, custodian, interval or status to many instruments at once.

    All or nothing: one foreign id or one illegal status change and no row changes.
    """
    actor.require("ledger.write")
    unknown = set(payload) - set(BULK_FIELDS)
    if unknown:
        raise Invalid(FIX_FIELDS, {k: [N_("Unknown field.")] for k in sorted(unknown)})
    if not instrument_ids:
        raise Invalid(N_("Select at least one instrument."), {"ids": [N_("Select at least one instrument.")]})
    if len(instrument_ids) > MAX_BULK:
        raise invalid_field("ids", N_("At most %(limit)s instruments at once.", limit=MAX_BULK))
    if not payload:
        raise Invalid(N_("Choose at least one change."), {"_schema": [N_("Choose at least one change.")]})
    data = load_or_invalid(InstrumentIn(only=BULK_FIELDS), payload, partial=True)
    _resolve_custodian(session, actor, data)
    if data.get("department_id") is not None:
        get_in_org(session, Department, data["department_id"], actor)
    instruments = [get_in_org(session, Instrument, int(i), actor) for i in dict.fromkeys(instrument_ids)]
    if "status" in data:
        refused = [
            i.management_no for i in instruments if not lifecycle.is_direct_change(i.status, data["status"])
        ]
        if refused:
            raise invalid_field(
                "status",
                N_(
                    "These instruments need an approved request for that status: %(numbers)s",
                    numbers=", ".join(refused),
                ),
            )
    return [_change(session, actor, instrument, dict(data), today) for instrument in instruments]


def _id_of_management_no(session: Session, actor: Actor, management_no: str) -> int:
    found = session.scalar(
        select(Instrument.id).where(
            Instrument.org_id == actor.org_id, Instrument.management_no == management_no
        )
    )
    if found is None:
        raise invalid_field(
            "replacement_no", N_("No instrument has the management number %(no)s.", no=management_no)
        )
    return found


def _reason(text: str | None, field: str = "reason") -> str:
    text = (text or "").strip()
    if not text:
        raise invalid_field(field, N_("Give a reason."))
    if len(text) > MAX_REASON:
        raise invalid_field(field, N_("At most %(limit)s characters.", limit=MAX_REASON))
    return text


@records_history
def request_status_change(
    session: Session,
    actor: Actor,
    instrument_id: int,
    action: str,
    reason: str | None,
    replacement_id: int | None = None,
    replacement_no: str | None = None,
) -> StatusRequest:
    """Ask for a suspension, resumption, sealing, unsealing, replacement or scrapping.

    The replacement is named by id (API) or by its management number (the page's form).
    """
    actor.require("status.request")
    instrument = get_in_org(session, Instrument, instrument_id, actor)
    if replacement_no and replacement_no.strip():
        replacement_id = _id_of_management_no(session, actor, replacement_no.strip())
    if action not in STATUS_ACTIONS:
        raise invalid_field("action", N_("Unknown action."))
    reason = _reason(reason)
    if not lifecycle.action_allowed(action, instrument.status):
        raise Conflict(N_("This request does not apply to an instrument in its current status."))
    if action == "replace":
        if replacement_id is None:
            raise invalid_field("replacement_id", N_("Choose the instrument that replaces this one."))
        replacement = get_in_org(session, Instrument, replacement_id, actor)
        if replacement.id == instrument.id or replacement.status == "scrapped":
            raise invalid_field(
                "replacement_id", N_("The replacement must be another instrument that is not scrapped.")
            )
    elif replacement_id is not None:
        get_in_org(session, Instrument, replacement_id, actor)
        replacement_id = None
    pending = session.scalar(
        select(StatusRequest.id).where(
            StatusRequest.org_id == actor.org_id,
            StatusRequest.instrument_id == instrument.id,
            StatusRequest.state == "pending",
        )
    )
    if pending is not None:
        raise Conflict(N_("This instrument already has a request awaiting approval."))
    request = StatusRequest(
        org_id=actor.org_id,
        instrument_id=instrument.id,
        action=action,
        reason=reason,
        replacement_id=replacement_id,
        requested_by_id=actor.user_id,
        requester_may_decide=actor.can("status.decide") and other_deciders(session, actor) == 0,
    )
    session.add(request)
    session.flush()
    record_event(
        session,
        actor,
        "status.requested",
        ("instrument", instrument.id),
        {"request_id": request.id, "action": action, "reason": reason, "replacement_id": replacement_id},
    )
    return request


@records_history
def decide_status_request(
    session: Session, actor: Actor, request_id: int, approve: bool, reason: str | None
) -> StatusRequest:
    """Approve or reject a pending request; an approval changes the instrument's status."""
    actor.require("status.decide")
    request = get_in_org(session, StatusRequest, request_id, actor)
    if request.state != "pending":
        raise Conflict(N_("This request has already been decided."))
    self_decided = request.requested_by_id == actor.user_id
    if not may_decide(session, actor, request):
        raise Forbidden(N_("A request must be decided by someone other than its requester."))
    instrument = get_in_org(session, Instrument, request.instrument_id, actor)
    if approve:
        reason = (reason or "").strip() or None
        if not lifecycle.action_allowed(request.action, instrument.status):
            raise Conflict(N_("The instrument's status has changed since the request; reject it instead."))
    else:
        reason = _reason(reason)
    request.state = "approved" if approve else "rejected"
    request.decided_by_id = actor.user_id
    request.decided_at = utcnow()
    request.decision_reason = reason
    data = {"request_id": request.id, "action": request.action, "reason": reason}
    if self_decided:
        # Four eyes are impossible with one administrator; the history says so.
        data["sole_admin"] = True
    if approve:
        before = instrument.status
        instrument.status = lifecycle.action_target(request.action)
        if request.action == "replace":
            instrument.replaced_by_id = request.replacement_id
        data.update({"status": [before, instrument.status], "replacement_id": request.replacement_id})
    session.flush()
    kind = "status.approved" if approve else "status.rejected"
    record_event(session, actor, kind, ("instrument", instrument.id), data)
    if approve and request.action == "replace":
        record_event(
            session,
            actor,
            "instrument.replaces",
            ("instrument", request.replacement_id),
            {"replaced_id": instrument.id, "request_id": request.id},
        )
    return request


def may_decide(session: Session, actor: Actor, request: StatusRequest) -> bool:
    """Whether the actor may approve or reject ``request`` (maker-checker).

    Someone other than the requester decides. A requester who was the organisation's only
    administrator when asking, and still is, may decide their own request.
    """
    if not actor.can("status.decide") or request.state != "pending":
        return False
    if request.requested_by_id != actor.user_id:
        return True
    return request.requester_may_decide and other_deciders(session, actor) == 0


def other_deciders(session: Session, actor: Actor) -> int:
    """Count the active administrators of the actor's organisation other than the actor."""
    return session.scalar(
        select(func.count(User.id)).where(
            User.org_id == actor.org_id,
            User.role == "admin",
            User.is_active.is_(True),
            User.id != actor.user_id,
        )
    )


@records_history
def withdraw_status_request(session: Session, actor: Actor, request_id: int) -> StatusRequest:
    """Withdraw one's own pending request."""
    actor.require("status.request")
    request = get_in_org(session, StatusRequest, request_id, actor)
    if request.requested_by_id != actor.user_id:
        raise Forbidden(N_("Only the requester can withdraw a request."))
    if request.state != "pending":
        raise Conflict(N_("This request has already been decided."))
    request.state = "withdrawn"
    request.decided_at = utcnow()
    session.flush()
    record_event(
        session,
        actor,
        "status.withdrawn",
        ("instrument", request.instrument_id),
        {"request_id": request.id, "action": request.action},
    )
    return request
