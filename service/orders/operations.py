"""Service orders from submission to return: the client asks, the institute does the work.

- A client firm submits an order to one of its linked institutes for instruments of its ledger:
  mail-in (with the courier and tracking number), drop-off, or a request for work on site. The
  institute's admins and staff are told.
- The institute accepts or declines it, marks the instruments received (they show "out for
  calibration" in the client's ledger from then on), starts the work, records each instrument's
  result into the client's ledger (its own certificate numbers, as on a visit) or why not,
  completes the order when every instrument has one, and returns the instruments (back in
  service). On-site work is done once completed. The client may cancel until work starts.
- Every change is one move of :data:`TRANSITIONS`, recorded as a step (who, which side, when,
  why), and told to the client's admins and metrology engineers.

An order is shared by two organisations: every function here names the side it acts for and
reads only that side's orders (the institute's ``institute_id``, the firm's ``firm_id``). A firm
that ends its link leaves the institute's lists and pages, as it does for visits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    CalibrationRecord,
    Instrument,
    Organization,
    ServiceOrder,
    ServiceOrderItem,
    ServiceOrderStep,
)
from models.base import utcnow
from models.orders import ACTIVE_ORDER_STATES, ORDER_METHODS, SHIPPED_METHODS
from service import bookings
from service.actors import Actor
from service.db import scoped_to
from service.errors import FIX_FIELDS, Conflict, Invalid, NotFound, invalid_field
from service.history.chain import lock_chain
from service.i18n import N_, Msg
from service.ledger import operations as ledger_ops
from service.ledger import status as lifecycle
from service.orders.queries import get_institute_order, get_order, require_firm, side_of
from service.orders.schemas import OrderIn, OrderSkipIn, TransitionIn
from service.reminders.notices import notify_people
from service.schemas import load_or_invalid
from service.scoping import get_in_org, parse_id
from service.tenancy.queries import active_link
from service.traceability.certificates import record_for_client

#: Who hears of orders: the client's administrators and engineers, the institute's admins and staff.
FIRM_ROLES = ("admin", "metrology")
INSTITUTE_ROLES = ("admin", "staff")


@dataclass(frozen=True)
class Move:
    """Where an action leads, which side takes it, and for which methods."""

    target: str
    side: str
    methods: tuple[str, ...] = ORDER_METHODS


#: Every legal change of an order, keyed by (state, action); anything else is refused.
TRANSITIONS: dict[tuple[str, str], Move] = {
    ("submitted", "accept"): Move("accepted", "institute"),
    ("submitted", "decline"): Move("declined", "institute"),
    ("submitted", "cancel"): Move("cancelled", "firm"),
    ("accepted", "receive"): Move("received", "institute", SHIPPED_METHODS),
    ("accepted", "start"): Move("in_progress", "institute", ("on_site",)),
    ("accepted", "cancel"): Move("cancelled", "firm"),
    ("received", "start"): Move("in_progress", "institute", SHIPPED_METHODS),
    ("in_progress", "complete"): Move("completed", "institute"),
    ("completed", "return"): Move("returned", "institute", SHIPPED_METHODS),
}
#: Why an action is refused in any other state (or for another method).
REFUSALS = {
    "accept": N_("Only a submitted order can be accepted."),
    "decline": N_("Only a submitted order can be declined."),
    "receive": N_("Only an accepted mail-in or drop-off order can be marked received."),
    "start": N_("Work starts on received instruments, or on an accepted on-site order."),
    "complete": N_("Only an order in progress can be completed."),
    "return": N_("Only a completed mail-in or drop-off order is returned."),
    "cancel": N_("Only a submitted or accepted order can be cancelled."),
}
#: States in which an order still holds its instruments (a completed shipped order until returned).
ACTIVE_STATES = ACTIVE_ORDER_STATES


def actions_for(order: ServiceOrder, side: str) -> list[str]:
    """Return the actions ``side`` may take on ``order`` now, in the table's order."""
    return [
        action
        for (state, action), move in TRANSITIONS.items()
        if state == order.state and move.side == side and order.method in move.methods
    ]


def is_open(order: ServiceOrder) -> bool:
    """Whether the order still holds its instruments (not declined, cancelled, returned, done on site)."""
    return order.state in ACTIVE_STATES or (order.state == "completed" and order.is_shipped)


def submit_order(
    session: Session, actor: Actor, payload: Mapping, today: date, base_url: str, now: datetime
) -> ServiceOrder:
    """Submit an order to a linked institute for instruments of the firm's ledger; the institute is told.

    Refused as a whole, with a message per line of management numbers, when an instrument is not
    the firm's, is listed twice, is scrapped, or is already on an open order or visit.
    """
    require_firm(actor)
    actor.require("ledger.write")
    data = load_or_invalid(OrderIn(), payload)
    errors: dict[str, list] = {}
    if active_link(session, data["institute_id"], actor.org_id) is None:
        errors["institute_id"] = [N_("Choose a calibration institute linked to your firm.")]
    if data["method"] == "mail_in":
        # One message for each missing field, never the same sentence twice on the page.
        if not data.get("courier"):
            errors["courier"] = [N_("Give the courier of a mail-in order.")]
        if not data.get("tracking_no"):
            errors["tracking_no"] = [N_("Give the tracking number of a mail-in order.")]
    instruments, line_errors = _instruments_of(session, actor, data)
    errors.update(line_errors)
    if errors:
        raise Invalid(FIX_FIELDS, errors)
    order = ServiceOrder(
        institute_id=data["institute_id"],
        firm_id=actor.org_id,
        method=data["method"],
        state="submitted",
        courier=data.get("courier") if data["method"] == "mail_in" else None,
        tracking_no=data.get("tracking_no") if data["method"] == "mail_in" else None,
        note=data.get("note"),
        submitted_by_name=actor.name,
    )
    session.add(order)
    session.flush()
    session.add_all(
        ServiceOrderItem(
            order_id=order.id,
            institute_id=order.institute_id,
            firm_id=order.firm_id,
            instrument_id=instrument.id,
        )
        for instrument in instruments
    )
    _add_step(session, order, "firm", actor, None)
    session.flush()
    session.expire(order, ["items", "steps"])
    _tell_institute(session, order, "order_submitted", today, now, base_url)
    return order


def _instruments_of(
    session: Session, actor: Actor, data: Mapping
) -> tuple[list[Instrument], dict[str, list[Msg]]]:
    """Resolve the order's instruments (ids first, then the lines of management numbers) and the problems."""
    ids = list(dict.fromkeys(data["instrument_ids"]))
    by_id = {
        i.id: i
        for i in session.scalars(
            select(Instrument).where(Instrument.org_id == actor.org_id, Instrument.id.in_(ids))
        )
    }
    if len(by_id) != len(ids):
        raise NotFound(N_("Not found."))  # another firm's instrument, as everywhere else
    lines = [
        (number, line.strip())
        for number, line in enumerate(data["management_nos"], start=1)
        if line and line.strip()
    ]
    # Management numbers match in any letter case, as the ledger's search does; an exact match wins.
    by_no: dict[str, Instrument] = {}
    for i in session.scalars(
        select(Instrument)
        .where(
            Instrument.org_id == actor.org_id,
            func.lower(Instrument.management_no).in_({no.lower() for _, no in lines}),
        )
        .order_by(Instrument.id)
    ):
        by_no[i.management_no] = i
        by_no.setdefault(i.management_no.lower(), i)
    chosen = [by_id[i] for i in ids]
    line_of: dict[int, int | None] = dict.fromkeys(ids)
    problems: list[tuple[int, Msg]] = []
    for number, no in lines:
        instrument = by_no.get(no) or by_no.get(no.lower())
        if instrument is None:
            message = N_("Line %(line)s: no instrument has the management number %(no)s.", line=number, no=no)
            problems.append((number, message))
        elif instrument.id in line_of:
            problems.append((number, N_("Line %(line)s: %(no)s is listed twice.", line=number, no=no)))
        else:
            line_of[instrument.id] = number
            chosen.append(instrument)
    errors: dict[str, list] = {}
    for instrument, why in _unavailable(session, actor, chosen):
        number = line_of[instrument.id]
        if number is None:
            errors.setdefault("instrument_ids", []).append(_refusal(why, instrument.management_no))
        else:
            problems.append((number, _refusal(why, instrument.management_no, number)))
    if problems:
        errors["management_nos"] = [message for _number, message in sorted(problems, key=lambda p: p[0])]
    if not chosen and not errors:
        errors["management_nos"] = [N_("List the instruments to calibrate, one management number a line.")]
    return chosen, errors


def _refusal(why: str, no: str, line: int | None = None) -> Msg:
    """Say why an instrument cannot go on the order, naming its line of the form when it has one."""
    if line is None:
        return {
            "scrapped": N_("%(no)s is scrapped.", no=no),
            "on_order": N_("%(no)s is already on an open service order.", no=no),
            "on_visit": N_("%(no)s is already on an open calibration visit.", no=no),
        }[why]
    return {
        "scrapped": N_("Line %(line)s: %(no)s is scrapped.", line=line, no=no),
        "on_order": N_("Line %(line)s: %(no)s is already on an open service order.", line=line, no=no),
        "on_visit": N_("Line %(line)s: %(no)s is already on an open calibration visit.", line=line, no=no),
    }[why]


def _unavailable(session: Session, actor: Actor, instruments: list[Instrument]):
    """Yield each instrument that cannot go on an order, with why: scrapped, on an open order or visit."""
    ids = [i.id for i in instruments]
    # Locked first (in id order, so two submissions cannot wait on each other): a double click, or
    # a visit being planned at the same moment, finds the instrument taken once this one commits.
    session.execute(
        select(Instrument.id)
        .where(Instrument.org_id == actor.org_id, Instrument.id.in_(ids))
        .order_by(Instrument.id)
        .with_for_update()
    ).all()
    on_order = set(session.scalars(bookings.on_open_orders([actor.org_id], ids)))
    on_visit = set(session.scalars(bookings.on_open_visits([actor.org_id], ids)))
    for instrument in instruments:
        if instrument.status == "scrapped":
            yield instrument, "scrapped"
        elif instrument.id in on_order:
            yield instrument, "on_order"
        elif instrument.id in on_visit:
            yield instrument, "on_visit"


def transition(
    session: Session, actor: Actor, order_id, payload: Mapping, today: date, base_url: str, now: datetime
) -> ServiceOrder:
    """Move an order by one of :data:`TRANSITIONS`; the client is told, the institute of a cancellation."""
    side = side_of(actor)
    order = _locked(session, get_order(session, actor, order_id))
    actor.require("ledger.write")
    data = load_or_invalid(TransitionIn(), payload)
    action = data["action"]
    move = TRANSITIONS.get((order.state, action))
    sides = {m.side for (_state, a), m in TRANSITIONS.items() if a == action}
    if side not in sides:
        raise Conflict(
            N_("Only the institute does this.") if side == "firm" else N_("Only the client does this.")
        )
    if move is None or order.method not in move.methods:
        raise Conflict(REFUSALS[action])
    _check(order, action, data)
    if action == "receive":
        _send_out(session, actor, order, today)
    elif action == "return":
        _bring_back(session, actor, order, today)
        order.return_courier = data.get("courier") if order.method == "mail_in" else None
        order.return_tracking_no = data.get("tracking_no") if order.method == "mail_in" else None
    if action in ("decline", "cancel"):
        order.reason = data.get("reason")
    order.state = move.target
    order.changed_at = utcnow()
    _add_step(session, order, side, actor, data.get("reason"))
    session.flush()
    session.expire(order, ["steps"])
    _tell_client(session, order, today, now, base_url)
    if action == "cancel":
        _tell_institute(session, order, "order_cancelled", today, now, base_url)
    return order


def _locked(session: Session, order: ServiceOrder) -> ServiceOrder:
    """Lock the order's row and read its state again: two people moving it at once take turns."""
    session.refresh(order, ["state"], with_for_update=True)
    return order


def _check(order: ServiceOrder, action: str, data: Mapping) -> None:
    """Refuse a legal move that lacks what it needs: a reason, every result, the return parcel."""
    if action == "decline" and not data.get("reason"):
        raise invalid_field("reason", N_("Tell the client why."))
    if action == "complete":
        waiting = sum(1 for item in order.items if item.state == "pending")
        if waiting:
            raise Conflict(
                N_(
                    "Every instrument needs a result or a reason before the order is completed "
                    "(waiting: %(num)s).",
                    num=waiting,
                )
            )
    if action == "return" and order.method == "mail_in":
        missing = {
            "courier": N_("Give the courier of the parcel back."),
            "tracking_no": N_("Give the tracking number of the parcel back."),
        }
        errors = {name: [message] for name, message in missing.items() if not data.get(name)}
        if errors:
            raise Invalid(FIX_FIELDS, errors)


def _lab(session: Session, actor: Actor, order: ServiceOrder) -> Actor:
    """Return the institute actor writing in the client's ledger, as on a visit."""
    institute = session.get(Organization, order.institute_id)
    return actor.on_site(order.firm_id, institute.name)


def _send_out(session: Session, actor: Actor, order: ServiceOrder, today: date) -> None:
    """The instruments arrived: each shows "out for calibration" in the client's ledger while away."""
    lab = _lab(session, actor, order)
    with scoped_to(session, order.firm_id):
        lock_chain(session, order.firm_id)  # the chain's head first, then the instruments
        for item in order.items:
            instrument = get_in_org(session, Instrument, item.instrument_id, lab)
            if instrument.status == "out_for_calibration":
                item.is_sent_out = True  # the client marked it when it sent it
            elif lifecycle.is_direct_change(instrument.status, "out_for_calibration"):
                details = {"order_id": order.id}
                update = {"status": "out_for_calibration"}
                ledger_ops.apply_change(session, lab, instrument, update, today, "order.received", details)
                item.is_sent_out = True
            # A suspended or sealed instrument keeps its status: that is what the client must see.


def _bring_back(session: Session, actor: Actor, order: ServiceOrder, today: date) -> None:
    """The instruments went back: those the order sent out are in service again (unless stopped since)."""
    lab = _lab(session, actor, order)
    with scoped_to(session, order.firm_id):
        lock_chain(session, order.firm_id)  # the chain's head first, then the instruments
        for item in order.items:
            if not item.is_sent_out:
                continue
            instrument = get_in_org(session, Instrument, item.instrument_id, lab)
            if instrument.status == "out_for_calibration":
                details = {"order_id": order.id}
                update = {"status": "in_service"}
                ledger_ops.apply_change(session, lab, instrument, update, today, "order.returned", details)


def _worked_item(session: Session, actor: Actor, order_id, item_id) -> tuple[ServiceOrder, ServiceOrderItem]:
    order = get_institute_order(session, actor, order_id)
    item = next((i for i in order.items if i.id == parse_id(item_id)), None)
    if item is None:
        raise NotFound(N_("Not found."))
    # Locked and read again, so that two people saving the same instrument get one record.
    session.refresh(item, ["state"], with_for_update=True)
    if order.state != "in_progress":
        raise Conflict(N_("Results are entered while the order is in progress."))
    if item.state != "pending":
        raise Conflict(N_("This instrument already has its result."))
    return order, item


def record_item(
    session: Session,
    actor: Actor,
    order_id,
    item_id,
    payload: Mapping,
    today: date,
    uploads=(),
    storage: Path | None = None,
) -> CalibrationRecord:
    """Write an instrument's result into the client's ledger, with the institute's certificate number.

    A mail-in or drop-off instrument stays out for calibration until the order is returned.
    """
    order, item = _worked_item(session, actor, order_id, item_id)
    record = record_for_client(
        session,
        actor,
        order.firm_id,
        item.instrument_id,
        payload,
        today,
        uploads,
        storage,
        away=item.is_sent_out,
    )
    item.state = "done"
    item.record_id = record.id
    session.flush()
    return record


def skip_item(session: Session, actor: Actor, order_id, item_id, payload: Mapping) -> ServiceOrderItem:
    """Record why an instrument of the order got no result (not received, beyond repair, …)."""
    _order, item = _worked_item(session, actor, order_id, item_id)
    data = load_or_invalid(OrderSkipIn(), payload)
    item.state = "skipped"
    item.skip_reason = data["reason"]
    session.flush()
    return item


def _add_step(session: Session, order: ServiceOrder, side: str, actor: Actor, reason: str | None) -> None:
    session.add(
        ServiceOrderStep(
            order_id=order.id,
            firm_id=order.firm_id,
            state=order.state,
            side=side,
            actor_name=actor.name,
            reason=reason,
            at=utcnow(),
        )
    )


def _tell_client(session: Session, order: ServiceOrder, today: date, now: datetime, base_url: str) -> None:
    institute = session.get(Organization, order.institute_id)
    done = sum(1 for item in order.items if item.state == "done")
    notify_people(
        session,
        order.firm_id,
        FIRM_ROLES,
        "order",
        "order_changed",
        f"{order.id}:{order.state}",
        today,
        now,
        order=order.id,
        institute=institute.name,
        state=order.state,
        method=order.method,
        reason=order.reason,
        count=len(order.items),
        done=done,
        courier=order.return_courier,
        tracking_no=order.return_tracking_no,
        link=f"{base_url.rstrip('/')}/orders/{order.id}",
    )


def _tell_institute(
    session: Session, order: ServiceOrder, template: str, today: date, now: datetime, base_url: str
) -> None:
    firm = session.get(Organization, order.firm_id)
    notify_people(
        session,
        order.institute_id,
        INSTITUTE_ROLES,
        "order",
        template,
        f"{order.id}:{order.state}",
        today,
        now,
        order=order.id,
        firm=firm.name,
        method=order.method,
        count=len(order.items),
        courier=order.courier,
        tracking_no=order.tracking_no,
        note=order.note,
        reason=order.reason,
        link=f"{base_url.rstrip('/')}/institute/orders/{order.id}",
    )
