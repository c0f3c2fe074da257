"""The daily digest: notices a person chose to read once a day, e-mailed at their local hour.

A notice whose kind the person set to "digest" is written like any other, marked
``digest_pending``. A scheduled job sends each person with pending notices one e-mail per
local day, at the first run after their digest hour; the outbox key
``digest:{user_id}:{local date}`` makes that exactly once, however often or late the job
runs and however many schedulers race.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select, update

from app.accounts.models import User
from app.db import get_session, insert_for, transaction
from app.links import absolute_url, preferences_target
from app.mail import OutboxEmail
from app.notifications.models import DEFAULT_DIGEST_HOUR, DigestSetting, Notification


def digest_instant(day: date, hour: int, zone: ZoneInfo) -> datetime:
    """When ``hour``:00 of a local day happens, in UTC.

    An hour the clocks skip (spring forward) is taken as the moment they jump, e.g. 02:00
    in Berlin on 2027-03-28 is 03:00 CEST; an hour they repeat (fall back) is its first
    occurrence.
    """
    # fold=0 reads a skipped time with the offset before the change, which lands on the
    # moment of the jump, and a repeated time as its first occurrence.
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)


def latest_digest(now: datetime, hour: int, zone: ZoneInfo) -> tuple[date, datetime]:
    """The local day and UTC instant of the latest digest moment at or before ``now``."""
    today = now.astimezone(zone).date()
    for back in range(3):
        day = today - timedelta(days=back)
        at = digest_instant(day, hour, zone)
        if at <= now:
            return day, at
    raise ValueError("no digest moment in the last three days")  # pragma: no cover


def _zone(name: str) -> ZoneInfo:
    """The person's zone (UTC if it is no longer known)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def send_due_digests(*, now: datetime) -> int:
    """Queue the digest e-mail of everyone whose digest moment has come; how many were queued.

    A digest holds the pending notices written before that day's digest moment; later
    ones wait for the next day. Each person is one transaction.
    """
    session = get_session()
    people = session.execute(
        select(User.id, User.email, User.timezone,
               func.coalesce(DigestSetting.hour, DEFAULT_DIGEST_HOUR))
        .outerjoin(DigestSetting, DigestSetting.user_id == User.id)
        .where(User.id.in_(select(Notification.user_id).where(Notification.digest_pending)),
               User.is_disabled.is_(False))
        .order_by(User.id)).all()
    queued = 0
    for user_id, email, timezone, hour in people:
        day, at = latest_digest(now, hour, _zone(timezone))
        queued += _send_digest(user_id, email, day, at, now=now)
    return queued


def _send_digest(user_id: int, email: str, day: date, at: datetime, *, now: datetime) -> int:
    """Queue one person's digest for a local day unless it went already; 1 if queued."""
    with transaction() as session:
        notices = session.execute(
            select(Notification.id, Notification.title, Notification.link)
            .where(Notification.user_id == user_id, Notification.digest_pending,
                   Notification.created_at <= at)
            .order_by(Notification.id)).all()
        if not notices:
            return 0
        lines = [f"- {title}\n  {absolute_url(link or '/notifications')}"
                 for _id, title, link in notices]
        body = ("What happened in your cohorts since your last digest:\n\n"
                + "\n".join(lines)
                + f"\n\nChoose how notifications reach you: {preferences_target().url}\n")
        subject = ("Your daily digest: 1 notification" if len(notices) == 1
                   else f"Your daily digest: {len(notices)} notifications")
        queued = session.scalar(
            insert_for(session)(OutboxEmail)
            .values(to_address=email, user_id=user_id, subject=subject, body_text=body,
                    dedupe_key=f"digest:{user_id}:{day.isoformat()}", created_at=now,
                    next_attempt_at=now, attempts=0)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(OutboxEmail.id))
        if queued is None:
            return 0  # this day's digest went already: these wait for the next one
        session.execute(
            update(Notification).where(Notification.id.in_([row.id for row in notices]))
            .values(digest_pending=False).execution_options(synchronize_session=False))
    return 1
