"""The instrument ledger (台账) and the maker-checker status requests."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    DDL,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Date,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    event,
    false,
    or_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantScoped, in_org, org_fk, sql_in, utcnow
from models.tenancy import Department, User

ABC_CLASSES = ("A", "B", "C")
MANDATORY_USES = ("trade", "safety", "medical", "environment")
CONTROL_METHODS = ("verification", "calibration", "self_check", "one_off")
CONCLUSIONS = ("pass", "limited", "fail")
#: What the ledger's conclusion may also be: ``pending`` while the newest calibration awaits its
#: metrological confirmation (计量确认), which alone says whether the instrument is fit for use.
INSTRUMENT_CONCLUSIONS = (*CONCLUSIONS, "pending")
CERTIFICATE_TYPES = (
    "verification_certificate",
    "verification_notice",
    "calibration_certificate",
    "test_report",
)
STATUSES = ("in_service", "out_for_calibration", "suspended", "sealed", "under_repair", "scrapped")
LABELS = ("green", "yellow", "red")

#: Statuses whose instruments are still expected back at their due date (recall lists, reminders).
RECALLED_STATUSES = ("in_service", "out_for_calibration", "under_repair")
#: Statuses that make an instrument unusable (red label) whatever its certificate says.
UNUSABLE_STATUSES = ("suspended", "sealed", "scrapped", "under_repair")

#: What the ledger's search looks in, as one text (PostgreSQL): name, management no. and serial no.
#: with a space between (as frozen in migrations 0027 and 0032).
SEARCH_TEXT = (
    "(((name::text || ' '::text) || management_no::text) || ' '::text) "
    "|| COALESCE(serial_no, ''::character varying)::text"
)
#: The character pairs of a text, lower-cased (PostgreSQL). A GIN index on the pairs of SEARCH_TEXT
#: finds the few instruments that may contain a rare term among a million: a trigram index would
#: not do, since a two-character Chinese word (压力, 卡尺) has no trigram. The pairs only narrow the
#: candidates; the search's ILIKE still decides. plpgsql, because its loop costs 10 µs a row where
#: the same in SQL with generate_series costs 27 µs: every insert and import pays it.
SEARCH_BIGRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION search_bigrams(t text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    folded text := lower(t);
    pairs text[] := '{}';
BEGIN
    FOR i IN 1 .. char_length(folded) - 1 LOOP
        pairs := pairs || substr(folded, i, 2);
    END LOOP;
    RETURN pairs;
END
$$
"""
#: The pairs of SEARCH_TEXT, stored in a generated column with a GIN index (PostgreSQL), which the
#: search asks with ``search_pairs @> search_bigrams(term)``. A column rather than an index on the
#: expression because of row-level security: under the policies, the planner uses an index only for
#: a condition whose functions are all LEAKPROOF (else it could leak rows the policy hides before the
#: policy runs), and ``search_bigrams(name || …)`` is ours and is not; marking it so would need a
#: superuser, and a dump holding a LEAKPROOF function cannot be restored by anyone else. On a
#: column, the condition calls only ``arraycontains`` (``@>``), a built-in that ``db create-roles``
#: marks LEAKPROOF (service/rls.py). Not mapped: SQLite has neither the function nor the column, and
#: no code reads it.
SEARCH_PAIRS_DDL = (
    "ALTER TABLE instruments ADD COLUMN search_pairs text[] "
    f"GENERATED ALWAYS AS (search_bigrams({SEARCH_TEXT})) STORED",
    "CREATE INDEX ix_instruments_search_pairs ON instruments USING gin (search_pairs)",
)


class Instrument(TenantScoped, Base):
    """A measuring instrument in a firm's ledger, with every column a real 台账 keeps."""

    __tablename__ = "instruments"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        UniqueConstraint("org_id", "management_no"),
        org_fk("department_id", "departments"),
        org_fk("custodian_user_id", "users"),
        org_fk("replaced_by_id", "instruments"),
        CheckConstraint(sql_in("abc_class", ABC_CLASSES), name="abc_class"),
        CheckConstraint(sql_in("mandatory_use", MANDATORY_USES), name="mandatory_use"),
        CheckConstraint(sql_in("control_method", CONTROL_METHODS), name="control_method"),
        CheckConstraint(sql_in("conclusion", INSTRUMENT_CONCLUSIONS), name="conclusion"),
        CheckConstraint(sql_in("certificate_type", CERTIFICATE_TYPES), name="certificate_type"),
        CheckConstraint(sql_in("status", STATUSES), name="status"),
        CheckConstraint("interval_months >= 0", name="interval_months"),
        # Per-firm due lists and keyset paging by due date; status and conclusion make the
        # dashboard counts and the calendar index-only scans.
        Index("ix_instruments_org_id_next_due_on_id", "org_id", "next_due_on", "id", "status", "conclusion"),
        Index("ix_instruments_org_id_name_id", "org_id", "name", "id"),
        # The daily scan across firms touches only instruments that can still fall due.
        Index(
            "ix_instruments_next_due_on_recalled",
            "next_due_on",
            postgresql_where=text(sql_in("status", RECALLED_STATUSES)),
            sqlite_where=text(sql_in("status", RECALLED_STATUSES)),
        ),
        # The search's pairs column and its GIN index are PostgreSQL's alone: SEARCH_PAIRS_DDL below.
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 管理编号 / 计量编号: the firm's own number, unique within the firm.
    management_no: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    model: Mapped[str | None] = mapped_column(String(200))
    serial_no: Mapped[str | None] = mapped_column(String(100))
    manufacturer: Mapped[str | None] = mapped_column(String(200))
    measuring_range: Mapped[str | None] = mapped_column(String(200))
    #: Accuracy class, maximum permissible error or uncertainty, as written on the certificate.
    accuracy: Mapped[str | None] = mapped_column(String(200))
    #: 分辨力 / 分度值.
    resolution: Mapped[str | None] = mapped_column(String(100))
    department_id: Mapped[int | None] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(200))
    #: The custodian as a user of the firm; when absent, ``custodian_name``/``custodian_mobile``.
    custodian_user_id: Mapped[int | None] = mapped_column(Integer)
    custodian_name: Mapped[str | None] = mapped_column(String(100))
    #: Mainland mobile number, 11 digits.
    custodian_mobile: Mapped[str | None] = mapped_column(String(20))
    abc_class: Mapped[str | None] = mapped_column(String(1))
    #: 强制检定: verification is compulsory (catalogue item used for one of the four uses).
    is_mandatory: Mapped[bool] = mapped_column(Boolean, default=False)
    mandatory_use: Mapped[str | None] = mapped_column(String(16))
    #: Item of the catalogue of instruments under mandatory management (强检目录项别).
    catalog_item: Mapped[str | None] = mapped_column(String(100))
    control_method: Mapped[str] = mapped_column(String(16), default="verification")
    #: Verification or calibration interval; 0 means no periodic due date (one-off, 随坏随换); None
    #: that nobody knows it yet (an imported ledger gave none): the instrument needs attention.
    interval_months: Mapped[int | None] = mapped_column(Integer, default=12)
    #: Date of the last verification or calibration.
    last_done_on: Mapped[date | None] = mapped_column(Date)
    #: 有效期至 as printed on the certificate; takes precedence over the interval.
    valid_until: Mapped[date | None] = mapped_column(Date)
    #: Derived on every write from ``valid_until`` or ``last_done_on`` and the interval.
    next_due_on: Mapped[date | None] = mapped_column(Date)
    #: The laboratory that verified or calibrated it (检定/校准单位).
    lab: Mapped[str | None] = mapped_column(String(200))
    certificate_no: Mapped[str | None] = mapped_column(String(100))
    certificate_type: Mapped[str | None] = mapped_column(String(32))
    conclusion: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), default="in_service")
    #: 启用日期.
    in_service_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    #: Set when the instrument was replaced by another one (the replacement's id).
    replaced_by_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    department: Mapped[Department | None] = in_org("Department", "Instrument", "department_id", lazy="joined")
    custodian_user: Mapped[User | None] = in_org("User", "Instrument", "custodian_user_id", lazy="joined")

    @property
    def custodian_display(self) -> str | None:
        """Return the custodian's name, from the linked user when there is one."""
        return self.custodian_user.name if self.custodian_user else self.custodian_name

    @property
    def custodian_contact(self) -> str | None:
        """Return the custodian's mobile number, from the linked user when there is one."""
        return self.custodian_user.mobile if self.custodian_user else self.custodian_mobile

    def is_overdue(self, today: date) -> bool:
        """Whether the instrument is still in use and past its due date."""
        return self.status in RECALLED_STATUSES and self.next_due_on is not None and self.next_due_on < today

    def label(self, today: date) -> str:
        """Return the three-colour label: red when unusable, failed or past due; yellow when limited.

        A calibration awaiting its confirmation is yellow too: nobody has said yet that it is fit.
        """
        if self.status in UNUSABLE_STATUSES or self.conclusion == "fail":
            return "red"
        if self.next_due_on is not None and self.next_due_on < today:
            return "red"
        if self.conclusion in ("limited", "pending"):
            return "yellow"
        return "green"

    def label_state(self, today: date) -> str:
        """Return what the label says: its colour, or ``pending`` (待确认) while awaiting confirmation."""
        label = self.label(today)
        return "pending" if label == "yellow" and self.conclusion == "pending" else label

    def attention_reasons(self) -> list[str]:
        """Return what is missing for the ledger to manage the instrument (see :meth:`needs_attention`)."""
        reasons = []
        if self.is_mandatory and not self.mandatory_use:
            reasons.append("mandatory_use")
        if self.interval_months is None and self.control_method != "one_off":
            reasons.append("interval")
        if (
            self.next_due_on is None
            and self.interval_months != 0
            and self.control_method != "one_off"
            and self.status in RECALLED_STATUSES
        ):
            reasons.append("due_date")
        return reasons

    @classmethod
    def needs_attention(cls) -> ColumnElement[bool]:
        """Return the SQL predicate "the ledger lacks what it needs to manage this instrument".

        A 强检 instrument without its use, an interval nobody knows, or an instrument in use with no
        due date (no last date, no valid-until date) although it is controlled periodically: what
        an imported ledger often leaves for the firm to finish.
        """
        periodic = or_(cls.control_method.is_(None), cls.control_method != "one_off")
        return or_(
            and_(cls.is_mandatory, cls.mandatory_use.is_(None)),
            and_(cls.interval_months.is_(None), periodic),
            and_(
                cls.next_due_on.is_(None),
                or_(cls.interval_months.is_(None), cls.interval_months != 0),
                periodic,
                cls.status.in_(RECALLED_STATUSES),
            ),
        )

    @classmethod
    def label_is(cls, label: str, today: date) -> ColumnElement[bool]:
        """Return the SQL predicate "this instrument's :meth:`label` is ``label``".

        Plain boolean conditions rather than ``CASE … = label``, whose selectivity PostgreSQL
        cannot estimate (it then scans and sorts the whole firm).
        """
        red = or_(cls.status.in_(UNUSABLE_STATUSES), cls.conclusion == "fail", cls.next_due_on < today)
        if label == "red":
            return red
        not_red = and_(
            cls.status.not_in(UNUSABLE_STATUSES),
            or_(cls.conclusion.is_(None), cls.conclusion != "fail"),
            or_(cls.next_due_on.is_(None), cls.next_due_on >= today),
        )
        if label == "yellow":
            return and_(not_red, cls.conclusion.in_(("limited", "pending")))
        return and_(not_red, or_(cls.conclusion.is_(None), cls.conclusion.not_in(("limited", "pending"))))


STATUS_ACTIONS = ("suspend", "resume", "seal", "unseal", "replace", "scrap")
REQUEST_STATES = ("pending", "approved", "rejected", "withdrawn")


class StatusRequest(TenantScoped, Base):
    """A request to suspend, resume, seal, unseal, replace or scrap an instrument (审批).

    A firm admin other than the requester approves or rejects it; only an approval changes the
    instrument's status.
    """

    __tablename__ = "status_requests"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        org_fk("instrument_id", "instruments"),
        org_fk("requested_by_id", "users"),
        org_fk("decided_by_id", "users"),
        org_fk("replacement_id", "instruments"),
        CheckConstraint(sql_in("action", STATUS_ACTIONS), name="action"),
        CheckConstraint(sql_in("state", REQUEST_STATES), name="state"),
        # At most one open request per instrument.
        Index(
            "uq_status_requests_pending_instrument",
            "org_id",
            "instrument_id",
            unique=True,
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
        Index("ix_status_requests_org_id_state", "org_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    #: For ``replace``: the instrument that takes this one's place.
    replacement_id: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    #: The requester was an administrator with no other active administrator when asking, so they
    #: may decide it themselves; fixed at request time so that deactivating a colleague cannot
    #: open the door afterwards.
    requester_may_decide: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    requested_by_id: Mapped[int] = mapped_column(Integer)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)

    instrument: Mapped[Instrument] = in_org("Instrument", "StatusRequest", "instrument_id")
    replacement: Mapped[Instrument | None] = in_org("Instrument", "StatusRequest", "replacement_id")
    requested_by: Mapped[User] = in_org("User", "StatusRequest", "requested_by_id", lazy="joined")
    decided_by: Mapped[User | None] = in_org("User", "StatusRequest", "decided_by_id")


event.listen(
    Instrument.__table__,
    "before_create",
    DDL(SEARCH_BIGRAMS_FUNCTION).execute_if(dialect="postgresql"),
)
for _statement in SEARCH_PAIRS_DDL:
    event.listen(Instrument.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
