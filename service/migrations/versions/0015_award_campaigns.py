"""Award campaigns of an institute: notice, conditions, categories, windows, quotas and phase.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 14:23:46.896232
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('co_organisers', sa.Text(), nullable=True),
    sa.Column('notice_text', sa.Text(), nullable=True),
    sa.Column('conditions', sa.JSON(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('objection_contacts', sa.Text(), nullable=True),
    sa.Column('no_fee_statement', sa.Text(), nullable=True),
    sa.Column('nomination_opens_on', sa.Date(), nullable=False),
    sa.Column('nomination_closes_on', sa.Date(), nullable=False),
    sa.Column('review_opens_on', sa.Date(), nullable=False),
    sa.Column('review_closes_on', sa.Date(), nullable=False),
    sa.Column('notice_days', sa.Integer(), nullable=False),
    sa.Column('notice_in_working_days', sa.Boolean(), nullable=False),
    sa.Column('large_quota', sa.Integer(), nullable=False),
    sa.Column('sme_quota', sa.Integer(), nullable=False),
    sa.Column('phase', sa.String(length=16), nullable=False),
    sa.Column('public_token', sa.String(length=32), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('traceability_advanced', 'industrial_benchmark', 'other')", name=op.f('ck_campaigns_kind')),
    sa.CheckConstraint("phase IN ('draft', 'open', 'review', 'notice', 'decided', 'closed')", name=op.f('ck_campaigns_phase')),
    sa.CheckConstraint('large_quota >= 0 AND sme_quota >= 0', name=op.f('ck_campaigns_quotas')),
    sa.CheckConstraint('nomination_opens_on <= nomination_closes_on', name=op.f('ck_campaigns_nomination_window')),
    sa.CheckConstraint('notice_days BETWEEN 1 AND 30', name=op.f('ck_campaigns_notice_days')),
    sa.CheckConstraint('review_opens_on > nomination_closes_on AND review_opens_on <= review_closes_on', name=op.f('ck_campaigns_review_window')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_campaigns_created_by_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_campaigns_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaigns_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_campaigns_org_id_year', ['org_id', 'year'], unique=False)
        batch_op.create_index('uq_campaigns_public_token', ['public_token'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index('uq_campaigns_public_token')
        batch_op.drop_index('ix_campaigns_org_id_year')
        batch_op.drop_index(batch_op.f('ix_campaigns_org_id'))

    op.drop_table('campaigns')
