"""Names of codes in the user's language, and helpers every template may use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, has_request_context, request, url_for
from flask_babel import lazy_gettext as _l

from service.i18n import set_code_namer
from service.ledger.status import DIRECT_TRANSITIONS
from service.validation import henan_regions, region_name
from service.visits.disciplines import DISCIPLINE_NAMES

STATUS_NAMES = {
    "in_service": _l("In service"),
    "out_for_calibration": _l("Out for calibration"),
    "suspended": _l("Suspended"),
    "sealed": _l("Sealed"),
    "under_repair": _l("Under repair"),
    "scrapped": _l("Scrapped"),
}
#: The disciplines' names, in the order boards list them.
DISCIPLINE_DISPLAY = {code: _l(str(name)) for code, name in DISCIPLINE_NAMES.items()}
LABEL_NAMES = {
    "green": _l("Qualified"),
    "yellow": _l("Limited use"),
    "red": _l("Stopped"),
    # A yellow label while the newest calibration awaits its metrological confirmation.
    "pending": _l("Awaiting confirmation"),
}
CONTROL_METHOD_NAMES = {
    "verification": _l("Verification"),
    "calibration": _l("Calibration"),
    "self_check": _l("Self-check"),
    "one_off": _l("One-off"),
}
MANDATORY_USE_NAMES = {
    "trade": _l("Trade settlement"),
    "safety": _l("Safety protection"),
    "medical": _l("Medical care"),
    "environment": _l("Environmental monitoring"),
}
CONCLUSION_NAMES = {
    "pass": _l("Pass"),
    "limited": _l("Limited use"),
    "fail": _l("Fail"),
    "pending": _l("Awaiting confirmation"),
}
CERTIFICATE_TYPE_NAMES = {
    "verification_certificate": _l("Verification certificate"),
    "verification_notice": _l("Verification result notice"),
    "calibration_certificate": _l("Calibration certificate"),
    "test_report": _l("Test report"),
    "internal_record": _l("Internal record"),
}
RECORD_KIND_NAMES = {
    "verification": _l("Verification"),
    "calibration": _l("Calibration"),
    "self_check": _l("Self-check"),
    "intermediate_check": _l("Intermediate check"),
}
CONFIRMATION_NAMES = {"fit": _l("Fit for use"), "limited": _l("Limited use"), "unfit": _l("Unfit")}
PHASE_NAMES = {"as_found": _l("As found"), "as_left": _l("As left")}
DISPOSITION_NAMES = {
    "adjust": _l("Adjust and re-verify"),
    "repair": _l("Repair and re-verify"),
    "downgrade": _l("Downgrade to limited use"),
    "scrap": _l("Scrap"),
}
CASE_STATE_NAMES = {"open": _l("Open"), "closed": _l("Closed")}
VISIT_STATE_NAMES = {
    "proposed": _l("Proposed"),
    "confirmed": _l("Confirmed"),
    "reschedule_requested": _l("Another date asked"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
}
ITEM_STATE_NAMES = {"pending": _l("To do"), "done": _l("Done"), "skipped": _l("Not done")}
ORDER_STATE_NAMES = {
    "submitted": _l("Submitted"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
    "received": _l("Received"),
    "in_progress": _l("In progress"),
    "completed": _l("Completed"),
    "returned": _l("Returned"),
    "cancelled": _l("Cancelled"),
}
ORDER_METHOD_NAMES = {"mail_in": _l("Mail-in"), "drop_off": _l("Drop-off"), "on_site": _l("On site")}
ORDER_ACTION_NAMES = {
    "accept": _l("Accept the order"),
    "decline": _l("Decline the order"),
    "receive": _l("Mark received"),
    "start": _l("Start work"),
    "complete": _l("Mark completed"),
    "return": _l("Mark returned"),
    "cancel": _l("Cancel the order"),
}
CASE_SOURCE_NAMES = {
    "record": _l("A failed result"),
    "manual": _l("Reported by hand"),
    "standard_notice": _l("The laboratory's notice about its standard"),
}
ACTION_NAMES = {
    "suspend": _l("Suspend"),
    "resume": _l("Resume"),
    "seal": _l("Seal"),
    "unseal": _l("Unseal"),
    "replace": _l("Replace"),
    "scrap": _l("Scrap"),
}
REQUEST_STATE_NAMES = {
    "pending": _l("Pending"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn"),
}
ROLE_NAMES = {
    "admin": _l("Administrator"),
    "metrology": _l("Metrology engineer"),
    "viewer": _l("Viewer"),
    "staff": _l("Institute staff"),
    "technician": _l("Technician"),
}
SIZE_NAMES = {"large": _l("Large"), "small_medium": _l("Small / medium")}
ABC_NAMES = {"A": _l("Class A"), "B": _l("Class B"), "C": _l("Class C")}
FIELD_NAMES = {
    "management_no": _l("Management no."),
    "name": _l("Name"),
    "model": _l("Model / specification"),
    "serial_no": _l("Serial no."),
    "manufacturer": _l("Manufacturer"),
    "measuring_range": _l("Measuring range"),
    "accuracy": _l("Accuracy (class / MPE / uncertainty)"),
    "resolution": _l("Resolution"),
    "department_id": _l("Department"),
    "department": _l("Department"),
    "location": _l("Location"),
    "custodian_user_id": _l("Custodian (user)"),
    "custodian_name": _l("Custodian"),
    "custodian": _l("Custodian"),
    "custodian_mobile": _l("Custodian's mobile"),
    "abc_class": _l("ABC class"),
    "is_mandatory": _l("Mandatory verification"),
    "mandatory_use": _l("Mandatory use"),
    "catalog_item": _l("Catalogue item"),
    "control_method": _l("Control method"),
    "interval_months": _l("Interval (months)"),
    "last_done_on": _l("Last verified / calibrated"),
    "valid_until": _l("Valid until"),
    "next_due_on": _l("Next due"),
    "lab": _l("Laboratory"),
    "certificate_no": _l("Certificate no."),
    "certificate_type": _l("Certificate type"),
    "conclusion": _l("Conclusion"),
    "status": _l("Status"),
    "in_service_on": _l("In service since"),
    "notes": _l("Notes"),
    "label": _l("Label"),
    "q": _l("Search"),  # the ledger's search box, named in its messages
    # The ledger list's other parameters, named when a hand-made address gives a bad value.
    "sort": _l("Sort by"),
    "due_from": _l("Due from"),
    "due_to": _l("Due to"),
    "due_within": _l("Due within (days)"),
    "overdue": _l("Overdue"),
    "in_use": _l("In use only"),
    "needs_attention": _l("Data"),
    "cursor": _l("Page"),
    "limit": _l("Rows per page"),
}
EVENT_NAMES = {
    "instrument.created": _l("Added to the ledger"),
    "instrument.updated": _l("Edited"),
    "instrument.replaces": _l("Replaces another instrument"),
    "status.requested": _l("Status change requested"),
    "status.approved": _l("Request approved"),
    "status.rejected": _l("Request rejected"),
    "status.withdrawn": _l("Request withdrawn"),
    "user.created": _l("User added"),
    "user.updated": _l("User changed"),
    "record.created": _l("Result recorded"),
    "record.corrected": _l("Result corrected"),
    "record.confirmed": _l("Calibration confirmed"),
    "record.attachment_added": _l("Files attached"),
    "nonconformity.opened": _l("Nonconformity case opened"),
    "nonconformity.assessed": _l("Impact assessed"),
    "nonconformity.closed": _l("Nonconformity case closed"),
    "nonconformity.stopped": _l("Stopped by a failure while its case is open"),
    "interval.accepted": _l("Interval change accepted"),
    "interval.rejected": _l("Interval change rejected"),
    "standard.out_of_tolerance": _l("Standard found out of tolerance; clients told"),
    "order.received": _l("Received by the institute (service order)"),
    "order.returned": _l("Returned by the institute (service order)"),
}
CHANNEL_NAMES = {
    "sms": _l("SMS"),
    "email": _l("Email"),
    "in_app": _l("In the app"),
    "wecom": _l("WeCom group robot"),
    "dingtalk": _l("DingTalk group robot"),
}
MESSAGE_STATE_NAMES = {
    "pending": _l("Waiting"),
    "sending": _l("Sending"),
    "unknown": _l("Outcome unknown (checking)"),
    "sent": _l("Sent"),
    "delivered": _l("Delivered"),
    "undelivered": _l("Not delivered"),
    "failed": _l("Failed"),
    "dead": _l("Gave up"),
    "held": _l("Held (daily SMS limit)"),
    "skipped": _l("Skipped (opted out)"),
}
MESSAGE_KIND_NAMES = {
    "due_digest": _l("Due-date digest"),
    "test": _l("Test message"),
    "sms_ceiling": _l("SMS limit notice"),
    "open_cases": _l("Open nonconformity cases"),
    "visit": _l("Calibration visit"),
    "order": _l("Service order"),
    "standard_notice": _l("Notice about a laboratory's standard"),
}
#: The orders of the ledger list (its "sort" parameter).
SORT_NAMES = {
    "next_due_on": _l("Next due, earliest first"),
    "-next_due_on": _l("Next due, latest first"),
    "management_no": _l("Management no."),
    "-management_no": _l("Management no., descending"),
    "name": _l("Name"),
    "-name": _l("Name, descending"),
    "updated_at": _l("Least recently changed"),
    "-updated_at": _l("Recently changed"),
}
NAMES = {
    "sort": SORT_NAMES,
    "channel": CHANNEL_NAMES,
    "message_state": MESSAGE_STATE_NAMES,
    "message_kind": MESSAGE_KIND_NAMES,
    "status": STATUS_NAMES,
    "label": LABEL_NAMES,
    "control_method": CONTROL_METHOD_NAMES,
    "mandatory_use": MANDATORY_USE_NAMES,
    "conclusion": CONCLUSION_NAMES,
    "certificate_type": CERTIFICATE_TYPE_NAMES,
    "record_kind": RECORD_KIND_NAMES,
    "confirmation": CONFIRMATION_NAMES,
    "phase": PHASE_NAMES,
    "disposition": DISPOSITION_NAMES,
    "case_state": CASE_STATE_NAMES,
    "case_source": CASE_SOURCE_NAMES,
    "visit_state": VISIT_STATE_NAMES,
    "item_state": ITEM_STATE_NAMES,
    "order_state": ORDER_STATE_NAMES,
    "order_method": ORDER_METHOD_NAMES,
    "order_action": ORDER_ACTION_NAMES,
    "discipline": DISCIPLINE_DISPLAY,
    "action": ACTION_NAMES,
    "state": REQUEST_STATE_NAMES,
    "role": ROLE_NAMES,
    "size": SIZE_NAMES,
    "abc_class": ABC_NAMES,
    "field": FIELD_NAMES,
    "event": EVENT_NAMES,
}


#: Code lists whose names say what a code of a choice means (not the field labels or events).
_CHOICE_KINDS = tuple(k for k in NAMES if k not in ("field", "event"))


def name_of_code(code: str) -> str:
    """Return the display name of a code of any code list (the code itself if none names it).

    Outside a request (the command line, which takes codes as input) the code is what helps.
    """
    if not has_request_context():
        return code
    for kind in _CHOICE_KINDS:
        if code in NAMES[kind]:
            return str(NAMES[kind][code])
    return code


def number(value) -> str:
    """Return a reading as typed: 50 and 1.004, not 50.000000 and 1.004000 (the column's scale)."""
    if value is None or value == "":
        return ""
    text = format(value.normalize(), "f") if hasattr(value, "normalize") else str(value)
    return "0" if text in ("-0", "0") else text


def name_of(kind: str, code) -> str:
    """Return the display name of ``code`` in the code list ``kind`` (the code itself if unknown)."""
    if code is None or code == "":
        return ""
    return str(NAMES[kind].get(code, code))


#: Ledger columns whose values are codes of a code list of the same name.
CODED_FIELDS = ("status", "conclusion", "certificate_type", "control_method", "mandatory_use", "abc_class")


def value_of(field: str, value) -> str:
    """Return a history value of ``field`` as a reader sees it: code names, yes/no, — for nothing."""
    if value is None or value == "":
        return "—"
    if field in CODED_FIELDS:
        return name_of(field, value)
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No"))
    return str(value)


_FIELD_ORDER = {name: index for index, name in enumerate(FIELD_NAMES)}


def in_field_order(values: Mapping) -> list[tuple[str, Any]]:
    """Return a history event's ``fields`` or ``changes`` as ``(field, value)`` in the ledger's order.

    Events keep them in whatever order they were written (a bulk import's are sorted by key);
    readers see them in one order, the columns' own, unknown fields last.
    """
    return sorted(values.items(), key=lambda item: _FIELD_ORDER.get(item[0], len(_FIELD_ORDER)))


def options_for(kind: str, allowed=None) -> list[tuple[str, str]]:
    """Return ``(code, display name)`` pairs of a code list, optionally only the ``allowed`` codes."""
    return [(code, str(name)) for code, name in NAMES[kind].items() if allowed is None or code in allowed]


def url_with(**changes) -> str:
    """Return the current URL with some query parameters changed (``None`` removes one)."""
    view_args = request.view_args or {}
    # Query keys that url_for would read as its own options or as path parameters are dropped.
    args = {
        k: v
        for k, v in request.args.items()
        if not k.startswith("_") and k not in view_args and k != "endpoint"
    }
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint, **view_args, **args)


def init_templating(app: Flask) -> None:
    """Expose the helpers to every template."""
    set_code_namer(name_of_code)
    app.jinja_env.filters["number"] = number
    app.jinja_env.globals.update(
        name_of=name_of,
        value_of=value_of,
        in_field_order=in_field_order,
        options_for=options_for,
        url_with=url_with,
        region_name=region_name,
        NAMES=NAMES,
        direct_targets=lambda status: sorted(DIRECT_TRANSITIONS.get(status, ())),
        region_options=[(r.code, r.name) for r in henan_regions()],
    )
