"""The display names of every code list, as messages to translate (``N_``): pure data.

The web front end shows them lazily translated (``service.web.templating``); code that writes
files or messages outside a request translates them with the gettext it is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.i18n import N_
from service.visits.disciplines import DISCIPLINE_NAMES

STATUS_NAMES = {
    "in_service": N_("In service"),
    "out_for_calibration": N_("Out for calibration"),
    "suspended": N_("Suspended"),
    "sealed": N_("Sealed"),
    "under_repair": N_("Under repair"),
    "scrapped": N_("Scrapped"),
}
LABEL_NAMES = {
    "green": N_("Qualified"),
    "yellow": N_("Limited use"),
    "red": N_("Stopped"),
    # A yellow label while the newest calibration awaits its metrological confirmation.
    "pending": N_("Awaiting confirmation"),
}
CONTROL_METHOD_NAMES = {
    "verification": N_("Verification"),
    "calibration": N_("Calibration"),
    "self_check": N_("Self-check"),
    "one_off": N_("One-off"),
}
MANDATORY_USE_NAMES = {
    "trade": N_("Trade settlement"),
    "safety": N_("Safety protection"),
    "medical": N_("Medical care"),
    "environment": N_("Environmental monitoring"),
}
CONCLUSION_NAMES = {
    "pass": N_("Pass"),
    "limited": N_("Limited use"),
    "fail": N_("Fail"),
    "pending": N_("Awaiting confirmation"),
}
CERTIFICATE_TYPE_NAMES = {
    "verification_certificate": N_("Verification certificate"),
    "verification_notice": N_("Verification result notice"),
    "calibration_certificate": N_("Calibration certificate"),
    "test_report": N_("Test report"),
    "internal_record": N_("Internal record"),
}
RECORD_KIND_NAMES = {
    "verification": N_("Verification"),
    "calibration": N_("Calibration"),
    "self_check": N_("Self-check"),
    "intermediate_check": N_("Intermediate check"),
}
CONFIRMATION_NAMES = {"fit": N_("Fit for use"), "limited": N_("Limited use"), "unfit": N_("Unfit")}
PHASE_NAMES = {"as_found": N_("As found"), "as_left": N_("As left")}
DISPOSITION_NAMES = {
    "adjust": N_("Adjust and re-verify"),
    "repair": N_("Repair and re-verify"),
    "downgrade": N_("Downgrade to limited use"),
    "scrap": N_("Scrap"),
}
CASE_STATE_NAMES = {"open": N_("Open"), "closed": N_("Closed")}
CAMPAIGN_KIND_NAMES = {
    "traceability_advanced": N_("Advanced unit of measurement traceability (计量溯源先进单位)"),
    "industrial_benchmark": N_("Industrial metrology benchmark (工业计量标杆示范单位)"),
    "other": N_("Other campaign"),
}
NOMINATION_STATE_NAMES = {"draft": N_("Draft"), "submitted": N_("Submitted")}
#: A recommender's decision on a nomination (推荐 / 退回).
RECOMMENDATION_NAMES = {"accepted": N_("Recommended"), "returned": N_("Returned to the firm")}
RECOMMENDER_KIND_NAMES = {
    "department": N_("Department of the institute"),
    "alliance": N_("Industry alliance"),
}
CAMPAIGN_PHASE_NAMES = {
    "draft": N_("Draft"),
    "open": N_("Open for nominations"),
    "review": N_("In review"),
    "notice": N_("Public notice"),
    "decided": N_("Winners announced"),
    "closed": N_("Closed"),
}
#: What the organisers decided on an objection to the public notice.
OBJECTION_OUTCOME_NAMES = {"upheld": N_("Upheld: the winner is removed"), "dismissed": N_("Dismissed")}
#: 是 / 否 / 不适用 of the self-check table.
NOMINATION_FILE_KIND_NAMES = {
    "recommendation_form": N_("Stamped recommendation form"),
    "commitment_letter": N_("Stamped commitment letter (承诺书)"),
    "credit_record": N_("Credit record screenshot (国家企业信用信息公示系统)"),
    "evidence": N_("Evidence (training, culture, data use)"),
}
SELF_CHECK_ANSWER_NAMES = {"yes": N_("Yes"), "no": N_("No"), "na": N_("Not applicable")}
VISIT_STATE_NAMES = {
    "proposed": N_("Proposed"),
    "confirmed": N_("Confirmed"),
    "reschedule_requested": N_("Another date asked"),
    "completed": N_("Completed"),
    "cancelled": N_("Cancelled"),
}
ITEM_STATE_NAMES = {"pending": N_("To do"), "done": N_("Done"), "skipped": N_("Not done")}
ORDER_STATE_NAMES = {
    "submitted": N_("Submitted"),
    "accepted": N_("Accepted"),
    "declined": N_("Declined"),
    "received": N_("Received"),
    "in_progress": N_("In progress"),
    "completed": N_("Completed"),
    "returned": N_("Returned"),
    "cancelled": N_("Cancelled"),
}
ORDER_METHOD_NAMES = {"mail_in": N_("Mail-in"), "drop_off": N_("Drop-off"), "on_site": N_("On site")}
ORDER_ACTION_NAMES = {
    "accept": N_("Accept the order"),
    "decline": N_("Decline the order"),
    "receive": N_("Mark received"),
    "start": N_("Start work"),
    "complete": N_("Mark completed"),
    "return": N_("Mark returned"),
    "cancel": N_("Cancel the order"),
}
CASE_SOURCE_NAMES = {
    "record": N_("A failed result"),
    "manual": N_("Reported by hand"),
    "standard_notice": N_("The laboratory's notice about its standard"),
    "check": N_("An intermediate check outside the MPE"),
}
ACTION_NAMES = {
    "suspend": N_("Suspend"),
    "resume": N_("Resume"),
    "seal": N_("Seal"),
    "unseal": N_("Unseal"),
    "replace": N_("Replace"),
    "scrap": N_("Scrap"),
}
REQUEST_STATE_NAMES = {
    "pending": N_("Pending"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "withdrawn": N_("Withdrawn"),
}
ROLE_NAMES = {
    "admin": N_("Administrator"),
    "metrology": N_("Metrology engineer"),
    "viewer": N_("Viewer"),
    "staff": N_("Institute staff"),
    "technician": N_("Technician"),
    "expert": N_("Outside expert (campaign work only)"),
}
SIZE_NAMES = {"large": N_("Large"), "small_medium": N_("Small / medium")}
ABC_NAMES = {"A": N_("Class A"), "B": N_("Class B"), "C": N_("Class C")}
FIELD_NAMES = {
    "management_no": N_("Management no."),
    "name": N_("Name"),
    "model": N_("Model / specification"),
    "serial_no": N_("Serial no."),
    "manufacturer": N_("Manufacturer"),
    "measuring_range": N_("Measuring range"),
    "accuracy": N_("Accuracy (class / MPE / uncertainty)"),
    "resolution": N_("Resolution"),
    "department_id": N_("Department"),
    "department": N_("Department"),
    "location": N_("Location"),
    "custodian_user_id": N_("Custodian (user)"),
    "custodian_name": N_("Custodian"),
    "custodian": N_("Custodian"),
    "custodian_mobile": N_("Custodian's mobile"),
    "abc_class": N_("ABC class"),
    "is_mandatory": N_("Mandatory verification"),
    "mandatory_use": N_("Mandatory use"),
    "catalog_item": N_("Catalogue item"),
    "control_method": N_("Control method"),
    "interval_months": N_("Interval (months)"),
    "last_done_on": N_("Last verified / calibrated"),
    "valid_until": N_("Valid until"),
    "next_due_on": N_("Next due"),
    "lab": N_("Laboratory"),
    "certificate_no": N_("Certificate no."),
    "certificate_type": N_("Certificate type"),
    "conclusion": N_("Conclusion"),
    "status": N_("Status"),
    "in_service_on": N_("In service since"),
    "notes": N_("Notes"),
    "label": N_("Label"),
    "q": N_("Search"),  # the ledger's search box, named in its messages
    # The ledger list's other parameters, named when a hand-made address gives a bad value.
    "sort": N_("Sort by"),
    "due_from": N_("Due from"),
    "due_to": N_("Due to"),
    "due_within": N_("Due within (days)"),
    "overdue": N_("Overdue"),
    "in_use": N_("In use only"),
    "needs_attention": N_("Data"),
    "cursor": N_("Page"),
    "limit": N_("Rows per page"),
    # The periodic plan's parameters (reports).
    "year": N_("Year"),
    "month": N_("Month"),
    "group": N_("Group by"),
}
EVENT_NAMES = {
    "comparison.recorded": N_("Comparison or proficiency test recorded"),
    "campaign.created": N_("Campaign created"),
    "campaign.updated": N_("Campaign changed"),
    "campaign.moved": N_("Campaign moved to its next phase"),
    "recommender.created": N_("Recommender added"),
    "recommender.updated": N_("Recommender changed"),
    "nomination.started": N_("Nomination started"),
    "nomination.submitted": N_("Nomination submitted"),
    "nomination.withdrawn": N_("Nomination withdrawn"),
    "nomination.files_added": N_("Scans added to a nomination"),
    "nomination.file_removed": N_("Scan removed from a nomination"),
    "nomination.accepted": N_("Nomination accepted by its recommender"),
    "nomination.returned": N_("Nomination returned by its recommender"),
    "recommendation.ranked": N_("Recommended nominations ranked"),
    "recommendation.submitted": N_("Recommendation list submitted"),
    "review.assigned": N_("Reviewers assigned"),
    "review.unassigned": N_("Review taken back from a reviewer"),
    "review.submitted": N_("Review submitted"),
    "award.winners_decided": N_("Winners decided"),
    "objection.lodged": N_("Objection lodged on the public notice"),
    "objection.handled": N_("Objection handled"),
    "instrument.created": N_("Added to the ledger"),
    "instrument.updated": N_("Edited"),
    "instrument.replaces": N_("Replaces another instrument"),
    "status.requested": N_("Status change requested"),
    "status.approved": N_("Request approved"),
    "status.rejected": N_("Request rejected"),
    "status.withdrawn": N_("Request withdrawn"),
    "user.created": N_("User added"),
    "user.updated": N_("User changed"),
    "record.created": N_("Result recorded"),
    "record.corrected": N_("Result corrected"),
    "record.confirmed": N_("Calibration confirmed"),
    "record.attachment_added": N_("Files attached"),
    "nonconformity.opened": N_("Nonconformity case opened"),
    "check_plan.created": N_("Intermediate check plan created"),
    "check_plan.updated": N_("Intermediate check plan changed"),
    "check_plan.baseline_fixed": N_("Control chart baseline fixed"),
    "check.recorded": N_("Intermediate check recorded"),
    "check.signal": N_("Control chart signal"),
    "repeatability.recorded": N_("Repeatability test recorded"),
    "stability.opened": N_("Stability assessment opened"),
    "stability.group_added": N_("Stability readings added"),
    "stability.closed": N_("Stability assessment closed"),
    "comparison_project.created": N_("Comparison project created"),
    "comparison_project.published": N_("Comparison report published"),
    "nonconformity.assessed": N_("Impact assessed"),
    "nonconformity.closed": N_("Nonconformity case closed"),
    "nonconformity.stopped": N_("Stopped by a failure while its case is open"),
    "interval.accepted": N_("Interval change accepted"),
    "interval.rejected": N_("Interval change rejected"),
    "standard.out_of_tolerance": N_("Standard found out of tolerance; clients told"),
    "order.received": N_("Received by the institute (service order)"),
    "order.returned": N_("Returned by the institute (service order)"),
}
CHANNEL_NAMES = {
    "sms": N_("SMS"),
    "email": N_("Email"),
    "in_app": N_("In the app"),
    "wecom": N_("WeCom group robot"),
    "dingtalk": N_("DingTalk group robot"),
}
MESSAGE_STATE_NAMES = {
    "pending": N_("Waiting"),
    "sending": N_("Sending"),
    "unknown": N_("Outcome unknown (checking)"),
    "sent": N_("Sent"),
    "delivered": N_("Delivered"),
    "undelivered": N_("Not delivered"),
    "failed": N_("Failed"),
    "dead": N_("Gave up"),
    "held": N_("Held (daily SMS limit)"),
    "skipped": N_("Skipped (opted out)"),
}
MESSAGE_KIND_NAMES = {
    "due_digest": N_("Due-date digest"),
    "test": N_("Test message"),
    "sms_ceiling": N_("SMS limit notice"),
    "open_cases": N_("Open nonconformity cases"),
    "visit": N_("Calibration visit"),
    "order": N_("Service order"),
    "standard_notice": N_("Notice about a laboratory's standard"),
    "nomination": N_("Award nomination"),
    "comparison": N_("Comparison or proficiency test"),
    "check_signal": N_("Control chart signal"),
    "check_due": N_("Intermediate check due"),
}
#: The orders of the ledger list (its "sort" parameter).
SORT_NAMES = {
    "next_due_on": N_("Next due, earliest first"),
    "-next_due_on": N_("Next due, latest first"),
    "management_no": N_("Management no."),
    "-management_no": N_("Management no., descending"),
    "name": N_("Name"),
    "-name": N_("Name, descending"),
    "updated_at": N_("Least recently changed"),
    "-updated_at": N_("Recently changed"),
}
#: 计量服务中小企业行: the kinds of help the institute records for a client firm.
ASSISTANCE_KIND_NAMES = {
    "survey": N_("Survey"),
    "training": N_("Training"),
    "consultation": N_("Consultation"),
    "calibration_service": N_("Calibration service"),
    "mms_training": N_("Measurement management system training"),
    "green_channel": N_("Green-channel handling"),
}

COMPARISON_KIND_NAMES = {"comparison": N_("Comparison"), "proficiency": N_("Proficiency test")}
ORGANISER_KIND_NAMES = {
    "national": N_("National comparison (SAMR)"),
    "provincial": N_("Provincial comparison"),
    "cnas_pt": N_("CNAS-recognised PT provider"),
    "other": N_("Other organiser"),
}
VERDICT_NAMES = {
    "satisfactory": N_("Satisfactory"),
    "questionable": N_("Questionable"),
    "unsatisfactory": N_("Unsatisfactory"),
}
REFERENCE_KIND_NAMES = {
    "weighted_mean": N_("Weighted mean of the participants"),
    "lead_lab": N_("The lead laboratory's value"),
}
PROJECT_STATE_NAMES = {"open": N_("Open for results"), "published": N_("Report published")}
NAMES = {
    "sort": SORT_NAMES,
    "reference_kind": REFERENCE_KIND_NAMES,
    "project_state": PROJECT_STATE_NAMES,
    "comparison_kind": COMPARISON_KIND_NAMES,
    "organiser_kind": ORGANISER_KIND_NAMES,
    "verdict": VERDICT_NAMES,
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
    "discipline": DISCIPLINE_NAMES,
    "action": ACTION_NAMES,
    "state": REQUEST_STATE_NAMES,
    "role": ROLE_NAMES,
    "size": SIZE_NAMES,
    "abc_class": ABC_NAMES,
    "field": FIELD_NAMES,
    "event": EVENT_NAMES,
    "self_check_answer": SELF_CHECK_ANSWER_NAMES,
    "campaign_kind": CAMPAIGN_KIND_NAMES,
    "campaign_phase": CAMPAIGN_PHASE_NAMES,
    "recommender_kind": RECOMMENDER_KIND_NAMES,
    "nomination_state": NOMINATION_STATE_NAMES,
    "nomination_file_kind": NOMINATION_FILE_KIND_NAMES,
    "recommendation": RECOMMENDATION_NAMES,
    "objection_outcome": OBJECTION_OUTCOME_NAMES,
    "assistance_kind": ASSISTANCE_KIND_NAMES,
}


#: Ledger columns whose values are codes of a code list of the same name.
CODED_FIELDS = ("status", "conclusion", "certificate_type", "control_method", "mandatory_use", "abc_class")


_FIELD_ORDER = {name: index for index, name in enumerate(FIELD_NAMES)}


def in_field_order(values: Mapping) -> list[tuple[str, Any]]:
    """Return a history event's ``fields`` or ``changes`` as ``(field, value)`` in the ledger's order.

    Events keep them in whatever order they were written (a bulk import's are sorted by key);
    readers see them in one order, the columns' own, unknown fields last.
    """
    return sorted(values.items(), key=lambda item: _FIELD_ORDER.get(item[0], len(_FIELD_ORDER)))
