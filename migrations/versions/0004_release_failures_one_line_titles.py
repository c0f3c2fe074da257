"""release failures; titles, names and labels on one line

Revision ID: 0004
Revises: 0003
Created: 2026-12-01 16:51:14

A release whose side effects fail is now recorded on its module and retried with back-off
(``release_failures``, ``release_retry_at``, ``release_error``).

One-line fields now refuse line breaks on input; text stored before that keeps its words
with each run of line breaks and control characters turned into one space, so e-mail
subjects and calendar summaries made from it can be sent.
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

import app.db

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

#: (table, column) of every one-line field.
ONE_LINE_FIELDS = [
    ("users", "name"), ("api_tokens", "name"), ("programs", "title"),
    ("program_goals", "text"), ("modules", "title"), ("cohorts", "name"),
    ("cohort_modules", "title"), ("prompts", "title"), ("threads", "title"),
    ("assignments", "title"), ("cohort_assignments", "title"), ("rubric_criteria", "title"),
    ("rubric_levels", "label"), ("notifications", "title"), ("outbox_emails", "subject"),
]
LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def _one_line(value: str) -> str:
    """The value with each run of line breaks and control characters as one space."""
    return " ".join("".join(
        " " if char in LINE_BREAKS or unicodedata.category(char) == "Cc" else char
        for char in value).split())


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table('cohort_modules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('release_failures', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('release_retry_at', app.db.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('release_error', sa.String(length=500), nullable=True))

    connection = op.get_bind()
    for table_name, column_name in ONE_LINE_FIELDS:
        table = sa.table(table_name, sa.column("id", sa.Integer), sa.column(column_name))
        column = table.c[column_name]
        rows = connection.execute(
            sa.select(table.c.id, column).where(
                sa.or_(column.contains("\n"), column.contains("\r"),
                       column.contains("\t")))).all()
        for row_id, value in rows:
            connection.execute(sa.update(table).where(table.c.id == row_id)
                               .values({column_name: _one_line(value)}))


def downgrade() -> None:
    """Revert this migration (titles stay on one line)."""
    with op.batch_alter_table('cohort_modules', schema=None) as batch_op:
        batch_op.drop_column('release_error')
        batch_op.drop_column('release_retry_at')
        batch_op.drop_column('release_failures')
