import json

from sqlalchemy import func, select, update

from models import Event, NonconformityCase, NotificationItem, Organization, ReminderPolicy, User


def _run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def _create_user(app, org: str, email: str, role: str, *options: str):
    """Run ``user create`` with a valid password and any further ``options``."""
    base = ("user", "create", "--org", org, "--email", email, "--role", role, "--password", "long-password-1")
    return _run(app, *base, *options)


def test_org_user_token_and_history_commands(app, sessions, db_session):
    result = _run(app, "org", "create", "--slug", "acme", "--name", "Acme 仪表", "--kind", "firm")
    assert result.exit_code == 0, result.output
    result = _run(app, "org", "create", "--slug", "acme", "--name", "Again", "--kind", "firm")
    assert result.exit_code == 2
    assert "slug" in result.output
    result = _create_user(app, "acme", "Boss@Acme.test", "admin", "--mobile", "13800001111", "--name", "老板")
    assert result.exit_code == 0, result.output
    user = db_session.scalar(select(User).where(User.email == "boss@acme.test"))
    assert (user.role, user.mobile) == ("admin", "13800001111")
    result = _create_user(app, "acme", "x@acme.test", "technician")
    assert result.exit_code == 2
    result = _create_user(app, "nope", "y@acme.test", "admin")
    assert result.exit_code == 2
    result = _run(app, "token", "create", "--org", "acme", "--email", "boss@acme.test")
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("cal_")
    client = app.test_client()
    assert (
        client.get("/api/v1/organisation", headers={"Authorization": f"Bearer {token}"}).json["slug"]
        == "acme"
    )
    lasting = _run(app, "token", "create", "--org", "acme", "--email", "boss@acme.test", "--days", "never")
    assert lasting.exit_code == 0, lasting.output
    assert (
        _run(app, "token", "create", "--org", "acme", "--email", "boss@acme.test", "--days", "7").exit_code
        == 2
    )


def test_history_verify_exit_codes(app, world, db_session):
    slug = world.a.org.slug
    result = _run(app, "history", "verify", "--org", slug)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"ok": True, "checked": 6, "broken_seq": None, "reason": None}
    event = db_session.scalar(select(Event).where(Event.org_id == world.a.org.id, Event.seq == 2))
    db_session.execute(update(Event).where(Event.id == event.id).values(data={"fields": {"name": "forged"}}))
    db_session.commit()
    result = _run(app, "history", "verify", "--org", slug)
    assert result.exit_code == 1
    assert json.loads(result.output)["broken_seq"] == 2
    assert _run(app, "history", "verify", "--org", "no-such-org").exit_code == 2


def test_org_link(app, world, db_session):
    institute = world.institute.slug
    result = _run(app, "org", "link", "--institute", institute, "--firm", world.b.org.slug)
    assert result.exit_code == 0, result.output
    result = _run(app, "org", "link", "--institute", world.a.org.slug, "--firm", world.b.org.slug)
    assert result.exit_code == 2


def test_demo_loads_once(app, db_session):
    result = _run(app, "demo")
    assert result.exit_code == 0, (result.output, getattr(result.exception, "field_errors", result.exception))
    assert "metrology@firm-a.example.cn" in result.output
    slugs = set(db_session.scalars(select(Organization.slug)))
    assert {"demo-institute", "demo-firm-a", "demo-firm-b"} <= slugs
    # Every step of the reminder ladder is hit on the day it loads, and those reminders are planned.
    assert "today's reminders planned" in result.output
    steps = db_session.execute(
        select(Organization.slug, NotificationItem.stage, NotificationItem.days)
        .join(Organization, Organization.id == NotificationItem.org_id)
        .where(Organization.slug.like("demo-firm-%"))
    ).all()
    for slug in ("demo-firm-a", "demo-firm-b"):
        hit = {(stage, days) for s, stage, days in steps if s == slug}
        assert {("due", 30), ("due", 15), ("due", 7), ("due", 0), ("overdue", 7), ("overdue", 14)} <= hit
    firm_a = db_session.scalar(select(Organization).where(Organization.slug == "demo-firm-a"))
    assert db_session.get(ReminderPolicy, firm_a.id).mandatory_offsets_days == [60, 30, 15, 7, 0]
    # The SME assistance pages open on this year's plan and some help given.
    from models.assistance import AssistancePlan, AssistanceRecord

    assert db_session.scalar(select(func.count(AssistancePlan.id))) == 28
    assert {kind for kind in db_session.scalars(select(AssistanceRecord.kind))} >= {"survey", "mms_training"}
    # Measurement data: a control chart with its signal, a stability verdict, a failed comparison point.
    from models import CheckRecord, Comparison, ComparisonPoint, RepeatabilityTest, StabilityAssessment

    assert db_session.scalar(select(func.count(CheckRecord.id))) == 14
    assert db_session.scalar(select(func.count(RepeatabilityTest.id))) == 1
    assert db_session.scalar(select(StabilityAssessment.passed)) is True
    assert db_session.scalar(select(func.count(Comparison.id))) == 2
    cases = select(func.count(Comparison.case_id)).where(Comparison.kind == "comparison")
    assert db_session.scalar(cases) == 1
    verdicts = set(db_session.scalars(select(ComparisonPoint.verdict)))
    assert verdicts == {"satisfactory", "questionable", "unsatisfactory"}
    # A provincial comparison led by the institute, every participant's results in, ready to publish.
    from models.projects import ComparisonProject, ProjectParticipant, ProjectResult

    assert db_session.scalar(select(func.count(ComparisonProject.id))) == 1
    assert db_session.scalar(select(func.count(ProjectParticipant.id))) == 3
    assert db_session.scalar(select(func.count(ProjectResult.id))) == 9
    again = _run(app, "demo")
    assert again.exit_code == 0
    assert "already" in again.output


def test_history_verify_covers_the_traceability_events(app, world, db_session):
    """Records, corrections, confirmations, files, cases and interval decisions all join the chain."""
    from datetime import date

    from service.nonconformity import operations as nonconformity
    from service.traceability import operations as records
    from tests.factories import make_record

    tenant, today = world.a, date(2026, 11, 24)
    storage = app.config["CALRECALL"].attachments_dir
    record = make_record(
        db_session,
        tenant.actor(),
        tenant.instruments[0].id,
        storage,
        kind="calibration",
        conclusion=None,
        performed_on="2026-11-20",
    )
    records.confirm_record(
        db_session, tenant.actor(), record.id, {"confirmation": "unfit"}, today
    )  # opens a case
    corrected = records.correct_record(
        db_session,
        tenant.actor(),
        record.id,
        {
            "kind": "calibration",
            "performed_on": "2026-11-20",
            "lab_name": "某校准实验室",
            "certificate_no": record.certificate_no,
            "correction_reason": "x",
        },
        today,
    )
    case = db_session.scalar(select(NonconformityCase).where(NonconformityCase.org_id == tenant.org.id))
    nonconformity.assess(db_session, tenant.actor(), case.id, {"impact_assessment": "无"}, today)
    nonconformity.close(db_session, tenant.actor("admin"), case.id, {"disposition": "scrap"}, today)
    db_session.commit()
    kinds = set(db_session.scalars(select(Event.kind).where(Event.org_id == tenant.org.id)))
    assert {
        "record.created",
        "record.confirmed",
        "record.corrected",
        "nonconformity.opened",
        "nonconformity.assessed",
        "nonconformity.closed",
    } <= kinds
    assert corrected.supersedes_id == record.id
    assert _run(app, "history", "verify", "--org", tenant.org.slug).exit_code == 0

    # Alter one record event's data directly in the database: verify names it.
    target = db_session.scalar(
        select(Event).where(Event.org_id == tenant.org.id, Event.kind == "record.confirmed")
    )
    forged = {**target.data, "confirmation": "fit"}
    db_session.execute(update(Event).where(Event.id == target.id).values(data=forged))
    db_session.commit()
    result = _run(app, "history", "verify", "--org", tenant.org.slug)
    assert result.exit_code == 1
    assert json.loads(result.output)["broken_seq"] == target.seq
