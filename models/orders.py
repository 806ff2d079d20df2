"""Service orders (网上申报、样品邮寄、专人受理): a client firm asks its institute to calibrate instruments.

An order is shared by two organisations, the client firm that submits it and the institute that
does the work, so like a visit it is not a tenant row: every query names the side it reads from
(``institute_id`` for the institute, ``firm_id`` for the client), and its items point at the
client's instruments with composite foreign keys.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, SharedWithClient, org_fk, sql_in, utcnow
from models.visits import ClientItem

#: How the instruments reach the institute: sent by courier, brought in, or the institute comes.
ORDER_METHODS = ("mail_in", "drop_off", "on_site")
#: Methods whose instruments leave the firm (out for calibration until they are returned).
SHIPPED_METHODS = ("mail_in", "drop_off")
#: submitted → accepted | declined; accepted → received (shipped) | in_progress (on site);
#: received → in_progress → completed → returned (shipped); cancelled by the client until work starts.
ORDER_STATES = (
    "submitted",
    "accepted",
    "declined",
    "received",
    "in_progress",
    "completed",
    "returned",
    "cancelled",
)
#: Who made a change of an order.
ORDER_SIDES = ("firm", "institute")
#: Orders still under way: their instruments are spoken for (no second order, no visit).
ACTIVE_ORDER_STATES = ("submitted", "accepted", "received", "in_progress")


class ServiceOrder(SharedWithClient, Base):
    """A client firm's order for calibration of instruments from its ledger, and where it stands."""

    __tablename__ = "service_orders"
    __table_args__ = (
        *SharedWithClient.side_keys(),
        CheckConstraint(sql_in("state", ORDER_STATES), name="state"),
        CheckConstraint(sql_in("method", ORDER_METHODS), name="method"),
        Index("ix_service_orders_institute_id_state", "institute_id", "state"),
        Index("ix_service_orders_firm_id_created_at", "firm_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    method: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="submitted")
    #: The client's parcel to the institute (mail-in).
    courier: Mapped[str | None] = mapped_column(String(50))
    tracking_no: Mapped[str | None] = mapped_column(String(50))
    #: The institute's parcel back to the client (a mail-in order returned).
    return_courier: Mapped[str | None] = mapped_column(String(50))
    return_tracking_no: Mapped[str | None] = mapped_column(String(50))
    #: The client's note with the order (contact, address, special requests).
    note: Mapped[str | None] = mapped_column(Text)
    #: Why the institute declined or the client cancelled.
    reason: Mapped[str | None] = mapped_column(String(500))
    submitted_by_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the state last changed.
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Handled through the SME green channel (中小企业绿色通道): counted in the SME assistance statistics.
    is_green_channel: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    items: Mapped[list[ServiceOrderItem]] = relationship(
        primaryjoin="ServiceOrderItem.order_id == ServiceOrder.id",
        foreign_keys="[ServiceOrderItem.order_id]",
        viewonly=True,
        order_by="ServiceOrderItem.id",
    )
    steps: Mapped[list[ServiceOrderStep]] = relationship(
        primaryjoin="ServiceOrderStep.order_id == ServiceOrder.id",
        foreign_keys="[ServiceOrderStep.order_id]",
        viewonly=True,
        order_by="ServiceOrderStep.id",
    )

    @classmethod
    def holds_instruments(cls):
        """SQL: the order still holds its instruments (under way, or done and not yet shipped back)."""
        return or_(
            cls.state.in_(ACTIVE_ORDER_STATES),
            and_(cls.state == "completed", cls.method.in_(SHIPPED_METHODS)),
        )

    @property
    def is_shipped(self) -> bool:
        """Whether the instruments leave the firm (mail-in or drop-off) rather than being worked on site."""
        return self.method in SHIPPED_METHODS


class ServiceOrderItem(ClientItem, Base):
    """One instrument of an order, and its outcome: a record in the client's ledger or a reason."""

    __tablename__ = "service_order_items"
    __table_args__ = (
        org_fk("order_id", "service_orders", org="firm_id", parent_org="firm_id", ondelete="CASCADE"),
        UniqueConstraint("firm_id", "order_id", "instrument_id"),
        *ClientItem.item_args("service_order_items"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(Integer)
    #: The order set the instrument out for calibration when it arrived; its return sets it back.
    is_sent_out: Mapped[bool] = mapped_column(Boolean, default=False)


class ServiceOrderStep(Base):
    """One change of an order's state: what it became, by which side and person, when, and why."""

    __tablename__ = "service_order_steps"
    __table_args__ = (
        org_fk("order_id", "service_orders", org="firm_id", parent_org="firm_id", ondelete="CASCADE"),
        CheckConstraint(sql_in("state", ORDER_STATES), name="state"),
        CheckConstraint(sql_in("side", ORDER_SIDES), name="side"),
        Index("ix_service_order_steps_order_id", "order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(Integer)
    firm_id: Mapped[int] = mapped_column(Integer)
    #: The state the order reached.
    state: Mapped[str] = mapped_column(String(16))
    side: Mapped[str] = mapped_column(String(16))
    #: The person as named then (a user of either organisation; no user id across tenants).
    actor_name: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(default=utcnow)
