"""What users do to ledger imports (upload, correct the reading, confirm, discard) and exports (queue).

Each step only records the wish and queues the job; :mod:`service.ledger_io.runner` (imports) and
:mod:`service.ledger_io.export_runner` (exports) do the work.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import LedgerExport, LedgerImport
from service.actors import Actor
from service.errors import FIX_FIELDS, Conflict, Invalid
from service.i18n import N_
from service.ledger.queries import parse_filters
from service.ledger_io.columns import BY_FIELD
from service.ledger_io.parsing import IGNORED, UNKNOWN
from service.ledger_io.queries import get_import, has_file
from service.ledger_io.reader import DEFAULT_LIMITS, Limits, read_bytes, refuse
from service.schemas import CONTROL_CHARACTERS

#: Uploads a firm may keep waiting (not imported, not discarded) at once.
MAX_WAITING_UPLOADS = 10
_TOO_MANY = N_(
    "Your firm has %(count)s uploads waiting to be imported; import or discard some of them first.",
    count=MAX_WAITING_UPLOADS,
)
_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".csv", ".txt", ".tsv")


def upload(
    session: Session,
    actor: Actor,
    content: bytes,
    filename: str,
    limits: Limits = DEFAULT_LIMITS,
    *,
    mapping: Mapping[int, str | None] | None = None,
    header_row: int | None = None,
    sheet: str | None = None,
    dry_run: bool = True,
) -> LedgerImport:
    """Store an uploaded ledger file and queue its preview (or, without ``dry_run``, its import).

    Empty and oversized files, and files not named as spreadsheets, are refused at once.
    """
    actor.require("ledger.write")
    filename = CONTROL_CHARACTERS.sub("", (filename or "").replace("\\", "/").rsplit("/", 1)[-1]).strip()[
        :255
    ]
    if not filename.lower().endswith(_SUFFIXES):
        raise refuse(N_("This file is not a spreadsheet: upload an .xlsx, .xls, .ods or .csv file."))
    content = read_bytes(content, limits)
    waiting = session.scalar(
        select(func.count(LedgerImport.id)).where(
            LedgerImport.org_id == actor.org_id,
            LedgerImport.imported_at.is_(None),
            LedgerImport.content.is_not(None),
        )
    )
    if waiting >= MAX_WAITING_UPLOADS:
        raise Conflict(_TOO_MANY)
    job = LedgerImport(
        org_id=actor.org_id,
        created_by_id=actor.user_id,
        confirmed_by_id=None if dry_run else actor.user_id,
        filename=filename,
        size=len(content),
        content=content,
        phase="preview" if dry_run else "import",
    )
    _set_reading(job, mapping or {}, header_row, sheet)
    session.add(job)
    session.flush()
    return job


def _waiting_for_user(session: Session, job: LedgerImport) -> None:
    if job.is_active:
        raise Conflict(N_("This import is still running; wait until it has finished."))
    if job.imported_at is not None:
        raise Conflict(N_("This file has already been imported."))
    if not has_file(session, job):
        raise Conflict(N_("This upload has expired; upload the file again."))


def remap(
    session: Session,
    actor: Actor,
    import_id: int,
    mapping: Mapping[int, str | None],
    header_row: int | None = None,
    sheet: str | None = None,
) -> LedgerImport:
    """Correct the columns and preview again.

    ``mapping`` is ``{column index: field}``, the field "?" for a column kept in the notes and
    None for one left out.
    """
    job = get_import(session, actor, import_id, lock=True)
    _waiting_for_user(session, job)
    _set_reading(job, mapping, header_row, sheet)
    _queue(job, "preview")
    return job


#: Excel's limits: 16,384 columns and 1,048,576 rows.
MAX_COLUMNS, MAX_ROWS = 16_384, 1_048_576


def _set_reading(
    job: LedgerImport, mapping: Mapping[int, str | None], header_row: int | None, sheet: str | None
) -> None:
    """Check and keep how the file is to be read: the column mapping, the header row, the sheet."""
    errors = {
        f"mapping.{index}": [N_("Unknown field.")]
        for index, name in mapping.items()
        if name not in (IGNORED, UNKNOWN) and name not in BY_FIELD
    }
    if any(isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < MAX_COLUMNS for i in mapping):
        errors["mapping"] = [N_("Unknown column.")]
    if header_row is not None and not 1 <= header_row <= MAX_ROWS:
        errors["header_row"] = [N_("Not a row of the sheet.")]
    if sheet is not None and len(sheet) > 100:
        errors["sheet"] = [N_("At most %(limit)s characters.", limit=100)]
    if errors:
        raise Invalid(FIX_FIELDS, errors)
    job.mapping = {str(i): name for i, name in sorted(mapping.items())} or None
    job.header_row = header_row
    job.sheet = sheet


def confirm(session: Session, actor: Actor, import_id: int) -> LedgerImport:
    """Queue the real import of a previewed file."""
    job = get_import(session, actor, import_id, lock=True)
    _waiting_for_user(session, job)
    if job.phase != "preview" or job.state != "done":
        raise Conflict(N_("Only a file whose preview succeeded can be imported."))
    _queue(job, "import")
    job.confirmed_by_id = actor.user_id
    return job


def discard(session: Session, actor: Actor, import_id: int) -> None:
    """Drop an upload that is not running; an imported one stays listed, without its file."""
    job = get_import(session, actor, import_id, lock=True)
    if job.state == "running":
        raise Conflict(N_("This import is still running; wait until it has finished."))
    if job.imported_at is None:
        session.delete(job)
    else:
        job.content = None


def _queue(job: LedgerImport, phase: str) -> None:
    job.phase, job.state, job.attempts, job.error = phase, "queued", 0, None
    job.lease_until = job.finished_at = None
    job.rows_total = job.rows_data = job.rows_read = job.rows_validated = job.rows_written = 0


#: Exports a firm may have waiting or running at once.
MAX_ACTIVE_EXPORTS = 3
_TOO_MANY_EXPORTS = N_(
    "Your firm has %(count)s exports being written; wait for one of them to finish.",
    count=MAX_ACTIVE_EXPORTS,
)


def _text(value) -> str:
    """Return a filter's value as a query string holds it (JSON's true and false as the list takes them)."""
    return {True: "true", False: "false"}.get(value, str(value)) if isinstance(value, bool) else str(value)


def queue_export(session: Session, actor: Actor, args: Mapping[str, str]) -> LedgerExport:
    """Queue an xlsx export of the ledger as the list's filters and sort in ``args`` select it.

    The filters are checked now (a bad one raises :class:`Invalid` and queues nothing) and kept as
    given, so that the job reads them again when it runs; paging parameters are ignored.
    """
    actor.require("ledger.read")
    given = {k: v for k, v in args.items() if k not in ("cursor", "limit")}
    parse_filters(given)  # as given (a query string, or JSON's own types); an unknown name is refused
    kept = {k: _text(v) for k, v in given.items() if v not in (None, "")}
    active = session.scalar(
        select(func.count(LedgerExport.id)).where(
            LedgerExport.org_id == actor.org_id, LedgerExport.state.in_(("queued", "running"))
        )
    )
    if active >= MAX_ACTIVE_EXPORTS:
        raise Conflict(_TOO_MANY_EXPORTS)
    job = LedgerExport(org_id=actor.org_id, created_by_id=actor.user_id, filters=kept)
    session.add(job)
    session.flush()
    return job
