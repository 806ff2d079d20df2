"""API: calibration and verification records, corrections, confirmations and attachments."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_babel import gettext

from service.api import bp
from service.api.docs import File, doc, items_of
from service.api.helpers import json_body
from service.ledger.queries import get_instrument
from service.ledger_io.exporter import XLSX_MIMETYPE
from service.traceability import audit_export, labels, queries
from service.traceability import operations as records
from service.traceability.schemas import (
    AttachmentOut,
    AttachmentUploadIn,
    ConfirmationIn,
    CorrectionIn,
    RecordIn,
    RecordOut,
)
from service.web.context import actor, attachments_dir, base_url, db, today
from service.web.downloads import send_attachment, send_download, spooled
from service.web.templating import name_of


def _out(record) -> dict:
    return RecordOut(base_url=base_url()).dump(record)


@bp.get("/instruments/<int:instrument_id>/records")
@doc(tags=["records"], responses={200: items_of(RecordOut)}, errors=(404,))
def instrument_records(instrument_id: int):
    """Return an instrument's records, newest work first (corrected ones too, marked superseded)."""
    return jsonify({"items": [_out(r) for r in queries.records_of(db(), actor(), instrument_id)]})


@bp.get("/instruments/<int:instrument_id>/history.xlsx")
@doc(
    tags=["records"],
    responses={200: File("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
    errors=(404,),
)
def instrument_history_xlsx(instrument_id: int):
    """Download an instrument's complete history for auditors, as xlsx in the user's language.

    Sheets: the instrument (with who exported it and whether the firm's history verifies), its
    records (corrected ones too), readings, standards used, attachments (with SHA-256),
    nonconformity cases, and the history events with their hashes.
    """
    who, day = actor(), today()
    filename, fallback = audit_export.history_filenames(db(), who, instrument_id, day)  # 404 first
    spool = spooled(
        lambda out: audit_export.write_instrument_history(db(), who, instrument_id, out, day, gettext)
    )
    return send_download(spool, filename, fallback, XLSX_MIMETYPE)


@bp.post("/instruments/<int:instrument_id>/records")
@doc(tags=["records"], body=RecordIn, responses={201: RecordOut}, errors=(400, 403, 404))
def create_record(instrument_id: int):
    """Record a result; the instrument's dates, certificate and label move with it."""
    get_instrument(db(), actor(), instrument_id)  # another firm's id is 404 whatever the body
    record = records.record_result(db(), actor(), instrument_id, json_body(), today())
    return jsonify(_out(record)), 201


@bp.get("/records/<int:record_id>")
@doc(tags=["records"], responses={200: RecordOut}, errors=(404,))
def get_record(record_id: int):
    """Return one record with its readings, standards and attachments."""
    return jsonify(_out(queries.get_record(db(), actor(), record_id)))


@bp.get("/records/<int:record_id>/label.svg")
@doc(tags=["records"], responses={200: File("image/svg+xml")}, errors=(404, 409))
def record_label_svg(record_id: int):
    """Return the record's QR label (60 × 40 mm) as SVG, in your language, for label printers.

    The code opens the record's public certificate check (``check_url``). Only a verification,
    calibration or self-check carries a label: an intermediate check is a 409.
    """
    label = labels.record_label(db(), actor(), record_id, today(), base_url())
    svg = labels.label_svg(label, gettext, name_of("label", label.colour))
    response = current_app.response_class(svg, mimetype="image/svg+xml")
    response.headers.set("Content-Disposition", "inline", filename=f"label-{record_id}.svg")
    # Nothing in the label runs or loads anything; say so, should a browser open it from our origin.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    )
    return response


@bp.post("/records/<int:record_id>/corrections")
@doc(tags=["records"], body=CorrectionIn, responses={201: RecordOut}, errors=(400, 403, 404, 409))
def correct_record(record_id: int):
    """Supersede a record with a corrected one (the whole record again, and ``correction_reason``)."""
    queries.get_record(db(), actor(), record_id)
    record = records.correct_record(db(), actor(), record_id, json_body(), today())
    return jsonify(_out(record)), 201


@bp.post("/records/<int:record_id>/confirmation")
@doc(tags=["records"], body=ConfirmationIn, responses={200: RecordOut}, errors=(400, 403, 404, 409))
def confirm_record(record_id: int):
    """Record the metrological confirmation of a calibration (fit, limited or unfit), once."""
    queries.get_record(db(), actor(), record_id)
    record = records.confirm_record(db(), actor(), record_id, json_body(), today())
    return jsonify(_out(record))


@bp.post("/records/<int:record_id>/attachments")
@doc(
    tags=["records"],
    form=AttachmentUploadIn,
    responses={201: items_of(AttachmentOut)},
    errors=(400, 403, 404),
)
def add_attachments(record_id: int):
    """Attach files (PDF, PNG, JPEG; ``multipart/form-data``, field ``file``, repeatable) to a record."""
    queries.get_record(db(), actor(), record_id)
    uploads = [(f.stream, f.filename) for f in request.files.getlist("file") if f.filename]
    added = records.add_attachments(db(), actor(), record_id, uploads, attachments_dir())
    return jsonify({"items": AttachmentOut(many=True).dump(added)}), 201


@bp.get("/attachments/<int:attachment_id>")
@doc(tags=["records"], responses={200: "The file, as a download."}, errors=(404,))
def download_attachment(attachment_id: int):
    """Download an attachment of a record of your organisation."""
    return send_attachment(queries.get_attachment(db(), actor(), attachment_id), attachments_dir())
