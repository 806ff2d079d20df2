"""The ledger search's bigram index (PostgreSQL): rare terms and two-character words among a million.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 12:20:00
"""

from alembic import op
import sqlalchemy as sa

# Frozen copies of models.ledger.SEARCH_TEXT and SEARCH_BIGRAMS_FUNCTION as of this revision.
SEARCH_TEXT = (
    "(((name::text || ' '::text) || management_no::text) || ' '::text) "
    "|| COALESCE(serial_no, ''::character varying)::text"
)
SEARCH_BIGRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION search_bigrams(t text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    folded text := lower(t);
    pairs text[] := '{}';
BEGIN
    FOR i IN 1 .. char_length(folded) - 1 LOOP
        pairs := pairs || substr(folded, i, 2);
    END LOOP;
    RETURN pairs;
END
$$
"""


revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(SEARCH_BIGRAMS_FUNCTION)
    op.create_index(
        "ix_instruments_search_bigrams",
        "instruments",
        [sa.text(f"search_bigrams({SEARCH_TEXT})")],
        postgresql_using="gin",
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_instruments_search_bigrams", table_name="instruments")
    op.execute("DROP FUNCTION search_bigrams(text)")
