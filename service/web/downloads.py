"""File downloads: spooled while written, sent with a UTF-8 file name and a plain fallback.

The ledger, the import template and the due board are downloaded from a page and from the API
alike; both call the functions here.
"""

from __future__ import annotations

import io
import tempfile
from urllib.parse import quote

from flask import Response, abort, current_app, request
from flask_babel import gettext
from werkzeug.wsgi import wrap_file

from service.db import scope_to_org
from service.errors import Conflict
from service.i18n import N_
from service.ledger import queries as ledger_queries
from service.ledger_io.exporter import (
    CSV_MIMETYPE,
    XLSX_MIMETYPE,
    csv_chunks,
    export_ledger,
    iter_ledger,
    ledger_row,
)
from service.ledger_io.template import import_template
from service.nominations import documents as nomination_documents
from service.nominations import queries as nomination_queries
from service.tenancy import queries as tenancy_queries
from service.traceability import files
from service.visits import board
from service.web.context import actor, attachments_dir, db, today

DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
#: The most instruments an xlsx is written for inside a request (about half a second of work);
#: beyond, the background export (``POST /instruments/exports``, ``POST /api/v1/exports``).
DIRECT_XLSX_ROWS = 5000
_TOO_LARGE_FOR_DIRECT_XLSX = N_(
    "This ledger has more than %(count)s instruments: export it to Excel as a background job"
    " (the ledger's Export Excel button, or POST /api/v1/exports), or download it as CSV.",
    count=DIRECT_XLSX_ROWS,
)
#: Files larger than this spill from memory to a temporary file while they are written.
SPOOL_BYTES = 5 * 1024 * 1024


def _attachment(response, filename: str, fallback: str):
    response.headers.set(
        "Content-Disposition",
        "attachment",
        filename=fallback,
        **{"filename*": "UTF-8''" + quote(filename, safe="!#$&+-.^_`|~")},
    )
    return response


def send_download(spool, filename: str, fallback: str, mimetype: str):
    """Send a spooled file as a download named ``filename`` (RFC 5987), ``fallback`` for old clients.

    A file still in memory is sent as bytes and closed now; one that spilled to disk is streamed
    and closed by the server when the response ends.
    """
    size = spool.seek(0, 2)
    spool.seek(0)
    if size <= SPOOL_BYTES:
        with spool:
            body = spool.read()
    else:
        body = wrap_file(request.environ, spool)
    response = current_app.response_class(body, mimetype=mimetype, direct_passthrough=True)
    response.content_length = size
    return _attachment(response, filename, fallback)


def spooled(write) -> tempfile.SpooledTemporaryFile:
    """Return a spooled file that ``write(file)`` filled; it spills to disk beyond ``SPOOL_BYTES``.

    The file outlives the view: the response streams it and the server closes it at the end.
    """
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (closed by the response)
    try:
        write(spool)
    except BaseException:
        spool.close()
        raise
    return spool


def document_download(content: bytes, filename: str, fallback: str, mimetype: str = DOCX_MIMETYPE):
    """Send a document made in memory (a Word form) as a download named ``filename``."""
    return send_download(spooled(lambda out: out.write(content)), filename, fallback, mimetype)


def recommendation_form_download(nomination) -> Response:
    """Return a nomination's recommendation form (推荐表) as a Word download."""
    content = nomination_documents.recommendation_form(
        nomination_queries.form_data(db(), actor(), nomination, today())
    )
    return _nomination_document(content, "推荐表", "recommendation-form", nomination)


def commitment_letter_download(nomination) -> Response:
    """Return a nomination's commitment letter (承诺书) as a Word download."""
    institute = nomination_queries.institute_name(db(), nomination)
    content = nomination_documents.commitment_letter(nomination, nomination.campaign, institute, today())
    return _nomination_document(content, "承诺书", "commitment-letter", nomination)


def frozen_form_download(nomination) -> Response:
    """Return a submitted nomination's recommendation form as the institute reads it (404 for a draft)."""
    if nomination.frozen_dossier is None:
        abort(404)
    return recommendation_form_download(nomination)


def send_frozen_file(nomination, file_id: int) -> Response:
    """Send a scan of a submitted nomination, as the institute reads it: only a file the submission froze."""
    scan = nomination_queries.nomination_file(db(), nomination, file_id)
    if scan.id not in {frozen["id"] for frozen in nomination.frozen_files or []}:
        abort(404)
    return send_attachment(scan, attachments_dir())


def _nomination_document(content: bytes, title: str, fallback: str, nomination) -> Response:
    unit = files.safe_stem(nomination.unit_name) or str(nomination.id)
    return document_download(content, f"{title}-{unit}.docx", f"{fallback}-{nomination.id}.docx")


def send_attachment(attachment, root, inline: bool = False):
    """Send a stored record attachment with the safe headers of ``files.download_headers``.

    Only images are ever shown inline: a PDF under the sandboxing policy would not render, and
    nothing else is trusted to be shown in our origin.
    """
    path = files.path_of(root, attachment.sha256)
    if not path.exists():
        abort(404)
    show_inline = inline and attachment.mime.startswith("image/")
    stream = path.open("rb")  # noqa: SIM115 (closed by the server when the response ends)
    response = current_app.response_class(
        wrap_file(request.environ, stream), mimetype=attachment.mime, direct_passthrough=True
    )
    response.content_length = attachment.size
    for name, value in files.download_headers(attachment.filename, attachment.mime, show_inline).items():
        response.headers[name] = value
    return response


def ledger_download(fmt: str, args) -> Response:
    """Return the actor's ledger, filtered and sorted by ``args``, as an xlsx or CSV download.

    The file is written inside the request, while its session is open, into a spooled file, so
    memory stays bounded however large the ledger. Raises :class:`Invalid` for a bad filter, and
    :class:`Conflict` for an xlsx of more than :data:`DIRECT_XLSX_ROWS` instruments: a larger one
    would hold the web worker for seconds, and is exported as a background job instead.
    """
    who, day = actor(), today()
    filters = ledger_queries.parse_filters({k: v for k, v in args.items() if k not in ("cursor", "limit")})
    if fmt == "xlsx":
        _, more = ledger_queries.count_instruments(db(), who, filters, day, cap=DIRECT_XLSX_ROWS)
        if more:
            raise Conflict(_TOO_LARGE_FOR_DIRECT_XLSX)
    spool = spooled(lambda out: export_ledger(db(), who, filters, day, out, fmt))
    stem = f"{tenancy_queries.get_org(db(), who).slug}-{day:%Y%m%d}.{fmt}"
    mimetype = XLSX_MIMETYPE if fmt == "xlsx" else CSV_MIMETYPE
    return send_download(spool, f"台账-{stem}", f"ledger-{stem}", mimetype)


def ledger_csv_stream(args) -> Response:
    """Return the actor's ledger, filtered and sorted by ``args``, as a CSV streamed while it is read.

    The filters are checked before anything is sent (a bad one raises :class:`Invalid`); then the
    header goes out at once and the rows follow as the database yields them (``YIELD_PER`` at a
    time, a server-side cursor on PostgreSQL), so neither the worker's memory nor the wait for the
    first byte grows with the ledger. The rows are read by a session of their own, confined to the
    actor's organisation, that lives as long as the response and is closed with it (the request's
    session ends with the request, before the body is sent).
    """
    who, day = actor(), today()
    filters = ledger_queries.parse_filters({k: v for k, v in args.items() if k not in ("cursor", "limit")})
    stem = f"{tenancy_queries.get_org(db(), who).slug}-{day:%Y%m%d}.csv"
    session = current_app.extensions["calrecall.sessions"]()
    scope_to_org(session, who.org_id)
    try:
        instruments = iter_ledger(session, who, filters, day)
    except BaseException:
        session.close()
        raise
    rows = (ledger_row(instrument, day) for instrument in instruments)
    response = current_app.response_class(csv_chunks(rows), mimetype=CSV_MIMETYPE)
    response.call_on_close(session.close)
    response.headers["X-Accel-Buffering"] = "no"  # a proxy passes the rows on as they come
    return _attachment(response, f"台账-{stem}", f"ledger-{stem}")


def exported_file_download(job) -> Response:
    """Send a finished ledger export's workbook (the caller has checked it is the actor's and ready)."""
    stem = job.filename.removeprefix("台账-") if job.filename else f"{job.id}.xlsx"
    return send_download(io.BytesIO(job.content), job.filename or stem, f"ledger-{stem}", XLSX_MIMETYPE)


def template_download() -> Response:
    """Return the import template as a download."""
    return send_download(
        spooled(import_template), "台账导入模板.xlsx", "ledger-import-template.xlsx", XLSX_MIMETYPE
    )


def board_download(args):
    """Return the board for ``args`` as an xlsx download; raise :class:`Invalid` for a bad filter."""
    who, day = actor(), today()
    board.require_institute(who)
    result = board.due_board(db(), who, day, board.parse_board_filters(args))
    spool = spooled(lambda out: board.write_board_xlsx(result, out, gettext))
    stem = f"{tenancy_queries.get_org(db(), who).slug}-{day:%Y%m%d}.xlsx"
    return send_download(spool, f"到期看板-{stem}", f"due-board-{stem}", XLSX_MIMETYPE)
