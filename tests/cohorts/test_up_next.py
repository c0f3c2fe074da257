"""Home leads with each learner cohort's "Up next", and "this week" comes grouped by day."""

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from app.cohorts.parts import Link
from app.cohorts.progress import by_day, complete_module, plan_home, start_of_day
from app.db import utcnow
from app.discussions.posting import create_post
from app.peer_review.submitting import submit_work
from tests.cohorts.fake_parts import provide_parts
from tests.cohorts.test_progress import RELEASES, launch
from tests.discussions.world import discussion, live_release
from tests.peer_review.world import practice


@pytest.fixture
def fake_parts():
    """A provider of threads and assignments for the test's modules."""
    with provide_parts() as provider:
        yield provider


def _step(app, user, cohort_id, now):
    with app.app_context():
        return plan_home(user, now).up_next[cohort_id]


# --- the rule, through the service -------------------------------------------------------------

def test_up_next_walks_the_open_modules_in_order(app, db, fake_parts):
    c = launch(app, db)  # weeks 1-3 open on 2, 9 and 16 March
    m1, m2, m3 = c.modules
    now = RELEASES[1] + timedelta(hours=1)  # weeks 1 and 2 are open
    step = _step(app, c.learner, c.id, now)
    assert (step.kind, step.module.id, step.action) == ("continue", m1.id, "Continue")

    with app.app_context():
        complete_module(c.learner, c.id, m1.id, now)
    assert _step(app, c.learner, c.id, now).module.id == m2.id

    # A part that asks for something comes first, even in a module marked complete.
    thread = fake_parts.add(m1, "thread", "What changed?", todo="Post your reflection")
    step = _step(app, c.learner, c.id, now)
    assert (step.kind, step.module.id, step.part.id) == ("todo", m1.id, thread.id)
    assert step.action == "Post your reflection"

    fake_parts.parts.clear()
    with app.app_context():
        complete_module(c.learner, c.id, m2.id, now)
    step = _step(app, c.learner, c.id, now)
    assert (step.kind, step.module.id) == ("waiting", m3.id)  # up to date: week 3 next

    later = RELEASES[2] + timedelta(hours=1)
    with app.app_context():
        complete_module(c.learner, c.id, m3.id, later)
    assert _step(app, c.learner, c.id, later).kind == "finished"


def test_parts_of_unreleased_modules_never_lead(app, db, fake_parts):
    c = launch(app, db)
    fake_parts.add(c.modules[2], "assignment", "Future task", todo="Submit your work")
    step = _step(app, c.learner, c.id, RELEASES[0] + timedelta(hours=1))
    assert (step.kind, step.module.id) == ("continue", c.modules[0].id)


def test_only_learner_cohorts_get_a_next_step(app, db):
    c = launch(app, db)
    with app.app_context():
        assert plan_home(c.facilitator, RELEASES[1]).up_next == {}
        assert plan_home(c.outsider, RELEASES[1]).up_next == {}


# --- the real features' calls to action --------------------------------------------------------

def test_a_discussion_asks_for_the_reflection_until_it_is_posted(app, db):
    with db() as session:
        world = discussion(session, released_at=live_release())
    learner = world.people["learner_a"]
    cohort_id = world.thread.cohort_id
    step = _step(app, learner, cohort_id, utcnow())
    assert (step.kind, step.part.id, step.action) == ("todo", world.thread.id,
                                                      "Post your reflection")
    with app.app_context():
        create_post(learner, world.thread.id, body="It changed how I listen.", now=utcnow())
    step = _step(app, learner, cohort_id, utcnow())
    assert (step.kind, step.module.id) == ("continue", world.thread.cohort_module_id)


def test_an_assignment_asks_for_the_work_then_for_the_reviews(app, db):
    with db() as session:
        world = practice(session, released_at=live_release())
    learner = world.people["learner_a"]
    cohort_id = world.world.cohort_a.id
    step = _step(app, learner, cohort_id, utcnow())
    assert (step.kind, step.part.id, step.action) == ("todo", world.assignment.id,
                                                      "Submit your work")
    with app.app_context():
        submit_work(learner, world.assignment.id, body="My draft.", now=utcnow())
    step = _step(app, learner, cohort_id, utcnow())
    assert (step.kind, step.action) == ("todo", "Review a peer's work")


# --- through the pages ---------------------------------------------------------------------

def test_home_leads_with_the_call_to_action(app, db, client, login, fake_parts):
    today = utcnow()
    c = launch(app, db, offsets=(0, 30), starts_on=(today - timedelta(days=2)).date(),
               timezone="UTC", launched_at=today - timedelta(days=3))
    login(client, c.learner)
    page = client.get("/").get_data(as_text=True)
    up_next = page.index('id="up-next-heading"')
    assert up_next < page.index('id="week-heading"') < page.index('id="learning-heading"')
    assert re.search(rf'<a role="button" href="/cohorts/{c.id}/modules/{c.modules[0].id}">'
                     r"Continue: Week 1</a>", page)

    fake_parts.add(c.modules[0], "thread", "What changed?", todo="Post your reflection",
                   link=Link.to("cohorts.cohort", cohort_id=c.id))
    page = client.get("/").get_data(as_text=True)
    assert f'<a role="button" href="/cohorts/{c.id}">Post your reflection: What changed?</a>' \
        in page

    fake_parts.parts.clear()
    with app.app_context():
        complete_module(c.learner, c.id, c.modules[0].id, utcnow())
    page = client.get("/").get_data(as_text=True)
    assert "You are up to date. <strong>Week 2</strong> opens" in page


def test_staff_homes_have_no_up_next(app, db, client, login):
    c = launch(app, db)
    login(client, c.facilitator)
    assert "Up next" not in client.get("/").get_data(as_text=True)


# --- this week, by day ---------------------------------------------------------------------

def _item(at):
    return SimpleNamespace(at=at)


def test_items_are_grouped_by_the_viewers_day():
    now = datetime(2026, 3, 9, 21, 0, tzinfo=UTC)  # 22:00 in Berlin, a Monday
    items = [_item(now + timedelta(minutes=30)),   # 22:30 Berlin: today
             _item(now + timedelta(hours=2)),      # 00:00 Berlin on Tuesday: tomorrow
             _item(now + timedelta(hours=25)),     # 23:00 Berlin on Tuesday
             _item(now + timedelta(days=3))]       # Thursday
    berlin = by_day(items, now, "Europe/Berlin")
    assert [(d.label, len(d.items)) for d in berlin] == [
        ("Today", 1), ("Tomorrow", 2), ("Thursday 12 March", 1)]
    # In UTC the first two fall on Monday evening.
    assert [d.label for d in by_day(items, now, "UTC")] == ["Today", "Tomorrow",
                                                            "Thursday 12 March"]
    assert [len(d.items) for d in by_day(items, now, "UTC")] == [2, 1, 1]
    assert start_of_day(now, "Asia/Tokyo").isoformat() == "2026-03-10T00:00:00+09:00"


def test_the_home_page_shows_this_week_day_by_day_with_times(app, db, client, login,
                                                              fake_parts):
    today = utcnow()
    c = launch(app, db, offsets=(0, 30), starts_on=(today - timedelta(days=2)).date(),
               timezone="UTC", launched_at=today - timedelta(days=3))
    fake_parts.add(c.modules[0], "assignment", "Write a note",
                   dates=(("Submissions due", today + timedelta(days=1, minutes=5)),))
    fake_parts.add(c.modules[0], "assignment", "Old note",
                   dates=(("Submissions due", today - timedelta(days=1)),))
    login(client, c.learner)
    page = client.get("/").get_data(as_text=True)
    week = page[page.index('id="week-heading"'):page.index('id="learning-heading"')]
    assert ">Tomorrow <small>" in week
    due = today + timedelta(days=1, minutes=5)
    assert f'<time datetime="{due.isoformat()}">{due:%H:%M} UTC</time>' in week
    assert "Old note" not in week  # past: not part of the coming week
