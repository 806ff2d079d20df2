"""API: ledger imports as background jobs, the export and the import template.

An upload answers 202 with the job; poll it until ``state`` is ``done`` or ``failed``. A preview
(the default, ``dry_run=true``) then holds the report of what the import would do; confirm it to
import. ``dry_run=false`` imports at once.
"""

from __future__ import annotations

import io
import json

from flask import jsonify, request, url_for
from flask_babel import gettext
from marshmallow import ValidationError, fields, validate

from service.api import bp
from service.api.helpers import json_body
from service.errors import Conflict
from service.i18n import N_
from service.ledger_io import operations as import_ops
from service.ledger_io import queries as import_queries
from service.ledger_io.changes import KINDS, PER_PAGE
from service.ledger_io.exporter import XLSX_MIMETYPE
from service.ledger_io.importer import rejected_rows_xlsx
from service.ledger_io.stored import load_report
from service.schemas import Choice, Flag, StrictSchema, WholeNumber, load_or_invalid
from service.web.background import start_import_after_commit
from service.web.context import actor, db
from service.web.downloads import ledger_download, send_download, template_download
from service.web.i18n import translate


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
    """An import job: its state, progress and (once done) its report."""

    id = fields.Integer()
    filename = fields.String()
    size = fields.Integer()
    phase = fields.String(metadata={"enum": ["preview", "import"]})
    state = fields.String(metadata={"enum": ["queued", "running", "done", "failed"]})
    imported = fields.Boolean()
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
    error = fields.String(allow_none=True)
    column_fields = fields.List(
        fields.Dict(),
        allow_none=True,
        metadata={
            "description": "The columns as last read ({index, letter, header, field}), also when the "
            "reading failed for want of a management number column: correct them with PUT …/reading."
        },
    )
    report = fields.Dict(
        allow_none=True,
        metadata={
            "description": "created, updated, unchanged, rejected, rejected_rows [{row, management_no, "
            "column, reason}], warnings, columns, column_fields, notices, … (as the CLI prints)."
        },
    )


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
    """A page of the instruments an import creates or updates, in the file's row order."""

    kind = fields.String(metadata={"enum": list(KINDS)})
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer(metadata={"description": "Rows of this kind in the whole file."})
    pages = fields.Integer()
    next_page = fields.Integer(allow_none=True)
    items = fields.List(fields.Nested(ImportChangeOut))


def _out(job, with_report: bool = True) -> dict:
    """Return the job as the API shows it; lists leave the (possibly long) report out."""
    report = load_report(job.report) if with_report and job.state == "done" and job.report else None
    error = import_queries.error_of(job)
    return ImportOut().dump(
        {
            **import_queries.progress_of(job),
            "filename": job.filename,
            "size": job.size,
            "created_at": job.created_at,
            "finished_at": job.finished_at,
            "imported_at": job.imported_at,
            "error": translate(error) if error else None,
            "report": report.as_dict(gettext) if report else None,
            "column_fields": (job.report or {}).get("column_fields")
            if with_report and not job.is_active
            else None,
        }
    )


def _accepted(job):
    start_import_after_commit(job.id)
    response = jsonify(_out(job))
    response.status_code = 202
    response.headers["Location"] = url_for("api.get_import", import_id=job.id)
    return response


@bp.post("/imports")
def upload_import():
    """Upload a ledger file to import.

    ---
    post:
      tags: [imports]
      summary: Upload a ledger file (.xlsx, .xls, .ods, .csv); it is read in the background.
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema: ImportUploadIn
      responses:
        202:
          content:
            application/json:
              schema: ImportOut
        400: Invalid
        403: Forbidden
    """
    form = {k: v for k, v in request.form.items()}
    file = request.files.get("file")
    form["file"] = file if file is not None and file.filename else None
    data = load_or_invalid(ImportUploadIn(), form)
    job = import_ops.upload(
        db(),
        actor(),
        data["file"].read(),
        data["file"].filename,
        mapping=data["mapping"],
        header_row=data.get("header_row"),
        sheet=data.get("sheet"),
        dry_run=data["dry_run"],
    )
    return _accepted(job)


@bp.get("/imports")
def list_imports():
    """List the latest imports (without their reports: get one import for its report).

    ---
    get:
      tags: [imports]
      responses:
        200:
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: ImportOut}
        403: Forbidden
    """
    return jsonify(
        {"items": [_out(job, with_report=False) for job in import_queries.list_imports(db(), actor())]}
    )


@bp.get("/imports/<int:import_id>")
def get_import(import_id: int):
    """Return an import: poll it until its state is done or failed.

    ---
    get:
      tags: [imports]
      parameters: [import_id]
      responses:
        200:
          content:
            application/json:
              schema: ImportOut
        404: NotFound
    """
    return jsonify(_out(import_queries.get_import(db(), actor(), import_id)))


@bp.put("/imports/<int:import_id>/reading")
def remap_import(import_id: int):
    """Correct how the file is read and preview it again.

    ---
    put:
      tags: [imports]
      parameters: [import_id]
      requestBody:
        required: true
        content:
          application/json:
            schema: ImportReading
      responses:
        202:
          content:
            application/json:
              schema: ImportOut
        400: Invalid
        404: NotFound
        409: Conflict
    """
    import_queries.get_import(db(), actor(), import_id)  # another firm's id is 404 whatever the body
    data = load_or_invalid(ImportReading(), json_body())
    job = import_ops.remap(
        db(), actor(), import_id, data["mapping"], data.get("header_row"), data.get("sheet")
    )
    return _accepted(job)


@bp.post("/imports/<int:import_id>/confirm")
def confirm_import(import_id: int):
    """Import a previewed file.

    ---
    post:
      tags: [imports]
      parameters: [import_id]
      responses:
        202:
          content:
            application/json:
              schema: ImportOut
        404: NotFound
        409: Conflict
    """
    return _accepted(import_ops.confirm(db(), actor(), import_id))


@bp.delete("/imports/<int:import_id>")
def discard_import(import_id: int):
    """Discard an upload (an imported one stays listed, without its file).

    ---
    delete:
      tags: [imports]
      parameters: [import_id]
      responses:
        204: {description: Discarded.}
        404: NotFound
        409: Conflict
    """
    import_ops.discard(db(), actor(), import_id)
    return "", 204


@bp.get("/imports/<int:import_id>/changes")
def import_changes(import_id: int):
    """List, a page at a time, the instruments the import creates or updates, with each update's changes.

    ---
    get:
      tags: [imports]
      summary: What the preview (or, once imported, the import) does row by row; fields before → after.
      parameters:
        - import_id
        - {in: query, name: kind, required: true, schema: {type: string, enum: [created, updated]}}
        - {in: query, name: page, schema: {type: integer, minimum: 1, default: 1}}
        - {in: query, name: per_page, schema: {type: integer, minimum: 1, maximum: 500, default: 50}}
      responses:
        200:
          content:
            application/json:
              schema: ImportChangesOut
        400: Invalid
        404: NotFound
        409: Conflict
    """
    import_queries.get_import(db(), actor(), import_id)  # another firm's id is 404 whatever the query
    query = load_or_invalid(ImportChangesQuery(), request.args)
    found = import_queries.get_changes(
        db(), actor(), import_id, query["kind"], query["page"], query["per_page"]
    )
    return jsonify(
        ImportChangesOut().dump(
            {
                "kind": found.kind,
                "page": found.page,
                "per_page": found.per_page,
                "total": found.total,
                "pages": found.pages,
                "next_page": found.next_page,
                "items": found.items(),
            }
        )
    )


@bp.get("/imports/<int:import_id>/rejected.xlsx")
def rejected_rows(import_id: int):
    """Download the rejected rows with their reasons, to fix and upload again.

    ---
    get:
      tags: [imports]
      parameters: [import_id]
      responses:
        200:
          content:
            application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: {}
        404: NotFound
        409: Conflict
    """
    job = import_queries.get_import(db(), actor(), import_id)
    if job.state != "done" or not job.report:
        raise Conflict(N_("There are no checked rows to download: the check has not finished or has failed."))
    content = rejected_rows_xlsx(load_report(job.report), gettext)
    return send_download(
        io.BytesIO(content), "rejected-rows.xlsx", f"rejected-rows-{job.id}.xlsx", XLSX_MIMETYPE
    )


@bp.get("/instruments/export.xlsx")
def export_xlsx():
    """Download the ledger as xlsx in the import's layout.

    ---
    get:
      tags: [instruments]
      summary: The list's filters and sort apply; paging does not.
      parameters:
        - {in: query, name: q, schema: {type: string}}
        - {in: query, name: status, schema: {type: string}}
        - {in: query, name: department, schema: {type: string}}
        - {in: query, name: label, schema: {type: string, enum: [green, yellow, red]}}
        - {in: query, name: due_within, schema: {type: integer}}
        - {in: query, name: overdue, schema: {type: boolean}}
        - {in: query, name: sort, schema: {type: string}}
      responses:
        200:
          content:
            application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: {}
        400: Invalid
    """
    return ledger_download("xlsx", request.args)


@bp.get("/instruments/export.csv")
def export_csv():
    """Download the ledger as CSV (UTF-8 with a BOM, for Excel).

    ---
    get:
      tags: [instruments]
      summary: The list's filters and sort apply; paging does not.
      parameters:
        - {in: query, name: q, schema: {type: string}}
        - {in: query, name: status, schema: {type: string}}
        - {in: query, name: department, schema: {type: string}}
        - {in: query, name: label, schema: {type: string, enum: [green, yellow, red]}}
        - {in: query, name: due_within, schema: {type: integer}}
        - {in: query, name: overdue, schema: {type: boolean}}
        - {in: query, name: sort, schema: {type: string}}
      responses:
        200:
          content:
            text/csv: {}
        400: Invalid
    """
    return ledger_download("csv", request.args)


@bp.get("/instruments/template.xlsx")
def import_template():
    """Download the import template.

    ---
    get:
      tags: [instruments]
      responses:
        200:
          content:
            application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: {}
    """
    return template_download()
