"""Service orders: submission, every legal move and the refusal of every other, results into the ledger.

The client's instruments show "out for calibration" from receipt to return; results go into its
ledger with the institute's certificate numbers; each change tells the client; neither another
firm nor another institute sees an order.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from models import CalibrationRecord, Instrument, Notification, ServiceOrder
from service.actors import Actor
from service.clock import today_in
from service.errors import Conflict, Forbidden, Invalid, NotFound
from service.history.chain import verify_chain
from service.nonconformity import operations as nonconformity
from service.orders import operations, queries
from service.orders.operations import TRANSITIONS
from service.orders.schemas import ACTIONS, MAX_ITEMS
from service.tenancy import operations as tenancy_ops
from service.tenancy import queries as tenancy_queries
from tests import factories

TODAY = today_in("Asia/Shanghai")
NOW = datetime.now(UTC)
BASE = "https://ledger.example.cn"
PARCEL = factories.PARCEL


def _submit(db_session, world, method="mail_in", instruments=None, **extra) -> ServiceOrder:
    instruments = world.a.instruments[:2] if instruments is None else instruments
    order = factories.make_order(
        db_session,
        world.a.actor(),
        extra.pop("institute_id", world.institute.id),
        instruments,
        method,
        today=TODAY,
        base_url=BASE,
        now=NOW,
        **extra,
    )
    db_session.commit()
    return order


def _move(db_session, actor, order, action, **data) -> ServiceOrder:
    moved = operations.transition(db_session, actor, order.id, {"action": action, **data}, TODAY, BASE, NOW)
    db_session.commit()
    return moved


def _notices(db_session, org_id) -> list[Notification]:
    return db_session.scalars(
        select(Notification)
        .where(Notification.org_id == org_id, Notification.kind == "order")
        .order_by(Notification.id)
    ).all()


def _status(db_session, instrument) -> str:
    db_session.expire_all()
    return db_session.get(Instrument, instrument.id).status


def translate(message) -> str:
    """The message in English (the msgid with its values): what it says, whatever the catalog."""
    return message.render() if hasattr(message, "render") else str(message)


def _messages(exc, field) -> list[str]:
    return [translate(m) for m in exc.value.field_errors[field]]


def test_a_submitted_order_tells_the_institute(db_session, world):
    order = _submit(db_session, world, note="请加急")
    assert (order.state, order.firm_id, order.institute_id, len(order.items)) == (
        "submitted",
        world.a.org.id,
        world.institute.id,
        2,
    )
    assert (order.courier, order.tracking_no) == (PARCEL["courier"], PARCEL["tracking_no"])
    assert [(s.state, s.side, s.actor_name) for s in order.steps] == [
        ("submitted", "firm", world.a.metrology.name)
    ]
    told = _notices(db_session, world.institute.id)
    assert {(n.recipient_user_id, n.channel) for n in told} == {
        (u.id, c) for u in (world.institute_admin, world.institute_staff) for c in ("in_app", "email")
    }
    assert world.a.org.name in told[0].subject
    assert "请加急" in told[0].body
    assert _notices(db_session, world.a.org.id) == []
    # Nothing moved in the ledger yet: the instruments are still at the firm.
    assert _status(db_session, world.a.instruments[0]) == "in_service"


def test_a_mail_in_order_needs_the_courier_and_the_tracking_number(db_session, world):
    with pytest.raises(Invalid) as missing:
        _submit(db_session, world, courier=None, tracking_no=None)
    assert set(missing.value.field_errors) == {"courier", "tracking_no"}
    db_session.rollback()
    with pytest.raises(Invalid) as half:
        _submit(db_session, world, tracking_no="")
    assert set(half.value.field_errors) == {"tracking_no"}
    db_session.rollback()
    assert db_session.scalar(select(func.count(ServiceOrder.id))) == 0
    # Brought in or worked on site: no parcel, none asked for.
    assert _submit(db_session, world, "drop_off").courier is None


def test_bad_management_numbers_are_reported_line_by_line(db_session, world):
    a0, a1, a2 = world.a.instruments
    a2.status = "scrapped"
    on_visit = factories.make_instrument(db_session, world.a.actor())
    factories.make_visit(
        db_session,
        Actor.of(world.institute_staff),
        world.a.org.id,
        {on_visit.id: None},
        today=TODAY,
        base_url=BASE,
        now=NOW,
    )
    db_session.commit()
    _submit(db_session, world, instruments=[a1])
    lines = [
        a0.management_no,
        "NOPE-1",
        a0.management_no,
        "",
        a2.management_no,
        a1.management_no,
        world.b.instruments[0].management_no,  # another firm's number is simply not found here
        on_visit.management_no,
    ]
    payload = {"institute_id": world.institute.id, "method": "drop_off", "management_nos": lines}
    with pytest.raises(Invalid) as refused:
        operations.submit_order(db_session, world.a.actor(), payload, TODAY, BASE, NOW)
    db_session.rollback()
    assert _messages(refused, "management_nos") == [
        "Line 2: no instrument has the management number NOPE-1.",
        f"Line 3: {a0.management_no} is listed twice.",
        f"Line 5: {a2.management_no} is scrapped.",
        f"Line 6: {a1.management_no} is already on an open service order.",
        f"Line 7: no instrument has the management number {world.b.instruments[0].management_no}.",
        f"Line 8: {on_visit.management_no} is already on an open calibration visit.",
    ]
    assert db_session.scalar(select(func.count(ServiceOrder.id))) == 1  # only the first order
    with pytest.raises(Invalid) as empty:
        operations.submit_order(
            db_session, world.a.actor(), {**payload, "management_nos": ["", "  "]}, TODAY, BASE, NOW
        )
    assert list(empty.value.field_errors) == ["management_nos"]
    db_session.rollback()


def test_blank_lines_do_not_count_towards_the_most_instruments_an_order_carries(db_session, world):
    a0 = world.a.instruments[0]
    blank_lines = ["", "  "] * MAX_ITEMS  # e.g. pasted from a spreadsheet with gaps
    payload = {"institute_id": world.institute.id, "method": "drop_off"}
    order = operations.submit_order(
        db_session,
        world.a.actor(),
        {**payload, "management_nos": [*blank_lines, a0.management_no]},
        TODAY,
        BASE,
        NOW,
    )
    assert [item.instrument_id for item in order.items] == [a0.id]
    db_session.rollback()
    too_many = [f"X-{n}" for n in range(MAX_ITEMS + 1)]
    with pytest.raises(Invalid) as refused:
        operations.submit_order(
            db_session, world.a.actor(), {**payload, "management_nos": too_many}, TODAY, BASE, NOW
        )
    assert _messages(refused, "management_nos") == [f"At most {MAX_ITEMS} instruments."]
    db_session.rollback()


def test_only_a_linked_institute_can_be_chosen(db_session, world):
    payload = {
        "institute_id": world.institute.id,
        "method": "drop_off",
        "management_nos": [world.b.instruments[0].management_no],
    }
    with pytest.raises(Invalid) as unlinked:  # firm B has no link to this institute
        operations.submit_order(db_session, world.b.actor(), payload, TODAY, BASE, NOW)
    assert list(unlinked.value.field_errors) == ["institute_id"]
    db_session.rollback()
    for not_an_institute in (world.a.org.id, world.b.org.id, 10**6):
        with pytest.raises(Invalid):
            operations.submit_order(
                db_session,
                world.a.actor(),
                {
                    **payload,
                    "institute_id": not_an_institute,
                    "management_nos": [world.a.instruments[0].management_no],
                },
                TODAY,
                BASE,
                NOW,
            )
        db_session.rollback()
    tenancy_queries.active_link(db_session, world.institute.id, world.a.org.id).ended_at = NOW
    db_session.commit()
    with pytest.raises(Invalid):  # a link the firm ended
        _submit(db_session, world)
    db_session.rollback()
    assert queries.linked_institutes(db_session, world.a.actor()) == []


def test_another_firms_instrument_ids_are_404(db_session, world):
    payload = {
        "institute_id": world.institute.id,
        "method": "drop_off",
        "instrument_ids": [world.b.instruments[0].id],
    }
    with pytest.raises(NotFound):
        operations.submit_order(db_session, world.a.actor(), payload, TODAY, BASE, NOW)
    db_session.rollback()
    own = {**payload, "instrument_ids": [world.a.instruments[0].id]}
    order = operations.submit_order(db_session, world.a.actor(), own, TODAY, BASE, NOW)
    assert [i.instrument_id for i in order.items] == [world.a.instruments[0].id]
    db_session.rollback()


def test_a_mail_in_order_from_submission_to_return(db_session, world, staff):
    a0, a1, _a2 = world.a.instruments
    order = _submit(db_session, world)
    _move(db_session, staff, order, "accept")
    assert _status(db_session, a0) == "in_service"
    _move(db_session, staff, order, "receive")
    assert [_status(db_session, i) for i in (a0, a1)] == ["out_for_calibration"] * 2
    _move(db_session, staff, order, "start")
    assert order.state == "in_progress"

    first, second = order.items
    technician = Actor.of(world.institute_technician)  # technicians record results in the lab
    record = operations.record_item(
        db_session, technician, order.id, first.id, {"kind": "verification", "conclusion": "pass"}, TODAY
    )
    db_session.commit()
    assert record.org_id == world.a.org.id
    assert (record.lab_org_id, record.lab_name) == (world.institute.id, world.institute.name)
    assert record.certificate_no == f"JD{TODAY.year}-00001"
    assert record.recorded_by_name == f"{world.institute_technician.name}（{world.institute.name}）"
    instrument = db_session.get(Instrument, a0.id)
    db_session.refresh(instrument)
    assert (instrument.last_done_on, instrument.certificate_no) == (TODAY, record.certificate_no)
    # The result is in, but the instrument is still at the institute.
    assert instrument.status == "out_for_calibration"
    with pytest.raises(Conflict):
        operations.record_item(db_session, staff, order.id, first.id, {"kind": "verification"}, TODAY)
    db_session.rollback()
    calibration = operations.record_item(
        db_session, staff, order.id, second.id, {"kind": "calibration", "confirmation": "fit"}, TODAY
    )
    db_session.commit()
    assert calibration.certificate_no == f"JZ{TODAY.year}-00001"
    assert _status(db_session, a1) == "out_for_calibration"

    _move(db_session, staff, order, "complete")
    assert _status(db_session, a0) == "out_for_calibration"
    with pytest.raises(Invalid) as no_parcel:
        _move(db_session, staff, order, "return")
    assert set(no_parcel.value.field_errors) == {"courier", "tracking_no"}
    db_session.rollback()
    _move(db_session, staff, order, "return", courier="EMS", tracking_no="EA001")
    assert (order.state, order.return_courier, order.return_tracking_no) == ("returned", "EMS", "EA001")
    assert [_status(db_session, i) for i in (a0, a1)] == ["in_service"] * 2

    assert [(s.state, s.side) for s in order.steps] == [
        ("submitted", "firm"),
        ("accepted", "institute"),
        ("received", "institute"),
        ("in_progress", "institute"),
        ("completed", "institute"),
        ("returned", "institute"),
    ]
    assert [s.actor_name for s in order.steps[1:]] == [world.institute_staff.name] * 5
    # Each of the five changes told the client's admin and engineer, in the app and by email.
    told = _notices(db_session, world.a.org.id)
    assert len(told) == 5 * 2 * 2
    assert {n.recipient_user_id for n in told} == {world.a.admin.id, world.a.metrology.id}
    assert "EA001" in told[-1].body
    assert verify_chain(db_session, world.a.org.id).ok
    kinds = db_session.scalars(
        select(CalibrationRecord.certificate_no).where(CalibrationRecord.org_id == world.a.org.id)
    ).all()
    assert sorted(kinds) == [f"JD{TODAY.year}-00001", f"JZ{TODAY.year}-00001"]


def test_an_instrument_the_client_sent_out_itself_comes_back_in_service(db_session, world, staff):
    a0 = world.a.instruments[0]
    a0.status = "out_for_calibration"
    db_session.commit()
    order = _submit(db_session, world, "drop_off", instruments=[a0])
    for action in ("accept", "receive", "start"):
        _move(db_session, staff, order, action)
    operations.skip_item(db_session, staff, order.id, order.items[0].id, {"reason": "送检时已损坏"})
    for action in ("complete", "return"):  # a drop-off is collected: no parcel back
        _move(db_session, staff, order, action)
    assert order.items[0].skip_reason == "送检时已损坏"
    assert _status(db_session, a0) == "in_service"


def test_an_on_site_order_never_leaves_the_firm(db_session, world, staff):
    a0 = world.a.instruments[0]
    order = _submit(db_session, world, "on_site", instruments=[a0])
    _move(db_session, staff, order, "accept")
    with pytest.raises(Conflict):
        _move(db_session, staff, order, "receive")
    db_session.rollback()
    _move(db_session, staff, order, "start")
    operations.record_item(
        db_session, staff, order.id, order.items[0].id, {"kind": "verification", "conclusion": "pass"}, TODAY
    )
    _move(db_session, staff, order, "complete")
    assert _status(db_session, a0) == "in_service"
    with pytest.raises(Conflict):
        _move(db_session, staff, order, "return")
    db_session.rollback()
    assert operations.is_open(order) is False
    # Done: the instrument may go on a new order.
    assert _submit(db_session, world, "on_site", instruments=[a0]).state == "submitted"


def test_completion_needs_a_result_or_a_reason_for_every_instrument(db_session, world, staff):
    order = _submit(db_session, world, "on_site")
    for action in ("accept", "start"):
        _move(db_session, staff, order, action)
    first, second = order.items
    operations.record_item(
        db_session, staff, order.id, first.id, {"kind": "verification", "conclusion": "pass"}, TODAY
    )
    db_session.commit()
    with pytest.raises(Conflict) as waiting:
        _move(db_session, staff, order, "complete")
    assert translate(waiting.value.message).endswith("(waiting: 1).")
    db_session.rollback()
    with pytest.raises(Invalid):
        operations.skip_item(db_session, staff, order.id, second.id, {"reason": ""})
    db_session.rollback()
    operations.skip_item(db_session, staff, order.id, second.id, {"reason": "现场未找到"})
    assert _move(db_session, staff, order, "complete").state == "completed"


def test_no_results_before_the_work_starts(db_session, world, staff):
    order = _submit(db_session, world)
    for action in (None, "accept", "receive"):
        if action:
            _move(db_session, staff, order, action)
        with pytest.raises(Conflict):
            operations.record_item(
                db_session,
                staff,
                order.id,
                order.items[0].id,
                {"kind": "verification", "conclusion": "pass"},
                TODAY,
            )
        db_session.rollback()


def test_declining_needs_a_reason_that_the_client_reads(db_session, world, staff):
    order = _submit(db_session, world)
    with pytest.raises(Invalid) as no_reason:
        _move(db_session, staff, order, "decline")
    assert list(no_reason.value.field_errors) == ["reason"]
    db_session.rollback()
    _move(db_session, staff, order, "decline", reason="本所暂不具备该项目资质")
    assert (order.state, order.reason) == ("declined", "本所暂不具备该项目资质")
    told = _notices(db_session, world.a.org.id)
    assert len(told) == 4
    assert "本所暂不具备该项目资质" in told[0].body
    assert operations.is_open(order) is False


def test_the_client_cancels_until_the_instruments_are_received(db_session, world, staff):
    order = _submit(db_session, world)
    _move(db_session, staff, order, "accept")
    before = len(_notices(db_session, world.institute.id))
    _move(db_session, world.a.actor(), order, "cancel", reason="已找到其他机构")
    assert (order.state, order.reason) == ("cancelled", "已找到其他机构")
    assert order.steps[-1].side == "firm"
    # The institute hears of it (its admin and staff), and the client's colleagues too.
    assert len(_notices(db_session, world.institute.id)) == before + 4
    assert len(_notices(db_session, world.a.org.id)) == 4 + 4
    late = _submit(db_session, world)
    _move(db_session, staff, late, "accept")
    _move(db_session, staff, late, "receive")
    with pytest.raises(Conflict):
        _move(db_session, world.a.actor(), late, "cancel")
    db_session.rollback()


def test_the_transition_table():
    shipped, everyone = ("mail_in", "drop_off"), ("mail_in", "drop_off", "on_site")
    table = {key: (m.target, m.side, m.methods) for key, m in TRANSITIONS.items()}
    assert table == {
        ("submitted", "accept"): ("accepted", "institute", everyone),
        ("submitted", "decline"): ("declined", "institute", everyone),
        ("submitted", "cancel"): ("cancelled", "firm", everyone),
        ("accepted", "receive"): ("received", "institute", shipped),
        ("accepted", "start"): ("in_progress", "institute", ("on_site",)),
        ("accepted", "cancel"): ("cancelled", "firm", everyone),
        ("received", "start"): ("in_progress", "institute", shipped),
        ("in_progress", "complete"): ("completed", "institute", everyone),
        ("completed", "return"): ("returned", "institute", shipped),
    }


def _reach(db_session, world, staff, method: str, state: str) -> ServiceOrder:
    """Return an order of ``method`` brought to ``state`` by legal moves only."""
    paths = {
        "submitted": [],
        "accepted": ["accept"],
        "declined": ["decline"],
        "cancelled": ["cancel"],
        "received": ["accept", "receive"],
        "in_progress": ["accept", "receive", "start"] if method != "on_site" else ["accept", "start"],
        "completed": ["accept", "receive", "start", "skip", "complete"]
        if method != "on_site"
        else ["accept", "start", "skip", "complete"],
        "returned": ["accept", "receive", "start", "skip", "complete", "return"],
    }
    order = _submit(db_session, world, method, instruments=world.a.instruments[:1])
    for step in paths[state]:
        if step == "skip":
            operations.skip_item(db_session, staff, order.id, order.items[0].id, {"reason": "x"})
        elif step == "cancel":
            _move(db_session, world.a.actor(), order, step)
        else:
            _move(db_session, staff, order, step, reason="x", **PARCEL)
    assert order.state == state
    return order


REACHABLE = [
    (method, state)
    for method, states in {
        "mail_in": (
            "submitted",
            "accepted",
            "declined",
            "cancelled",
            "received",
            "in_progress",
            "completed",
            "returned",
        ),
        "drop_off": ("received", "completed", "returned"),
        "on_site": ("submitted", "accepted", "in_progress", "completed"),
    }.items()
    for state in states
]


@pytest.mark.parametrize(("method", "state"), REACHABLE)
def test_every_other_move_is_refused(db_session, world, staff, method, state):
    order = _reach(db_session, world, staff, method, state)
    sides = {action: {m.side for (_s, a), m in TRANSITIONS.items() if a == action} for action in ACTIONS}
    for action in ACTIONS:
        move = TRANSITIONS.get((state, action))
        if move is not None and method in move.methods:
            continue
        who = world.a.actor() if sides[action] == {"firm"} else staff
        with pytest.raises(Conflict):
            _move(db_session, who, order, action, reason="x", **PARCEL)
        db_session.rollback()
        db_session.refresh(order)
        assert order.state == state


def test_each_side_makes_only_its_own_moves(db_session, world, staff):
    order = _submit(db_session, world)
    with pytest.raises(Conflict) as firm_accepts:
        _move(db_session, world.a.actor(), order, "accept")
    assert translate(firm_accepts.value.message) == "Only the institute does this."
    db_session.rollback()
    with pytest.raises(Conflict) as institute_cancels:
        _move(db_session, staff, order, "cancel")
    assert translate(institute_cancels.value.message) == "Only the client does this."
    db_session.rollback()
    with pytest.raises(Forbidden):  # a viewer of the firm, a technician of the institute
        _move(db_session, world.a.actor("viewer"), order, "cancel")
    db_session.rollback()
    with pytest.raises(Forbidden):
        _move(db_session, Actor.of(world.institute_technician), order, "accept")
    db_session.rollback()
    with pytest.raises(Invalid):
        _move(db_session, staff, order, "teleport")
    db_session.rollback()
    assert order.state == "submitted"


def test_other_firms_and_institutes_see_nothing(db_session, world, staff):
    order = _submit(db_session, world)
    _move(db_session, staff, order, "accept")
    _move(db_session, staff, order, "receive")
    _move(db_session, staff, order, "start")
    other = factories.make_org(db_session, "institute")
    other_staff = Actor.of(factories.make_user(db_session, other, "staff"))
    tenancy_ops.link_client(db_session, other.id, world.b.org.id)
    db_session.commit()
    item = order.items[0].id
    result = {"kind": "verification", "conclusion": "pass"}
    for call in (
        lambda: queries.get_firm_order(db_session, world.b.actor(), order.id),
        lambda: queries.get_order(db_session, world.b.actor("admin"), order.id),
        lambda: operations.transition(
            db_session, world.b.actor(), order.id, {"action": "cancel"}, TODAY, BASE, NOW
        ),
        lambda: queries.get_institute_order(db_session, other_staff, order.id),
        lambda: operations.transition(
            db_session, other_staff, order.id, {"action": "complete"}, TODAY, BASE, NOW
        ),
        lambda: operations.record_item(db_session, other_staff, order.id, item, result, TODAY),
        lambda: operations.skip_item(db_session, other_staff, order.id, item, {"reason": "x"}),
        # Each side reads only through its own door.
        lambda: queries.get_institute_order(db_session, world.a.actor("admin"), order.id),
        lambda: queries.get_firm_order(db_session, staff, order.id),
        lambda: queries.firm_orders(db_session, staff),
        lambda: queries.institute_orders(db_session, world.a.actor()),
        # An item of this order under another order's number, and ids no order has.
        lambda: operations.record_item(db_session, staff, order.id, 10**6, result, TODAY),
        lambda: queries.get_firm_order(db_session, world.a.actor(), 10**20),
    ):
        with pytest.raises(NotFound):
            call()
        db_session.rollback()
    assert queries.firm_orders(db_session, world.b.actor()) == []
    assert queries.institute_orders(db_session, other_staff) == []


def test_a_firm_that_ended_the_link_leaves_the_institutes_orders(db_session, world, staff):
    order = _submit(db_session, world)
    assert [o.id for o in queries.institute_orders(db_session, staff)] == [order.id]
    tenancy_queries.active_link(db_session, world.institute.id, world.a.org.id).ended_at = NOW
    db_session.commit()
    assert queries.institute_orders(db_session, staff) == []
    with pytest.raises(NotFound):
        _move(db_session, staff, order, "accept")
    db_session.rollback()
    # The client still sees its order and may cancel it.
    assert _move(db_session, world.a.actor(), order, "cancel").state == "cancelled"


def test_the_institutes_list_is_filtered_by_state(db_session, world, staff):
    first = _submit(db_session, world, instruments=world.a.instruments[:1])
    second = _submit(db_session, world, "drop_off", instruments=world.a.instruments[1:2])
    _move(db_session, staff, second, "decline", reason="x")

    def ids(**filters):
        return [o.id for o in queries.institute_orders(db_session, staff, filters)]

    assert ids() == [first.id]  # open ones by default
    assert ids(state="declined") == [second.id]
    assert ids(state="all") == [second.id, first.id]
    assert ids(state="returned") == []
    with pytest.raises(Invalid):
        ids(state="bogus")


def test_a_viewer_cannot_submit(db_session, world):
    payload = {"institute_id": world.institute.id, "method": "drop_off", "management_nos": ["x"]}
    with pytest.raises(Forbidden):
        operations.submit_order(db_session, world.a.actor("viewer"), payload, TODAY, BASE, NOW)
    with pytest.raises(NotFound):  # an institute does not submit orders
        operations.submit_order(db_session, Actor.of(world.institute_admin), payload, TODAY, BASE, NOW)


def test_ending_the_link_cancels_waiting_orders_but_not_while_instruments_are_away(db_session, world, staff):
    from service.tenancy import operations as tenancy_ops

    waiting = _submit(db_session, world, method="drop_off", instruments=[world.a.instruments[2]])
    away = _submit(db_session, world)
    _move(db_session, staff, away, "accept")
    _move(db_session, staff, away, "receive")
    link = tenancy_queries.active_link(db_session, world.institute.id, world.a.org.id)
    with pytest.raises(Conflict):
        tenancy_ops.end_client_link(db_session, world.a.actor("admin"), link.id)
    db_session.rollback()
    for action in ("start",):
        _move(db_session, staff, away, action)
    for item in away.items:
        operations.skip_item(db_session, staff, away.id, item.id, {"reason": "无法校准"})
    _move(db_session, staff, away, "complete")
    _move(db_session, staff, away, "return", **PARCEL)
    tenancy_ops.end_client_link(db_session, world.a.actor("admin"), link.id)
    db_session.commit()
    db_session.refresh(waiting)
    assert waiting.state == "cancelled"


def test_a_correction_by_the_firm_keeps_an_instrument_away_until_returned(db_session, world, staff):
    from service.traceability import operations as record_ops

    order = _submit(db_session, world, instruments=[world.a.instruments[0]])
    for action in ("accept", "receive", "start"):
        _move(db_session, staff, order, action)
    [item] = order.items
    record = operations.record_item(
        db_session, staff, order.id, item.id, {"kind": "verification", "conclusion": "pass"}, TODAY
    )
    db_session.commit()
    assert _status(db_session, world.a.instruments[0]) == "out_for_calibration"
    correction = {
        "kind": "verification",
        "performed_on": TODAY.isoformat(),
        "conclusion": "pass",
        "lab_name": "河南省计量测试科学研究院",
        "certificate_no": record.certificate_no,
        "correction_reason": "x",
    }
    record_ops.correct_record(db_session, world.a.actor(), record.id, correction, TODAY)
    db_session.commit()
    assert _status(db_session, world.a.instruments[0]) == "out_for_calibration"


@pytest.mark.parametrize("closed", ["while away", "after the return"])
def test_a_case_opened_at_the_institute_gives_back_the_status_the_instrument_has_by_then(
    db_session, world, staff, closed
):
    """A failure found at the institute stops the instrument; the case's close lifts the stop to
    "out for calibration" while the order still holds it, to "in service" once it has come back."""
    a0 = world.a.instruments[0]
    order = _submit(db_session, world, "drop_off", instruments=[a0])
    for action in ("accept", "receive", "start"):
        _move(db_session, staff, order, action)
    failed = {"kind": "verification", "conclusion": "fail"}
    operations.record_item(db_session, staff, order.id, order.items[0].id, failed, TODAY)
    db_session.commit()
    assert _status(db_session, a0) == "suspended"
    case = nonconformity.open_case_of(db_session, world.a.actor(), a0.id)
    assert case.stopped_from == "out_for_calibration"
    nonconformity.assess(db_session, world.a.actor(), case.id, {"impact_assessment": "无影响"}, TODAY)
    db_session.commit()
    downgrade = {"disposition": "downgrade", "use_limits": "仅用于0–1 MPa"}

    if closed == "while away":
        nonconformity.close(db_session, world.a.actor("admin"), case.id, downgrade, TODAY)
        db_session.commit()
        assert _status(db_session, a0) == "out_for_calibration"
    for action in ("complete", "return"):
        _move(db_session, staff, order, action)
    if closed == "after the return":
        assert _status(db_session, a0) == "suspended"  # the return leaves a stopped instrument stopped
        nonconformity.close(db_session, world.a.actor("admin"), case.id, downgrade, TODAY)
        db_session.commit()
    assert _status(db_session, a0) == "in_service"
    assert verify_chain(db_session, world.a.org.id).ok


def test_an_instrument_on_another_institutes_open_order_is_not_put_on_a_visit(db_session, world, staff):
    from service.tenancy import operations as tenancy_ops
    from service.visits import operations as visit_ops
    from service.visits.operations import NewVisit
    from tests.factories import make_org

    other = make_org(db_session, "institute")
    tenancy_ops.link_client(db_session, other.id, world.a.org.id)
    db_session.commit()
    instrument = world.a.instruments[0]
    _submit(db_session, world, method="drop_off", instruments=[instrument], institute_id=other.id)
    with pytest.raises(Conflict):
        visit_ops.create_visits(
            db_session, staff, [NewVisit(world.a.org.id, TODAY, {instrument.id: None})], TODAY, BASE, NOW
        )
    db_session.rollback()
