"""An instrument's conclusion may be ``pending``: its newest calibration awaits the metrological confirmation.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 17:40:00.000000
"""

from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('instruments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_instruments_conclusion'), type_='check')
        batch_op.create_check_constraint('conclusion', "conclusion IN ('pass', 'limited', 'fail', 'pending')")


def downgrade() -> None:
    # Before, an unconfirmed calibration left no conclusion.
    op.execute("UPDATE instruments SET conclusion = NULL WHERE conclusion = 'pending'")
    with op.batch_alter_table('instruments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_instruments_conclusion'), type_='check')
        batch_op.create_check_constraint('conclusion', "conclusion IN ('pass', 'limited', 'fail')")
