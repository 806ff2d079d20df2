"""stability and repeatability

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 20:52:00.207348
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('repeatability_tests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('performed_on', sa.Date(), nullable=False),
    sa.Column('quantity', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.Column('readings', sa.JSON(), nullable=False),
    sa.Column('claimed', sa.String(length=48), nullable=False),
    sa.Column('conditions', sa.Text(), nullable=True),
    sa.Column('performed_by_name', sa.String(length=100), nullable=False),
    sa.Column('mean', sa.String(length=48), nullable=False),
    sa.Column('s', sa.String(length=48), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_repeatability_tests_created_by_id_users')),
    sa.ForeignKeyConstraint(['org_id', 'instrument_id'], ['instruments.org_id', 'instruments.id'], name=op.f('fk_repeatability_tests_org_id_instrument_id_instruments')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_repeatability_tests_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repeatability_tests')),
    sa.UniqueConstraint('org_id', 'id', name=op.f('uq_repeatability_tests_org_id_id'))
    )
    with op.batch_alter_table('repeatability_tests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repeatability_tests_instrument_id'), ['instrument_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_repeatability_tests_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_repeatability_tests_org_id_performed_on', ['org_id', 'performed_on'], unique=False)

    op.create_table('stability_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('check_object', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.Column('allowed', sa.String(length=48), nullable=False),
    sa.Column('allowed_basis', sa.String(length=24), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('stability', sa.String(length=48), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('warnings', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by_name', sa.String(length=100), nullable=False),
    sa.Column('closed_by_name', sa.String(length=100), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("allowed_basis IN ('mpe', 'expanded_uncertainty')", name=op.f('ck_stability_assessments_allowed_basis')),
    sa.CheckConstraint("state = 'open' OR closed_on IS NOT NULL", name=op.f('ck_stability_assessments_closed_on')),
    sa.CheckConstraint("state IN ('open', 'closed')", name=op.f('ck_stability_assessments_state')),
    sa.ForeignKeyConstraint(['org_id', 'instrument_id'], ['instruments.org_id', 'instruments.id'], name=op.f('fk_stability_assessments_org_id_instrument_id_instruments')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_stability_assessments_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stability_assessments')),
    sa.UniqueConstraint('org_id', 'id', name=op.f('uq_stability_assessments_org_id_id'))
    )
    with op.batch_alter_table('stability_assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stability_assessments_instrument_id'), ['instrument_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stability_assessments_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_stability_assessments_org_id_started_on', ['org_id', 'started_on'], unique=False)

    op.create_table('stability_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('measured_on', sa.Date(), nullable=False),
    sa.Column('readings', sa.JSON(), nullable=False),
    sa.Column('mean', sa.String(length=48), nullable=False),
    sa.Column('recorded_by_name', sa.String(length=100), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id', 'assessment_id'], ['stability_assessments.org_id', 'stability_assessments.id'], name=op.f('fk_stability_groups_org_id_assessment_id_stability_assessments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_stability_groups_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stability_groups')),
    sa.UniqueConstraint('org_id', 'id', name=op.f('uq_stability_groups_org_id_id'))
    )
    with op.batch_alter_table('stability_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stability_groups_assessment_id'), ['assessment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stability_groups_org_id'), ['org_id'], unique=False)

    # ### end Alembic commands ###


def downgrade() -> None:
    with op.batch_alter_table('stability_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stability_groups_org_id'))
        batch_op.drop_index(batch_op.f('ix_stability_groups_assessment_id'))

    op.drop_table('stability_groups')
    with op.batch_alter_table('stability_assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_stability_assessments_org_id_started_on')
        batch_op.drop_index(batch_op.f('ix_stability_assessments_org_id'))
        batch_op.drop_index(batch_op.f('ix_stability_assessments_instrument_id'))

    op.drop_table('stability_assessments')
    with op.batch_alter_table('repeatability_tests', schema=None) as batch_op:
        batch_op.drop_index('ix_repeatability_tests_org_id_performed_on')
        batch_op.drop_index(batch_op.f('ix_repeatability_tests_org_id'))
        batch_op.drop_index(batch_op.f('ix_repeatability_tests_instrument_id'))

    op.drop_table('repeatability_tests')
    # ### end Alembic commands ###
