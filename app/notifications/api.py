"""Notification endpoints of the JSON API: the inbox, the calendar feed, and nudges from a
cohort's staff."""

from datetime import datetime
from typing import Annotated, Literal

from flask import Blueprint
from pydantic import Field, StringConstraints

from app.api import (
    Id,
    Page,
    PageQuery,
    ResponseSchema,
    Schema,
    check_limit,
    decode_cursor,
    endpoint,
    page_of,
)
from app.db import utcnow
from app.notifications import nudges, preferences, services
from app.notifications.models import KINDS

bp = Blueprint("notifications_api", __name__, url_prefix="/api/v1")


class NotificationOut(ResponseSchema):
    """One notification."""

    id: int
    kind: str
    cohort_id: int | None
    title: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None


class NudgeRequest(Schema):
    """An optional message of the nudge's own (plain text, one line); without it the notice
    says the staff member is checking in."""

    message: str = Field(default="", max_length=nudges.NUDGE_MESSAGE_MAX)


class NudgeOut(ResponseSchema):
    """The nudge as the member received it: the notice in their inbox."""

    user_id: int
    cohort_id: int
    notification: NotificationOut


class ReadRequest(Schema):
    """Which notifications to mark read: the given ids, or all when ``ids`` is omitted."""

    ids: list[Id] | None = Field(default=None, max_length=500)


class ReadOut(ResponseSchema):
    """What is left unread."""

    unread: int


@endpoint(bp, "/notifications", "GET", query=PageQuery, response=Page[NotificationOut],
          summary="My notifications, newest first")
def list_notifications(user, query: PageQuery):
    """The inbox, paginated backwards in time."""
    limit = check_limit(query.limit)
    rows = services.list_notifications(user, before_id=decode_cursor(query.cursor),
                                       limit=limit + 1)
    return page_of(rows, limit, NotificationOut.model_validate)


@endpoint(bp, "/notifications/read", "POST", body=ReadRequest, response=ReadOut,
          summary="Mark notifications read (some ids, or all)")
def mark_read(user, body: ReadRequest):
    """Mark read and return the unread count."""
    return ReadOut(unread=services.mark_read(user, ids=body.ids, now=utcnow()))


class CalendarFeedOut(ResponseSchema):
    """A new private feed address: shown once, only its hash is kept."""

    url: str
    #: The same address for calendar apps that open ``webcal:`` links.
    webcal_url: str
    created_at: datetime


@endpoint(bp, "/calendar-feed", "POST", response=CalendarFeedOut, status=201,
          summary="Get a new private calendar feed address (the old one stops working)")
def create_calendar_feed(user):
    """Create or replace my feed; the address is in this answer only."""
    now = utcnow()
    url = services.calendar_feed_url(services.create_calendar_feed(user, now))
    return CalendarFeedOut(url=url, webcal_url=services.webcal_url(url),
                           created_at=now)


@endpoint(bp, "/calendar-feed", "DELETE", status=204,
          summary="Turn my calendar feed off (its address stops working)")
def delete_calendar_feed(user):
    """Revoke my feed; nothing to revoke is fine too."""
    services.revoke_calendar_feed(user)


Delivery = Literal["app", "email", "digest"]
KindName = Annotated[str, StringConstraints(max_length=40)]
KINDS_HELP = ("Kind → delivery. Kinds: " + ", ".join(f"{kind} ({spec.label.lower()}; default "
              f"{spec.default})" for kind, spec in KINDS.items())
              + ". app: inbox only; email: inbox and an e-mail at once; digest: inbox and a "
              "line in the daily digest e-mail.")


class NotificationPreferencesOut(ResponseSchema):
    """How each kind of notification reaches me, and my digest's local hour."""

    kinds: dict[str, Delivery] = Field(description=KINDS_HELP)
    #: In my own time zone (``timezone`` of /me).
    digest_hour: int = Field(ge=0, le=23, description="The local hour (0–23) of the daily "
                                                      "digest, in my time zone.")


class NotificationPreferencesIn(Schema):
    """Kinds to change (others keep their setting) and, optionally, the digest hour."""

    kinds: dict[KindName, Delivery] = Field(default_factory=dict, max_length=50,
                                            description=KINDS_HELP)
    digest_hour: int | None = Field(default=None, ge=0, le=23,
                                    description="The local hour (0–23) of the daily digest.")


@endpoint(bp, "/me/notification-preferences", "GET", response=NotificationPreferencesOut,
          summary="How each kind of notification reaches me")
def get_notification_preferences(user):
    """Every kind with its delivery (defaults filled in) and the digest hour."""
    return preferences.get_notification_preferences(user)


@endpoint(bp, "/me/notification-preferences", "PUT", body=NotificationPreferencesIn,
          response=NotificationPreferencesOut,
          summary="Choose how kinds of notification reach me, and my digest hour")
def set_notification_preferences(user, body: NotificationPreferencesIn):
    """Change the given kinds and the digest hour; an unknown kind is refused (422)."""
    return preferences.set_notification_preferences(user, kinds=body.kinds,
                                                     digest_hour=body.digest_hour)


@endpoint(bp, "/cohorts/<int:cohort_id>/members/<int:user_id>/nudge", "POST",
          body=NudgeRequest, response=NudgeOut, status=201, errors=(403, 404, 409),
          summary="Nudge a member: a notice in their inbox (and e-mail as they chose), at "
                  "most once per day per cohort; 409 already_nudged (facilitators, owner)")
def nudge_member(user, cohort_id: int, user_id: int, body: NudgeRequest):
    """Send the nudge; 404 for someone who is not a member of the cohort."""
    notice = nudges.nudge_member(user, cohort_id, user_id, now=utcnow(), message=body.message)
    return NudgeOut(user_id=user_id, cohort_id=cohort_id,
                    notification=NotificationOut.model_validate(notice))
