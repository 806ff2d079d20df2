"""Firms' nominations in campaigns, frozen when submitted; campaigns get the key they are referred by.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 15:06:27.697836
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nominations refer to (institute, campaign): the key comes first.
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_campaigns_org_id_id'), ['org_id', 'id'])

    op.create_table('nominations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('recommender_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('unit_name', sa.String(length=200), nullable=True),
    sa.Column('credit_code', sa.String(length=18), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('employees', sa.Integer(), nullable=True),
    sa.Column('annual_revenue_wan', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('industry', sa.String(length=100), nullable=True),
    sa.Column('contact_name', sa.String(length=100), nullable=True),
    sa.Column('contact_mobile', sa.String(length=20), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('narratives', sa.JSON(), nullable=False),
    sa.Column('declarations', sa.JSON(), nullable=False),
    sa.Column('self_check', sa.JSON(), nullable=False),
    sa.Column('frozen_dossier', sa.JSON(), nullable=True),
    sa.Column('frozen_prefill', sa.JSON(), nullable=True),
    sa.Column('frozen_head_hash', sa.String(length=64), nullable=True),
    sa.Column('submitted_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_name', sa.String(length=100), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('institute_id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("state IN ('draft', 'submitted')", name=op.f('ck_nominations_state')),
    sa.ForeignKeyConstraint(['firm_id'], ['organizations.id'], name=op.f('fk_nominations_firm_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['institute_id', 'campaign_id'], ['campaigns.org_id', 'campaigns.id'], name=op.f('fk_nominations_institute_id_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['institute_id', 'recommender_id'], ['recommenders.org_id', 'recommenders.id'], name=op.f('fk_nominations_institute_id_recommender_id_recommenders')),
    sa.ForeignKeyConstraint(['institute_id'], ['organizations.id'], name=op.f('fk_nominations_institute_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nominations')),
    sa.UniqueConstraint('campaign_id', 'firm_id', name=op.f('uq_nominations_campaign_id_firm_id')),
    sa.UniqueConstraint('firm_id', 'id', name=op.f('uq_nominations_firm_id_id')),
    sa.UniqueConstraint('institute_id', 'id', name=op.f('uq_nominations_institute_id_id'))
    )
    with op.batch_alter_table('nominations', schema=None) as batch_op:
        batch_op.create_index('ix_nominations_firm_id', ['firm_id'], unique=False)
        batch_op.create_index('ix_nominations_institute_id_campaign_id', ['institute_id', 'campaign_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('nominations', schema=None) as batch_op:
        batch_op.drop_index('ix_nominations_institute_id_campaign_id')
        batch_op.drop_index('ix_nominations_firm_id')

    op.drop_table('nominations')

    # Last: the nominations' foreign key depended on it.
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_campaigns_org_id_id'), type_='unique')
