"""Issue #16, security: sessions that end, no off-site redirects, throttling, passwords, headers."""

import re

import pytest

from service.app import create_app
from service.config import Config
from tests.conftest import login
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
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "brand-new-pw-1",
            "password_confirm": "brand-new-pw-1",
        },
    )
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
