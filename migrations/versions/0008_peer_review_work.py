"""peer review: submissions, reviews and their settings

Revision ID: 0008
Revises: 0007
Created: 2026-12-02 00:55:55

Learners' submissions (with earlier versions and an optional attachment) and peer reviews
(allocated on demand, with a level and comment per criterion). Assignments gain "submit
before you review", when results show and double-blind; cohorts gain the kindness hold.
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table('submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_assignment_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('feedback_by', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_reviews', sa.Integer(), nullable=False),
    sa.Column('active_reviews', sa.Integer(), nullable=False),
    sa.Column('review_load', sa.Integer(), nullable=False),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attachment_key', sa.String(length=32), nullable=True),
    sa.Column('attachment_name', sa.String(length=200), nullable=True),
    sa.Column('attachment_type', sa.String(length=8), nullable=True),
    sa.Column('attachment_size', sa.Integer(), nullable=True),
    sa.CheckConstraint('completed_reviews >= 0 AND active_reviews >= 0', name=op.f('ck_submissions_counts')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_submissions_author_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['cohort_assignment_id'], ['cohort_assignments.id'], name=op.f('fk_submissions_cohort_assignment_id_cohort_assignments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_submissions_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submissions')),
    sa.UniqueConstraint('cohort_assignment_id', 'author_id', name=op.f('uq_submissions_cohort_assignment_id_author_id'))
    )
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index('ix_submissions_allocation', ['cohort_assignment_id', 'review_load', 'late', 'submitted_at', 'id'], unique=False)
        batch_op.create_index('ix_submissions_author_id', ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_cohort_id'), ['cohort_id'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_assignment_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('by_staff', sa.Boolean(), nullable=False),
    sa.Column('beyond_target', sa.Boolean(), nullable=False),
    sa.Column('submission_version', sa.Integer(), nullable=False),
    sa.Column('allocated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('comment_html', sa.Text(), nullable=False),
    sa.Column('held_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('held_phrases', sa.String(length=500), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden_reason', sa.String(length=500), nullable=False),
    sa.Column('hidden_by_id', sa.Integer(), nullable=True),
    sa.Column('helpfulness', sa.Integer(), nullable=True),
    sa.Column('helpfulness_comment', sa.String(length=2000), nullable=False),
    sa.Column('rated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('flagged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('flag_reason', sa.String(length=500), nullable=False),
    sa.CheckConstraint("status IN ('active', 'submitted', 'expired')", name=op.f('ck_reviews_status')),
    sa.CheckConstraint('helpfulness IS NULL OR helpfulness BETWEEN 1 AND 5', name=op.f('ck_reviews_helpfulness')),
    sa.ForeignKeyConstraint(['cohort_assignment_id'], ['cohort_assignments.id'], name=op.f('fk_reviews_cohort_assignment_id_cohort_assignments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['hidden_by_id'], ['users.id'], name=op.f('fk_reviews_hidden_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_reviews_reviewer_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_reviews_submission_id_submissions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('submission_id', 'number', name=op.f('uq_reviews_submission_id_number')),
    sa.UniqueConstraint('submission_id', 'reviewer_id', name=op.f('uq_reviews_submission_id_reviewer_id'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index('ix_reviews_expiry', ['cohort_assignment_id', 'status', 'expires_at'], unique=False)
        batch_op.create_index('ix_reviews_reviewer', ['reviewer_id', 'cohort_assignment_id'], unique=False)

    op.create_table('submission_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('written_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attachment_key', sa.String(length=32), nullable=True),
    sa.Column('attachment_name', sa.String(length=200), nullable=True),
    sa.Column('attachment_type', sa.String(length=8), nullable=True),
    sa.Column('attachment_size', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_submission_versions_submission_id_submissions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_versions')),
    sa.UniqueConstraint('submission_id', 'version', name=op.f('uq_submission_versions_submission_id_version'))
    )
    op.create_table('review_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('level_id', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('comment_html', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['criterion_id'], ['rubric_criteria.id'], name=op.f('fk_review_scores_criterion_id_rubric_criteria'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['level_id'], ['rubric_levels.id'], name=op.f('fk_review_scores_level_id_rubric_levels'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_review_scores_review_id_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_scores')),
    sa.UniqueConstraint('review_id', 'criterion_id', name=op.f('uq_review_scores_review_id_criterion_id'))
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submit_first', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('results_after', sa.String(length=16), server_default='reviews_done', nullable=False))
        batch_op.add_column(sa.Column('double_blind', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.create_check_constraint('results_after', "results_after IN ('reviews_done', 'window_closed')")

    with op.batch_alter_table('cohort_assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('submit_first', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('results_after', sa.String(length=16), server_default='reviews_done', nullable=False))
        batch_op.add_column(sa.Column('double_blind', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.create_check_constraint('results_after', "results_after IN ('reviews_done', 'window_closed')")

    with op.batch_alter_table('cohorts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kindness_hold', sa.Boolean(), server_default=sa.true(), nullable=False))



def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('cohorts', schema=None) as batch_op:
        batch_op.drop_column('kindness_hold')

    with op.batch_alter_table('cohort_assignments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_cohort_assignments_results_after'), type_='check')
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('double_blind')
        batch_op.drop_column('results_after')
        batch_op.drop_column('submit_first')

    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_assignments_results_after'), type_='check')
        batch_op.drop_column('double_blind')
        batch_op.drop_column('results_after')
        batch_op.drop_column('submit_first')

    op.drop_table('review_scores')
    op.drop_table('submission_versions')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_reviews_reviewer')
        batch_op.drop_index('ix_reviews_expiry')

    op.drop_table('reviews')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submissions_cohort_id'))
        batch_op.drop_index('ix_submissions_author_id')
        batch_op.drop_index('ix_submissions_allocation')

    op.drop_table('submissions')
