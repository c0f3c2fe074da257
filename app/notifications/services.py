"""Notification rules: who is told about what, once, in the inbox and by e-mail."""

from datetime import datetime

from flask import current_app
from sqlalchemy import func, insert, select, update

from app import realtime
from app.db import get_session, transaction
from app.mail import OutboxEmail
from app.notifications.models import Notification


def notify_module_released(cohort_module, *, members, now: datetime) -> None:
    """Tell every member of the cohort, once, that a module is open (inbox and e-mail).

    Runs inside the release's transaction; the unique ``(user_id, dedupe_key)`` and the
    outbox's unique ``dedupe_key`` make a second run fail rather than duplicate.
    Rows are inserted in two batched statements, not one query per member.
    """
    if not members:
        return
    session = get_session()
    key = f"release:{cohort_module.id}"
    link = f"/cohorts/{cohort_module.cohort_id}/modules/{cohort_module.id}"
    title = f"New module open: {cohort_module.title}"
    session.execute(insert(Notification), [
        {"user_id": user_id, "kind": "module_released", "cohort_id": cohort_module.cohort_id,
         "title": title, "link": link, "dedupe_key": key, "created_at": now}
        for user_id, _ in members
    ])
    base = current_app.config["BASE_URL"]
    body = (f"“{cohort_module.title}” is now open in your cohort.\n\n"
            f"Read it and join the discussion: {base}{link}\n")
    session.execute(insert(OutboxEmail), [
        {"to_address": email, "user_id": user_id, "subject": title, "body_text": body,
         "dedupe_key": f"{key}:user:{user_id}", "created_at": now, "next_attempt_at": now,
         "attempts": 0}
        for user_id, email in members
    ])
    for user_id, _ in members:
        realtime.notify("notification", {"kind": "module_released", "message": title,
                                         "link": link}, f"user:{user_id}")


def list_notifications(user, *, before_id: int = 0, limit: int = 50) -> list[Notification]:
    """The person's notifications, newest first, older than a cursor id when given."""
    query = select(Notification).where(Notification.user_id == user.id)
    if before_id:
        query = query.where(Notification.id < before_id)
    return list(get_session().scalars(query.order_by(Notification.id.desc()).limit(limit)))


def unread_count(user) -> int:
    """How many of the person's notifications are unread."""
    return get_session().scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def mark_read(user, *, ids: list[int] | None, now: datetime) -> int:
    """Mark the person's notifications read (the given ids, or all); returns the unread count.

    Ids that are not the person's own are ignored, never touched.
    """
    with transaction():
        query = (update(Notification)
                 .where(Notification.user_id == user.id, Notification.read_at.is_(None))
                 .values(read_at=now).execution_options(synchronize_session=False))
        if ids is not None:
            query = query.where(Notification.id.in_(ids))
        get_session().execute(query)
        remaining = unread_count(user)
        realtime.notify("notification", {"kind": "read", "unread": remaining}, f"user:{user.id}")
    return remaining
