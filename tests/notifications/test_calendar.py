"""The private calendar feed: secrets stored as hashes, revocation, what events say, who
sees which, and the HTTP, API and settings-page wiring."""

import hashlib
from datetime import UTC, datetime, time, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from app.cohorts.authoring import launch_cohort
from app.cohorts.models import CohortModule
from app.db import utcnow
from app.errors import NotFound
from app.notifications import services
from app.notifications.models import CalendarFeed
from tests.cohorts.fake_parts import provide_parts
from tests.factories import add_member, create_module, create_program, create_user
from tests.http import bearer, token_for

#: Today; the cohort started 8 days ago, so weeks 1 and 2 are open and week 3 opens in 6 days.
NOW = utcnow()
START = (NOW - timedelta(days=8)).date()


@pytest.fixture
def fake_parts():
    """A provider of threads and assignments for the test's modules."""
    with provide_parts() as provider:
        yield provider


def launch(app, db, *, name="Spring", owner=None, starts_on=START):
    """A Berlin cohort with weekly modules (09:00 local), a learner and a facilitator."""
    with db() as session:
        owner = owner or create_user(session, can_own_programs=True)
        program = create_program(session, owner=owner, title=f"{name} program")
        for n in range(3):
            create_module(session, program, title=f"{name} week {n + 1}",
                          body=f"{name} secret body {n + 1}", release_offset_days=7 * n)
    with app.app_context():
        cohort = launch_cohort(owner, program.id, name=name, starts_on=starts_on,
                               timezone="Europe/Berlin", anonymity="peers",
                               now=NOW - timedelta(days=10))
    with db() as session:
        learner = add_member(session, cohort).user
        facilitator = add_member(session, cohort, role="facilitator").user
        modules = session.scalars(select(CohortModule).where(
            CohortModule.cohort_id == cohort.id).order_by(CohortModule.position)).all()
    return {"cohort": cohort, "owner": owner, "learner": learner, "facilitator": facilitator,
            "modules": list(modules)}


@pytest.fixture
def spring(app, db, fake_parts):
    """A cohort whose week 1 has an assignment and week 3 (unreleased) a secret thread."""
    c = launch(app, db)
    week1, _, week3 = c["modules"]
    fake_parts.add(week1, "assignment", "Practice feedback",
                   dates=(("Submissions due", SUBMISSIONS_DUE), ("Reviews due", REVIEWS_DUE)),
                   due_at=SUBMISSIONS_DUE)
    fake_parts.add(week3, "thread", "Secret thread", body="Secret thread body",
                   dates=(("Closes", week3.release_at + timedelta(days=7)),))
    return c


SUBMISSIONS_DUE = datetime.combine(START + timedelta(days=7), time(17), tzinfo=UTC)
REVIEWS_DUE = SUBMISSIONS_DUE + timedelta(days=4)


def events_of(ics: bytes) -> dict[str, dict]:
    """Parse a feed with the icalendar library: UID → the event's fields."""
    calendar = Calendar.from_ical(ics)
    return {str(e["uid"]): {"start": e.decoded("dtstart"), "summary": str(e["summary"]),
                            "description": str(e["description"]), "url": str(e["url"])}
            for e in calendar.walk("VEVENT")}


def feed_for(app, user, now=NOW) -> str:
    """Turn on a user's feed and return its secret."""
    with app.app_context():
        return services.create_calendar_feed(user, now)


# --- services ------------------------------------------------------------------------------------

def test_only_a_hash_of_the_secret_is_stored(app, db, spring):
    secret = feed_for(app, spring["learner"])
    with db() as session:
        feed = session.scalar(select(CalendarFeed))
        assert feed.user_id == spring["learner"].id
        assert feed.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in (feed.token_hash,)
    assert len(secret) >= 40


def test_a_new_secret_invalidates_the_old_one_and_revoking_ends_both(app, db, spring):
    old = feed_for(app, spring["learner"])
    new = feed_for(app, spring["learner"])
    with app.app_context():
        with pytest.raises(NotFound):
            services.calendar_for_token(old, NOW)
        assert services.calendar_for_token(new, NOW)
        assert services.revoke_calendar_feed(spring["learner"]) is True
        assert services.revoke_calendar_feed(spring["learner"]) is False
        for secret in (old, new, "", "not-a-secret"):
            with pytest.raises(NotFound):
                services.calendar_for_token(secret, NOW)


def test_a_learner_gets_releases_and_due_dates_with_stable_uids(app, spring):
    secret = feed_for(app, spring["learner"])
    with app.app_context():
        first = services.calendar_for_token(secret, NOW)
        second = services.calendar_for_token(secret, NOW + timedelta(hours=2))
    assert [e.uid for e in first] == [e.uid for e in second]
    week1, week2, week3 = spring["modules"]
    uids = {e.uid for e in first}
    releases = {f"release-{m.id}@localhost" for m in (week1, week2, week3)}
    assert releases <= uids
    dues = sorted(uid.split("-", 2)[2] for uid in uids - releases)
    assert dues == ["reviews-due@localhost", "submissions-due@localhost"]
    assert all(uid.startswith("assignment-") for uid in uids - releases)


def test_the_feed_parses_back_with_times_in_utc_and_safe_descriptions(app, client, spring):
    secret = feed_for(app, spring["learner"])
    response = client.get(f"/calendar/{secret}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"].startswith("private")
    events = events_of(response.data)
    week1, week2, week3 = spring["modules"]
    release = events[f"release-{week3.id}@localhost"]
    assert week3.release_at > utcnow()
    assert release["start"] == week3.release_at
    assert release["start"].utcoffset() == timedelta(0)
    assert release["summary"] == "Module opens: Spring week 3 (Spring)"
    assert release["url"] == f"http://localhost/cohorts/{spring['cohort'].id}/modules/{week3.id}"
    due = [e for uid, e in events.items() if uid.startswith("assignment-")]
    assert sorted((e["summary"], e["start"]) for e in due) == [
        ("Reviews due: Practice feedback (Spring)", REVIEWS_DUE),
        ("Submissions due: Practice feedback (Spring)", SUBMISSIONS_DUE),
    ]
    text = response.get_data(as_text=True)
    # Before release a learner gets no content, threads or assignments — nor any body text.
    for secret_text in ("secret body", "Secret thread"):
        assert secret_text not in text
    assert f"DTSTART:{week3.release_at:%Y%m%dT%H%M%S}Z".encode() in response.data


def test_staff_and_owners_get_parts_of_unreleased_modules_too(app, spring):
    for role in ("facilitator", "owner"):
        secret = feed_for(app, spring[role])
        with app.app_context():
            summaries = [e.summary for e in services.calendar_for_token(secret, NOW)]
        assert "Closes: Secret thread (Spring)" in summaries, role
        assert not any("secret body" in s for s in summaries)


def test_another_users_cohorts_never_appear(app, db, spring):
    autumn = launch(app, db, name="Autumn")
    mine = feed_for(app, spring["learner"])
    theirs = feed_for(app, autumn["learner"])
    with app.app_context():
        my_events = services.calendar_for_token(mine, NOW)
        their_events = services.calendar_for_token(theirs, NOW)
    assert my_events and their_events
    assert not any("Autumn" in e.summary or "Autumn" in e.description for e in my_events)
    assert not any("Spring" in e.summary for e in their_events)


def test_a_disabled_account_has_no_feed(app, db, spring):
    secret = feed_for(app, spring["learner"])
    with db() as session:
        session.merge(spring["learner"]).is_disabled = True
    with app.app_context(), pytest.raises(NotFound):
        services.calendar_for_token(secret, NOW)


def test_fetching_records_when_at_most_hourly(app, db, spring):
    secret = feed_for(app, spring["learner"])
    with app.app_context():
        services.calendar_for_token(secret, NOW)
        services.calendar_for_token(secret, NOW + timedelta(minutes=30))
    with db() as session:
        assert session.scalar(select(CalendarFeed.last_fetched_at)) == NOW


# --- HTTP --------------------------------------------------------------------------------------

def test_unknown_and_revoked_addresses_are_404(app, client, spring):
    secret = feed_for(app, spring["learner"])
    assert client.get(f"/calendar/{secret}.ics").status_code == 200
    feed_for(app, spring["learner"])
    assert client.get(f"/calendar/{secret}.ics").status_code == 404
    assert client.get("/calendar/nothing-here.ics").status_code == 404


class TestRateLimit:
    """Each address is limited; another address is not affected."""

    @pytest.fixture
    def config_overrides(self):
        return {"CALENDAR_RATE_LIMIT": "2 per minute"}

    def test_a_feed_address_is_rate_limited(self, app, client, spring):
        secret = feed_for(app, spring["learner"])
        statuses = [client.get(f"/calendar/{secret}.ics").status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        other = feed_for(app, spring["facilitator"])
        assert client.get(f"/calendar/{other}.ics").status_code == 200


def test_the_settings_page_shows_the_address_once_and_turns_it_off(app, db, client, login,
                                                                   spring):
    login(client, spring["learner"])
    page = client.get("/settings/calendar").get_data(as_text=True)
    assert "Your feed is off" in page and "Google Calendar" in page and "Outlook" in page
    assert 'href="/settings/calendar"' in client.get("/settings").get_data(as_text=True)
    assert 'href="/settings/calendar"' in client.get("/").get_data(as_text=True)
    created = client.post_form("/settings/calendar", {"action": "create"})
    text = created.get_data(as_text=True)
    assert created.status_code == 200 and "shown only this once" in text
    url = text.split('id="feed-url" class="feed-url" type="text" value="', 1)[1].split('"', 1)[0]
    assert url.startswith("http://localhost/calendar/") and url.endswith(".ics")
    assert "webcal://localhost/calendar/" in text
    path = url.removeprefix("http://localhost")
    assert app.test_client().get(path).status_code == 200
    again = client.get("/settings/calendar").get_data(as_text=True)
    assert url not in again and "Your feed is on" in again
    off = client.post_form("/settings/calendar", {"action": "revoke"}, follow_redirects=True)
    assert "Calendar feed turned off" in off.get_data(as_text=True)
    assert app.test_client().get(path).status_code == 404
    with db() as session:
        assert session.scalar(select(CalendarFeed)) is None


def test_the_settings_page_needs_sign_in_and_csrf(client, spring):
    assert client.get("/settings/calendar").status_code == 302
    assert client.post("/settings/calendar", data={"action": "create"}).status_code in (302,
                                                                                          400)


# --- API ---------------------------------------------------------------------------------------

ROLES = ("learner", "facilitator", "owner", "admin", "outsider")


@pytest.mark.parametrize("role", ROLES)
def test_every_signed_in_person_manages_their_own_feed_through_the_api(
        app, call, client, db, spring, role):
    with db() as session:
        people = {**spring, "admin": create_user(session, is_admin=True),
                  "outsider": create_user(session)}
        headers = bearer(token_for(session, people[role]))
    created = call(client, "POST", "/api/v1/calendar-feed", headers=headers)
    assert created.status_code == 201
    body = created.get_json()
    assert body["url"].startswith("http://localhost/calendar/")
    assert body["webcal_url"] == body["url"].replace("http://", "webcal://", 1)
    path = body["url"].removeprefix("http://localhost")
    feed = client.get(path)
    assert feed.status_code == 200
    has_cohort_events = role in ("learner", "facilitator", "owner")
    assert bool(events_of(feed.data)) == has_cohort_events
    assert call(client, "DELETE", "/api/v1/calendar-feed", headers=headers).status_code == 204
    assert call(client, "DELETE", "/api/v1/calendar-feed", headers=headers).status_code == 204
    assert client.get(path).status_code == 404


def test_anonymous_callers_get_401_and_cookie_writes_need_csrf(call, client, login, spring):
    assert call(client, "POST", "/api/v1/calendar-feed").status_code == 401
    assert call(client, "DELETE", "/api/v1/calendar-feed").status_code == 401
    login(client, spring["learner"])
    assert call(client, "POST", "/api/v1/calendar-feed").status_code == 400
    token = client.csrf_token("/")
    assert call(client, "POST", "/api/v1/calendar-feed",
                headers={"X-CSRFToken": token}).status_code == 201


def test_a_feed_created_through_the_api_shows_the_same_events_as_the_service(
        app, call, client, db, spring):
    with db() as session:
        headers = bearer(token_for(session, spring["learner"]))
    url = call(client, "POST", "/api/v1/calendar-feed", headers=headers).get_json()["url"]
    events = events_of(client.get(url.removeprefix("http://localhost")).data)
    now = utcnow()
    with app.app_context():
        expected = {e.uid for e in services.calendar_events(spring["learner"], now)}
    assert set(events) == expected


def test_a_feed_costs_the_same_for_1_or_3_cohorts(app, db, client, fake_parts, query_counter):
    learners = {}
    for count in (1, 3):
        first = launch(app, db, name=f"First of {count}")
        fake_parts.add(first["modules"][0], "thread", f"Thread of {count}",
                       dates=(("Closes", NOW + timedelta(days=2)),))
        for n in range(count - 1):
            extra = launch(app, db, name=f"Extra {n} of {count}")
            fake_parts.add(extra["modules"][0], "assignment", f"Task {n} of {count}",
                           dates=(("Submissions due", NOW + timedelta(days=3)),))
            with db() as session:
                add_member(session, extra["cohort"], first["learner"])
        learners[count] = first["learner"]
    counts = {}
    for count, learner in learners.items():
        path = f"/calendar/{feed_for(app, learner)}.ics"
        client.get(path)  # the first fetch also records when; later ones within the hour don't
        with query_counter.counting() as counter:
            response = client.get(path)
        assert response.status_code == 200
        events = events_of(response.data)
        assert sum("Module opens" in e["summary"] for e in events.values()) == 3 * count
        counts[count] = counter.count
    assert counts[1] == counts[3], counts
    assert fake_parts.calls > 0
