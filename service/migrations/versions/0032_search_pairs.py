"""The ledger search's bigrams in a stored column with a GIN index, which serves under row-level security.

Under the policies of 0030 the planner uses an index only for a condition whose functions are all
LEAKPROOF; 0027's index on ``search_bigrams(name || …)`` is an expression of our own function, which
is not, so the web role's searches read the whole firm. On a stored column the condition calls only
the built-in ``arraycontains`` (``@>``), which ``db create-roles`` marks LEAKPROOF (service/rls.py).
PostgreSQL only. Adding the column rewrites the instruments table.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-05 10:00:00
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# Frozen copy of models.ledger.SEARCH_TEXT as of this revision (0027's).
SEARCH_TEXT = (
    "(((name::text || ' '::text) || management_no::text) || ' '::text) "
    "|| COALESCE(serial_no, ''::character varying)::text"
)


revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.add_column(
        "instruments",
        sa.Column(
            "search_pairs",
            postgresql.ARRAY(sa.Text()),
            sa.Computed(f"search_bigrams({SEARCH_TEXT})", persisted=True),
        ),
    )
    op.create_index("ix_instruments_search_pairs", "instruments", ["search_pairs"], postgresql_using="gin")
    op.drop_index("ix_instruments_search_bigrams", table_name="instruments")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index(
        "ix_instruments_search_bigrams",
        "instruments",
        [sa.text(f"search_bigrams({SEARCH_TEXT})")],
        postgresql_using="gin",
    )
    op.drop_index("ix_instruments_search_pairs", table_name="instruments")
    op.drop_column("instruments", "search_pairs")
