"""The stage job: each stage of each thread is announced once, when it opens by its dates."""

import threading
from datetime import timedelta

from sqlalchemy import func, select

from app.db import get_session
from app.discussions import stages
from app.discussions.models import Thread
from app.notifications.models import Notification
from tests.discussions.world import CLOSED_AT, IN_RESPOND, IN_SYNTHESIZE, NOW, discussion


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
    cohort = d.world.cohort_a.name
    for name in ("peer_1", "learner_a", "facilitator_a"):
        assert _titles(db, d.people[name]) == sorted([
            f"Replies are open in {cohort}: “{d.thread.title}”",
            f"Replies are open in {cohort}: “Second question”",
            f"Synthesis is open in {cohort}: “{d.thread.title}”",
            f"Synthesis is open in {cohort}: “Second question”"])
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


def test_schedulers_running_at_once_announce_a_stage_once(own_database):
    """Four stage jobs at the same moment, on a database they really share."""
    app = own_database
    with app.app_context():
        session = get_session()
        d = discussion(session)
        session.commit()
        member_ids = [d.people[name].id for name in ("peer_1", "learner_a", "facilitator_a")]
    barrier = threading.Barrier(4)
    announced: list = [None] * 4

    def run(n: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                announced[n] = stages.announce_due_stages(now=IN_RESPOND)
            except Exception as error:  # a clash must not crash a scheduler
                announced[n] = error

    workers = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(announced) == [0, 0, 0, 1]
    with app.app_context():
        counts = get_session().execute(
            select(Notification.user_id, func.count()).where(
                Notification.kind == "discussion_stage").group_by(Notification.user_id)).all()
    assert {count for _, count in counts} == {1}  # once per person
    assert set(member_ids) <= {user_id for user_id, _ in counts}
