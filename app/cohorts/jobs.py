"""Scheduled jobs of cohorts (thin: each calls a service with now=utcnow())."""

from app.cohorts.services import release_due_modules
from app.db import utcnow
from app.scheduler import in_app_context


@in_app_context
def release_due() -> int:
    """Catch up on every release that is due and not yet processed."""
    return release_due_modules(now=utcnow())
