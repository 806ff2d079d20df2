from datetime import timedelta

from sqlalchemy import func, select, update

from models import Event, Invitation, PasswordReset, SignInAttempt
from service.clock import now_utc
from service.jobs.housekeeping import run_housekeeping
from service.jobs.schedule import build_scheduler
from service.jobs.verify_history import run_history_verification
from service.tenancy import operations as tenancy_ops


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
        "reminders-plan",
        "reminders-dispatch",
        "reminders-leases",
    }
    for job in jobs.values():
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 3600)
