"""comparison projects (provincial comparisons the institute leads) and the correlated En flag

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 14:34:20.559644
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('comparison_projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('quantity', sa.String(length=100), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=True),
    sa.Column('transfer_standard', sa.String(length=200), nullable=False),
    sa.Column('protocol', sa.Text(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('results_due_on', sa.Date(), nullable=False),
    sa.Column('reference_kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('published_by_name', sa.String(length=100), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("reference_kind IN ('lead_lab', 'weighted_mean')", name=op.f('ck_comparison_projects_reference_kind')),
    sa.CheckConstraint("state IN ('open', 'published')", name=op.f('ck_comparison_projects_state')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_comparison_projects_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comparison_projects')),
    sa.UniqueConstraint('org_id', 'id', name=op.f('uq_comparison_projects_org_id_id'))
    )
    with op.batch_alter_table('comparison_projects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comparison_projects_org_id'), ['org_id'], unique=False)

    op.create_table('comparison_project_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('nominal', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('lead_value', sa.Numeric(precision=18, scale=6), nullable=True),
    sa.Column('lead_uncertainty', sa.Numeric(precision=18, scale=6), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id', 'project_id'], ['comparison_projects.org_id', 'comparison_projects.id'], name=op.f('fk_comparison_project_points_org_id_project_id_comparison_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_comparison_project_points_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comparison_project_points')),
    sa.UniqueConstraint('org_id', 'id', name=op.f('uq_comparison_project_points_org_id_id')),
    sa.UniqueConstraint('project_id', 'position', name=op.f('uq_comparison_project_points_project_id_position'))
    )
    with op.batch_alter_table('comparison_project_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comparison_project_points_org_id'), ['org_id'], unique=False)

    op.create_table('comparison_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=True),
    sa.Column('lab_name', sa.String(length=200), nullable=False),
    sa.Column('cnas_no', sa.String(length=40), nullable=True),
    sa.Column('instrument_id', sa.Integer(), nullable=True),
    sa.Column('measured_on', sa.Date(), nullable=True),
    sa.Column('submitted_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('entered_by_name', sa.String(length=100), nullable=True),
    sa.Column('comparison_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['firm_id', 'comparison_id'], ['comparisons.org_id', 'comparisons.id'], name=op.f('fk_comparison_participants_firm_id_comparison_id_comparisons')),
    sa.ForeignKeyConstraint(['firm_id', 'instrument_id'], ['instruments.org_id', 'instruments.id'], name=op.f('fk_comparison_participants_firm_id_instrument_id_instruments')),
    sa.ForeignKeyConstraint(['firm_id'], ['organizations.id'], name=op.f('fk_comparison_participants_firm_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id', 'project_id'], ['comparison_projects.org_id', 'comparison_projects.id'], name=op.f('fk_comparison_participants_org_id_project_id_comparison_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_comparison_participants_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comparison_participants')),
    sa.UniqueConstraint('org_id', 'id', name=op.f('uq_comparison_participants_org_id_id'))
    )
    with op.batch_alter_table('comparison_participants', schema=None) as batch_op:
        batch_op.create_index('ix_comparison_participants_firm_id', ['firm_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comparison_participants_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_comparison_participants_project_id', ['project_id'], unique=False)

    op.create_table('comparison_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('uncertainty', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('is_in_reference', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('uncertainty > 0', name=op.f('ck_comparison_results_uncertainty_positive')),
    sa.ForeignKeyConstraint(['org_id', 'participant_id'], ['comparison_participants.org_id', 'comparison_participants.id'], name=op.f('fk_comparison_results_org_id_participant_id_comparison_participants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id', 'point_id'], ['comparison_project_points.org_id', 'comparison_project_points.id'], name=op.f('fk_comparison_results_org_id_point_id_comparison_project_points'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_comparison_results_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comparison_results')),
    sa.UniqueConstraint('participant_id', 'point_id', name=op.f('uq_comparison_results_participant_id_point_id'))
    )
    with op.batch_alter_table('comparison_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comparison_results_org_id'), ['org_id'], unique=False)

    with op.batch_alter_table('comparison_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_lab_in_reference', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('comparison_points', schema=None) as batch_op:
        batch_op.drop_column('is_lab_in_reference')

    with op.batch_alter_table('comparison_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comparison_results_org_id'))

    op.drop_table('comparison_results')
    with op.batch_alter_table('comparison_participants', schema=None) as batch_op:
        batch_op.drop_index('ix_comparison_participants_project_id')
        batch_op.drop_index(batch_op.f('ix_comparison_participants_org_id'))
        batch_op.drop_index('ix_comparison_participants_firm_id')

    op.drop_table('comparison_participants')
    with op.batch_alter_table('comparison_project_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comparison_project_points_org_id'))

    op.drop_table('comparison_project_points')
    with op.batch_alter_table('comparison_projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comparison_projects_org_id'))

    op.drop_table('comparison_projects')
