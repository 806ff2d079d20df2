"""Reminders: the firm's policy, the notifications outbox, planning and SMS bookkeeping, user channels.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 17:17:00.890559
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sms_opt_outs',
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('phone', name=op.f('pk_sms_opt_outs'))
    )
    op.create_table('reminder_policies',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('offsets_days', sa.JSON(), nullable=False),
    sa.Column('mandatory_offsets_days', sa.JSON(), nullable=True),
    sa.Column('overdue_every_days', sa.Integer(), nullable=False),
    sa.Column('escalate_from', sa.Integer(), nullable=False),
    sa.Column('to_custodian', sa.Boolean(), nullable=False),
    sa.Column('to_metrology', sa.Boolean(), nullable=False),
    sa.Column('to_department_head', sa.Boolean(), nullable=False),
    sa.Column('window_start', sa.Time(), nullable=False),
    sa.Column('window_end', sa.Time(), nullable=False),
    sa.Column('working_days_only', sa.Boolean(), nullable=False),
    sa.Column('sms_daily_limit', sa.Integer(), nullable=False),
    sa.Column('wecom_url', sa.String(length=500), nullable=True),
    sa.Column('dingtalk_url', sa.String(length=500), nullable=True),
    sa.Column('dingtalk_secret', sa.String(length=200), nullable=True),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('escalate_from >= 0', name=op.f('ck_reminder_policies_escalate_from')),
    sa.CheckConstraint('overdue_every_days >= 0', name=op.f('ck_reminder_policies_overdue_every_days')),
    sa.CheckConstraint('sms_daily_limit >= 0', name=op.f('ck_reminder_policies_sms_daily_limit')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_reminder_policies_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_reminder_policies'))
    )
    op.create_table('reminder_runs',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('planned_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('instruments', sa.Integer(), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_reminder_runs_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'local_day', name=op.f('pk_reminder_runs'))
    )
    op.create_table('sms_usage',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_sms_usage_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'local_day', name=op.f('pk_sms_usage'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('recipient_user_id', sa.Integer(), nullable=True),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('not_before', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lease_until', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('quota_day', sa.Date(), nullable=True),
    sa.Column('is_ceiling_exempt', sa.Boolean(), nullable=False),
    sa.Column('provider_id', sa.String(length=100), nullable=True),
    sa.Column('provider_status', sa.String(length=24), nullable=True),
    sa.Column('error_code', sa.String(length=16), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('first_attempt_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("channel IN ('sms', 'email', 'in_app', 'wecom', 'dingtalk')", name=op.f('ck_notifications_channel')),
    sa.CheckConstraint("kind IN ('due_digest', 'test', 'sms_ceiling')", name=op.f('ck_notifications_kind')),
    sa.CheckConstraint("state IN ('pending', 'sending', 'unknown', 'sent', 'delivered', 'undelivered', 'failed', 'dead', 'held', 'skipped')", name=op.f('ck_notifications_state')),
    sa.ForeignKeyConstraint(['org_id', 'recipient_user_id'], ['users.org_id', 'users.id'], name=op.f('fk_notifications_org_id_recipient_user_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_notifications_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_notifications_idempotency_key'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_claimable', ['not_before', 'id'], unique=False, postgresql_where=sa.text("state IN ('pending', 'sending', 'unknown')"), sqlite_where=sa.text("state IN ('pending', 'sending', 'unknown')"))
        batch_op.create_index(batch_op.f('ix_notifications_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_notifications_org_id_id', ['org_id', 'id'], unique=False)
        batch_op.create_index('ix_notifications_org_id_recipient', ['org_id', 'recipient_user_id', 'channel', 'id'], unique=False)
        batch_op.create_index('ix_notifications_provider_id', ['provider_id'], unique=False)

    op.create_table('notification_items',
    sa.Column('notification_id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=8), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_notification_items_notification_id_notifications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id', 'instrument_id'], ['instruments.org_id', 'instruments.id'], name=op.f('fk_notification_items_org_id_instrument_id_instruments')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_notification_items_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('notification_id', 'instrument_id', name=op.f('pk_notification_items'))
    )
    with op.batch_alter_table('notification_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_items_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_notification_items_org_id_instrument', ['org_id', 'instrument_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_sms', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('notify_email', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('notify_in_app', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('calendar_token_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_users_calendar_token_hash'), ['calendar_token_hash'])



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_calendar_token_hash'), type_='unique')
        batch_op.drop_column('calendar_token_hash')
        batch_op.drop_column('notify_in_app')
        batch_op.drop_column('notify_email')
        batch_op.drop_column('notify_sms')

    with op.batch_alter_table('notification_items', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_items_org_id_instrument')
        batch_op.drop_index(batch_op.f('ix_notification_items_org_id'))

    op.drop_table('notification_items')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_provider_id')
        batch_op.drop_index('ix_notifications_org_id_recipient')
        batch_op.drop_index('ix_notifications_org_id_id')
        batch_op.drop_index(batch_op.f('ix_notifications_org_id'))
        batch_op.drop_index('ix_notifications_claimable', postgresql_where=sa.text("state IN ('pending', 'sending', 'unknown')"), sqlite_where=sa.text("state IN ('pending', 'sending', 'unknown')"))

    op.drop_table('notifications')
    op.drop_table('sms_usage')
    op.drop_table('reminder_runs')
    op.drop_table('reminder_policies')
    op.drop_table('sms_opt_outs')
