"""Alembic environment: runs on the connection the CLI hands over, or on DATABASE_URL."""

from alembic import context

from models import Base
from service.config import Config
from service.db import make_engine

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or Config.from_env().database_url)
    with engine.connect() as connection:
        _run(connection)
        connection.commit()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Tables have row-level security forced on their owner too (service/rls.py): a data
            # migration works across every organisation, and says so like the jobs do.
            connection.exec_driver_sql("SELECT set_config('app.all_tenants', 'on', true)")
        context.run_migrations()


run_migrations_online()
