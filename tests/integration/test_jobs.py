import io
import os
from datetime import timedelta

from sqlalchemy import func, select, update

from models import Event, Invitation, PasswordReset, SignInAttempt
from service.clock import now_utc, today_in
from service.jobs.housekeeping import run_housekeeping
from service.jobs.schedule import build_scheduler
from service.jobs.verify_history import run_history_verification
from service.nominations import operations as nominations
from service.tenancy import operations as tenancy_ops
from service.traceability import files
from service.traceability import operations as records
from tests import factories
from tests.files import jpeg_bytes, pdf_bytes, png_bytes
from tests.nominations import open_campaign


def test_housekeeping_forgets_only_what_is_old(sessions, world, db_session):
    now = now_utc()
    db_session.add_all(
        [
            SignInAttempt(
                email="old@x.test", ip="1.1.1.1", is_success=False, created_at=now - timedelta(days=181)
            ),
            SignInAttempt(
                email="new@x.test", ip="1.1.1.1", is_success=False, created_at=now - timedelta(days=1)
            ),
            PasswordReset(
                org_id=world.a.org.id,
                user_id=world.a.viewer.id,
                token_hash="a" * 64,
                expires_at=now - timedelta(days=31),
            ),
            PasswordReset(
                org_id=world.a.org.id,
                user_id=world.a.viewer.id,
                token_hash="b" * 64,
                expires_at=now + timedelta(hours=1),
            ),
        ]
    )
    tenancy_ops.invite_user(
        db_session,
        world.a.actor("admin"),
        {"email": "q@x.test", "role": "viewer"},
        now - timedelta(days=60),
        7,
    )
    db_session.commit()
    counts = run_housekeeping(sessions, now)
    assert counts == {"sign_in_attempts": 1, "password_resets": 1, "invitations": 1, "ledger_uploads": 0}
    assert db_session.scalar(select(func.count(SignInAttempt.id))) == 1
    assert db_session.scalar(select(func.count(PasswordReset.id))) == 1
    assert db_session.scalar(select(func.count(Invitation.id))) == 0
    assert set(run_housekeeping(sessions, now).values()) == {0}


def test_housekeeping_removes_stored_files_no_attachment_names(sessions, world, db_session, tmp_path):
    now = now_utc()
    instrument = factories.make_instrument(db_session, world.a.actor())
    result = {
        "kind": "verification",
        "performed_on": today_in("Asia/Shanghai").isoformat(),
        "conclusion": "pass",
        "lab_name": "河南省计量测试科学研究院",
        "certificate_no": "JD-HK-1",
    }
    upload = [(io.BytesIO(pdf_bytes()), "证书.pdf")]
    record = records.record_result(
        db_session, world.a.actor(), instrument.id, result, today_in("Asia/Shanghai"), upload, tmp_path
    )
    db_session.commit()
    named = record.attachments[0].sha256
    orphan = files.store(tmp_path, io.BytesIO(png_bytes()), "回滚.png").sha256  # its row rolled back
    young = files.store(tmp_path, io.BytesIO(jpeg_bytes()), "上传中.jpg").sha256  # its row not yet committed
    renewed = files.store(tmp_path, io.BytesIO(pdf_bytes(b"second certificate")), "a.pdf").sha256
    dead_temp = tmp_path / ".upload-killed"
    dead_temp.write_bytes(b"%PDF-1.4 half")
    two_days_ago = (now - timedelta(days=2)).timestamp()
    for path in (*(files.path_of(tmp_path, h) for h in (named, orphan, renewed)), dead_temp):
        os.utime(path, (two_days_ago, two_days_ago))
    files.store(
        tmp_path, io.BytesIO(pdf_bytes(b"second certificate")), "b.pdf"
    )  # the same content, uploaded again now

    counts = run_housekeeping(sessions, now, tmp_path)
    assert counts["attachment_files"] == 2
    assert not files.path_of(tmp_path, orphan).exists()
    assert not dead_temp.exists()
    assert all(files.path_of(tmp_path, h).exists() for h in (named, young, renewed))
    assert run_housekeeping(sessions, now, tmp_path)["attachment_files"] == 0


def test_nightly_verification_names_broken_chains(sessions, world, db_session, caplog):
    assert run_history_verification(sessions)[world.a.org.slug] is None
    event = db_session.scalar(select(Event).where(Event.org_id == world.b.org.id, Event.seq == 1))
    db_session.execute(update(Event).where(Event.id == event.id).values(kind="forged"))
    db_session.commit()
    results = run_history_verification(sessions)
    assert results[world.a.org.slug] is None
    assert "event 1" in results[world.b.org.slug]
    assert any("history chain" in r.message for r in caplog.records)


def test_schedule_has_stable_ids_and_safe_options(app):
    scheduler = build_scheduler(app)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "verify-history",
        "housekeeping",
        "ledger-imports",
        "ledger-exports",
        "reminders-plan",
        "reminders-dispatch",
        "reminders-leases",
    }
    for job in jobs.values():
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 3600)


def test_housekeeping_keeps_the_scans_of_nominations(sessions, world, db_session, tmp_path):
    """A nomination's scans share the attachments' store: the orphan sweep must count them as named."""
    who, today = world.a.actor(), today_in("Asia/Shanghai")
    campaign, recommender = open_campaign(db_session, world)
    nomination = nominations.start_nomination(
        db_session, who, {"campaign_id": campaign.id, "recommender_id": recommender.id}, today
    )
    upload = [(io.BytesIO(pdf_bytes(b"stamped form")), "推荐表.pdf")]
    scan = nominations.add_nomination_files(
        db_session, who, nomination.id, {"kind": "recommendation_form"}, upload, tmp_path, today
    )[0]
    db_session.commit()
    two_days_ago = (now_utc() - timedelta(days=2)).timestamp()
    os.utime(files.path_of(tmp_path, scan.sha256), (two_days_ago, two_days_ago))

    assert run_housekeeping(sessions, now_utc(), tmp_path)["attachment_files"] == 0
    assert files.path_of(tmp_path, scan.sha256).exists()
