"""Ledger imports as background jobs: the upload, its progress and its report.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 15:20:17.392560
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ledger_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('sheet', sa.String(length=100), nullable=True),
    sa.Column('header_row', sa.Integer(), nullable=True),
    sa.Column('mapping', sa.JSON(), nullable=True),
    sa.Column('phase', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_until', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_data', sa.Integer(), nullable=False),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('rows_validated', sa.Integer(), nullable=False),
    sa.Column('rows_written', sa.Integer(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=True),
    sa.Column('error', sa.JSON(), nullable=True),
    sa.Column('finished_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('imported_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id', 'created_by_id'], ['users.org_id', 'users.id'], name=op.f('fk_ledger_imports_org_id_created_by_id_users')),
    sa.ForeignKeyConstraint(['org_id', 'confirmed_by_id'], ['users.org_id', 'users.id'], name=op.f('fk_ledger_imports_org_id_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_ledger_imports_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_imports')),
    sa.UniqueConstraint('org_id', 'id', name=op.f('uq_ledger_imports_org_id_id'))
    )
    with op.batch_alter_table('ledger_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_imports_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_ledger_imports_state_lease', ['state', 'lease_until'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ledger_imports', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_imports_state_lease')
        batch_op.drop_index(batch_op.f('ix_ledger_imports_org_id'))

    op.drop_table('ledger_imports')
