"""Helpers for the tests that walk every registered route."""

from __future__ import annotations

import io
from datetime import timedelta

from models import Award, Objection, Organization
from models.base import utcnow
from service.actors import Actor
from service.assistance import operations as assistance_ops
from service.auth.operations import create_api_token
from service.clock import today_in
from service.ledger import operations as ledger_ops
from service.ledger_io import operations as import_ops
from service.measurement.checks import operations as check_ops
from service.measurement.comparisons import operations as comparison_ops
from service.measurement.projects import operations as project_ops
from service.measurement.stability import operations as stability_ops
from service.nominations import operations as nomination_ops
from service.nonconformity import operations as nonconformity
from tests.factories import make_order, make_record, make_technician, make_user, make_visit
from tests.files import pdf_bytes
from tests.nominations import in_review
from tests.reminders import make_notification


def fill_path(rule, values: dict) -> str:
    """Return ``rule``'s path with each ``<param>`` replaced by ``values[param]``."""
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<int:{name}>", str(values[name])).replace(f"<{name}>", str(values[name]))
    return path


def _campaign_notice(today) -> dict:
    """A campaign of the institute, open for nominations around ``today``."""
    return {
        "kind": "traceability_advanced",
        "title": "计量溯源先进单位评选",
        "year": today.year,
        "categories": ["计量体系建设"],
        "nomination_opens_on": (today - timedelta(days=1)).isoformat(),
        "nomination_closes_on": (today + timedelta(days=5)).isoformat(),
        "review_opens_on": (today + timedelta(days=6)).isoformat(),
        "review_closes_on": (today + timedelta(days=8)).isoformat(),
    }


def make_one_of_each(app, session, tenant, institute_id: int) -> tuple[dict, str]:
    """Make a row of every kind a route's id may name, for ``tenant`` served by the institute; commit.

    Return the ids by path parameter, and the secret of the API token made.
    """
    actor, instruments = tenant.actor(), tenant.instruments
    record = make_record(session, actor, instruments[1].id, app.config["CALRECALL"].attachments_dir)
    request = ledger_ops.request_status_change(session, actor, instruments[0].id, "suspend", "test")
    api_token, token = create_api_token(session, tenant.actor("admin"), "junk")
    upload = import_ops.upload(session, actor, "管理编号,器具名称\nX-9,压力表\n".encode(), "x.csv")
    export = import_ops.queue_export(session, actor, {"sort": "name"})
    notification = make_notification(session, tenant.admin, state="dead")
    today = today_in("Asia/Shanghai")
    institute_admin = Actor.of(make_user(session, session.get(Organization, institute_id), "admin"))
    visit = make_visit(session, institute_admin, tenant.org.id, {instruments[0].id: None}, today=today)
    [item] = visit.items
    technician = make_technician(
        session, institute_admin, name="技术员", disciplines=["mass"], daily_capacity=5
    )
    order = make_order(session, actor, institute_id, [instruments[1]], "mail_in", today=today)
    case = nonconformity.open_case(session, actor, instruments[2].id, {"description": "掉落"}, today)
    campaign = nomination_ops.create_campaign(session, institute_admin, _campaign_notice(today))
    nomination_ops.move_campaign(session, institute_admin, campaign.id, {"to": "open"}, today)
    recommender = nomination_ops.save_recommender(
        session, institute_admin, None, {"name": "力学所", "kind": "department"}
    )
    nomination = nomination_ops.start_nomination(
        session, actor, {"campaign_id": campaign.id, "recommender_id": recommender.id}, today
    )
    [scan] = nomination_ops.add_nomination_files(
        session,
        actor,
        nomination.id,
        {"kind": "evidence"},
        [(io.BytesIO(pdf_bytes()), "证明.pdf")],
        app.config["CALRECALL"].attachments_dir,
        today,
    )
    reviewed = in_review(session, institute_admin, actor, app.config["CALRECALL"].attachments_dir, today)[3]
    # The rows themselves: a walk needs their ids, not a campaign taken through review and notice.
    award = Award(org_id=institute_id, campaign_id=campaign.id, nomination_id=nomination.id)
    session.add(award)
    session.flush()
    objection = Objection(
        org_id=institute_id,
        campaign_id=campaign.id,
        award_id=award.id,
        name="王先生",
        contact="13800000000",
        text="异议",
        sender_hash="0" * 64,
    )
    session.add(objection)
    assistance = assistance_ops.add_record(
        session,
        institute_admin,
        {"firm_id": tenant.org.id, "done_on": today.isoformat(), "kind": "survey"},
        today,
    )
    comparison = comparison_ops.record_comparison(
        session,
        actor,
        instruments[0].id,
        {
            "kind": "proficiency",
            "scheme": "PT",
            "performed_on": today.isoformat(),
            "points": [{"assigned_value": "1", "sd_pt": "1", "lab_value": "1"}],
        },
        today,
        utcnow(),
    )
    repeatability = stability_ops.record_repeatability(
        session,
        actor,
        instruments[0].id,
        {
            "performed_on": today.isoformat(),
            "quantity": "1 MPa",
            "readings": "1 1.01 1 0.99 1 1 1.01 1 1 0.99",
            "claimed": "0.1",
        },
        today,
    )
    assessment = stability_ops.open_assessment(
        session,
        actor,
        instruments[0].id,
        {
            "check_object": "核查标准",
            "allowed": "0.1",
            "allowed_basis": "mpe",
            "started_on": today.isoformat(),
        },
        today,
    )
    stability_ops.add_group(
        session, actor, assessment.id, {"measured_on": today.isoformat(), "readings": "1 1.01"}, today
    )
    check_plan = check_ops.create_plan(
        session,
        actor,
        instruments[0].id,
        {"check_object": "核查砝码", "interval_months": 1, "points": [{"label": "1 kg", "nominal": 1}]},
        today,
    )
    project = project_ops.create_project(
        session,
        institute_admin,
        {
            "title": "压力比对",
            "quantity": "压力",
            "transfer_standard": "数字压力计",
            "starts_on": today.isoformat(),
            "results_due_on": today.isoformat(),
            "points": [{"nominal": "1"}],
        },
    )
    participant = project_ops.add_participant(
        session, institute_admin, project.id, {"firm_id": tenant.org.id}
    )
    session.commit()
    return {
        "project_id": project.id,
        "participant_id": participant.id,
        "comparison_id": comparison.id,
        "test_id": repeatability.id,
        "assessment_id": assessment.id,
        "plan_id": check_plan.id,
        "order_id": order.id,
        "visit_id": visit.id,
        "item_id": item.id,
        "technician_id": technician.id,
        "case_id": case.id,
        "import_id": upload.id,
        "export_id": export.id,
        "notification_id": notification.id,
        "record_id": record.id,
        "attachment_id": record.attachments[0].id,
        "instrument_id": instruments[0].id,
        "department_id": tenant.department.id,
        "request_id": request.id,
        "user_id": tenant.viewer.id,
        "token_id": api_token.id,
        "client_id": tenant.org.id,
        "campaign_id": campaign.id,
        "recommender_id": recommender.id,
        "nomination_id": nomination.id,
        "file_id": scan.id,
        "assignment_id": reviewed.id,
        "award_id": award.id,
        "objection_id": objection.id,
        "public_token": campaign.public_token,
        "code": "410100",  # a region of the institute's reports
        "assistance_id": assistance.id,
        "year": today.year,
        "name": "echarts.js",
    }, token
