"""Ledger pages: the list with recall views and bulk edit, the calendar, one instrument, approvals.

Institute users reach a client firm's ledger under ``/clients/<client_id>/`` through an active
client link, read-only; the same views serve both.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import login_required

from models.ledger import (
    ABC_CLASSES,
    CERTIFICATE_TYPES,
    CONCLUSIONS,
    CONTROL_METHODS,
    LABELS,
    MANDATORY_USES,
    STATUSES,
)
from service.errors import DomainError, Invalid
from service.history.queries import timeline
from service.ledger import operations, queries
from service.ledger.dates import add_months, month_grid
from service.ledger.status import DIRECT_TRANSITIONS, actions_for
from service.ledger_io.exporter import XLSX_MIMETYPE
from service.measurement.checks.queries import plans_of as _check_plans
from service.nonconformity.queries import cases_of, current_use_limits
from service.reminders.queries import reminders_for_instrument
from service.scoping import parse_id
from service.tenancy import queries as tenancy_queries
from service.traceability import audit_export
from service.traceability.interval_review import review as review_interval
from service.traceability.queries import records_of
from service.web.chain import chain_context
from service.web.context import actor, db, enter_client, today
from service.web.downloads import (
    ledger_csv_stream,
    ledger_download,
    send_download,
    spooled,
    template_download,
)
from service.web.errors import error_response
from service.web.forms import flash_failure, form_data, form_error_page, safe_next
from service.web.i18n import translate, translate_errors
from service.web.templating import name_of, url_with

bp = Blueprint("ledger", __name__)

#: Recent reminders listed on an instrument's page (the API gives more).
REMINDERS_SHOWN = 20

RECALL_WINDOWS = {
    "overdue": {"overdue": True},
    "7": {"due_within": 7},
    "30": {"due_within": 30},
    "90": {"due_within": 90},
}
CHOICES = {
    "status": STATUSES,
    "label": LABELS,
    "abc_class": ABC_CLASSES,
    "control_method": CONTROL_METHODS,
    "mandatory_use": MANDATORY_USES,
    "conclusion": CONCLUSIONS,
    "certificate_type": CERTIFICATE_TYPES,
}
EXPORT_PARAMS = queries.EXPORT_PARAMS


def _client_org(client_id: int | None):
    return tenancy_queries.get_org(db(), actor()) if client_id is not None else None


def _filter_chips(args: dict, window: str | None, client_id: int | None, departments) -> list[dict]:
    """Return every active filter as a chip: its name, what it says, and the address without it."""
    chips = []

    def chip(name: str, text: str, href: str | None = None, *removed: str) -> None:
        gone = dict.fromkeys((name, *removed, "cursor"))
        chips.append({"name": name, "text": text, "href": href or url_with(**gone)})

    if window:
        kept = {k: v for k, v in args.items() if k != "cursor"}
        title = gettext("Overdue") if window == "overdue" else gettext("Due in %(days)s days", days=window)
        chip("window", title, url_for("ledger.list_instruments", client_id=client_id, **kept))
    if args.get("q"):
        chip("q", f"{gettext('Search')}: {args['q']}")
    for name in ("status", "label", "abc_class"):
        if args.get(name):
            chip(name, f"{name_of('field', name)}: {name_of(name, args[name])}")
    if args.get("department"):
        names = {str(d.id): d.name for d in departments}
        chip("department", f"{gettext('Department')}: {names.get(args['department'], args['department'])}")
    if args.get("is_mandatory") in ("true", "false"):
        answer = gettext("Yes") if args["is_mandatory"] == "true" else gettext("No")
        chip("is_mandatory", f"{gettext('Mandatory verification')}: {answer}")
    if args.get("needs_attention") in ("true", "false"):
        chip(
            "needs_attention",
            gettext("Needs attention") if args["needs_attention"] == "true" else gettext("Complete data"),
        )
    first, last = args.get("due_from"), args.get("due_to")
    if first or last:
        text = (
            gettext("Due on %(day)s", day=first)
            if first == last
            else gettext("Due from %(first)s to %(last)s", first=first or "…", last=last or "…")
        )
        if args.get("in_use"):
            text += f" · {gettext('in use')}"
        chip("due", text, None, "due_from", "due_to", "in_use")
    elif args.get("in_use"):
        chip("in_use", gettext("in use"))
    if args.get("overdue") and not window:
        chip("overdue", gettext("Overdue"))
    if args.get("due_within") and not window:
        chip("due_within", gettext("Due in %(days)s days", days=args["due_within"]))
    if args.get("management_no"):
        chip("management_no", f"{name_of('field', 'management_no')}: {args['management_no']}")
    return chips


#: The parameters the ledger list knows.
LIST_PARAMETERS = frozenset(queries.InstrumentFilter().fields)


def _render_list(preset: dict, window: str | None, client_id: int | None):
    enter_client(client_id)
    who, day = actor(), today()
    # A page ignores parameters it does not know (a bookmark, a hand-made address); the API refuses them.
    args = {k: v for k, v in request.args.items() if k not in preset and k in LIST_PARAMETERS}
    errors: dict = {}
    try:
        filters = queries.parse_filters({**args, **preset})
        page = queries.list_instruments(db(), who, filters, day)
        total, more = queries.count_instruments(db(), who, filters, day)
    except Invalid as exc:
        errors = translate_errors(exc.field_errors)
        filters, page, total, more = {}, queries.Page([], None), 0, False
    departments = tenancy_queries.list_departments(db(), who)
    return render_template(
        "ledger/list.html",
        page=page,
        total=total,
        more=more,
        chips=_filter_chips(args, window, client_id, departments),
        filters=filters,
        args=args,
        errors=errors,
        window=window,
        today=day,
        departments=departments,
        users=tenancy_queries.list_users(db(), who),
        choices=CHOICES,
        sorts=queries.SORTS,
        default_sort=queries.DEFAULT_SORT,
        direct_statuses=sorted(DIRECT_TRANSITIONS),
        client=_client_org(client_id),
        client_id=client_id,
        export_args={k: v for k, v in {**args, **preset}.items() if k in EXPORT_PARAMS},
    ), (422 if errors else 200)


def _decidable(requests) -> set[int]:
    """Return the ids of the requests the actor may decide (the rule is the operation's)."""
    who = actor()
    return {r.id for r in requests if not who.via_client_link and operations.may_decide(db(), who, r)}


@bp.get("/instruments")
@bp.get("/clients/<int:client_id>/instruments")
@login_required
def list_instruments(client_id: int | None = None):
    """The ledger: search, filter, sort, keyset paging and bulk edit."""
    return _render_list({}, None, client_id)


def _export(fmt: str, client_id: int | None):
    """Export the ledger with the list's filters; a bad filter is a 422 with a message per filter."""
    enter_client(client_id)
    try:
        return ledger_csv_stream(request.args) if fmt == "csv" else ledger_download(fmt, request.args)
    except Invalid as exc:
        return error_response(422, translate(exc.message), translate_errors(exc.field_errors))


@bp.get("/instruments/export.xlsx")
@bp.get("/clients/<int:client_id>/instruments/export.xlsx")
@login_required
def export_xlsx(client_id: int | None = None):
    """Download the ledger, as currently filtered and sorted, as an xlsx in the import's layout."""
    return _export("xlsx", client_id)


@bp.get("/instruments/export.csv")
@bp.get("/clients/<int:client_id>/instruments/export.csv")
@login_required
def export_csv(client_id: int | None = None):
    """Download the ledger, as currently filtered and sorted, as CSV (UTF-8 with a BOM for Excel)."""
    return _export("csv", client_id)


@bp.get("/instruments/template.xlsx")
@login_required
def import_template_xlsx():
    """Download the import template: the export's header, an example row and notes."""
    return template_download()


@bp.get("/recall/<window>")
@bp.get("/clients/<int:client_id>/recall/<window>")
@login_required
def recall(window: str, client_id: int | None = None):
    """Recall views: overdue, due within 7, 30 or 90 days."""
    if window not in RECALL_WINDOWS:
        abort(404)
    return _render_list(RECALL_WINDOWS[window], window, client_id)


@bp.get("/calendar")
@bp.get("/clients/<int:client_id>/calendar")
@login_required
def calendar(client_id: int | None = None):
    """A month calendar of due dates; each day links to its instruments."""
    enter_client(client_id)
    day = today()
    try:
        year, month = (int(part) for part in request.args.get("month", f"{day:%Y-%m}").split("-"))
        first = date(year, month, 1)
    except ValueError:
        abort(404)
    if not 1900 <= year <= 9998:  # the grid shows the neighbouring months too
        abort(404)
    last = add_months(first, 1).replace(day=1).toordinal() - 1
    counts = queries.due_calendar(db(), actor(), first, date.fromordinal(last))
    return render_template(
        "ledger/calendar.html",
        weeks=month_grid(year, month),
        counts=counts,
        first=first,
        today=day,
        prev_month=add_months(first, -1),
        next_month=add_months(first, 1),
        client=_client_org(client_id),
        client_id=client_id,
    )


def _form_context(**extra):
    who = actor()
    return {
        "departments": tenancy_queries.list_departments(db(), who),
        "users": tenancy_queries.list_users(db(), who),
        "choices": CHOICES,
        **extra,
    }


def _values_of(instrument) -> dict:
    values = {name: getattr(instrument, name) for name in operations.TRACKED_FIELDS}
    values["custodian"] = instrument.custodian_name
    return {k: ("" if v is None else v) for k, v in values.items()}


@bp.route("/instruments/new", methods=["GET", "POST"])
@login_required
def new_instrument():
    """Add an instrument to the ledger."""
    actor().require("ledger.write")
    if request.method == "GET":
        return render_template(
            "ledger/form.html",
            **_form_context(
                values={"interval_months": 12, "control_method": "verification", "status": "in_service"},
                errors={},
                instrument=None,
            ),
        )
    values = form_data()
    try:
        instrument = operations.create_instrument(db(), actor(), _instrument_payload(values), today())
    except Invalid as exc:
        return form_error_page(
            "ledger/form.html", exc.field_errors, **_form_context(values=values, instrument=None)
        )
    flash(gettext("Instrument %(no)s added.", no=instrument.management_no), "success")
    return redirect(url_for("ledger.show_instrument", instrument_id=instrument.id), code=303)


def _instrument_payload(values: dict) -> dict:
    """Turn posted form fields into the instrument input (checkbox absent means false)."""
    payload = {k: v for k, v in values.items() if k in operations.TRACKED_FIELDS or k == "custodian"}
    payload.pop("next_due_on", None)
    payload.pop("custodian_name", None)
    payload["is_mandatory"] = values.get("is_mandatory") in ("on", "1", "true")
    return payload


@bp.route("/instruments/<int:instrument_id>/edit", methods=["GET", "POST"])
@login_required
def edit_instrument(instrument_id: int):
    """Edit an instrument's columns; every change lands in its history."""
    instrument = queries.get_instrument(db(), actor(), instrument_id)
    actor().require("ledger.write")
    if request.method == "GET":
        return render_template(
            "ledger/form.html",
            **_form_context(values=_values_of(instrument), errors={}, instrument=instrument),
        )
    values = form_data()
    try:
        operations.update_instrument(db(), actor(), instrument_id, _instrument_payload(values), today())
    except Invalid as exc:
        return form_error_page(
            "ledger/form.html", exc.field_errors, **_form_context(values=values, instrument=instrument)
        )
    flash(gettext("Saved."), "success")
    return redirect(url_for("ledger.show_instrument", instrument_id=instrument_id), code=303)


def check_plans_of(session, who, instrument_id: int):
    """The instrument's intermediate-check plans (the page's small section)."""
    return _check_plans(session, who, instrument_id)[1]


@bp.get("/instruments/<int:instrument_id>")
@bp.get("/clients/<int:client_id>/instruments/<int:instrument_id>")
@login_required
def show_instrument(instrument_id: int, client_id: int | None = None):
    """One instrument: every column, its label, status requests and the history timeline."""
    enter_client(client_id)
    who = actor()
    instrument = queries.get_instrument(db(), who, instrument_id)
    requests = queries.requests_for_instrument(db(), who, instrument.id)
    records = records_of(db(), who, instrument.id)
    return render_template(
        "ledger/show.html",
        instrument=instrument,
        today=today(),
        events=timeline(db(), who, "instrument", instrument.id),
        records=records,
        cases=cases_of(db(), who, instrument.id),
        check_plans=None if client_id else check_plans_of(db(), who, instrument.id),
        interval=review_interval(db(), who, instrument.id, records),
        **chain_context(db(), who, instrument.id),
        use_limits=current_use_limits(db(), instrument),
        requests=requests,
        decidable=_decidable(requests),
        actions=actions_for(instrument.status),
        # A firm's outbox is its own business: the institute's client view leaves it out.
        reminders=None if client_id else reminders_for_instrument(db(), who, instrument.id, REMINDERS_SHOWN),
        client=_client_org(client_id),
        client_id=client_id,
    )


@bp.get("/instruments/<int:instrument_id>/history.xlsx")
@bp.get("/clients/<int:client_id>/instruments/<int:instrument_id>/history.xlsx")
@login_required
def history_xlsx(instrument_id: int, client_id: int | None = None):
    """Download an instrument's complete history for auditors (xlsx)."""
    enter_client(client_id)
    who, day = actor(), today()
    filename, fallback = audit_export.history_filenames(db(), who, instrument_id, day)  # 404 before writing
    spool = spooled(
        lambda out: audit_export.write_instrument_history(db(), who, instrument_id, out, day, gettext)
    )
    return send_download(spool, filename, fallback, XLSX_MIMETYPE)


@bp.post("/instruments/bulk")
@login_required
def bulk_edit():
    """Apply one department, custodian, interval or status to the selected instruments."""
    values = form_data(multi=("ids",))
    ids = [parse_id(i) or 0 for i in values.pop("ids", [])]  # 0 is nobody's: an unreadable id is a 404
    payload = {k: v for k, v in values.items() if k in operations.BULK_FIELDS and v not in ("", None)}
    try:
        changed = operations.bulk_edit(db(), actor(), ids, payload, today())
    except Invalid as exc:
        flash_failure(exc)
    else:
        flash(
            ngettext("%(num)s instrument updated.", "%(num)s instruments updated.", len(changed)), "success"
        )
    return redirect(safe_next(request.form.get("back"), "ledger.list_instruments"), code=303)


@bp.post("/instruments/<int:instrument_id>/requests")
@login_required
def request_status(instrument_id: int):
    """Request a suspension, resumption, sealing, unsealing, replacement or scrapping."""
    values = form_data()
    try:
        operations.request_status_change(
            db(),
            actor(),
            instrument_id,
            values.get("action", ""),
            values.get("reason"),
            replacement_no=values.get("replacement_no"),
        )
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("Request sent for approval."), "success")
    return redirect(url_for("ledger.show_instrument", instrument_id=instrument_id), code=303)


@bp.get("/approvals")
@login_required
def approvals():
    """Requests awaiting a decision, and the latest decided ones."""
    who = actor()
    pending = queries.list_status_requests(db(), who, "pending")
    return render_template(
        "ledger/approvals.html",
        pending=pending,
        decidable=_decidable(pending),
        decided=[r for r in queries.list_status_requests(db(), who, None) if r.state != "pending"][:50],
    )


@bp.post("/requests/<int:request_id>/decide")
@login_required
def decide(request_id: int):
    """Approve or reject a request (firm admins, not the requester)."""
    values = form_data()
    approve = values.get("decision") == "approve"
    try:
        request_obj = operations.decide_status_request(
            db(), actor(), request_id, approve, values.get("reason")
        )
    except DomainError as exc:
        flash_failure(exc)
        return redirect(safe_next(request.form.get("back"), "ledger.approvals"), code=303)
    flash(gettext("Request approved.") if approve else gettext("Request rejected."), "success")
    target = safe_next(
        request.form.get("back"), "ledger.show_instrument", instrument_id=request_obj.instrument_id
    )
    return redirect(target, code=303)


@bp.post("/requests/<int:request_id>/withdraw")
@login_required
def withdraw(request_id: int):
    """Withdraw one's own pending request."""
    request_obj = operations.withdraw_status_request(db(), actor(), request_id)
    flash(gettext("Request withdrawn."), "success")
    return redirect(url_for("ledger.show_instrument", instrument_id=request_obj.instrument_id), code=303)
