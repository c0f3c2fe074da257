"""In-app notifications (the inbox); e-mail copies go through the outbox."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import false

from app.db import Model, utcnow

#: How a notice reaches a person. It is always in their inbox (and live on open pages);
#: "email" adds an e-mail at once, "digest" a line in their daily digest e-mail.
DELIVERIES = ("app", "email", "digest")


@dataclass(frozen=True)
class Kind:
    """A kind of notification: what it is called on the settings page, and its default."""

    label: str
    #: The delivery of people who have not chosen one.
    default: str


#: Every kind of notification. A new kind of notice is one entry here and one
#: ``notify(kind, …)`` call where it happens.
KINDS: dict[str, Kind] = {
    "module_released": Kind("A module of your cohort opens", "email"),
    "announcement": Kind("A facilitator or the program's owner posts an announcement to your "
                         "cohort", "email"),
    "discussion_stage": Kind("A discussion moves to its next stage", "app"),
    "post_reply": Kind("Someone replies to your post", "app"),
    "post_moderated": Kind("A facilitator hides or restores your post", "email"),
    "member_muted": Kind("A facilitator pauses or resumes your posting in a cohort", "email"),
    "flags_waiting": Kind("A post is hidden by flags and waits for review (facilitators)",
                          "email"),
    "identity_revealed": Kind("Your name is revealed on an anonymous post", "email"),
    "reveal_requested": Kind("A reveal of an anonymous author waits for a second person's "
                             "decision (owners, admins)", "email"),
    "reveal_decided": Kind("Your reveal request is approved or declined", "email"),
    "review_received": Kind("A peer's review of your work arrives", "email"),
    "reviews_reminder": Kind("A reminder that you still owe reviews, before the window "
                             "closes", "email"),
    "review_moderated": Kind("A facilitator passes on or hides a review you wrote", "email"),
    "reviews_waiting": Kind("A review is held or flagged, or work is short of reviews at "
                            "its feedback-by date (facilitators)", "email"),
    "nudge": Kind("Nudges from facilitators", "email"),
}
#: The local hour of the daily digest for people who have not chosen one.
DEFAULT_DIGEST_HOUR = 8


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
    #: Waits for the person's next daily digest e-mail (their preference was "digest").
    digest_pending: Mapped[bool] = mapped_column(Boolean, default=False,
                                                 server_default=false(), index=True)


class NotificationPreference(Model):
    """How one kind of notice reaches one person; without a row, the kind's default."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        CheckConstraint("delivery IN ('app', 'email', 'digest')", name="delivery"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    delivery: Mapped[str] = mapped_column(String(10))


class DigestSetting(Model):
    """When a person's daily digest is sent; without a row, at DEFAULT_DIGEST_HOUR."""

    __tablename__ = "digest_settings"
    __table_args__ = (CheckConstraint("hour BETWEEN 0 AND 23", name="hour"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    #: The hour of the day (0–23) in the person's own time zone.
    hour: Mapped[int] = mapped_column(SmallInteger)


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
