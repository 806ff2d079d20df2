"""Record pages: record a result, read a record, confirm a calibration, correct, attach files.

The institute reads a client's records under ``/clients/<client_id>/`` through an active client
link, read-only, like the ledger.
"""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import login_required

from models.ledger import CONCLUSIONS
from models.traceability import CONFIRMATIONS, PHASES, RECORD_CERTIFICATE_TYPES, RECORD_KINDS
from service.errors import DomainError, Invalid
from service.ledger.queries import get_instrument
from service.tenancy import queries as tenancy_queries
from service.traceability import interval_review, queries
from service.traceability import operations as records
from service.web.context import actor, attachments_dir, db, enter_client, today
from service.web.downloads import send_attachment
from service.web.forms import flash_failure, form_error_page

bp = Blueprint("records", __name__)

#: Fields of a reading row and of a standard row, as the form names them (``readings-0-nominal``).
READING_FIELDS = ("phase", "point", "unit", "nominal", "reading", "error", "mpe", "within_tolerance")
STANDARD_FIELDS = ("instrument_id", "management_no", "name", "certificate_no", "valid_until", "lab_name")
#: Empty rows the form offers for new points and standards.
BLANK_READINGS = 4
BLANK_STANDARDS = 2
ROW_FIELD = re.compile(r"^(readings|standards)-(\d{1,3})-([a-z_]+)$")
#: Record columns the form posts as they are (empty means absent): the record's, and the
#: confirmation and correction that come with it.
RECORD_FORM_FIELDS = records.RECORD_FIELDS + ("confirmation", "confirmation_note", "correction_reason")


def record_payload(form) -> dict:
    """Turn the posted form into the record input: empty fields absent, numbered rows as lists.

    A row whose fields are all empty is an unused row of the form and is left out; the rows keep
    their order, so an error on ``readings.1`` is the second filled row.
    """
    payload = {k: v.strip() for k in RECORD_FORM_FIELDS if (v := form.get(k, "")).strip()}
    rows: dict[str, dict[int, dict]] = {"readings": {}, "standards": {}}
    for key, value in form.items():
        match = ROW_FIELD.match(key)
        if match and value.strip():
            group, index, field = match.groups()
            allowed = READING_FIELDS if group == "readings" else STANDARD_FIELDS
            if field in allowed:
                rows[group].setdefault(int(index), {})[field] = value.strip()
    # The phase select always posts a value: a row with nothing else is an unused row.
    readings = [rows["readings"][i] for i in sorted(rows["readings"]) if set(rows["readings"][i]) - {"phase"}]
    for reading in readings:
        if "within_tolerance" in reading:
            reading["within_tolerance"] = {"yes": True, "no": False}.get(reading["within_tolerance"])
    payload["readings"] = readings
    payload["standards"] = [rows["standards"][i] for i in sorted(rows["standards"])]
    return payload


def _form_values(payload: dict) -> dict:
    """Return the payload as the form shows it again, with blank rows to add more."""
    values = {k: v for k, v in payload.items() if k not in ("readings", "standards")}
    values["readings"] = list(payload.get("readings", [])) + [{}] * BLANK_READINGS
    values["standards"] = list(payload.get("standards", [])) + [{}] * BLANK_STANDARDS
    return values


def _values_of(record) -> dict:
    """Return a record as form values, for a correction."""
    payload = {name: getattr(record, name) for name in RECORD_FORM_FIELDS if hasattr(record, name)}
    payload = {k: ("" if v is None else v) for k, v in payload.items()}
    payload["readings"] = [
        {f: ("" if getattr(r, f) is None else getattr(r, f)) for f in READING_FIELDS} for r in record.readings
    ]
    for reading in payload["readings"]:
        reading["within_tolerance"] = {True: "yes", False: "no"}.get(reading["within_tolerance"], "")
    payload["standards"] = [_standard_values(s) for s in record.standards]
    return _form_values(payload)


def _standard_values(standard) -> dict:
    """Return a standard used as form values; one of a ledger keeps its link (its id), not a copy."""
    if standard.standard_instrument_id is not None:
        return {
            "instrument_id": standard.standard_instrument_id,
            "management_no": standard.management_no or "",
            "name": standard.name,
        }
    fields = ("name", "management_no", "certificate_no", "valid_until", "lab_name")
    return {f: ("" if getattr(standard, f) is None else getattr(standard, f)) for f in fields}


def _errors_by_input(field_errors: dict) -> dict:
    """Key nested errors by input name: ``readings.0.nominal`` → ``readings-0-nominal``."""
    flat: dict = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}-{key}" if prefix else str(key), inner)
        else:
            flat.setdefault(prefix, []).extend(value if isinstance(value, list) else [value])

    for key, value in field_errors.items():
        walk(key.replace(".", "-"), value)
    return flat


def _form_page(instrument, values: dict, errors: dict, correcting=None, status: int = 200):
    context = {
        "instrument": instrument,
        "values": values,
        "correcting": correcting,
        "institutes": tenancy_queries.linked_institutes(db(), actor()),
        "kinds": RECORD_KINDS,
        "certificate_types": RECORD_CERTIFICATE_TYPES,
        "conclusions": CONCLUSIONS,
        "confirmations": CONFIRMATIONS,
        "phases": PHASES,
    }
    if errors:
        return form_error_page("records/form.html", _errors_by_input(errors), **context)
    return render_template("records/form.html", errors={}, **context), status


def _uploads():
    return [(f.stream, f.filename) for f in request.files.getlist("file") if f.filename]


@bp.route("/instruments/<int:instrument_id>/records/new", methods=["GET", "POST"])
@login_required
def new_record(instrument_id: int):
    """Record a verification, calibration, self-check or intermediate check, with its files."""
    instrument = get_instrument(db(), actor(), instrument_id)
    actor().require("ledger.write")
    if request.method == "GET":
        kind = instrument.control_method if instrument.control_method in RECORD_KINDS else "verification"
        return _form_page(instrument, _form_values({"kind": kind, "performed_on": today()}), {})
    payload = record_payload(request.form)
    try:
        record = records.record_result(
            db(), actor(), instrument_id, payload, today(), _uploads(), attachments_dir()
        )
    except Invalid as exc:
        db().rollback()
        return _form_page(instrument, _form_values(payload), exc.field_errors)
    flash(_recorded_message(record, instrument), "success")
    return redirect(url_for("records.show_record", record_id=record.id), code=303)


def _recorded_message(record, instrument) -> str:
    if record.next_due_on and instrument.last_done_on == record.performed_on:
        return gettext("Recorded. Next due: %(date)s.", date=instrument.next_due_on.isoformat())
    return gettext("Recorded.")


@bp.get("/records/<int:record_id>")
@bp.get("/clients/<int:client_id>/records/<int:record_id>")
@login_required
def show_record(record_id: int, client_id: int | None = None):
    """One record: its certificate data, results, standards, files, confirmation and corrections."""
    enter_client(client_id)
    record = queries.get_record(db(), actor(), record_id)
    instrument = get_instrument(db(), actor(), record.instrument_id)
    return render_template(
        "records/show.html",
        record=record,
        instrument=instrument,
        confirmations=CONFIRMATIONS,
        client=tenancy_queries.get_org(db(), actor()) if client_id else None,
        client_id=client_id,
        writable=client_id is None and actor().can("ledger.write"),
    )


@bp.post("/records/<int:record_id>/confirmation")
@login_required
def confirm(record_id: int):
    """Record the metrological confirmation of a calibration."""
    values = {k: v for k, v in request.form.items() if k in ("confirmation", "confirmation_note") and v}
    try:
        records.confirm_record(db(), actor(), record_id, values, today())
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("Confirmation recorded."), "success")
    return redirect(url_for("records.show_record", record_id=record_id), code=303)


@bp.route("/records/<int:record_id>/correct", methods=["GET", "POST"])
@login_required
def correct(record_id: int):
    """Correct a record: the whole record again and the reason; the old one stays, superseded."""
    old = queries.get_record(db(), actor(), record_id)
    instrument = get_instrument(db(), actor(), old.instrument_id)
    actor().require("ledger.write")
    if request.method == "GET":
        return _form_page(instrument, _values_of(old), {}, correcting=old)
    payload = record_payload(request.form)
    try:
        record = records.correct_record(
            db(), actor(), record_id, payload, today(), _uploads(), attachments_dir()
        )
    except Invalid as exc:
        db().rollback()
        return _form_page(instrument, _form_values(payload), exc.field_errors, correcting=old)
    except DomainError as exc:
        flash_failure(exc)
        return redirect(url_for("records.show_record", record_id=record_id), code=303)
    flash(gettext("Correction recorded; the earlier record stays, marked as corrected."), "success")
    return redirect(url_for("records.show_record", record_id=record.id), code=303)


@bp.post("/records/<int:record_id>/attachments")
@login_required
def attach(record_id: int):
    """Attach files (the certificate PDF, photos) to a record."""
    try:
        added = records.add_attachments(db(), actor(), record_id, _uploads(), attachments_dir())
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(ngettext("%(num)s file attached.", "%(num)s files attached.", len(added)), "success")
    return redirect(url_for("records.show_record", record_id=record_id), code=303)


@bp.get("/attachments/<int:attachment_id>")
@bp.get("/clients/<int:client_id>/attachments/<int:attachment_id>")
@login_required
def download(attachment_id: int, client_id: int | None = None):
    """Download a record's file (images may be shown inline with ``?inline=1``)."""
    enter_client(client_id)
    attachment = queries.get_attachment(db(), actor(), attachment_id)
    return send_attachment(attachment, attachments_dir(), inline=request.args.get("inline") == "1")


@bp.post("/instruments/<int:instrument_id>/interval-review")
@login_required
def decide_interval(instrument_id: int):
    """Accept or reject the interval the review suggests; the history records the decision."""
    values = {k: v for k, v in request.form.items() if k in ("decision", "suggested_months", "reason") and v}
    try:
        suggestion = interval_review.decide(db(), actor(), instrument_id, values, today())
    except DomainError as exc:
        flash_failure(exc)
        return redirect(url_for("ledger.show_instrument", instrument_id=instrument_id), code=303)
    if values.get("decision") == "accept":
        flash(
            gettext("Interval changed to %(months)s months.", months=suggestion.suggested_months), "success"
        )
    else:
        flash(gettext("Suggestion rejected; the interval stays."), "success")
    return redirect(url_for("ledger.show_instrument", instrument_id=instrument_id), code=303)
