"""In-app notifications (the inbox); e-mail copies go through the outbox."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model, utcnow


class Notification(Model):
    """Something a person should know about, shown in their inbox."""

    __tablename__ = "notifications"
    __table_args__ = (
        # The exactly-once guard: one notification per person per event.
        UniqueConstraint("user_id", "dedupe_key"),
        Index("ix_notifications_user_unread", "user_id", "read_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: What happened, e.g. "module_released"; per-kind preferences key on it.
    kind: Mapped[str] = mapped_column(String(40))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    #: A path inside the app, e.g. "/cohorts/3/modules/7".
    link: Mapped[str] = mapped_column(String(300), default="")
    #: Identifies the event, e.g. "release:42"; unique per user.
    dedupe_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class CalendarFeed(Model):
    """A person's private iCalendar feed: a secret URL, stored only as a hash."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         unique=True)
    #: SHA-256 of the secret in the URL; a new secret (revocation) replaces it.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_fetched_at: Mapped[datetime | None]
