"""Reviewers assigned to the nominations that went forward, with their scores per category.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 17:26:03.354269
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('review_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('nomination_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('comments', sa.JSON(), nullable=False),
    sa.Column('opinion', sa.Text(), nullable=True),
    sa.Column('assigned_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('assigned_by_name', sa.String(length=100), nullable=True),
    sa.Column('submitted_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id', 'campaign_id'], ['campaigns.org_id', 'campaigns.id'], name=op.f('fk_review_assignments_org_id_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id', 'nomination_id'], ['nominations.institute_id', 'nominations.id'], name=op.f('fk_review_assignments_org_id_nomination_id_nominations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id', 'reviewer_id'], ['users.org_id', 'users.id'], name=op.f('fk_review_assignments_org_id_reviewer_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_review_assignments_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_assignments')),
    sa.UniqueConstraint('nomination_id', 'reviewer_id', name=op.f('uq_review_assignments_nomination_id_reviewer_id'))
    )
    with op.batch_alter_table('review_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_assignments_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_review_assignments_org_id_campaign_id', ['org_id', 'campaign_id'], unique=False)
        batch_op.create_index('ix_review_assignments_reviewer_id', ['reviewer_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('review_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_review_assignments_reviewer_id')
        batch_op.drop_index('ix_review_assignments_org_id_campaign_id')
        batch_op.drop_index(batch_op.f('ix_review_assignments_org_id'))

    op.drop_table('review_assignments')
