"""Scheduled jobs of notifications (thin: each calls a service with now=utcnow())."""

from flask import current_app

from app.db import get_session, utcnow
from app.mail import deliver_pending
from app.notifications.digests import send_due_digests
from app.scheduler import in_app_context


@in_app_context
def deliver_outbox() -> int:
    """Send the e-mails waiting in the outbox."""
    return deliver_pending(get_session(), current_app.config, utcnow())


@in_app_context
def send_digests() -> int:
    """Queue the daily digest of everyone whose local digest hour has come."""
    return send_due_digests(now=utcnow())
