"""The iCalendar (RFC 5545) document of a personal calendar feed: pure building, no rules.

Who gets which events, and what an event may say, is decided in ``services``; this file
only turns events into the text calendar apps read. Escaping and line folding are the
``icalendar`` library's, imported when a feed is first built: it and its dependencies
weigh a few megabytes that web workers serving pages need not hold.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

PRODUCT_ID = "-//Cohort Commons//Calendar feed//EN"
#: Releases and due dates are moments; a short block shows them in every calendar app.
EVENT_LENGTH = timedelta(minutes=15)
#: How often subscribed apps are asked to check for changes (a hint; apps decide).
REFRESH = timedelta(hours=1)


@dataclass(frozen=True)
class CalendarEvent:
    """One entry of a feed."""

    #: Stable across fetches, so apps update an entry instead of adding a copy.
    uid: str
    start: datetime
    summary: str
    description: str
    url: str


def build_calendar(events: list[CalendarEvent], *, name: str, now: datetime) -> bytes:
    """The feed as iCalendar text (UTF-8), events in the given order, times in UTC."""
    from icalendar import Calendar, Event, vDuration

    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    stamp = now.astimezone(UTC)
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", item.start.astimezone(UTC))
        event.add("dtend", item.start.astimezone(UTC) + EVENT_LENGTH)
        event.add("summary", item.summary)
        event.add("description", item.description)
        event.add("url", item.url)
        event.add("transp", "TRANSPARENT")  # a reminder, not time the person is busy
        calendar.add_component(event)
    return calendar.to_ical()
