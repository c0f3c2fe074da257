"""Release schedule maths: module offsets and local times to UTC instants.

A module is released ``release_offset_days`` after the cohort's start date, at its local
``release_time`` in the cohort's IANA time zone. The local wall-clock time is what stays
fixed: a 09:00 release is at 09:00 local before and after a daylight-saving change, so
its UTC instant moves by an hour across the change.

Two local times need a rule:
- a time that does not exist (skipped by a spring-forward change, e.g. 02:30 in New
  York on the second Sunday of March) is released at the same moment as the first
  valid time after the gap plus the same offset into it (02:30 → 03:30 local);
- a time that happens twice (autumn fall-back, e.g. 01:30) is released at its first
  occurrence.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

#: How far from now a cohort may start or a release be moved (module offsets add at most
#: another ten years): beyond it a date is a typo, and near year 9999 it is not a date at all.
SCHEDULE_SPAN = timedelta(days=3650)


def local_release(starts_on: date, offset_days: int, release_time: time, zone: str) -> datetime:
    """The local wall-clock moment of a release, as an aware datetime in the cohort's zone."""
    day = starts_on + timedelta(days=offset_days)
    return datetime.combine(day, release_time, tzinfo=ZoneInfo(zone)).replace(fold=0)


def release_instant(starts_on: date, offset_days: int, release_time: time, zone: str) -> datetime:
    """The UTC instant a module is released (see the module docstring for gaps and folds)."""
    return local_release(starts_on, offset_days, release_time, zone).astimezone(UTC)


def is_skipped_local_time(moment: datetime) -> bool:
    """True when a local time falls in a daylight-saving gap (it never shows on a clock)."""
    round_trip = moment.astimezone(UTC).astimezone(moment.tzinfo)
    return round_trip.replace(tzinfo=None) != moment.replace(tzinfo=None)


def days_after(instant: datetime, days: int, zone: str) -> datetime:
    """The same local wall-clock time ``days`` calendar days after ``instant``, in UTC.

    Due dates count in local days, so "7 days after a 09:00 release" is 09:00 local a week
    later even across a daylight-saving change (same gap and fold rules as releases).
    """
    local = instant.astimezone(ZoneInfo(zone))
    return release_instant(local.date(), days, local.time().replace(tzinfo=None), zone)
