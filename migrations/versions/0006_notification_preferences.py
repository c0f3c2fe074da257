"""notification preferences per kind, the daily digest

Revision ID: 0006
Revises: 0005
Created: 2026-12-01 20:20:00

Each person chooses per kind of notice how it reaches them (in the app only, e-mail at
once, or a daily digest) and the local hour of their digest. Notices waiting for a digest
are marked on the notification itself, so a release still writes them in one statement.
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        'notification_preferences',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('delivery', sa.String(length=10), nullable=False),
        sa.CheckConstraint("delivery IN ('app', 'email', 'digest')",
                           name=op.f('ck_notification_preferences_delivery')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE',
                                name=op.f('fk_notification_preferences_user_id_users')),
        sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_notification_preferences')),
    )
    op.create_table(
        'digest_settings',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('hour', sa.SmallInteger(), nullable=False),
        sa.CheckConstraint('hour BETWEEN 0 AND 23', name=op.f('ck_digest_settings_hour')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE',
                                name=op.f('fk_digest_settings_user_id_users')),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_digest_settings')),
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest_pending', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.create_index(batch_op.f('ix_notifications_digest_pending'),
                              ['digest_pending'], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_digest_pending'))
        batch_op.drop_column('digest_pending')
    op.drop_table('digest_settings')
    op.drop_table('notification_preferences')
