"""The stage job: each stage of each thread is announced once, when it opens by its dates."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.discussions import live, stages
from app.discussions.models import Thread
from app.notifications.models import Notification
from tests.discussions.world import CLOSED_AT, IN_RESPOND, IN_SYNTHESIZE, NOW, discussion


@pytest.fixture
def d(db):
    with db() as session:
        return discussion(session)


@pytest.fixture
def events(monkeypatch):
    """Live events queued by the discussion services: (event, payload, room)."""
    sent = []
    monkeypatch.setattr(live, "notify", lambda event, payload, room: sent.append(
        (event, payload, room)))
    return sent


def _titles(db, user):
    with db() as session:
        return sorted(session.scalars(select(Notification.title).where(
            Notification.user_id == user.id, Notification.kind == "discussion_stage")))


def test_the_stage_job_announces_each_stage_exactly_once(app, db, d, events):
    with db() as session:
        second = Thread(cohort_id=d.thread.cohort_id, cohort_module_id=d.thread.cohort_module_id,
                        position=1, title="Second question", body="?", body_html="<p>?</p>")
        session.add(second)
    with app.app_context():
        assert stages.announce_due_stages(now=NOW) == 0  # still reflecting
        assert stages.announce_due_stages(now=IN_RESPOND) == 2
        assert stages.announce_due_stages(now=IN_RESPOND) == 0
        assert stages.announce_due_stages(now=IN_SYNTHESIZE) == 2
        assert stages.announce_due_stages(now=IN_SYNTHESIZE + timedelta(hours=1)) == 0
    for name in ("peer_1", "learner_a", "facilitator_a"):
        assert _titles(db, d.people[name]) == sorted([f"Replies are open in “{d.thread.title}”",
                                 "Replies are open in “Second question”",
                                 f"Synthesis is open in “{d.thread.title}”",
                                 "Synthesis is open in “Second question”"])
    stage_events = [(p["thread_id"], p["stage"]) for e, p, room in events
                    if e == "thread_stage_changed" and room.endswith(":readers")]
    assert sorted(stage_events) == sorted([(d.thread.id, "respond"), (second.id, "respond"),
                                           (d.thread.id, "synthesize"),
                                           (second.id, "synthesize")])
    with db() as session:
        assert session.get(Thread, d.future_thread.id).announced_stage == 0


def test_a_stage_long_past_is_marked_without_a_notice(app, db, d):
    with app.app_context():
        assert stages.announce_due_stages(now=CLOSED_AT + timedelta(days=30)) == 0
        assert stages.announce_due_stages(now=CLOSED_AT + timedelta(days=31)) == 0
    with db() as session:
        assert session.get(Thread, d.thread.id).announced_stage == 3
    assert _titles(db, d.people["peer_1"]) == []
