"""comparisons and proficiency tests

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 20:54:21.044897
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('comparisons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('scheme', sa.String(length=200), nullable=False),
    sa.Column('organiser_kind', sa.String(length=16), nullable=False),
    sa.Column('organiser_name', sa.String(length=200), nullable=True),
    sa.Column('quantity', sa.String(length=100), nullable=True),
    sa.Column('performed_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_name', sa.String(length=100), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('comparison', 'proficiency')", name=op.f('ck_comparisons_kind')),
    sa.CheckConstraint("organiser_kind IN ('national', 'provincial', 'cnas_pt', 'other')", name=op.f('ck_comparisons_organiser_kind')),
    sa.ForeignKeyConstraint(['org_id', 'case_id'], ['nonconformity_cases.org_id', 'nonconformity_cases.id'], name=op.f('fk_comparisons_org_id_case_id_nonconformity_cases')),
    sa.ForeignKeyConstraint(['org_id', 'instrument_id'], ['instruments.org_id', 'instruments.id'], name=op.f('fk_comparisons_org_id_instrument_id_instruments')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_comparisons_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_comparisons_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comparisons')),
    sa.UniqueConstraint('org_id', 'id', name=op.f('uq_comparisons_org_id_id'))
    )
    with op.batch_alter_table('comparisons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comparisons_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_comparisons_org_id_instrument_id', ['org_id', 'instrument_id', 'performed_on'], unique=False)

    op.create_table('comparison_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comparison_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('nominal', sa.Numeric(precision=18, scale=6), nullable=True),
    sa.Column('reference_value', sa.Numeric(precision=18, scale=6), nullable=True),
    sa.Column('reference_uncertainty', sa.Numeric(precision=18, scale=6), nullable=True),
    sa.Column('lab_value', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('lab_uncertainty', sa.Numeric(precision=18, scale=6), nullable=True),
    sa.Column('assigned_value', sa.Numeric(precision=18, scale=6), nullable=True),
    sa.Column('sd_pt', sa.Numeric(precision=18, scale=6), nullable=True),
    sa.Column('score', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("verdict IN ('satisfactory', 'questionable', 'unsatisfactory')", name=op.f('ck_comparison_points_verdict')),
    sa.ForeignKeyConstraint(['org_id', 'comparison_id'], ['comparisons.org_id', 'comparisons.id'], name=op.f('fk_comparison_points_org_id_comparison_id_comparisons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_comparison_points_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comparison_points'))
    )
    with op.batch_alter_table('comparison_points', schema=None) as batch_op:
        batch_op.create_index('ix_comparison_points_comparison_id', ['comparison_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comparison_points_org_id'), ['org_id'], unique=False)

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_kind'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_notifications_kind'),
            "kind IN ('due_digest', 'test', 'sms_ceiling', 'open_cases', 'standard_notice', 'visit', 'order', "
            "'nomination', 'comparison')",
        )



def downgrade() -> None:
    # The narrower check would refuse the comparison notices that exist.
    op.execute("DELETE FROM notifications WHERE kind = 'comparison'")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_kind'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_notifications_kind'),
            "kind IN ('due_digest', 'test', 'sms_ceiling', 'open_cases', 'standard_notice', 'visit', 'order', "
            "'nomination')",
        )

    with op.batch_alter_table('comparison_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comparison_points_org_id'))
        batch_op.drop_index('ix_comparison_points_comparison_id')

    op.drop_table('comparison_points')
    with op.batch_alter_table('comparisons', schema=None) as batch_op:
        batch_op.drop_index('ix_comparisons_org_id_instrument_id')
        batch_op.drop_index(batch_op.f('ix_comparisons_org_id'))

    op.drop_table('comparisons')
