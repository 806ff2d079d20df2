"""The scans a firm uploads with its nomination, and their hashes frozen with the submission.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 16:41:29.574212
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('nomination_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nomination_id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('mime', sa.String(length=40), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by_name', sa.String(length=100), nullable=True),
    sa.Column('uploaded_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('recommendation_form', 'commitment_letter', 'credit_record', 'evidence')", name=op.f('ck_nomination_files_kind')),
    sa.ForeignKeyConstraint(['firm_id', 'nomination_id'], ['nominations.firm_id', 'nominations.id'], name=op.f('fk_nomination_files_firm_id_nomination_id_nominations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nomination_files'))
    )
    with op.batch_alter_table('nomination_files', schema=None) as batch_op:
        batch_op.create_index('ix_nomination_files_nomination_id', ['nomination_id'], unique=False)
        batch_op.create_index('ix_nomination_files_sha256', ['sha256'], unique=False)

    with op.batch_alter_table('nominations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('frozen_files', sa.JSON(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('nominations', schema=None) as batch_op:
        batch_op.drop_column('frozen_files')

    with op.batch_alter_table('nomination_files', schema=None) as batch_op:
        batch_op.drop_index('ix_nomination_files_sha256')
        batch_op.drop_index('ix_nomination_files_nomination_id')

    op.drop_table('nomination_files')
