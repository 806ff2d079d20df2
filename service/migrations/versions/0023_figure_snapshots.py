"""The dashboard's history-based figures, kept per organisation and day with the history head they saw.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 20:15:28.897080
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('figure_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('history_seq', sa.Integer(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('computed_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_figure_snapshots_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_figure_snapshots')),
    sa.UniqueConstraint('org_id', 'as_of', name=op.f('uq_figure_snapshots_org_id_as_of'))
    )
    with op.batch_alter_table('figure_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_figure_snapshots_org_id'), ['org_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('figure_snapshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_figure_snapshots_org_id'))

    op.drop_table('figure_snapshots')
