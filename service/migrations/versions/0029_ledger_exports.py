"""Ledger exports as background jobs: the filters, the progress and the finished file.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 14:45:00
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ledger_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_until', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_written', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=True),
    sa.Column('error', sa.JSON(), nullable=True),
    sa.Column('finished_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id', 'created_by_id'], ['users.org_id', 'users.id'], name=op.f('fk_ledger_exports_org_id_created_by_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_ledger_exports_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_exports')),
    sa.UniqueConstraint('org_id', 'id', name=op.f('uq_ledger_exports_org_id_id'))
    )
    with op.batch_alter_table('ledger_exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_exports_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_ledger_exports_state_lease', ['state', 'lease_until'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ledger_exports', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_exports_state_lease')
        batch_op.drop_index(batch_op.f('ix_ledger_exports_org_id'))

    op.drop_table('ledger_exports')
