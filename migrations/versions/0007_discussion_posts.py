"""discussion posts, moderation and reveals

Revision ID: 0007
Revises: 0006
Created: 2026-12-01 22:10:20

Posts in threads (reflections, replies, syntheses) with their revisions, reactions and
flags; each person's place in a thread (post first, pseudonym, replies given, last seen);
drafts; mutes; break-glass reveal requests. Threads gain their stage state and lock;
cohorts gain the number of flags that hides a post.
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table('cohort_mutes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_cohort_mutes_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_cohort_mutes_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_cohort_mutes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_mutes')),
    sa.UniqueConstraint('cohort_id', 'user_id', name=op.f('uq_cohort_mutes_cohort_id_user_id'))
    )
    op.create_table('post_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], name=op.f('fk_post_drafts_thread_id_threads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_post_drafts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_drafts')),
    sa.UniqueConstraint('thread_id', 'user_id', 'parent_id', name=op.f('uq_post_drafts_thread_id_user_id_parent_id'))
    )
    op.create_table('posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('anonymity', sa.String(length=16), nullable=False),
    sa.Column('pseudonym', sa.String(length=64), nullable=False),
    sa.Column('by_staff', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden_reason', sa.String(length=500), nullable=False),
    sa.Column('hidden_by_id', sa.Integer(), nullable=True),
    sa.Column('flag_count', sa.Integer(), nullable=False),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('highlighted', sa.Boolean(), nullable=False),
    sa.Column('insightful_count', sa.Integer(), nullable=False),
    sa.Column('thanks_count', sa.Integer(), nullable=False),
    sa.CheckConstraint("anonymity IN ('off', 'peers', 'everyone')", name=op.f('ck_posts_anonymity')),
    sa.CheckConstraint("kind IN ('reflection', 'reply', 'synthesis')", name=op.f('ck_posts_kind')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_posts_author_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_posts_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['hidden_by_id'], ['users.id'], name=op.f('fk_posts_hidden_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['parent_id'], ['posts.id'], name=op.f('fk_posts_parent_id_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], name=op.f('fk_posts_thread_id_threads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_posts'))
    )
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.create_index('ix_posts_author_id', ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_posts_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index('ix_posts_parent_id', ['parent_id'], unique=False)
        batch_op.create_index('ix_posts_thread_id_id', ['thread_id', 'id'], unique=False)

    op.create_table('thread_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replies_given', sa.Integer(), nullable=False),
    sa.Column('pseudonym', sa.String(length=64), nullable=True),
    sa.Column('last_seen_post_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], name=op.f('fk_thread_participants_thread_id_threads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_thread_participants_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_thread_participants')),
    sa.UniqueConstraint('thread_id', 'pseudonym', name=op.f('uq_thread_participants_thread_id_pseudonym')),
    sa.UniqueConstraint('thread_id', 'user_id', name=op.f('uq_thread_participants_thread_id_user_id'))
    )
    with op.batch_alter_table('thread_participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_thread_participants_user_id'), ['user_id'], unique=False)

    op.create_table('post_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_post_flags_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_flags_post_id_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_post_flags_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_flags')),
    sa.UniqueConstraint('post_id', 'user_id', name=op.f('uq_post_flags_post_id_user_id'))
    )
    with op.batch_alter_table('post_flags', schema=None) as batch_op:
        batch_op.create_index('ix_post_flags_cohort_open', ['cohort_id', 'resolved_at'], unique=False)

    op.create_table('post_reactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('insightful', 'thanks')", name=op.f('ck_post_reactions_kind')),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_reactions_post_id_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_post_reactions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_reactions')),
    sa.UniqueConstraint('post_id', 'user_id', 'kind', name=op.f('uq_post_reactions_post_id_user_id_kind'))
    )
    with op.batch_alter_table('post_reactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_post_reactions_user_id'), ['user_id'], unique=False)

    op.create_table('post_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('written_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_revisions_post_id_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_revisions')),
    sa.UniqueConstraint('post_id', 'version', name=op.f('uq_post_revisions_post_id_version'))
    )
    op.create_table('reveal_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'approved', 'declined')", name=op.f('ck_reveal_requests_status')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_reveal_requests_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_reveal_requests_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_reveal_requests_post_id_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_reveal_requests_requested_by_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reveal_requests'))
    )
    with op.batch_alter_table('reveal_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reveal_requests_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reveal_requests_post_id'), ['post_id'], unique=False)

    with op.batch_alter_table('cohorts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flag_threshold', sa.Integer(), server_default='3', nullable=False))

    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('advanced_stage', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('announced_stage', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('locked_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('reflection_count', sa.Integer(), server_default='0', nullable=False))



def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.drop_column('reflection_count')
        batch_op.drop_column('locked_reason')
        batch_op.drop_column('locked_at')
        batch_op.drop_column('announced_stage')
        batch_op.drop_column('advanced_stage')

    with op.batch_alter_table('cohorts', schema=None) as batch_op:
        batch_op.drop_column('flag_threshold')

    with op.batch_alter_table('reveal_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reveal_requests_post_id'))
        batch_op.drop_index(batch_op.f('ix_reveal_requests_cohort_id'))

    op.drop_table('reveal_requests')
    op.drop_table('post_revisions')
    with op.batch_alter_table('post_reactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_post_reactions_user_id'))

    op.drop_table('post_reactions')
    with op.batch_alter_table('post_flags', schema=None) as batch_op:
        batch_op.drop_index('ix_post_flags_cohort_open')

    op.drop_table('post_flags')
    with op.batch_alter_table('thread_participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_thread_participants_user_id'))

    op.drop_table('thread_participants')
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index('ix_posts_thread_id_id')
        batch_op.drop_index('ix_posts_parent_id')
        batch_op.drop_index(batch_op.f('ix_posts_cohort_id'))
        batch_op.drop_index('ix_posts_author_id')

    op.drop_table('posts')
    op.drop_table('post_drafts')
    op.drop_table('cohort_mutes')
