"""Helpers for tests of the JSON API: the prefix, Bearer headers and a before/after snapshot of the tables."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from models import (
    Department,
    Event,
    HistoryHead,
    Instrument,
    Invitation,
    Organization,
    StatusRequest,
    User,
)
from service.actors import Actor
from service.auth.operations import create_api_token
from service.clock import today_in

API = "/api/v1"
#: Every table an API call could change; a refused call must leave all of them as they were.
WATCHED = (Organization, User, Department, Invitation, Instrument, StatusRequest, Event, HistoryHead)


def local_today() -> date:
    """Return today's date in the firms' time zone."""
    return today_in("Asia/Shanghai")


def auth(db_session, user) -> dict:
    """Create an API token for ``user`` and return its Bearer header."""
    _, token = create_api_token(db_session, Actor.of(user), "t")
    db_session.commit()
    return {"Authorization": f"Bearer {token}"}


def snapshot(db_session) -> dict:
    """Every row of the watched tables, read afresh."""
    db_session.expire_all()
    rows = {}
    for model in WATCHED:
        table = model.__table__
        rows[table.name] = [tuple(r) for r in db_session.execute(select(table).order_by(*table.primary_key))]
    return rows


def patched(client, path: str, body: dict, headers: dict) -> dict:
    """PATCH ``body`` to ``path``; assert it was taken (200) and return the resource as it is now."""
    response = client.patch(path, json=body, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def assert_refused(client, db_session, method: str, path: str, body, headers: dict, field: str):
    """Send ``body`` to ``path``; assert it is refused with a 400 naming ``field`` and changes no table."""
    before = snapshot(db_session)
    response = client.open(path, method=method, json=body, headers=headers)
    assert response.status_code == 400, response.json
    assert field in response.json["errors"], response.json
    assert snapshot(db_session) == before


def fresh(db_session, model, object_id):
    """Load one row again from the database, not from the session's identity map."""
    db_session.expire_all()
    return db_session.scalar(select(model).where(model.id == object_id))


def events_of(db_session, instrument_id: int) -> list[str]:
    """Return the kinds of an instrument's history events, oldest first."""
    db_session.expire_all()
    return list(
        db_session.scalars(
            select(Event.kind)
            .where(Event.subject_type == "instrument", Event.subject_id == instrument_id)
            .order_by(Event.seq)
        )
    )


def instrument_ids(client, headers, **params) -> set[int]:
    """Return the ids ``GET /instruments`` lists with these query parameters."""
    response = client.get(f"{API}/instruments", query_string=params, headers=headers)
    assert response.status_code == 200, response.json
    return {i["id"] for i in response.json["items"]}
