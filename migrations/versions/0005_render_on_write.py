"""render on write: cleaned HTML stored beside each Markdown column

Revision ID: 0005
Revises: 0004
Created: 2026-12-01 20:20:00

Module content, discussion prompts and assignment instructions (the program's and each
cohort's copy) now keep their cleaned HTML beside the Markdown, rendered when written, so
pages and the API never render on read. Existing rows are rendered here, through the same
function the app uses (``app.sanitize.render_html``); when the cleaning rules change later,
``flask content rerender`` does the same for every row.
"""

import sqlalchemy as sa
from alembic import op

from app.sanitize import render_html

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

#: (table, Markdown column, HTML column)
RENDERED = [
    ("modules", "body", "body_html"),
    ("cohort_modules", "body", "body_html"),
    ("prompts", "body", "body_html"),
    ("threads", "body", "body_html"),
    ("assignments", "instructions", "instructions_html"),
    ("cohort_assignments", "instructions", "instructions_html"),
]


def upgrade() -> None:
    """Apply this migration."""
    for table_name, _, html in RENDERED:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.add_column(sa.Column(html, sa.Text(), nullable=True))

    connection = op.get_bind()
    for table_name, source, html in RENDERED:
        table = sa.table(table_name, sa.column("id", sa.Integer), sa.column(source),
                         sa.column(html))
        connection.execute(sa.update(table).where(sa.or_(table.c[source].is_(None),
                                                         table.c[source] == ""))
                           .values({html: ""}))
        rows = connection.execute(sa.select(table.c.id, table.c[source])
                                  .where(table.c[html].is_(None))).all()
        for row_id, text in rows:
            connection.execute(sa.update(table).where(table.c.id == row_id)
                               .values({html: render_html(text)}))

    for table_name, _, html in RENDERED:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.alter_column(html, existing_type=sa.Text(), nullable=False)


def downgrade() -> None:
    """Revert this migration."""
    for table_name, _, html in reversed(RENDERED):
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.drop_column(html)
