"""Import and export pages: upload, watch, correct, preview and import a file; export to xlsx.

Imports: upload a ledger file, watch it being read, correct the columns, preview, import. Exports:
ask for an xlsx export of the ledger as filtered, watch it being written, download it.

The work runs as a background job (:mod:`service.ledger_io.runner`); the pages only queue it and
show what it has done so far. The job page polls a small JSON progress resource while the job runs.
"""

from __future__ import annotations

import io

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import login_required

from service.clock import now_utc
from service.errors import DomainError, Invalid
from service.i18n import N_
from service.ledger_io import operations as import_ops
from service.ledger_io import queries as import_queries
from service.ledger_io.changes import DERIVED_FIELDS, KINDS, RENAMING_FIELDS
from service.ledger_io.columns import COLUMNS
from service.ledger_io.exporter import XLSX_MIMETYPE
from service.ledger_io.importer import rejected_rows_xlsx, render
from service.ledger_io.parsing import UNKNOWN
from service.ledger_io.stored import load_report
from service.web.background import start_export_after_commit, start_import_after_commit
from service.web.context import actor, db
from service.web.downloads import exported_file_download, send_download
from service.web.errors import error_response
from service.web.forms import flash_failure, form_data
from service.web.i18n import translate, translate_errors

bp = Blueprint("imports", __name__)

#: Rows of each problem table shown on the page; the download holds them all.
SHOWN_PROBLEMS = 200
#: The choices of the mapping form: every ledger column, "keep in the notes", "leave out".
MAPPING_CHOICES = [c.field for c in COLUMNS]
NOTES_CHOICE = UNKNOWN
_NO_FILE = N_("Choose a file to upload.")
_BAD_ROW = N_("Give the row number, as the spreadsheet shows it.")


@bp.route("/instruments/import", methods=["GET", "POST"])
@login_required
def upload():
    """Upload a ledger file (GET shows the form and the latest imports)."""
    who = actor()
    who.require("ledger.write")
    if request.method == "POST":
        file = request.files.get("file")
        try:
            if file is None or not file.filename:
                raise Invalid(_NO_FILE, {"file": [_NO_FILE]})
            job = import_ops.upload(db(), who, file.read(), file.filename)
        except Invalid as exc:
            db().rollback()
            errors = translate_errors(exc.field_errors)
            return render_template("imports/upload.html", imports=_recent(), errors=errors), 422
        start_import_after_commit(job.id)
        return redirect(url_for("imports.show", import_id=job.id), code=303)
    return render_template("imports/upload.html", imports=_recent(), errors={})


def _recent():
    return import_queries.list_imports(db(), actor())


@bp.get("/instruments/imports/<int:import_id>")
@login_required
def show(import_id: int):
    """The job: its progress while it runs, then the preview (or the result) with the column mapping."""
    job = import_queries.get_import(db(), actor(), import_id)
    report = load_report(job.report) if job.state == "done" and job.report else None
    columns = (job.report or {}).get("column_fields") if job.state in ("done", "failed") else None
    error = import_queries.error_of(job)
    return render_template(
        "imports/show.html",
        job=job,
        report=report,
        columns=columns or [],
        error=translate(error) if error else None,
        progress=import_queries.progress_of(job),
        has_file=import_queries.has_file(db(), job),
        rejected=_problem_rows(report.rejected_rows) if report else [],
        warnings=_problem_rows(report.warnings) if report else [],
        notices=[render(m, gettext) for m in report.notices()] if report else [],
        choices=MAPPING_CHOICES,
        headers={c.field: c.header for c in COLUMNS},
        shown=SHOWN_PROBLEMS,
        notes_choice=NOTES_CHOICE,
        changes=_changes(job, report),
        renaming_fields=RENAMING_FIELDS,
        derived_fields=DERIVED_FIELDS,
    )


def _changes(job, report):
    """Return the page of created or updated instruments the query string asks for (updated first)."""
    if report is None:
        return None
    kind = request.args.get("kind")
    if kind not in KINDS:
        kind = "updated" if report.updated else "created"
    page = request.args.get("page", "")
    page = int(page) if _is_number(page, 7) and int(page) > 0 else 1
    found = import_queries.get_changes(db(), actor(), job.id, kind, page)
    if found.page > found.pages:  # an old link to a page past the end: show the last
        found = import_queries.get_changes(db(), actor(), job.id, kind, found.pages)
    return found


def _problem_rows(problems) -> list[dict]:
    return [p.as_dict(gettext) for p in problems[:SHOWN_PROBLEMS]]


@bp.get("/instruments/imports/<int:import_id>/progress")
@login_required
def progress(import_id: int):
    """The job's state and row counts, for the page to poll."""
    return jsonify(import_queries.progress_of(import_queries.get_import(db(), actor(), import_id)))


def _is_number(text: str, digits: int) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= digits


def parse_mapping(values: dict) -> dict[int, str | None]:
    """Read the mapping form: ``column-<index>`` = field, "?" (notes) or "" (leave out)."""
    mapping: dict[int, str | None] = {}
    for key, value in values.items():
        prefix, _, index = key.partition("-")
        if prefix == "column" and _is_number(index, 5):
            mapping[int(index)] = value or None
    return mapping


def _header_row(text: str | None) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not _is_number(text, 7):
        raise Invalid(_BAD_ROW, {"header_row": [_BAD_ROW]})
    return int(text)


def corrections(job, values: dict) -> tuple[dict[int, str | None], int | None, str | None]:
    """Return the reading the form asks for: the earlier corrections plus what the user changed now.

    The form shows every column as last read; only a column whose choice differs from that
    reading becomes a correction, so that "check again" with nothing changed reads the file as
    before (a detected two-row header stays detected). The header row and the sheet likewise.
    """
    report = job.report or {}
    shown = {c["index"]: c["field"] for c in report.get("column_fields", [])}
    mapping = dict(import_queries.mapping_of(job) or {})
    for index, name in parse_mapping(values).items():
        if index in shown and shown[index] != name:
            mapping[index] = name
    header_row = _header_row(values.get("header_row"))
    if job.header_row is None and header_row == report.get("header_row"):
        header_row = None
    sheet = (values.get("sheet") or "").strip() or None
    if job.sheet is None and sheet == report.get("sheet"):
        sheet = None
    return mapping, header_row, sheet


@bp.post("/instruments/imports/<int:import_id>/mapping")
@login_required
def remap(import_id: int):
    """Check the file again with the columns (and header row) the user corrected."""
    try:
        job = import_queries.get_import(db(), actor(), import_id)
        import_ops.remap(db(), actor(), import_id, *corrections(job, form_data()))
    except DomainError as exc:
        flash_failure(exc)
    else:
        start_import_after_commit(import_id)
    return redirect(url_for("imports.show", import_id=import_id), code=303)


@bp.post("/instruments/imports/<int:import_id>/confirm")
@login_required
def confirm(import_id: int):
    """Import the previewed file for real."""
    try:
        import_ops.confirm(db(), actor(), import_id)
    except DomainError as exc:
        flash_failure(exc)
    else:
        start_import_after_commit(import_id)
    return redirect(url_for("imports.show", import_id=import_id), code=303)


@bp.post("/instruments/imports/<int:import_id>/discard")
@login_required
def discard(import_id: int):
    """Drop an upload."""
    try:
        import_ops.discard(db(), actor(), import_id)
    except DomainError as exc:
        flash_failure(exc)
        return redirect(url_for("imports.show", import_id=import_id), code=303)
    flash(gettext("The upload was discarded."), "success")
    return redirect(url_for("imports.upload"), code=303)


@bp.get("/instruments/imports/<int:import_id>/rejected.xlsx")
@login_required
def rejected(import_id: int):
    """The rejected rows with their original cells and the reasons, to fix and import again."""
    job = import_queries.get_import(db(), actor(), import_id)
    if job.state != "done" or not job.report:
        return redirect(url_for("imports.show", import_id=import_id), code=303)
    content = rejected_rows_xlsx(load_report(job.report), gettext)
    stem = job.filename.rsplit(".", 1)[0]
    return send_download(
        io.BytesIO(content), f"未导入的行-{stem}.xlsx", f"rejected-rows-{job.id}.xlsx", XLSX_MIMETYPE
    )


# -- exports ------------------------------------------------------------------------------------


@bp.post("/instruments/exports")
@login_required
def start_export():
    """Queue an xlsx export of the ledger with the list's filters (in the query string); show its page."""
    try:
        job = import_ops.queue_export(db(), actor(), request.args)
    except Invalid as exc:
        db().rollback()
        return error_response(422, translate(exc.message), translate_errors(exc.field_errors))
    except DomainError as exc:
        db().rollback()
        flash_failure(exc)
        return redirect(url_for("ledger.list_instruments"), code=303)
    start_export_after_commit(job.id)
    return redirect(url_for("imports.show_export", export_id=job.id), code=303)


@bp.get("/instruments/exports/<int:export_id>")
@login_required
def show_export(export_id: int):
    """The export: its progress while it is written (the page follows it), then the download."""
    job = import_queries.get_export(db(), actor(), export_id)
    error = import_queries.error_of(job)
    return render_template(
        "imports/export.html",
        job=job,
        progress=import_queries.export_progress(job, now_utc()),
        error=translate(error) if error else None,
        list_url=url_for("ledger.list_instruments", **job.filters),
    )


@bp.get("/instruments/exports/<int:export_id>/progress")
@login_required
def export_progress(export_id: int):
    """The export's state and row counts, for its page to poll."""
    job = import_queries.get_export(db(), actor(), export_id)
    return jsonify(import_queries.export_progress(job, now_utc()))


@bp.get("/instruments/exports/<int:export_id>/download")
@login_required
def download_export(export_id: int):
    """The finished workbook; while it is written, or once expired, its page (which says so)."""
    job = import_queries.get_export(db(), actor(), export_id)
    if not import_queries.export_ready(job, now_utc()):
        return redirect(url_for("imports.show_export", export_id=export_id), code=303)
    return exported_file_download(job)
