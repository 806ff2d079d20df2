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


#: What the models make on PostgreSQL outside their metadata (models.ledger.SEARCH_PAIRS_DDL, after
#: the table): the search's generated column and its GIN index, unmapped since SQLite has neither.
#: The migrated database holds them and the metadata does not, so compare_metadata would ask to drop
#: them; they are left out of it and compared with what create_all made instead (_search_pairs).
UNMAPPED = {("column", "search_pairs"), ("index", "ix_instruments_search_pairs")}


def _mapped(obj, name, type_, reflected, compare_to) -> bool:
    """compare_metadata's include_object: all but the UNMAPPED objects found in the database only."""
    unmapped = (type_, name) in UNMAPPED and obj.table.name == "instruments"
    return not (unmapped and reflected and compare_to is None)


def _search_pairs(connection) -> tuple:
    """The search's column and indexes on instruments, as PostgreSQL describes them."""
    inspector = inspect(connection)
    [column] = [c for c in inspector.get_columns("instruments") if c["name"] == "search_pairs"]
    indexes = [i for i in inspector.get_indexes("instruments") if "search" in i["name"]]
    return str(column["type"]), column["computed"], indexes


# SQLite cannot reflect an index on an expression, so autogenerate skips comparing it (with this
# warning); the PostgreSQL run compares it.
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_migrations_match_the_models(empty_database, request):
    engine = make_engine(empty_database)
    upgrade(engine)
    with engine.connect() as connection:
        opts = {"compare_type": True, "include_object": _mapped}
        context = MigrationContext.configure(connection, opts=opts)
        diff = compare_metadata(context, Base.metadata)
        tables = set(inspect(connection).get_table_names())
        search = _search_pairs(connection) if connection.dialect.name == "postgresql" else None
    engine.dispose()
    assert diff == []
    assert {"organizations", "users", "instruments", "events", "status_requests"} <= tables
    if search:
        # What was left out of the comparison: a stored column, the one index on it (0027's index on
        # the expression is gone), the same as the suite's schema made by create_all.
        type_, computed, indexes = search
        assert (type_, computed["persisted"]) == ("ARRAY", True)
        assert [(i["name"], i["column_names"]) for i in indexes] == [
            ("ix_instruments_search_pairs", ["search_pairs"])
        ]
        with request.getfixturevalue("engine").connect() as created:
            assert _search_pairs(created) == search
