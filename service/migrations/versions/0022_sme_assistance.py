"""SME assistance (计量服务中小企业行): the yearly plan per region, assistance records, green-channel flags.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 19:52:25.523908
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assistance_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('smes_to_help', sa.Integer(), nullable=False),
    sa.Column('smes_for_mms_training', sa.Integer(), nullable=False),
    sa.Column('updated_by_name', sa.String(length=100), nullable=True),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('smes_for_mms_training >= 0', name=op.f('ck_assistance_plans_smes_for_mms_training')),
    sa.CheckConstraint('smes_to_help >= 0', name=op.f('ck_assistance_plans_smes_to_help')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_assistance_plans_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assistance_plans')),
    sa.UniqueConstraint('org_id', 'year', 'region_code', name=op.f('uq_assistance_plans_org_id_year_region_code'))
    )
    with op.batch_alter_table('assistance_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assistance_plans_org_id'), ['org_id'], unique=False)

    op.create_table('assistance_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('person', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by_name', sa.String(length=100), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('survey', 'training', 'consultation', 'calibration_service', 'mms_training', 'green_channel')", name=op.f('ck_assistance_records_kind')),
    sa.ForeignKeyConstraint(['firm_id'], ['organizations.id'], name=op.f('fk_assistance_records_firm_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_assistance_records_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assistance_records'))
    )
    with op.batch_alter_table('assistance_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assistance_records_firm_id'), ['firm_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assistance_records_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_assistance_records_org_id_done_on', ['org_id', 'done_on'], unique=False)

    with op.batch_alter_table('service_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_green_channel', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_green_channel', sa.Boolean(), server_default=sa.false(), nullable=False))

def downgrade() -> None:
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_column('is_green_channel')

    with op.batch_alter_table('service_orders', schema=None) as batch_op:
        batch_op.drop_column('is_green_channel')

    with op.batch_alter_table('assistance_records', schema=None) as batch_op:
        batch_op.drop_index('ix_assistance_records_org_id_done_on')
        batch_op.drop_index(batch_op.f('ix_assistance_records_org_id'))
        batch_op.drop_index(batch_op.f('ix_assistance_records_firm_id'))

    op.drop_table('assistance_records')
    with op.batch_alter_table('assistance_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assistance_plans_org_id'))

    op.drop_table('assistance_plans')
