"""row-level security on every tenant table (PostgreSQL only; nothing on SQLite)

The policies and why they are what they are: service/rls.py. A table added later gets its policy
by one line in its own migration: ``rls.protect_tenant_table(op.get_bind(), "new_table")``; a
test (tests/integration/test_row_level_security.py) fails for a tenant table without one.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-04 18:00:00
"""

from alembic import op

from service import rls

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None

#: Tables with an org_id, as of this revision (frozen: later tables are protected by their own migration).
TENANT_TABLES = (
    'assistance_plans', 'assistance_records', 'attachments', 'awards', 'calibration_records',
    'campaigns', 'certificate_sequences', 'check_plans', 'check_points', 'check_readings',
    'check_records', 'comparison_participants', 'comparison_points', 'comparison_project_points',
    'comparison_projects', 'comparison_results', 'comparisons', 'departments', 'events',
    'figure_snapshots', 'history_heads', 'instruments', 'ledger_exports', 'ledger_imports',
    'nonconformity_cases', 'objections',
    'recommendation_lists', 'recommender_members', 'recommenders', 'record_readings',
    'record_standards', 'reminder_policies', 'reminder_runs', 'repeatability_tests',
    'review_assignments', 'sms_usage', 'stability_assessments', 'stability_groups',
    'status_requests', 'technician_days_off', 'technicians',
)
#: Tenant tables of accounts, secrets and messages: the institute never reads its clients' ones.
PRIVATE_TENANT_TABLES = (
    'users', 'api_tokens', 'invitations', 'password_resets', 'sign_in_attempts', 'notifications',
    'notification_items',
)
#: Tables an institute and a firm share, with both ids on every row.
SHARED_TABLES = (
    'client_links', 'nominations', 'service_orders', 'service_order_items', 'visits', 'visit_items',
)
#: Tables with the firm's id only, children of a shared row: (table, parent, parent key).
FIRM_CHILD_TABLES = (
    ('nomination_files', 'nominations', 'nomination_id'),
    ('service_order_steps', 'service_orders', 'order_id'),
)


def upgrade() -> None:
    bind = op.get_bind()
    rls.create_functions(bind)
    for table in TENANT_TABLES:
        rls.protect_tenant_table(bind, table)
    for table in PRIVATE_TENANT_TABLES:
        rls.protect_tenant_table(bind, table, clients_read=False)
    for table in SHARED_TABLES:
        rls.protect_shared_table(bind, table)
    for table, parent, key in FIRM_CHILD_TABLES:
        rls.protect_firm_child_table(bind, table, parent, key)


def downgrade() -> None:
    bind = op.get_bind()
    tables = TENANT_TABLES + PRIVATE_TENANT_TABLES + SHARED_TABLES + tuple(t for t, _p, _k in FIRM_CHILD_TABLES)
    for table in tables:
        rls.unprotect(bind, table)
    if bind.dialect.name == 'postgresql':
        for statement in rls.DROP_FUNCTIONS:
            op.execute(statement)
