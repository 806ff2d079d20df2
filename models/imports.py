"""Ledger imports as background jobs: the uploaded file, its progress and its report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from models.base import Base, TenantScoped, in_org, org_fk, utcnow
from models.tenancy import User

#: What a job does when it runs: check the file and report (a dry run), or import it for real.
IMPORT_PHASES = ("preview", "import")
#: queued → running → done | failed; a running job whose lease ran out is queued again.
IMPORT_STATES = ("queued", "running", "done", "failed")


class LedgerImport(TenantScoped, Base):
    """One uploaded ledger file on its way into a firm's ledger.

    The upload is previewed first (a dry run whose report the page shows, with the column
    mapping the user may correct), then imported when the user confirms. Each run is claimed by
    one worker under a lease; the file is dropped once the import is done or abandoned.
    """

    __tablename__ = "ledger_imports"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        org_fk("created_by_id", "users"),
        org_fk("confirmed_by_id", "users"),
        Index("ix_ledger_imports_state_lease", "state", "lease_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int] = mapped_column(Integer)
    #: Who confirmed the import: the import runs as them and the history names them.
    confirmed_by_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    #: The uploaded bytes; emptied when the import is done or the upload is discarded.
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    #: The reader's choices, corrected by the user: sheet, 1-based header row, {column index: field}.
    sheet: Mapped[str | None] = mapped_column(String(100))
    header_row: Mapped[int | None] = mapped_column(Integer)
    mapping: Mapped[dict | None] = mapped_column(JSON)
    phase: Mapped[str] = mapped_column(String(16), default="preview")
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column()
    #: Rows below the header (read and checked), and the instrument rows among them (written).
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_data: Mapped[int] = mapped_column(Integer, default=0)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_validated: Mapped[int] = mapped_column(Integer, default=0)
    rows_written: Mapped[int] = mapped_column(Integer, default=0)
    #: The last run's report (messages kept untranslated, see ``service.ledger_io.stored``).
    report: Mapped[dict | None] = deferred(mapped_column(JSON))
    #: The last run's instruments row by row, ``{"created": [[row, management_no, name], …],
    #: "updated": [[row, management_no, name, {field: [before, after]}], …]}`` (see
    #: ``service.ledger_io.changes``); apart from the report, which the page reads on every load.
    changes: Mapped[dict | None] = deferred(mapped_column(JSON))
    #: Why the last run failed: a stored message.
    error: Mapped[dict | None] = mapped_column(JSON)
    finished_at: Mapped[datetime | None] = mapped_column()
    #: When the confirmed import landed in the ledger.
    imported_at: Mapped[datetime | None] = mapped_column()

    created_by: Mapped[User] = in_org("User", "LedgerImport", "created_by_id")

    @property
    def is_active(self) -> bool:
        """Whether a run is waiting or under way."""
        return self.state in ("queued", "running")


#: queued → running → done | failed; a running job whose lease ran out is queued again.
EXPORT_STATES = IMPORT_STATES


class LedgerExport(TenantScoped, Base):
    """A ledger export written in the background: the filters asked for, its progress and the file.

    The request that asks for it only queues it; a worker outside the web process claims it under
    a lease (as imports are claimed), writes the workbook row by row and keeps the file here until
    ``expires_at``, after which it is forgotten.
    """

    __tablename__ = "ledger_exports"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        org_fk("created_by_id", "users"),
        Index("ix_ledger_exports_state_lease", "state", "lease_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Who asked: the export runs as them, seeing what they may see when it runs.
    created_by_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    #: The ledger list's filters and sort as the query string gave them (checked when queued).
    filters: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column()
    #: Instruments matching the filters when the run started, and those written so far.
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_written: Mapped[int] = mapped_column(Integer, default=0)
    #: The finished workbook; emptied when it expires.
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    size: Mapped[int] = mapped_column(Integer, default=0)
    #: The download's name (the firm's slug and the day the run wrote it).
    filename: Mapped[str | None] = mapped_column(String(255))
    #: Why the last run failed: a stored message.
    error: Mapped[dict | None] = mapped_column(JSON)
    finished_at: Mapped[datetime | None] = mapped_column()
    #: When the file is forgotten (set when it is written).
    expires_at: Mapped[datetime | None] = mapped_column()

    @property
    def is_active(self) -> bool:
        """Whether a run is waiting or under way."""
        return self.state in ("queued", "running")
