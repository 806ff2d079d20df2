"""The Alembic migrations create exactly the schema the models describe, on both databases."""

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from models import Base
from service.db import make_engine
from service.migrations import upgrade
from tests.conftest import TEST_DATABASE_URL


@pytest.fixture
def empty_database(tmp_path):
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    name = f"calrecall_mig_{uuid.uuid4().hex[:8]}"
    url = make_url(TEST_DATABASE_URL)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# SQLite cannot reflect an index on an expression, so autogenerate skips comparing it (with this
# warning); the PostgreSQL run compares it.
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_migrations_match_the_models(empty_database):
    engine = make_engine(empty_database)
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert diff == []
    assert {"organizations", "users", "instruments", "events", "status_requests"} <= tables
