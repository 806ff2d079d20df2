"""intermediate checks

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 20:52:58.422314
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('nonconformity_cases', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_nonconformity_cases_source'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_nonconformity_cases_source'),
            "source IN ('record', 'manual', 'standard_notice', 'check')",
        )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_kind'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_notifications_kind'),
            "kind IN ('due_digest', 'test', 'sms_ceiling', 'open_cases', 'standard_notice', 'visit', 'order', 'nomination', 'comparison', 'check_signal', 'check_due')",
        )
    op.create_table('check_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('check_object', sa.String(length=200), nullable=False),
    sa.Column('check_instrument_id', sa.Integer(), nullable=True),
    sa.Column('interval_months', sa.Integer(), nullable=True),
    sa.Column('interval_days', sa.Integer(), nullable=True),
    sa.Column('performer_user_id', sa.Integer(), nullable=True),
    sa.Column('baseline_mode', sa.String(length=8), nullable=False),
    sa.Column('baseline_n', sa.Integer(), nullable=False),
    sa.Column('baseline_fixed_on', sa.Date(), nullable=True),
    sa.Column('next_due_on', sa.Date(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("baseline_mode IN ('first_n', 'entered')", name=op.f('ck_check_plans_baseline_mode')),
    sa.CheckConstraint('(interval_months IS NOT NULL AND interval_months > 0 AND interval_days IS NULL) OR (interval_days IS NOT NULL AND interval_days > 0 AND interval_months IS NULL)', name=op.f('ck_check_plans_one_interval')),
    sa.CheckConstraint('baseline_n >= 10', name=op.f('ck_check_plans_baseline_n')),
    sa.ForeignKeyConstraint(['org_id', 'check_instrument_id'], ['instruments.org_id', 'instruments.id'], name=op.f('fk_check_plans_org_id_check_instrument_id_instruments')),
    sa.ForeignKeyConstraint(['org_id', 'instrument_id'], ['instruments.org_id', 'instruments.id'], name=op.f('fk_check_plans_org_id_instrument_id_instruments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id', 'performer_user_id'], ['users.org_id', 'users.id'], name=op.f('fk_check_plans_org_id_performer_user_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_check_plans_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_plans')),
    sa.UniqueConstraint('org_id', 'id', name=op.f('uq_check_plans_org_id_id'))
    )
    with op.batch_alter_table('check_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_plans_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_check_plans_org_id_instrument_id', ['org_id', 'instrument_id'], unique=False)

    op.create_table('check_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('nominal', sa.Float(), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=True),
    sa.Column('mpe', sa.Float(), nullable=True),
    sa.Column('centre', sa.Float(), nullable=True),
    sa.Column('sigma', sa.Float(), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('mpe IS NULL OR mpe > 0', name=op.f('ck_check_points_mpe')),
    sa.CheckConstraint('sigma IS NULL OR sigma > 0', name=op.f('ck_check_points_sigma')),
    sa.ForeignKeyConstraint(['org_id', 'plan_id'], ['check_plans.org_id', 'check_plans.id'], name=op.f('fk_check_points_org_id_plan_id_check_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_check_points_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_points')),
    sa.UniqueConstraint('org_id', 'id', name=op.f('uq_check_points_org_id_id'))
    )
    with op.batch_alter_table('check_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_points_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_check_points_plan_id'), ['plan_id'], unique=False)

    op.create_table('check_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('performed_on', sa.Date(), nullable=False),
    sa.Column('performed_by_id', sa.Integer(), nullable=True),
    sa.Column('performed_by_name', sa.String(length=100), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id', 'plan_id'], ['check_plans.org_id', 'check_plans.id'], name=op.f('fk_check_records_org_id_plan_id_check_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_check_records_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['performed_by_id'], ['users.id'], name=op.f('fk_check_records_performed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_records')),
    sa.UniqueConstraint('org_id', 'id', name=op.f('uq_check_records_org_id_id'))
    )
    with op.batch_alter_table('check_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_records_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_check_records_org_id_plan_id', ['org_id', 'plan_id', 'performed_on'], unique=False)

    op.create_table('check_readings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('reference', sa.Float(), nullable=False),
    sa.Column('deviation', sa.Float(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id', 'point_id'], ['check_points.org_id', 'check_points.id'], name=op.f('fk_check_readings_org_id_point_id_check_points'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id', 'record_id'], ['check_records.org_id', 'check_records.id'], name=op.f('fk_check_readings_org_id_record_id_check_records'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_check_readings_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_readings')),
    sa.UniqueConstraint('org_id', 'id', name=op.f('uq_check_readings_org_id_id')),
    sa.UniqueConstraint('record_id', 'point_id', name=op.f('uq_check_readings_record_id_point_id'))
    )
    with op.batch_alter_table('check_readings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_readings_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_check_readings_point_id'), ['point_id'], unique=False)



def downgrade() -> None:
    op.execute("UPDATE nonconformity_cases SET source = 'manual' WHERE source = 'check'")
    with op.batch_alter_table('nonconformity_cases', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_nonconformity_cases_source'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_nonconformity_cases_source'),
            "source IN ('record', 'manual', 'standard_notice')",
        )
    op.execute("DELETE FROM notifications WHERE kind IN ('check_signal', 'check_due')")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_kind'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_notifications_kind'),
            "kind IN ('due_digest', 'test', 'sms_ceiling', 'open_cases', 'standard_notice', 'visit', 'order', 'nomination', 'comparison')",
        )
    with op.batch_alter_table('check_readings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_readings_point_id'))
        batch_op.drop_index(batch_op.f('ix_check_readings_org_id'))

    op.drop_table('check_readings')
    with op.batch_alter_table('check_records', schema=None) as batch_op:
        batch_op.drop_index('ix_check_records_org_id_plan_id')
        batch_op.drop_index(batch_op.f('ix_check_records_org_id'))

    op.drop_table('check_records')
    with op.batch_alter_table('check_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_points_plan_id'))
        batch_op.drop_index(batch_op.f('ix_check_points_org_id'))

    op.drop_table('check_points')
    with op.batch_alter_table('check_plans', schema=None) as batch_op:
        batch_op.drop_index('ix_check_plans_org_id_instrument_id')
        batch_op.drop_index(batch_op.f('ix_check_plans_org_id'))

    op.drop_table('check_plans')
