"""Widen the due-date index with status and conclusion: dashboard counts and the calendar become index-only.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 13:45:18.039741
"""

from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('instruments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instruments_org_id_next_due_on_id'))
        batch_op.create_index('ix_instruments_org_id_next_due_on_id', ['org_id', 'next_due_on', 'id', 'status', 'conclusion'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('instruments', schema=None) as batch_op:
        batch_op.drop_index('ix_instruments_org_id_next_due_on_id')
        batch_op.create_index(batch_op.f('ix_instruments_org_id_next_due_on_id'), ['org_id', 'next_due_on', 'id'], unique=False)

