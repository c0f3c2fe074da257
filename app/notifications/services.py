"""Notification rules: who is told about what, once, in the inbox and by e-mail; and the
personal calendar feed."""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import Integer, Select, String, and_, cast, func, literal, select, update

from app import audit, realtime
from app.accounts.models import User
from app.accounts.services import hash_secret
from app.cohorts.access import CohortAccess, list_my_cohort_roles, sees_module_content
from app.cohorts.models import Membership
from app.cohorts.parts import milestones, parts_of_cohorts
from app.cohorts.progress import list_modules_of
from app.db import get_session, insert_for, transaction
from app.errors import NotFound
from app.links import (
    Target,
    absolute_url,
    announcement_target,
    module_target,
    preferences_target,
)
from app.mail import OutboxEmail
from app.notifications.calendar import CalendarEvent
from app.notifications.models import (
    KINDS,
    CalendarFeed,
    Notification,
    NotificationPreference,
)
from app.text import fit

#: What a notification title (and the subject of its e-mail) may hold.
NOTIFICATION_TITLE_MAX = 200


def notice_room(cohort_id: int) -> str:
    """The live room of a cohort's members: exactly the people its notices go to.

    Sockets join it as they connect (see :func:`notice_rooms_of`), on every page, and leave
    it when the person leaves the cohort. Unlike ``cohort:ID`` (joined by cohort pages, and
    open to the program's owner), nobody else can be in it, so a notice broadcast there
    counts once in every badge it reaches.
    """
    return f"members:{cohort_id}"


def notice_rooms_of(user: User) -> list[str]:
    """The notice rooms a socket of this person joins as it connects (one query)."""
    return [notice_room(cohort_id) for cohort_id in get_session().scalars(
        select(Membership.cohort_id).where(Membership.user_id == user.id))]


@dataclass(frozen=True)
class Audience:
    """A live room holding exactly the recipients of a notice, and how many they are."""

    room: str
    size: int


def notify(kind: str, recipients: Select, *, dedupe_key: str, title: str, target: Target,
           now: datetime, body: str = "", audience: Audience | None = None) -> list[int]:
    """Tell each recipient once: in the inbox and live, and by e-mail or digest as they chose.

    ``recipients`` selects user ids (e.g. a cohort's memberships). Runs in the caller's
    transaction and costs two statements however many recipients there are: one
    ``INSERT … SELECT`` of the inbox rows, one of the e-mails, each joined to the
    recipients' preference for ``kind`` (the kind's default without one). People already
    told (the same ``dedupe_key``) are skipped by the unique keys. A "digest" preference
    marks the inbox row for the daily digest instead of e-mailing now.

    The live event is one broadcast to ``audience.room`` when everyone in it got a new
    inbox row (the notice is the same for all of them); otherwise, say when some had
    already been told, one event per person who was. Returns the ids of those told now.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    session = get_session()
    insert = insert_for(session)
    # Derived titles may be longer than the 200 characters the columns hold.
    title = fit(title, NOTIFICATION_TITLE_MAX)
    people = recipients.subquery()
    user_id = list(people.c)[0]
    delivery = func.coalesce(NotificationPreference.delivery, literal(KINDS[kind].default))
    chosen = (select().select_from(people).outerjoin(NotificationPreference, and_(
        NotificationPreference.user_id == user_id, NotificationPreference.kind == kind)))
    notified = session.scalars(
        insert(Notification)
        .from_select(
            ["user_id", "kind", "cohort_id", "title", "body", "link", "dedupe_key",
             "created_at", "digest_pending"],
            chosen.add_columns(
                user_id, literal(kind), literal(target.cohort_id, Integer), literal(title),
                literal(body), literal(target.path), literal(dedupe_key),
                literal(now, Notification.created_at.type), delivery == "digest"),
        )
        .on_conflict_do_nothing(index_elements=["user_id", "dedupe_key"])
        .returning(Notification.user_id)
    ).all()
    text = f"{body}\n\n" if body else ""
    text += (f"Open it: {target.url}\n\n"
             f"Choose how notifications reach you: {preferences_target().url}\n")
    queued_at = literal(now, OutboxEmail.created_at.type)
    session.execute(
        insert(OutboxEmail)
        .from_select(
            ["to_address", "user_id", "subject", "body_text", "dedupe_key", "created_at",
             "next_attempt_at", "attempts"],
            # The address by primary key, row by row: a join could be planned as a scan
            # of every user while the table's statistics are stale.
            chosen.add_columns(
                select(User.email).where(User.id == user_id).scalar_subquery(),
                user_id, literal(title), literal(text),
                literal(f"{dedupe_key}:user:") + cast(user_id, String),
                queued_at, queued_at, literal(0))
            .where(delivery == "email"),
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    payload = {"kind": kind, "message": title, "link": target.path}
    if audience is not None and len(notified) == audience.size:
        # One broadcast instead of one emit per member (~0.25 ms each, queued before it).
        realtime.notify("notification", payload, audience.room)
    else:
        for person in notified:
            realtime.notify("notification", payload, f"user:{person}")
    return notified


def notify_module_released(cohort_module, *, member_count: int, now: datetime,
                           **_) -> None:
    """Tell every member of the cohort, once, that a module is open.

    Runs inside the release's transaction (the ``module_released`` signal). The notices
    are selected from the memberships in the statements that write them; ``member_count``
    (counted by the release for its whole batch) says whether all of them were new.
    """
    cohort_id = cohort_module.cohort_id
    cohort_name = cohort_module.cohort.name
    notify("module_released",
           select(Membership.user_id).where(Membership.cohort_id == cohort_id),
           dedupe_key=f"release:{cohort_module.id}",
           title=f"New module open in {cohort_name}: {cohort_module.title}",
           body=f"“{cohort_module.title}” is now open in {cohort_name}.",
           target=module_target(cohort_id, cohort_module.id), now=now,
           audience=Audience(notice_room(cohort_id), member_count))


def notify_announcement_posted(announcement, *, cohort, author_name: str,
                               author_is_member: bool, member_count: int, now: datetime,
                               **_) -> None:
    """Tell every member of the cohort but the author, once, about a new announcement.

    Runs inside the posting transaction (the ``announcement_posted`` signal). When the
    author is not a member (the program's owner), the cohort's notice room holds exactly
    the people told, so the live notice is one broadcast.
    """
    notify("announcement",
           select(Membership.user_id).where(Membership.cohort_id == cohort.id,
                                            Membership.user_id != announcement.author_id),
           dedupe_key=f"announcement:{announcement.id}",
           title=f"Announcement in {cohort.name}: {announcement.title}",
           body=f"{author_name} wrote to {cohort.name}:\n\n{announcement.body}",
           target=announcement_target(cohort.id, announcement.id), now=now,
           audience=None if author_is_member else Audience(notice_room(cohort.id),
                                                           member_count))


def leave_notice_room(cohort, *, user_id: int, **_) -> None:
    """A person who leaves a cohort stops getting its live notices (after the commit)."""
    realtime.leave_room_after_commit(user_id, notice_room(cohort.id))


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


# --- the personal calendar feed -----------------------------------------------------------------

#: A feed's "last fetched" time is written at most this often (saves a write per fetch).
FEED_TOUCH_INTERVAL = timedelta(hours=1)
FEED_NAME = "Cohort Commons"


def calendar_feed_url(secret: str) -> str:
    """The feed's absolute address, for calendar apps on other machines."""
    return absolute_url(f"/calendar/{secret}.ics")


def webcal_url(feed_url: str) -> str:
    """The same feed address for apps that subscribe through ``webcal:`` links."""
    return "webcal://" + feed_url.split("://", 1)[1]


def get_calendar_feed(user: User) -> CalendarFeed | None:
    """The person's feed, if they turned it on (its secret is never shown again)."""
    return get_session().scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))


def create_calendar_feed(user: User, now: datetime) -> str:
    """Give the person a new feed address and return its secret (shown once).

    Any older address stops working at once: creating a feed is also how a leaked address
    is revoked. Only a SHA-256 hash of the secret is stored.
    """
    secret = secrets.token_urlsafe(32)
    with transaction() as session:
        feed = get_calendar_feed(user)
        if feed is None:
            feed = CalendarFeed(user_id=user.id)
            session.add(feed)
        feed.token_hash = hash_secret(secret)
        feed.created_at = now
        feed.last_fetched_at = None
        session.flush()
        audit.record(session, user.id, "calendar_feed.created", target_type="calendar_feed",
                     target_id=feed.id)
    return secret


def revoke_calendar_feed(user: User) -> bool:
    """Turn the person's feed off; False when there was none."""
    with transaction() as session:
        feed = get_calendar_feed(user)
        if feed is None:
            return False
        audit.record(session, user.id, "calendar_feed.revoked", target_type="calendar_feed",
                     target_id=feed.id)
        session.delete(feed)
    return True


def calendar_for_token(secret: str, now: datetime) -> list[CalendarEvent]:
    """The events of the feed a secret opens; NotFound for unknown or revoked secrets."""
    session = get_session()
    feed = session.scalar(select(CalendarFeed).where(
        CalendarFeed.token_hash == hash_secret(secret or "")))
    user = session.get(User, feed.user_id) if feed is not None else None
    if user is None or user.is_disabled:
        raise NotFound()
    if feed.last_fetched_at is None or now - feed.last_fetched_at > FEED_TOUCH_INTERVAL:
        with transaction():
            feed.last_fetched_at = now
    return calendar_events(user, now)


def calendar_events(user: User, now: datetime) -> list[CalendarEvent]:
    """Releases and due dates of every cohort the person learns in, runs or owns.

    What an event says follows the cohort timeline: a module's title and release time are
    shown before release, its content never is; threads and assignments (and so their due
    dates) reach a learner only once their module is released. No event carries a module's
    or part's text, since calendar apps keep copies on other services.
    """
    roles = list_my_cohort_roles(user)
    modules = list_modules_of([cohort.id for cohort, _ in roles])
    parts = parts_of_cohorts([
        (CohortAccess(user=user, cohort=cohort, role=role),
         [m for m in modules[cohort.id] if sees_module_content(role, m, now)])
        for cohort, role in roles])
    base = current_app.config["BASE_URL"]
    host = urlsplit(base).hostname or "cohort-commons"
    events = []
    for cohort, _ in roles:
        for module in modules[cohort.id]:
            url = module_target(cohort.id, module.id).url
            events.append(CalendarEvent(
                uid=f"release-{module.id}@{host}", start=module.release_at,
                summary=f"Module opens: {module.title} ({cohort.name})",
                description=(f"“{module.title}” opens in {cohort.name} "
                             f"({cohort.program.title}).\n\nOpen it: {url}"),
                url=url))
            for part in parts.get(module.id, ()):
                part_url = f"{url}#part-{part.kind}-{part.id}"  # its place on the module page
                for label, at in milestones(part):
                    events.append(CalendarEvent(
                        uid=f"{part.kind}-{part.id}-{_slug(label)}@{host}", start=at,
                        summary=f"{label}: {part.title} ({cohort.name})",
                        description=(f"{label} for “{part.title}” in “{module.title}”, "
                                     f"{cohort.name}.\n\nOpen it: {part_url}"),
                        url=part_url))
    return sorted(events, key=lambda e: (e.start, e.uid))


def _slug(text: str) -> str:
    """Lower-case words joined by hyphens, for stable event ids ("submissions-due")."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "date"
