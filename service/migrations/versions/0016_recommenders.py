"""Recommenders of an institute (its departments and industry alliances) and their members.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 14:51:03.645109
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('recommenders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('contact', sa.String(length=200), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('department', 'alliance')", name=op.f('ck_recommenders_kind')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_recommenders_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommenders')),
    sa.UniqueConstraint('org_id', 'id', name=op.f('uq_recommenders_org_id_id')),
    sa.UniqueConstraint('org_id', 'name', name=op.f('uq_recommenders_org_id_name'))
    )
    with op.batch_alter_table('recommenders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recommenders_org_id'), ['org_id'], unique=False)

    op.create_table('recommender_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recommender_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id', 'recommender_id'], ['recommenders.org_id', 'recommenders.id'], name=op.f('fk_recommender_members_org_id_recommender_id_recommenders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id', 'user_id'], ['users.org_id', 'users.id'], name=op.f('fk_recommender_members_org_id_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_recommender_members_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommender_members')),
    sa.UniqueConstraint('recommender_id', 'user_id', name=op.f('uq_recommender_members_recommender_id_user_id'))
    )
    with op.batch_alter_table('recommender_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recommender_members_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recommender_members_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('recommender_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recommender_members_user_id'))
        batch_op.drop_index(batch_op.f('ix_recommender_members_org_id'))

    op.drop_table('recommender_members')
    with op.batch_alter_table('recommenders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recommenders_org_id'))

    op.drop_table('recommenders')
