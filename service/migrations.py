"""Running Alembic from the application (``flask db upgrade``) and from tests."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine, connection=None) -> AlembicConfig:
    """Return an Alembic configuration bound to ``engine`` (or an open ``connection``)."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or migrate the schema to ``revision``."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(engine, connection), revision)


@lru_cache(maxsize=1)
def head_revision() -> str:
    """Return the revision the migration scripts end at (what ``db upgrade`` brings a schema to)."""
    return ScriptDirectory(str(SCRIPT_LOCATION)).get_current_head()
