"""Record on each status request whether its requester, then the sole administrator, may decide it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 13:58:04.453316
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('status_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requester_may_decide', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('status_requests', schema=None) as batch_op:
        batch_op.drop_column('requester_may_decide')

