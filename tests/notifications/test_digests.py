"""The daily digest: once per person per local day, at their hour, across daylight saving."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.mail import OutboxEmail
from app.notifications.digests import digest_instant, latest_digest, send_due_digests
from app.notifications.models import Notification
from app.notifications.preferences import set_notification_preferences
from tests.factories import create_user

BERLIN = ZoneInfo("Europe/Berlin")


def utc(*args) -> datetime:
    """A UTC instant."""
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(("day", "hour", "expected"), [
    (date(2027, 3, 27), 8, utc(2027, 3, 27, 7)),   # CET
    (date(2027, 3, 28), 8, utc(2027, 3, 28, 6)),   # CEST from 02:00 that day
    (date(2027, 3, 28), 2, utc(2027, 3, 28, 1)),   # skipped hour: when clocks jump to 03:00
    (date(2027, 10, 31), 2, utc(2027, 10, 31, 0)),  # repeated hour: its first occurrence
    (date(2027, 10, 31), 8, utc(2027, 10, 31, 7)),  # CET again
])
def test_the_digest_moment_in_utc(day, hour, expected):
    assert digest_instant(day, hour, BERLIN) == expected


def test_before_the_hour_the_latest_digest_is_yesterdays():
    assert latest_digest(utc(2027, 3, 28, 0, 59), 2, BERLIN) == (
        date(2027, 3, 27), utc(2027, 3, 27, 1))
    assert latest_digest(utc(2027, 3, 28, 1), 2, BERLIN) == (
        date(2027, 3, 28), utc(2027, 3, 28, 1))


def person(app, db, *, hour: int, zone: str = "Europe/Berlin"):
    """Someone who gets release notices in a digest at ``hour`` local time."""
    with db() as session:
        user = create_user(session, timezone=zone)
    with app.app_context():
        set_notification_preferences(user, kinds={"module_released": "digest"},
                                     digest_hour=hour)
    return user


def notice(db, user, at: datetime, n: int) -> None:
    """A notice waiting for the person's digest, written at ``at``."""
    with db() as session:
        session.add(Notification(user_id=user.id, kind="module_released",
                                 title=f"New module open: Week {n}",
                                 link=f"/cohorts/1/modules/{n}", dedupe_key=f"release:{n}",
                                 created_at=at, digest_pending=True))


def run(app, now: datetime) -> int:
    """The digest job at ``now``."""
    with app.app_context():
        return send_due_digests(now=now)


def digests(db, user) -> list[OutboxEmail]:
    """The person's digest e-mails, oldest first."""
    with db() as session:
        return session.scalars(select(OutboxEmail).where(OutboxEmail.user_id == user.id)
                               .order_by(OutboxEmail.id)).all()


def test_spring_forward_with_the_hour_in_the_skipped_hour(app, db):
    me = person(app, db, hour=2)
    notice(db, me, utc(2027, 3, 27, 20), 1)
    assert run(app, utc(2027, 3, 28, 0, 59)) == 0  # 01:59 CET: not yet
    assert run(app, utc(2027, 3, 28, 1, 0)) == 1  # 03:00 CEST: clocks jumped past 02:00
    assert run(app, utc(2027, 3, 28, 1, 5)) == 0  # the job again: nothing more
    notice(db, me, utc(2027, 3, 28, 9), 2)
    assert run(app, utc(2027, 3, 28, 21)) == 0  # later that day: waits for tomorrow
    assert run(app, utc(2027, 3, 29, 0)) == 1  # 02:00 CEST the next day
    sent = digests(db, me)
    assert [m.dedupe_key for m in sent] == [f"digest:{me.id}:2027-03-28",
                                           f"digest:{me.id}:2027-03-29"]
    assert "Week 1" in sent[0].body_text and "Week 2" not in sent[0].body_text
    assert "http://localhost/cohorts/1/modules/1" in sent[0].body_text
    assert "Week 2" in sent[1].body_text


def test_fall_back_sends_once_though_the_hour_happens_twice(app, db):
    me = person(app, db, hour=2)
    notice(db, me, utc(2027, 10, 30, 20), 1)
    assert run(app, utc(2027, 10, 30, 23, 59)) == 0  # 01:59 CEST
    assert run(app, utc(2027, 10, 31, 0, 0)) == 1  # 02:00 CEST, the first time
    notice(db, me, utc(2027, 10, 31, 0, 30), 2)
    assert run(app, utc(2027, 10, 31, 1, 0)) == 0  # 02:00 CET, the second time
    assert run(app, utc(2027, 10, 31, 1, 30)) == 0
    assert run(app, utc(2027, 11, 1, 1, 0)) == 1  # 02:00 CET the next day
    assert [m.dedupe_key for m in digests(db, me)] == [f"digest:{me.id}:2027-10-31",
                                                      f"digest:{me.id}:2027-11-01"]


def test_a_late_or_repeated_run_sends_one_digest_a_day(app, db):
    me = person(app, db, hour=8)
    other = person(app, db, hour=8, zone="America/New_York")
    notice(db, me, utc(2027, 6, 1, 5), 1)
    notice(db, other, utc(2027, 6, 1, 5), 2)
    late = utc(2027, 6, 1, 15)  # 17:00 in Berlin (the job was down), 11:00 in New York
    assert run(app, late) == 2
    assert run(app, late) == 0
    assert run(app, late + timedelta(hours=1)) == 0
    assert len(digests(db, me)) == 1 and len(digests(db, other)) == 1
    with db() as session:
        assert session.scalars(select(Notification).where(Notification.digest_pending)
                               ).all() == []


def test_nothing_pending_means_no_digest(app, db):
    me = person(app, db, hour=8)
    assert run(app, utc(2027, 6, 1, 12)) == 0
    assert digests(db, me) == []


def test_a_changed_hour_does_not_send_a_second_digest_the_same_day(app, db):
    me = person(app, db, hour=8)
    notice(db, me, utc(2027, 6, 1, 5), 1)
    assert run(app, utc(2027, 6, 1, 6)) == 1  # 08:00 CEST
    notice(db, me, utc(2027, 6, 1, 7), 2)
    with app.app_context():
        set_notification_preferences(me, kinds={}, digest_hour=20)
    assert run(app, utc(2027, 6, 1, 18)) == 0  # 20:00 CEST: today's digest went already
    assert run(app, utc(2027, 6, 2, 18)) == 1
