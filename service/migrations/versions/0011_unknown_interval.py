"""An instrument's interval may be unknown (an imported ledger gave none and its dates imply none).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 17:40:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('instruments', schema=None) as batch_op:
        batch_op.alter_column('interval_months', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # An unknown interval had no place before: the old default stands in for it.
    op.execute("UPDATE instruments SET interval_months = 12 WHERE interval_months IS NULL")
    with op.batch_alter_table('instruments', schema=None) as batch_op:
        batch_op.alter_column('interval_months', existing_type=sa.Integer(), nullable=False)
