"""The site's address in links, e-mails and QR codes: BASE_URL, else (in development) the request's host."""

from __future__ import annotations

import dataclasses

import pytest

from service.config import Config, ConfigError
from service.traceability import labels
from tests.factories import PASSWORD

HOST = "http://lan-box.example:5123"


@pytest.fixture
def unset_base_url(app, monkeypatch):
    """Run the app in development with no BASE_URL configured."""
    monkeypatch.setitem(app.config, "CALRECALL", dataclasses.replace(app.config["CALRECALL"], base_url=""))


def test_production_refuses_to_start_without_base_url():
    with pytest.raises(ConfigError, match="BASE_URL"):
        Config(env="production", secret_key="s" * 32)
    assert Config(env="production", secret_key="s" * 32, base_url="https://jl.example.cn").base_url


def test_development_without_base_url_is_fine_and_has_no_fixed_address():
    assert Config().base_url == ""


def test_emailed_links_follow_the_requests_host(client, world, outbox, unset_base_url):
    response = client.post("/password/forgot", data={"email": world.a.viewer.email}, base_url=HOST)
    assert response.status_code == 303
    assert outbox.link(rf"{HOST}/password/reset/\S+")


def test_qr_codes_follow_the_requests_host(client, world, unset_base_url):
    bare = world.a.instruments[0]
    signed_in = client.post(
        "/login", data={"email": world.a.metrology.email, "password": PASSWORD}, base_url=HOST
    )
    assert signed_in.status_code == 303
    page = client.post("/instruments/labels", data={"ids": [str(bare.id)]}, base_url=HOST).text
    assert labels.qr_svg(f"{HOST}/instruments/{bare.id}") in page


def test_a_configured_base_url_wins_over_the_host(client, world, outbox):
    client.post("/password/forgot", data={"email": world.a.viewer.email}, base_url=HOST)
    assert outbox.link(r"http://testserver/password/reset/\S+")
