"""The ledger import's and export's input and output: reading a file, the jobs, an import's changes."""

from __future__ import annotations

import json

from marshmallow import ValidationError, fields, validate

from service.clock import now_utc
from service.i18n import N_
from service.ledger_io.changes import KINDS, PER_PAGE
from service.ledger_io.queries import error_of, export_ready
from service.ledger_io.stored import load_report
from service.schemas import Choice, Flag, StrictSchema, WholeNumber, from_method


class _Mapping(fields.Dict):
    """``{"column index": field}``; a field of "?" keeps the column in the notes, null leaves it out."""

    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(), values=fields.String(allow_none=True), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise ValidationError(N_("Not valid JSON.")) from None
        mapping = super()._deserialize(value, attr, data, **kwargs)
        if any(not (k.isascii() and k.isdigit()) or len(k) > 5 for k in mapping):
            raise ValidationError(N_("Unknown column."))
        return {int(k): v for k, v in mapping.items()}


class ImportReading(StrictSchema):
    """How to read the file: the column mapping, the header row and the sheet, when not detected."""

    mapping = _Mapping(
        load_default=dict,
        metadata={
            "description": '0-based column index → field, "?" (keep in the notes) or null (leave out).'
        },
    )
    header_row = fields.Integer(allow_none=True, metadata={"description": "1-based, as the sheet shows it."})
    sheet = fields.String(allow_none=True)


class ImportUploadIn(ImportReading):
    """The multipart form of an upload; ``file`` is the ledger file itself."""

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})
    dry_run = Flag(
        load_default=True, metadata={"description": "Preview only (default); false imports at once."}
    )


class ImportOut(StrictSchema):
    """An import job (a ``LedgerImport``): its state, progress and (once done) its report."""

    id = fields.Integer()
    filename = fields.String()
    size = fields.Integer()
    phase = fields.String(metadata={"enum": ["preview", "import"]})
    state = fields.String(metadata={"enum": ["queued", "running", "done", "failed"]})
    imported = from_method("_imported", fields.Boolean)
    rows_total = fields.Integer(metadata={"description": "Rows of the sheet below its header."})
    rows_data = fields.Integer(metadata={"description": "Of those, the instruments' rows."})
    rows_read = fields.Integer()
    rows_validated = fields.Integer()
    rows_written = fields.Integer(
        metadata={
            "description": "Instruments' rows through the writing step: created, updated, unchanged or "
            "rejected (a preview undoes its writes at the end)."
        }
    )
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    imported_at = fields.DateTime(allow_none=True)
    error = from_method("_error", fields.String, allow_none=True)
    column_fields = from_method(
        "_column_fields",
        fields.List,
        fields.Dict(),
        allow_none=True,
        metadata={
            "description": "The columns as last read ({index, letter, header, field}), also when the "
            "reading failed for want of a management number column: correct them with PUT …/reading."
        },
    )
    report = from_method(
        "_report",
        fields.Dict,
        allow_none=True,
        metadata={
            "description": "created, updated, unchanged, rejected, rejected_rows [{row, management_no, "
            "column, reason}], warnings, columns, column_fields, notices, … (as the CLI prints)."
        },
    )

    def __init__(self, *, gettext=lambda s: s, with_report: bool = True, **kwargs):
        super().__init__(**kwargs)
        #: Translates the error and the report into the reader's language.
        self.gettext = gettext
        #: Lists leave the (possibly long) report and the columns out.
        self.with_report = with_report

    def _imported(self, job) -> bool:
        return job.imported_at is not None

    def _error(self, job) -> str | None:
        error = error_of(job)
        return error.render(self.gettext) if error else None

    def _column_fields(self, job) -> list | None:
        return (job.report or {}).get("column_fields") if self.with_report and not job.is_active else None

    def _report(self, job) -> dict | None:
        if not (self.with_report and job.state == "done" and job.report):
            return None
        return load_report(job.report).as_dict(self.gettext)


class ImportChangesQuery(StrictSchema):
    """The query string of an import's changes: which kind, which page."""

    kind = Choice(KINDS, required=True)
    page = WholeNumber(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = WholeNumber(load_default=PER_PAGE, validate=validate.Range(min=1, max=500))


class ImportFieldChangeOut(StrictSchema):
    """One field of an updated instrument, before and after the import."""

    field = fields.String(
        metadata={"description": "The instrument resource's field name (department, custodian, status, …)."}
    )
    before = fields.Raw(
        allow_none=True,
        metadata={
            "description": "Codes as codes, dates as YYYY-MM-DD, the department and custodian by name; "
            "null for blank."
        },
    )
    after = fields.Raw(allow_none=True, metadata={"description": "As before; null: the import clears it."})
    derived = fields.Boolean(metadata={"description": "Computed by the ledger (next_due_on), not typed."})


class ImportChangeOut(StrictSchema):
    """An instrument the import creates or updates, by its row in the sheet."""

    row = fields.Integer(metadata={"description": "The sheet's row number, as the spreadsheet shows it."})
    management_no = fields.String()
    name = fields.String(allow_none=True, metadata={"description": "After the import."})
    changes = fields.List(
        fields.Nested(ImportFieldChangeOut),
        metadata={"description": "Updated rows only: every changed field, in the ledger's column order."},
    )


class ImportChangesOut(StrictSchema):
    """A page (a ``ChangesPage``) of the instruments an import creates or updates, in the file's row order."""

    kind = fields.String(metadata={"enum": list(KINDS)})
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer(metadata={"description": "Rows of this kind in the whole file."})
    pages = fields.Integer()
    next_page = fields.Integer(allow_none=True)
    items = from_method("_items", fields.List, fields.Nested(ImportChangeOut))

    def _items(self, page) -> list[dict]:
        return page.items()


class ExportOut(StrictSchema):
    """An xlsx export job (a ``LedgerExport``): its state, progress and, once written, its download."""

    id = fields.Integer()
    state = fields.String(metadata={"enum": ["queued", "running", "done", "failed"]})
    filters = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "The list's filters and sort the export was asked with, as given."},
    )
    rows_total = fields.Integer(
        metadata={"description": "Instruments the filters selected when the run started (0 until then)."}
    )
    rows_written = fields.Integer(metadata={"description": "Rows written to the workbook so far."})
    ready = from_method(
        "_ready", fields.Boolean, metadata={"description": "Whether the file can be downloaded now."}
    )
    download_url = from_method(
        "_download_url",
        fields.String,
        allow_none=True,
        metadata={"description": "Where to download the file while it is kept (null until then)."},
    )
    filename = fields.String(allow_none=True)
    size = fields.Integer(metadata={"description": "The file's size in bytes (0 until written)."})
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime(
        allow_none=True, metadata={"description": "When the file is deleted; download it before."}
    )
    error = from_method("_error", fields.String, allow_none=True)

    def __init__(self, *, now=None, url_for=None, gettext=lambda s: s, **kwargs):
        super().__init__(**kwargs)
        #: The moment the file's expiry is judged against; ``url_for(job)`` makes the download's address.
        self.now, self.url_for, self.gettext = now or now_utc(), url_for, gettext

    def _ready(self, job) -> bool:
        return export_ready(job, self.now)

    def _download_url(self, job) -> str | None:
        if self.url_for is None or not export_ready(job, self.now):
            return None
        return self.url_for(job)

    def _error(self, job) -> str | None:
        error = error_of(job)
        return error.render(self.gettext) if error else None
