"""Fixtures the API tests share."""

from __future__ import annotations

import pytest

from tests.api import auth


@pytest.fixture
def headers(db_session, world):
    """Bearer headers of firm A's users, by role."""
    return {role: auth(db_session, getattr(world.a, role)) for role in ("admin", "metrology", "viewer")}
