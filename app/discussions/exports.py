"""Exports of a cohort's discussions for its staff, with authors presented as the person
exporting may see them (anonymous authors stay anonymous per policy)."""

import csv
import io
from functools import cache

from sqlalchemy import bindparam, select

from app.accounts.models import User
from app.cohorts.access import require_staff
from app.cohorts.models import CohortModule
from app.db import get_session
from app.discussions.models import Post, Thread
from app.discussions.posts import present_post

POST_COLUMNS = ("post_id", "module", "thread", "kind", "reply_to", "author",
                "author_name", "anonymous", "created_at", "edited", "state", "pinned",
                "highlighted", "insightful", "thanks", "body")
#: Spreadsheets run a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A cell a spreadsheet shows as text, never runs (a leading quote defuses formulas)."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


@cache
def _posts_statement():
    """Every post of a cohort with its thread, module and author's name (built once)."""
    return (select(Post, User.name, Thread.title, CohortModule.title)
            .join(User, User.id == Post.author_id)
            .join(Thread, Thread.id == Post.thread_id)
            .join(CohortModule, CohortModule.id == Thread.cohort_module_id)
            .where(Post.cohort_id == bindparam("cohort_id"))
            .order_by(CohortModule.position, Thread.position, Post.id))


def export_posts_csv(user: User, cohort_id: int) -> str:
    """Every post of the cohort as CSV, for its staff (NotAllowed for learners, NotFound
    for outsiders). Deleted posts leave only their place; hidden ones are marked."""
    viewer = require_staff(user, cohort_id, "Only the cohort's facilitators and its "
                                            "program's owner can export its discussions.")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(POST_COLUMNS)
    for post, name, thread, module in get_session().execute(_posts_statement(),
                                                             {"cohort_id": cohort_id}):
        view = present_post(post, name, viewer, may_write=False)
        body = post.body if view.state != "deleted" else ""
        writer.writerow([safe_cell(value) for value in (
            view.id, module, thread, view.kind, view.parent_id or "", view.author.label,
            view.author.name or "", "yes" if view.author.anonymous else "no",
            view.created_at.isoformat(), "yes" if view.edited else "no", view.state,
            "yes" if view.pinned else "no", "yes" if view.highlighted else "no",
            view.reactions["insightful"], view.reactions["thanks"], body)])
    return out.getvalue()
