"""Every unique constraint of a tenant table includes org_id (shared tables: firm_id).

The rule tests/unit/test_schema_rules.py keeps. Each of these constraints named a parent row whose
composite foreign key already ties it to the same firm, so adding the firm changes nothing they
accept; it lets the tables be distributed by firm (docs/scaling.md), where a unique constraint must
include the distribution column.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04 17:56:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0031'
# Written while 0030 was being written elsewhere: re-chain to '0030' when both are merged.
down_revision = '0030'
branch_labels = None
depends_on = None

#: (table, old columns, new columns)
WIDENED = [
    ('awards', ['campaign_id', 'nomination_id'], ['org_id', 'campaign_id', 'nomination_id']),
    ('check_readings', ['record_id', 'point_id'], ['org_id', 'record_id', 'point_id']),
    ('comparison_project_points', ['project_id', 'position'], ['org_id', 'project_id', 'position']),
    ('comparison_results', ['participant_id', 'point_id'], ['org_id', 'participant_id', 'point_id']),
    ('notifications', ['idempotency_key'], ['org_id', 'idempotency_key']),
    ('recommendation_lists', ['campaign_id', 'recommender_id'], ['org_id', 'campaign_id', 'recommender_id']),
    ('recommender_members', ['recommender_id', 'user_id'], ['org_id', 'recommender_id', 'user_id']),
    ('review_assignments', ['nomination_id', 'reviewer_id'], ['org_id', 'nomination_id', 'reviewer_id']),
    ('technician_days_off', ['technician_id', 'day'], ['org_id', 'technician_id', 'day']),
    # Shared by an institute and a firm: the firm's side, their distribution column.
    ('service_order_items', ['order_id', 'instrument_id'], ['firm_id', 'order_id', 'instrument_id']),
    ('visit_items', ['visit_id', 'instrument_id'], ['firm_id', 'visit_id', 'instrument_id']),
]
PENDING = sa.text("state = 'pending'")


def _name(table: str, columns: list[str]) -> str:
    return f"uq_{table}_{'_'.join(columns)}"


def _swap(table: str, old: list[str], new: list[str]) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(_name(table, old), type_='unique')
        batch_op.create_unique_constraint(_name(table, new), new)


def _pending_request_index(columns: list[str]) -> None:
    with op.batch_alter_table('status_requests', schema=None) as batch_op:
        batch_op.drop_index('uq_status_requests_pending_instrument')
        batch_op.create_index(
            'uq_status_requests_pending_instrument',
            columns,
            unique=True,
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        )


def upgrade() -> None:
    for table, old, new in WIDENED:
        _swap(table, old, new)
    _pending_request_index(['org_id', 'instrument_id'])


def downgrade() -> None:
    _pending_request_index(['instrument_id'])
    for table, old, new in reversed(WIDENED):
        _swap(table, new, old)
