"""Scheduled jobs of notifications (thin: each calls a service with now=utcnow())."""

from flask import current_app

from app.db import get_session, utcnow
from app.mail import deliver_pending
from app.scheduler import in_app_context


@in_app_context
def deliver_outbox() -> int:
    """Send the e-mails waiting in the outbox."""
    return deliver_pending(get_session(), current_app.config, utcnow())
