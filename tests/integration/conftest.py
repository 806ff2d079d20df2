"""Fixtures the integration tests share."""

from __future__ import annotations

import pytest

from service.actors import Actor
from tests.api import auth


@pytest.fixture
def headers(db_session, world):
    """Bearer headers of firm A's users, by role."""
    return {role: auth(db_session, getattr(world.a, role)) for role in ("admin", "metrology", "viewer")}


@pytest.fixture
def staff(world):
    """The institute's staff member, as an actor."""
    return Actor.of(world.institute_staff)
