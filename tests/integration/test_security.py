"""Issue #16, security: sessions that end, no off-site redirects, throttling, passwords, headers."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select

from service.app import create_app
from service.auth.operations import ThrottlePolicy
from service.clock import now_utc
from service.config import Config
from service.db import make_session_factory
from tests.conftest import change_password, login, sign_in_from
from tests.factories import PASSWORD

# Sessions end on the server ---------------------------------------------------------------------


def _replay(app, cookie_value: str):
    """A second browser that has stolen the session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie_value)
    return thief


def test_a_copied_cookie_stops_working_after_logout(app, client, world):
    login(client, world.a.metrology)
    stolen = client.get_cookie("session").value
    thief = _replay(app, stolen)
    assert thief.get("/").status_code == 200  # the copy works while the session lasts
    assert client.post("/logout").status_code == 303
    assert thief.get("/").status_code == 302
    assert thief.get("/").headers["Location"].startswith("/login")


def test_a_copied_cookie_stops_working_after_a_password_change(app, client, world):
    login(client, world.a.metrology)
    thief = _replay(app, client.get_cookie("session").value)
    response = change_password(client, "brand-new-pw-1")
    assert response.status_code == 303
    assert client.get("/").status_code == 200
    assert thief.get("/").status_code == 302


def test_deactivating_ends_the_session_and_reactivating_does_not_revive_it(app, client, world, db_session):
    login(client, world.a.viewer)
    stolen = client.get_cookie("session").value
    admin = app.test_client()
    login(admin, world.a.admin)
    url = f"/org/users/{world.a.viewer.id}"
    form = {"name": world.a.viewer.name, "role": "viewer"}
    assert admin.post(url, data=form).status_code == 303  # the checkbox unticked: deactivated
    assert _replay(app, stolen).get("/").status_code == 302
    assert admin.post(url, data=form | {"is_active": "on"}).status_code == 303
    assert _replay(app, stolen).get("/").status_code == 302


def test_api_tokens_survive_logout(client, world):
    login(client, world.a.metrology)
    token = re.search(
        r"cal_[A-Za-z0-9_\-]+", client.post("/account/tokens", data={"name": "erp"}).text
    ).group(0)
    client.post("/logout")
    assert client.get("/api/v1/instruments", headers={"Authorization": f"Bearer {token}"}).status_code == 200


# The CSRF error stays on the site ---------------------------------------------------------------


@pytest.fixture
def csrf_client(config, engine, sessions):
    app = create_app(Config(**{**config.__dict__, "csrf_enabled": True}), engine=engine)
    app.extensions["calrecall.sessions"] = sessions
    return app.test_client()


@pytest.mark.parametrize(
    "referer",
    ["http://evil.example/", "//evil.example/x", "https://evil.example/instruments", "javascript:x"],
)
def test_the_csrf_error_never_redirects_off_site(csrf_client, world, referer):
    response = csrf_client.post("/language", data={"locale": "en"}, headers={"Referer": referer})
    assert response.status_code == 303
    assert "evil" not in response.headers["Location"]
    assert response.headers["Location"].startswith("/")


def test_the_csrf_error_goes_back_to_a_page_of_this_site(csrf_client, world):
    response = csrf_client.post(
        "/language", data={"locale": "en"}, headers={"Referer": "http://localhost/login?next=/instruments"}
    )
    assert response.headers["Location"] == "/login?next=/instruments"


# Weak passwords are refused, with the reason ----------------------------------------------------


@pytest.mark.parametrize(
    "weak", ["password123", "Password123", "qwerty123", "iloveyou", "12345678", "1qaz2wsx"]
)
def test_common_passwords_are_refused_at_password_change(client, world, weak):
    login(client, world.a.metrology)
    response = change_password(client, weak)
    assert response.status_code == 422
    assert "这是常见密码" in response.text


def test_passwords_containing_the_email_or_the_firm_are_refused(client, world, db_session):
    login(client, world.a.metrology)
    local = world.a.metrology.email.split("@")[0]
    for weak, reason in (
        (f"{local}-secret-9", "邮箱"),
        (f"x{world.a.metrology.email}", "邮箱"),
        (f"{world.a.org.name.replace(' ', '')}-2026!", "单位名称"),
        (f"{world.a.org.name.upper()}-2026!", "单位名称"),
    ):
        response = change_password(client, weak)
        assert response.status_code == 422, weak
        assert "密码不能包含邮箱或单位名称" in response.text, weak
        assert reason in response.text


def test_common_passwords_are_refused_at_reset_and_invitation(client, world, outbox, db_session):
    client.post("/password/forgot", data={"email": world.a.viewer.email})
    link = outbox.link(r"/password/reset/[A-Za-z0-9_\-]+")
    response = client.post(link, data={"password": "password123", "password_confirm": "password123"})
    assert response.status_code == 422
    assert "常见密码" in response.text
    login(client, world.a.admin)
    client.post("/org/invitations", data={"email": "new.person@example.com", "role": "viewer"})
    client.post("/logout")
    invitation = outbox.link(r"/invitations/[A-Za-z0-9_\-]+")
    response = client.post(
        invitation, data={"name": "新同事", "password": "iloveyou", "password_confirm": "iloveyou"}
    )
    assert response.status_code == 422
    assert "常见密码" in response.text


def test_the_cli_refuses_a_common_password(app, world, sessions):
    result = app.test_cli_runner().invoke(
        args=[
            "user", "create", "--org", world.a.org.slug, "--email", "cli@example.com",
            "--role", "viewer", "--password", "password123",
        ]
    )  # fmt: skip
    assert result.exit_code != 0
    assert "common" in result.output.lower() or "常见密码" in result.output


def test_a_good_password_is_still_accepted(client, world):
    login(client, world.a.metrology)
    response = change_password(client, "晴天-Ledger-73")
    assert response.status_code == 303


# Throttling per account and address, with growing pauses ----------------------------------------


class Clock:
    """The sign-in view's clock, moved by hand: the tests never sleep."""

    def __init__(self):
        self.now = now_utc()

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr("service.auth.views.now_utc", clock)
    return clock


def test_a_stranger_cannot_lock_the_owner_out(client, world, clock):
    for _ in range(8):
        sign_in_from(client, world.a.admin.email, "bad-password", "10.1.1.1")
    # The owner, elsewhere, signs in at once.
    assert sign_in_from(client, world.a.admin.email, PASSWORD, "10.9.9.9").status_code == 303


def test_pauses_grow_per_account_and_address(client, world, clock):
    email, here = world.a.metrology.email, "10.6.6.6"
    for _ in range(5):
        assert sign_in_from(client, email, "bad-password", here).status_code == 401
    assert sign_in_from(client, email, PASSWORD, here).status_code == 429  # paused, even the right password
    clock.advance(1)
    assert sign_in_from(client, email, "bad-password", here).status_code == 401  # 1 s later: one more try
    clock.advance(1)
    assert sign_in_from(client, email, PASSWORD, here).status_code == 429  # now 2 s
    clock.advance(1)
    assert sign_in_from(client, email, "bad-password", here).status_code == 401
    clock.advance(3)
    refused = sign_in_from(client, email, PASSWORD, here)
    assert refused.status_code == 429  # now 4 s
    assert "秒" in refused.text
    clock.advance(1)
    assert sign_in_from(client, email, PASSWORD, here).status_code == 303


def test_the_form_warns_before_the_last_attempt(client, world, clock):
    answers = [sign_in_from(client, world.a.viewer.email, "bad-password", "10.7.7.7").text for _ in range(5)]
    warned = ["再输错一次" in text for text in answers]
    assert warned == [False, False, False, True, False]


def test_pauses_are_capped():
    policy = ThrottlePolicy()
    assert [policy.pause_after(n).total_seconds() for n in (4, 5, 6, 7)] == [0, 1, 2, 4]
    assert policy.pause_after(40) == policy.max_pause == timedelta(minutes=15)


# Content Security Policy, HSTS and the outage page ----------------------------------------------


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in (p.strip() for p in policy.split(";")) if d}


def test_the_policy_allows_only_this_site(client, world):
    policy = _csp(client.get("/login"))
    assert policy == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "object-src": "'none'",
        "base-uri": "'self'",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
    }


def test_the_policy_has_no_unsafe_inline_and_no_nonce(client, world):
    """Scripts and styles are files of the site (tests/unit/test_templates.py keeps them there)."""
    for path in ("/login", "/c/not-a-real-label"):
        policy = client.get(path).headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in policy, path
        assert "'nonce-" not in policy, path
        assert "'unsafe-eval'" not in policy, path
    login(client, world.a.metrology)
    for path in ("/", "/instruments"):
        policy = client.get(path).headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in policy, path
        assert "'nonce-" not in policy, path
        assert "'unsafe-eval'" not in policy, path


INLINE_TAG = re.compile(r"<(script|style)\b([^>]*)>", re.IGNORECASE)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE)


def _violations(response) -> list[str]:
    """What the policy would block on an HTML page: inline code, handler and style attributes."""
    found = []
    for tag, attributes in INLINE_TAG.findall(response.text):
        if "src=" not in attributes:
            found.append(f"inline <{tag}{attributes}>")
    found += [f"handler {m.group(0)!r}" for m in HANDLER.finditer(response.text)]
    # SVG drawings may style their elements; their style attributes count like HTML ones.
    found += [f"style attribute in {m.group(0)[:80]!r}" for m in STYLE_ATTRIBUTE.finditer(response.text)]
    return found


def test_no_page_needs_what_the_policy_blocks(app, client, world, db_session):
    from tests.integration.test_no_server_errors import _own_values
    from tests.routes import fill_path

    values, _token = _own_values(app, world, db_session)
    problems = {}
    for user in (world.a.admin, world.institute_staff):
        client.post("/logout")
        login(client, user)
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint.startswith(("api.", "static", "bootstrap.")):
                continue
            path = fill_path(rule, values)
            response = client.get(path)
            if response.mimetype == "text/html" and (found := _violations(response)):
                problems[f"{user.role} {path}"] = found
            response.close()  # downloads stream their files
    client.post("/logout")
    for path in ("/login", "/password/forgot", "/check/junk"):
        if found := _violations(client.get(path)):
            problems[path] = found
    assert problems == {}


def test_hsts_only_in_production(config, engine, sessions, client, world):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    production = create_app(
        Config(**{**config.__dict__, "env": "production", "secret_key": "prod-secret-0123456789"}),
        engine=engine,
    )
    production.extensions["calrecall.sessions"] = sessions
    hsts = production.test_client().get("/login").headers["Strict-Transport-Security"]
    assert hsts.startswith("max-age=31536000")
    assert "includeSubDomains" in hsts


def test_a_database_outage_gets_the_apps_own_page_with_its_headers(app, client, world, tmp_path):
    login(client, world.a.metrology)
    unreachable = create_engine(f"sqlite:///{tmp_path / 'missing-folder' / 'db.sqlite3'}")
    previous = app.extensions["calrecall.sessions"]
    app.extensions["calrecall.sessions"] = make_session_factory(unreachable)
    try:
        for path in ("/", "/login", "/instruments"):
            response = client.get(path)
            assert response.status_code == 503, path
            assert response.mimetype == "text/html"
            assert 'class="navbar' in response.text  # the app's page, not a bare one
            assert "暂时" in response.text
            assert "default-src 'self'" in response.headers["Content-Security-Policy"]
            assert response.headers["X-Frame-Options"] == "DENY"
            assert response.headers["Retry-After"]
        response = client.post("/login", data={"email": world.a.admin.email, "password": PASSWORD})
        assert response.status_code == 503
        api = client.get("/api/v1/instruments", headers={"Authorization": "Bearer cal_x"})
        assert (api.status_code, api.mimetype) == (503, "application/json")
    finally:
        app.extensions["calrecall.sessions"] = previous
        unreachable.dispose()


def test_head_requests_to_the_sign_in_page_are_not_failed_sign_ins(client, world, db_session):
    from models import SignInAttempt

    for _ in range(3):  # uptime monitors
        assert client.head("/login", environ_base={"REMOTE_ADDR": "10.8.8.8"}).status_code == 200
    assert db_session.scalars(select(SignInAttempt).where(SignInAttempt.ip == "10.8.8.8")).all() == []
