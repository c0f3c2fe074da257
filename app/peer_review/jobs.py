"""Scheduled jobs of peer review (thin: each calls a service with now=utcnow())."""

from app.db import utcnow
from app.peer_review.board import run_deadlines
from app.scheduler import in_app_context


@in_app_context
def review_deadlines() -> dict[str, int]:
    """Expire unfinished reviews, remind who still owes reviews, keep the feedback-by
    promise (each told once)."""
    return run_deadlines(now=utcnow())
