"""Scheduled jobs of discussions (thin: each calls a service with now=utcnow())."""

from app.db import utcnow
from app.discussions.stages import announce_due_stages
from app.scheduler import in_app_context


@in_app_context
def announce_stages() -> int:
    """Tell members, once, of each discussion stage that has opened by its date."""
    return announce_due_stages(now=utcnow())
