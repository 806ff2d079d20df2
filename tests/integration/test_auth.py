import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models import ApiToken, Invitation, PasswordReset, SignInAttempt, User
from service.app import create_app
from service.auth.secrets import verify_password
from service.clock import now_utc
from service.config import Config, ConfigError
from tests.conftest import change_password, login, sign_in_from
from tests.factories import PASSWORD


def test_sign_in_and_out(client, world):
    assert client.get("/").status_code == 302  # anonymous users are sent to the sign-in page
    response = login(client, world.a.metrology)
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.post("/logout").status_code == 303
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_and_recorded(client, world, db_session):
    response = client.post("/login", data={"email": world.a.metrology.email, "password": "nope-nope"})
    assert response.status_code == 401
    assert client.get("/").status_code == 302
    attempt = db_session.scalar(select(SignInAttempt).where(SignInAttempt.email == world.a.metrology.email))
    assert attempt.is_success is False
    assert attempt.reason == "bad_password"


def test_unknown_email_gives_the_same_answer(client, world):
    unknown = client.post("/login", data={"email": "nobody@example.com", "password": "whatever1"})
    wrong = client.post("/login", data={"email": world.a.metrology.email, "password": "whatever1"})
    assert unknown.status_code == wrong.status_code == 401


def test_email_is_case_insensitive(client, world):
    response = client.post("/login", data={"email": world.a.metrology.email.upper(), "password": PASSWORD})
    assert response.status_code == 303


def test_failed_sign_ins_are_throttled_per_account_and_address(client, world):
    for _ in range(5):
        sign_in_from(client, world.a.admin.email, "bad-password", "10.1.1.1")
    # From that address even the right password must wait now …
    response = sign_in_from(client, world.a.admin.email, PASSWORD, "10.1.1.1")
    assert response.status_code == 429
    # … while the owner elsewhere, and other accounts, are unaffected.
    response = sign_in_from(client, world.a.admin.email, PASSWORD, "10.9.9.9")
    assert response.status_code == 303
    client.post("/logout")
    assert login(client, world.a.metrology).status_code == 303


def test_failed_sign_ins_are_throttled_per_address(client, world):
    for n in range(20):
        sign_in_from(client, f"guess{n}@example.com", "bad-password", "10.2.2.2")
    response = sign_in_from(client, world.a.metrology.email, PASSWORD, "10.2.2.2")
    assert response.status_code == 429
    other = sign_in_from(client, world.a.metrology.email, PASSWORD, "10.3.3.3")
    assert other.status_code == 303


def test_throttle_window_expires(client, world, db_session):
    old = now_utc() - timedelta(minutes=16)
    for _ in range(6):
        db_session.add(
            SignInAttempt(email=world.a.admin.email, ip="10.4.4.4", is_success=False, created_at=old)
        )
    db_session.commit()
    assert login(client, world.a.admin).status_code == 303


def test_session_is_rotated_at_sign_in(client, world):
    with client.session_transaction() as session:
        session["planted"] = "by-an-attacker"
    login(client, world.a.metrology)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_next_parameter_cannot_leave_the_site(client, world):
    response = client.post(
        "/login",
        data={"email": world.a.metrology.email, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post(
        "/login", data={"email": world.a.metrology.email, "password": PASSWORD, "next": "/instruments"}
    )
    assert response.headers["Location"] == "/instruments"


def test_password_change_ends_other_sessions(app, world):
    first, second = app.test_client(), app.test_client()
    login(first, world.a.metrology)
    login(second, world.a.metrology)
    response = change_password(first, "brand-new-pw-1")
    assert response.status_code == 303
    assert first.get("/").status_code == 200  # this session goes on
    assert second.get("/").status_code == 302  # the other one is over


def test_password_change_needs_the_current_password(client, world, db_session):
    login(client, world.a.metrology)
    response = change_password(client, "brand-new-pw-1", "wrong")
    assert response.status_code == 422
    db_session.refresh(world.a.metrology)
    assert verify_password(world.a.metrology.password_hash, PASSWORD)


def test_reloading_a_refused_password_change_goes_back_to_the_account(client, world):
    login(client, world.a.metrology)
    # The refused change is shown at /account/password; reloading that address must not answer 405.
    response = client.get("/account/password")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/account")


def test_password_reset_by_email(client, world, outbox, db_session):
    response = client.post("/password/forgot", data={"email": world.a.viewer.email})
    assert response.status_code == 303
    [message] = outbox.messages()
    assert message["to"] == world.a.viewer.email
    assert message["channel"] == "email"
    link = outbox.link(r"http://testserver/password/reset/\S+")
    path = link.removeprefix("http://testserver")
    assert client.get(path).status_code == 200
    mismatch = client.post(path, data={"password": "new-secret-22", "password_confirm": "other-secret-22"})
    assert mismatch.status_code == 422
    response = client.post(path, data={"password": "new-secret-22", "password_confirm": "new-secret-22"})
    assert response.status_code == 303
    assert client.get("/").status_code == 200  # signed in by the reset
    # Single use.
    assert client.get(path).status_code == 404
    client.post("/logout")
    assert login(client, world.a.viewer, "new-secret-22").status_code == 303


def test_password_reset_link_expires(client, world, outbox, db_session):
    client.post("/password/forgot", data={"email": world.a.viewer.email})
    path = outbox.link(r"http://testserver/password/reset/\S+").removeprefix("http://testserver")
    reset = db_session.scalar(select(PasswordReset).where(PasswordReset.user_id == world.a.viewer.id))
    reset.expires_at = now_utc() - timedelta(seconds=1)
    db_session.commit()
    assert client.get(path).status_code == 404
    response = client.post(path, data={"password": "new-secret-22", "password_confirm": "new-secret-22"})
    assert response.status_code == 404


def test_password_reset_does_not_reveal_accounts(client, world, outbox):
    known = client.post("/password/forgot", data={"email": world.a.viewer.email}, follow_redirects=True)
    unknown = client.post("/password/forgot", data={"email": "nobody@example.com"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    strip = lambda html: re.sub(r'name="csrf_token" value="[^"]*"', "", html)  # noqa: E731
    assert strip(known.text) == strip(unknown.text)
    assert len(outbox.messages()) == 1


def test_invitation_flow(client, world, outbox, db_session):
    login(client, world.a.admin)
    response = client.post("/org/invitations", data={"email": "New.Person@Example.com", "role": "metrology"})
    assert response.status_code == 303
    client.post("/logout")
    path = outbox.link(r"http://testserver/invitations/\S+").removeprefix("http://testserver")
    assert client.get(path).status_code == 200
    bad = client.post(path, data={"name": "", "password": "short", "password_confirm": "short"})
    assert bad.status_code == 422
    response = client.post(
        path,
        data={
            "name": "新同事",
            "mobile": "139 0000 1111",
            "password": "long-enough-1",
            "password_confirm": "long-enough-1",
        },
    )
    assert response.status_code == 303
    user = db_session.scalar(select(User).where(User.email == "new.person@example.com"))
    assert (user.org_id, user.role, user.mobile) == (world.a.org.id, "metrology", "13900001111")
    assert client.get(path).status_code == 404  # used up


def test_only_admins_invite_and_roles_fit_the_organisation(client, world, db_session):
    login(client, world.a.metrology)
    assert (
        client.post("/org/invitations", data={"email": "x@example.com", "role": "viewer"}).status_code == 403
    )
    client.post("/logout")
    login(client, world.a.admin)
    response = client.post("/org/invitations", data={"email": "x@example.com", "role": "technician"})
    assert response.status_code == 422  # technicians belong to institutes
    response = client.post("/org/invitations", data={"email": world.a.viewer.email, "role": "viewer"})
    assert response.status_code == 422  # already one of the firm's users
    response = client.post("/org/invitations", data={"email": world.b.admin.email, "role": "viewer"})
    assert response.status_code == 303  # another firm's user: answered as any address (issue #16)


def test_deactivated_user_cannot_sign_in_and_loses_session(app, client, world, db_session):
    login(client, world.a.viewer)
    user = db_session.get(User, world.a.viewer.id)
    user.is_active = False
    db_session.commit()
    assert client.get("/").status_code == 302
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 401


def test_api_tokens_page_shows_token_once(client, world):
    login(client, world.a.metrology)
    response = client.post("/account/tokens", data={"name": "erp sync"})
    token = re.search(r"cal_[A-Za-z0-9_\-]+", response.text).group(0)
    listing = client.get("/account/tokens")
    assert token not in listing.text
    assert token[:8] in listing.text
    api = client.get("/api/v1/instruments", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200


def test_the_tokens_page_offers_lifetimes_and_shows_expiry(client, world, db_session):
    login(client, world.a.metrology)
    page = client.get("/account/tokens").text
    assert re.findall(r'<option value="(\w+)"', page) == ["30", "90", "365", "never"]
    assert re.search(r'<option value="90"\s+selected', page)
    refused = client.post("/account/tokens", data={"name": "erp", "days": "7"})
    assert refused.status_code == 422
    assert 'id="f-days"' in refused.text
    assert "is-invalid" in refused.text
    created = client.post("/account/tokens", data={"name": "erp", "days": "365"})
    assert created.status_code == 200
    [row] = db_session.scalars(select(ApiToken).where(ApiToken.user_id == world.a.metrology.id)).all()
    assert row.expires_at is not None
    assert (row.expires_at - row.created_at).days == 365
    row.expires_at = now_utc() - timedelta(minutes=1)
    db_session.commit()
    assert f'data-expired="{row.id}"' in client.get("/account/tokens").text


def test_csrf_is_enforced(config, engine, sessions, world):
    app = create_app(Config(**{**config.__dict__, "csrf_enabled": True}), engine=engine)
    app.extensions["calrecall.sessions"] = sessions
    client = app.test_client()
    response = client.post("/login", data={"email": world.a.metrology.email, "password": PASSWORD})
    assert response.status_code in (302, 303, 400)
    assert client.get("/").status_code == 302  # not signed in
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post(
        "/login", data={"email": world.a.metrology.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303


def test_production_cookies_are_secure(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "prod-secret-0123456789")
    app = create_app(
        Config(
            env="production",
            secret_key="prod-secret-0123456789",
            database_url=f"sqlite:///{tmp_path / 'p.sqlite3'}",
            base_url="https://jl.example.cn",
        )
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_production_requires_a_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        Config(env="production")


def test_sign_in_log_for_admins(client, world, db_session):
    client.post("/login", data={"email": world.a.viewer.email, "password": "bad-password"})
    login(client, world.a.admin)
    page = client.get("/org/sign-ins")
    assert page.status_code == 200
    assert world.a.viewer.email in page.text
    count = db_session.scalar(
        select(func.count(SignInAttempt.id)).where(SignInAttempt.org_id == world.a.org.id)
    )
    assert count == 2


def test_refusals_while_throttled_do_not_extend_the_block_and_admins_see_them(client, world, db_session):
    old = now_utc() - timedelta(minutes=10)
    for _ in range(15):  # the pause has reached its 15-minute ceiling: 5 more minutes to go
        db_session.add(
            SignInAttempt(
                email=world.a.viewer.email,
                ip="10.5.5.5",
                is_success=False,
                reason="bad_password",
                created_at=old,
            )
        )
    db_session.commit()
    for _ in range(10):  # hammering during the block
        response = sign_in_from(client, world.a.viewer.email, PASSWORD, "10.5.5.5")
        assert response.status_code == 429
    throttled = db_session.scalars(select(SignInAttempt).where(SignInAttempt.reason == "throttled")).all()
    assert {a.org_id for a in throttled} == {world.a.org.id}  # shown in the firm's sign-in log
    # Six minutes later the pause is over; the refusals did not extend it.
    for attempt in db_session.scalars(select(SignInAttempt)):
        attempt.created_at -= timedelta(minutes=6)
    db_session.commit()
    response = sign_in_from(client, world.a.viewer.email, PASSWORD, "10.5.5.5")
    assert response.status_code == 303


def test_client_address_comes_from_trusted_proxies_only(config, engine, sessions, world):
    behind_proxy = create_app(Config(**{**config.__dict__, "trusted_proxies": 1}), engine=engine)
    behind_proxy.extensions["calrecall.sessions"] = sessions
    client = behind_proxy.test_client()
    for n in range(20):
        client.post(
            "/login",
            data={"email": f"x{n}@example.com", "password": "bad-password"},
            headers={"X-Forwarded-For": "203.0.113.9"},
        )
    blocked = client.post(
        "/login",
        data={"email": world.a.admin.email, "password": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    other_visitor = client.post(
        "/login",
        data={"email": world.a.admin.email, "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.7"},
    )
    assert (blocked.status_code, other_visitor.status_code) == (429, 303)


def test_security_headers_and_no_caching_of_private_pages(client, world):
    anonymous = client.get("/login")
    assert anonymous.headers["X-Frame-Options"] == "DENY"
    assert anonymous.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in anonymous.headers["Content-Security-Policy"]
    assert anonymous.headers["Referrer-Policy"] == "same-origin"
    login(client, world.a.metrology)
    assert client.get("/account/tokens").headers["Cache-Control"] == "no-store"


def test_a_signed_in_browser_may_keep_the_static_files(client, world):
    """Stylesheets and scripts are public files: no-store would fetch 230 KB again on every page."""
    login(client, world.a.metrology)
    page = client.get("/instruments")
    for path in ("/static/app.css", "/static/ledger/list.js"):
        response = client.get(path)
        response.close()
        assert response.status_code == 200
        assert "no-store" not in response.headers.get("Cache-Control", "")
    assert page.headers["Cache-Control"] == "no-store"


def test_sessions_expire_after_inactivity(app, client, world):
    login(client, world.a.metrology)
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=8)
    cookie = client.get_cookie("session")
    assert cookie.expires is not None  # a sliding, permanent session rather than a 31-day one


def test_control_characters_are_refused_in_names_but_notes_keep_lines(client, world, db_session):
    login(client, world.a.admin)
    response = client.post("/org", data={"name": "Acme\r\nBcc: victim@example.com"})
    assert response.status_code == 422
    client.post("/logout")
    login(client, world.a.metrology)
    response = client.post(
        "/instruments/new",
        data={"management_no": "CC-1", "name": "表", "interval_months": "12", "notes": "第一行\r\n第二行"},
    )
    assert response.status_code == 303


def test_undeliverable_invitation_is_reported_and_can_be_resent(config, engine, sessions, world, db_session):
    app = create_app(
        Config(**{**config.__dict__, "email_backend": "smtp", "smtp_url": "smtp://127.0.0.1:9"}),
        engine=engine,
    )
    app.extensions["calrecall.sessions"] = sessions
    client = app.test_client()
    login(client, world.a.admin)
    page = client.post(
        "/org/invitations", data={"email": "lost@example.com", "role": "viewer"}, follow_redirects=True
    )
    assert "alert-warning" in page.text
    old = db_session.scalar(select(Invitation).where(Invitation.email == "lost@example.com"))
    client.post(f"/org/invitations/{old.id}/resend")
    db_session.expire_all()
    invitations = db_session.scalars(select(Invitation).where(Invitation.email == "lost@example.com")).all()
    assert len(invitations) == 2
    assert sum(1 for i in invitations if i.revoked_at is None) == 1


def test_inviting_the_same_email_twice_refreshes_the_one_invitation(client, world, outbox, db_session):
    """Issue #16: no second invitation; the earlier link is replaced by the fresh one."""
    login(client, world.a.admin)
    for _ in range(2):
        response = client.post("/org/invitations", data={"email": "twice@example.com", "role": "viewer"})
        assert response.status_code == 303
    open_ = [
        i
        for i in db_session.scalars(select(Invitation).where(Invitation.org_id == world.a.org.id))
        if i.email == "twice@example.com" and i.revoked_at is None
    ]
    assert len(open_) == 1
    assert client.get("/org").text.count("twice@example.com · ") == 1


def test_a_stale_invitation_link_answers_a_page_with_a_message(client, world, outbox, db_session):
    login(client, world.a.admin)
    client.post("/org/invitations", data={"email": "stale@example.com", "role": "viewer"})
    first = outbox.link(r"http://testserver/invitations/\S+").removeprefix("http://testserver")
    # Another firm invites the same person, who accepts the first firm's link first.
    client.post("/logout")
    login(client, world.b.admin)
    client.post("/org/invitations", data={"email": "stale@example.com", "role": "viewer"})
    second = outbox.link(r"http://testserver/invitations/\S+").removeprefix("http://testserver")
    client.post("/logout")
    form = {"name": "张三", "password": "a-long-password-1", "password_confirm": "a-long-password-1"}
    assert client.post(first, data=form).status_code == 303
    client.post("/logout")
    stale = client.post(second, data=form)
    assert stale.status_code == 409
    assert "已有账号" in stale.text
    assert client.get(second).status_code == 409


def test_inviting_another_firms_user_reveals_nothing_and_tells_the_invitee(client, world, outbox, db_session):
    login(client, world.a.admin)
    taken = client.post(
        "/org/invitations", data={"email": world.b.viewer.email, "role": "viewer"}, follow_redirects=True
    )
    fresh = client.post(
        "/org/invitations", data={"email": "new@example.com", "role": "viewer"}, follow_redirects=True
    )
    assert taken.status_code == fresh.status_code == 200
    assert "使用该邮箱的用户已存在" not in taken.text
    assert f"邀请已发送至 {world.b.viewer.email}" in taken.text
    told = [m for m in outbox.messages() if m["to"] == world.b.viewer.email]
    assert len(told) == 1
    assert "/invitations/" not in told[0]["body"]
    assert "已有账号" in told[0]["body"]
