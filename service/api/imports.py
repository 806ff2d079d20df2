"""API: ledger imports as background jobs, the export and the import template.

An upload answers 202 with the job; poll it until ``state`` is ``done`` or ``failed``. A preview
(the default, ``dry_run=true``) then holds the report of what the import would do; confirm it to
import. ``dry_run=false`` imports at once.
"""

from __future__ import annotations

import io

from flask import jsonify, request, url_for
from flask_babel import gettext

from service.api import bp
from service.api.docs import File, doc, items_of
from service.api.helpers import json_body
from service.errors import Conflict
from service.i18n import N_
from service.ledger.queries import InstrumentFilter
from service.ledger_io import operations as import_ops
from service.ledger_io import queries as import_queries
from service.ledger_io.exporter import XLSX_MIMETYPE
from service.ledger_io.importer import rejected_rows_xlsx
from service.ledger_io.schemas import (
    ImportChangesOut,
    ImportChangesQuery,
    ImportOut,
    ImportReading,
    ImportUploadIn,
)
from service.ledger_io.stored import load_report
from service.schemas import load_or_invalid
from service.web.background import start_import_after_commit
from service.web.context import actor, db
from service.web.downloads import ledger_csv_stream, ledger_download, send_download, template_download

#: The query string of the ledger's downloads: the list's filters and sort, without its paging.
EXPORT_FILTER = InstrumentFilter(exclude=("cursor", "limit"))


def _out(job) -> dict:
    return ImportOut(gettext=gettext).dump(job)


def _accepted(job):
    start_import_after_commit(job.id)
    response = jsonify(_out(job))
    response.status_code = 202
    response.headers["Location"] = url_for("api.get_import", import_id=job.id)
    return response


@bp.post("/imports")
@doc(
    tags=["imports"],
    summary="Upload a ledger file (.xlsx, .xls, .ods, .csv); it is read in the background.",
    form=ImportUploadIn,
    responses={202: ImportOut},
    errors=(400, 403),
)
def upload_import():
    """Upload a ledger file to import."""
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
@doc(tags=["imports"], responses={200: items_of(ImportOut)}, errors=(403,))
def list_imports():
    """List the latest imports (without their reports: get one import for its report)."""
    found = import_queries.list_imports(db(), actor())
    return jsonify({"items": ImportOut(gettext=gettext, with_report=False, many=True).dump(found)})


@bp.get("/imports/<int:import_id>")
@doc(tags=["imports"], responses={200: ImportOut}, errors=(404,))
def get_import(import_id: int):
    """Return an import: poll it until its state is done or failed."""
    return jsonify(_out(import_queries.get_import(db(), actor(), import_id)))


@bp.put("/imports/<int:import_id>/reading")
@doc(tags=["imports"], body=ImportReading, responses={202: ImportOut}, errors=(400, 404, 409))
def remap_import(import_id: int):
    """Correct how the file is read and preview it again."""
    import_queries.get_import(db(), actor(), import_id)  # another firm's id is 404 whatever the body
    data = load_or_invalid(ImportReading(), json_body())
    job = import_ops.remap(
        db(), actor(), import_id, data["mapping"], data.get("header_row"), data.get("sheet")
    )
    return _accepted(job)


@bp.post("/imports/<int:import_id>/confirm")
@doc(tags=["imports"], responses={202: ImportOut}, errors=(404, 409))
def confirm_import(import_id: int):
    """Import a previewed file."""
    return _accepted(import_ops.confirm(db(), actor(), import_id))


@bp.delete("/imports/<int:import_id>")
@doc(tags=["imports"], responses={204: "Discarded."}, errors=(404, 409))
def discard_import(import_id: int):
    """Discard an upload (an imported one stays listed, without its file)."""
    import_ops.discard(db(), actor(), import_id)
    return "", 204


@bp.get("/imports/<int:import_id>/changes")
@doc(
    tags=["imports"],
    summary="What the preview (or, once imported, the import) does row by row; fields before → after.",
    query=ImportChangesQuery,
    responses={200: ImportChangesOut},
    errors=(400, 404, 409),
)
def import_changes(import_id: int):
    """List, a page at a time, the instruments the import creates or updates, with each update's changes."""
    import_queries.get_import(db(), actor(), import_id)  # another firm's id is 404 whatever the query
    query = load_or_invalid(ImportChangesQuery(), request.args)
    found = import_queries.get_changes(
        db(), actor(), import_id, query["kind"], query["page"], query["per_page"]
    )
    return jsonify(ImportChangesOut().dump(found))


@bp.get("/imports/<int:import_id>/rejected.xlsx")
@doc(
    tags=["imports"],
    responses={200: File("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
    errors=(404, 409),
)
def rejected_rows(import_id: int):
    """Download the rejected rows with their reasons, to fix and upload again."""
    job = import_queries.get_import(db(), actor(), import_id)
    if job.state != "done" or not job.report:
        raise Conflict(N_("There are no checked rows to download: the check has not finished or has failed."))
    content = rejected_rows_xlsx(load_report(job.report), gettext)
    return send_download(
        io.BytesIO(content), "rejected-rows.xlsx", f"rejected-rows-{job.id}.xlsx", XLSX_MIMETYPE
    )


@bp.get("/instruments/export.xlsx")
@doc(
    tags=["instruments"],
    summary="The list's filters and sort apply; paging does not. Up to 5,000 instruments (409 beyond): "
    "larger exports are background jobs (POST /exports).",
    query=EXPORT_FILTER,
    responses={200: File("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
    errors=(400, 409),
)
def export_xlsx():
    """Download the ledger as xlsx in the import's layout, written in the request (small ledgers)."""
    return ledger_download("xlsx", request.args)


@bp.get("/instruments/export.csv")
@doc(
    tags=["instruments"],
    summary="The list's filters and sort apply; paging does not.",
    query=EXPORT_FILTER,
    responses={200: File("text/csv")},
    errors=(400,),
)
def export_csv():
    """Download the ledger as CSV (UTF-8 with a BOM, for Excel), streamed as the rows are read."""
    return ledger_csv_stream(request.args)


@bp.get("/instruments/template.xlsx")
@doc(
    tags=["instruments"],
    responses={200: File("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
)
def import_template():
    """Download the import template."""
    return template_download()
