"""Release schedule maths across time zones and daylight-saving changes."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.cohorts.schedule import is_skipped_local_time, local_release, release_instant

NINE = time(9, 0)
ZONES = ["America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "UTC",
         "America/St_Johns", "Pacific/Chatham", "Europe/London"]


@pytest.mark.parametrize(("zone", "start", "before_utc", "after_utc"), [
    # New York: spring forward 2026-03-08, fall back 2026-11-01.
    ("America/New_York", date(2026, 3, 2), datetime(2026, 3, 2, 14, tzinfo=UTC),
     datetime(2026, 3, 9, 13, tzinfo=UTC)),
    ("America/New_York", date(2026, 10, 26), datetime(2026, 10, 26, 13, tzinfo=UTC),
     datetime(2026, 11, 2, 14, tzinfo=UTC)),
    # Berlin: spring forward 2026-03-29, fall back 2026-10-25.
    ("Europe/Berlin", date(2026, 3, 23), datetime(2026, 3, 23, 8, tzinfo=UTC),
     datetime(2026, 3, 30, 7, tzinfo=UTC)),
    ("Europe/Berlin", date(2026, 10, 19), datetime(2026, 10, 19, 7, tzinfo=UTC),
     datetime(2026, 10, 26, 8, tzinfo=UTC)),
    # Sydney (southern hemisphere): summer time ends 2026-04-05, starts 2026-10-04.
    ("Australia/Sydney", date(2026, 3, 30), datetime(2026, 3, 29, 22, tzinfo=UTC),
     datetime(2026, 4, 5, 23, tzinfo=UTC)),
    ("Australia/Sydney", date(2026, 9, 28), datetime(2026, 9, 27, 23, tzinfo=UTC),
     datetime(2026, 10, 4, 22, tzinfo=UTC)),
])
def test_nine_local_stays_nine_local_across_the_change(zone, start, before_utc, after_utc):
    assert release_instant(start, 0, NINE, zone) == before_utc
    assert release_instant(start, 7, NINE, zone) == after_utc
    for offset in (0, 7):
        local = release_instant(start, offset, NINE, zone).astimezone(ZoneInfo(zone))
        assert (local.hour, local.minute) == (9, 0)


def test_a_start_on_the_31st_counts_days_not_months():
    start = date(2026, 1, 31)
    assert release_instant(start, 0, NINE, "Europe/Berlin") == datetime(2026, 1, 31, 8, tzinfo=UTC)
    # Four weeks on is 28 February, not "the 31st of February".
    assert release_instant(start, 28, NINE, "Europe/Berlin") == datetime(2026, 2, 28, 8, tzinfo=UTC)
    assert release_instant(start, 31, NINE, "Europe/Berlin") == datetime(2026, 3, 3, 8, tzinfo=UTC)


def test_a_skipped_local_time_is_released_an_hour_later_on_the_clock():
    # 02:30 does not exist in New York on 2026-03-08.
    moment = local_release(date(2026, 3, 8), 0, time(2, 30), "America/New_York")
    assert is_skipped_local_time(moment)
    instant = release_instant(date(2026, 3, 8), 0, time(2, 30), "America/New_York")
    assert instant == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert instant.astimezone(ZoneInfo("America/New_York")).hour == 3


def test_a_repeated_local_time_is_released_at_its_first_occurrence():
    # 01:30 happens twice in New York on 2026-11-01: first at 05:30 UTC (EDT).
    instant = release_instant(date(2026, 11, 1), 0, time(1, 30), "America/New_York")
    assert instant == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


@given(
    zone=st.sampled_from(ZONES),
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    offset=st.integers(min_value=0, max_value=400),
    at=st.times(),
)
def test_release_shows_its_local_time_unless_it_falls_in_a_gap(zone, start, offset, at):
    at = at.replace(microsecond=0)
    instant = release_instant(start, offset, at, zone)
    assert instant.tzinfo is UTC
    local = instant.astimezone(ZoneInfo(zone))
    if is_skipped_local_time(local_release(start, offset, at, zone)):
        # Pushed forward by the size of the gap (at most an hour in these zones).
        pushed = datetime.combine(local.date(), local.time()) - datetime.combine(
            start + timedelta(days=offset), at)
        assert timedelta(0) < pushed <= timedelta(hours=1)
    else:
        assert local.date() == start + timedelta(days=offset)
        assert local.time() == at


@given(
    zone=st.sampled_from(ZONES),
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    offsets=st.lists(st.integers(min_value=0, max_value=400), min_size=2, max_size=6),
)
def test_later_offsets_never_release_earlier(zone, start, offsets):
    instants = [release_instant(start, offset, NINE, zone) for offset in sorted(offsets)]
    assert instants == sorted(instants)
