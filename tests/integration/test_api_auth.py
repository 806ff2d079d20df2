"""The API's Bearer tokens: refused without one, lifetimes, deactivated users."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.auth.operations import NEVER, create_api_token, revoke_api_token
from service.clock import now_utc
from service.errors import Invalid
from tests.api import API, auth


def test_requests_without_a_valid_token_are_refused(client, db_session, world):
    response = client.get(f"{API}/instruments")
    assert response.status_code == 401
    assert response.json["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")

    assert client.get(f"{API}/instruments", headers={"Authorization": "Bearer cal_nope"}).status_code == 401
    assert client.get(f"{API}/instruments", headers={"Authorization": "Basic abc"}).status_code == 401

    api_token, token = create_api_token(db_session, world.a.actor(), "t")
    db_session.commit()
    good = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{API}/instruments", headers=good).status_code == 200
    revoke_api_token(db_session, world.a.actor(), api_token.id)
    db_session.commit()
    assert client.get(f"{API}/instruments", headers=good).status_code == 401


def test_a_token_works_for_the_days_chosen_then_stops(client, db_session, world):
    month_ago = now_utc() - timedelta(days=31)
    expired_row, expired = create_api_token(db_session, world.a.actor(), "old", 30, now=month_ago)
    _row, fresh = create_api_token(db_session, world.a.actor(), "new", "365")
    lasting_row, lasting = create_api_token(db_session, world.a.actor(), "cron", NEVER, now=month_ago)
    db_session.commit()
    assert expired_row.expires_at == month_ago + timedelta(days=30)
    assert lasting_row.expires_at is None
    assert client.get(f"{API}/instruments", headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    for token in (fresh, lasting):
        assert (
            client.get(f"{API}/instruments", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        )


@pytest.mark.parametrize("days", [7, "7", "abc", "", None, 0, True, "３０"])
def test_a_token_lifetime_is_one_of_the_choices(db_session, world, days):
    with pytest.raises(Invalid) as refused:
        create_api_token(db_session, world.a.actor(), "t", days)
    assert list(refused.value.field_errors) == ["days"]


def test_a_deactivated_users_token_stops_working(client, db_session, world):
    headers = auth(db_session, world.a.metrology)
    world.a.metrology.is_active = False
    db_session.commit()
    assert client.get(f"{API}/organisation", headers=headers).status_code == 401
