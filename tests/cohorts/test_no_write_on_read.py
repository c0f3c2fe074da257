"""A plain GET does not write in the request: visits and last-active times are written after
the response has been sent, at most every few minutes, and the markers don't wait for them."""

from datetime import timedelta

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from app.cohorts.authoring import add_module, create_program, launch_cohort
from app.cohorts.models import CohortModule, Membership
from app.cohorts.progress import VISIT_INTERVAL, note_activity, note_visit
from app.cohorts.roster import add_member
from app.db import utcnow
from tests.factories import create_user
from tests.http import bearer, token_for

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def course(app, db):
    """A cohort that started three days ago: one module open, one opening later."""
    today = utcnow()
    with db() as session:
        owner = create_user(session, can_own_programs=True)
        learner = create_user(session)
        token = token_for(session, learner)
    with app.app_context():
        program = create_program(owner, title="P", now=today)
        add_module(owner, program.id, title="Open", body="Read *this*.")
        add_module(owner, program.id, title="Later", body="Not yet.", release_offset_days=30)
        cohort = launch_cohort(owner, program.id, name="C",
                               starts_on=(today - timedelta(days=3)).date(),
                               timezone="UTC", anonymity="off", now=today)
        add_member(owner, cohort.id, email=learner.email, role="learner", now=today)
    with db() as session:
        module = session.scalar(select(CohortModule.id).where(CohortModule.position == 0))
    return {"owner": owner, "learner": learner, "token": token, "cohort": cohort.id,
            "module": module}


def _membership(db, course) -> Membership:
    """The learner's membership as stored now."""
    with db() as session:
        return session.scalar(select(Membership).where(
            Membership.cohort_id == course["cohort"],
            Membership.user_id == course["learner"].id))


class Commits:
    """Counts the sessions' commits while listening (savepoint releases are not commits)."""

    def __init__(self):
        """Nothing counted yet."""
        self.count = 0

    def __call__(self, session):
        """The ``after_commit`` listener."""
        if not session.in_nested_transaction():
            self.count += 1


@pytest.fixture
def commits():
    """Counts commits of any session during the test."""
    counter = Commits()
    event.listen(Session, "after_commit", counter)
    yield counter
    event.remove(Session, "after_commit", counter)


def _get_unclosed(client, query_counter, commits, path, **kwargs):
    """GET a page without closing the response (as a server before the body is sent):
    the statements and commits made so far."""
    commits.count = 0
    with query_counter.counting():
        response = client.get(path, buffered=False, **kwargs)
        body = response.get_data(as_text=True)
    assert response.status_code == 200, body[:300]
    return response, [s for s in query_counter.statements if s.lstrip().startswith(WRITES)]


def test_the_cohort_page_writes_the_visit_only_after_the_response(
        app, db, client, login, course, query_counter, commits):
    login(client, course["learner"])
    response, writes = _get_unclosed(client, query_counter, commits, f"/cohorts/{course['cohort']}")
    assert writes == [] and commits.count == 0
    assert _membership(db, course).last_visit_at is None
    response.close()  # the server has sent the body
    stored = _membership(db, course)
    assert stored.last_visit_at is not None
    assert stored.last_active_at == stored.last_visit_at


@pytest.mark.parametrize("page", ["module page", "cohort API", "modules API"])
def test_module_pages_and_the_api_write_activity_only_after_the_response(
        app, db, client, login, course, query_counter, commits, page):
    login(client, course["learner"])
    path, headers = {
        "module page": (f"/cohorts/{course['cohort']}/modules/{course['module']}", {}),
        "cohort API": (f"/api/v1/cohorts/{course['cohort']}", bearer(course["token"])),
        "modules API": (f"/api/v1/cohorts/{course['cohort']}/modules", bearer(course["token"])),
    }[page]
    response, writes = _get_unclosed(client, query_counter, commits, path, headers=headers)
    assert writes == [] and commits.count == 0
    assert _membership(db, course).last_active_at is None
    response.close()
    assert _membership(db, course).last_active_at is not None


def test_a_reload_within_the_interval_writes_nothing_at_all(
        app, db, client, login, course, query_counter, commits):
    login(client, course["learner"])
    path = f"/cohorts/{course['cohort']}"
    client.get(path)
    first = _membership(db, course).last_visit_at
    response, _ = _get_unclosed(client, query_counter, commits, path)
    response.close()
    assert [s for s in query_counter.statements if s.lstrip().startswith(WRITES)] == []
    assert commits.count == 0
    assert _membership(db, course).last_visit_at == first


def test_new_markers_show_before_the_visit_is_written(app, db, client, login, course):
    earlier = utcnow() - timedelta(days=4)
    with db() as session:  # the last visit was in another sitting, before the module opened
        session.execute(update(Membership).where(Membership.user_id == course["learner"].id)
                        .values(last_visit_at=earlier))
    login(client, course["learner"])
    path = f"/cohorts/{course['cohort']}"
    response = client.get(path, buffered=False)
    assert response.get_data(as_text=True).count("marker-new") == 1  # not written yet
    response.close()
    assert client.get(path).get_data(as_text=True).count("marker-new") == 1  # same sitting
    stored = _membership(db, course)
    assert stored.previous_visit_at == earlier


def test_the_services_queue_nothing_when_nothing_is_due(app, db, course, monkeypatch):
    queued = []
    monkeypatch.setattr("app.cohorts.progress.after_response", queued.append)
    from app.cohorts.access import get_cohort_for

    now = utcnow()
    with db() as session:
        session.execute(update(Membership).values(last_visit_at=now, last_active_at=now))
    with app.app_context():
        access = get_cohort_for(course["learner"], course["cohort"])
        note_visit(access, now + VISIT_INTERVAL - timedelta(seconds=1))
        note_activity(access, now + timedelta(minutes=59))
        assert queued == []
        note_visit(access, now + VISIT_INTERVAL)
        note_activity(access, now + timedelta(hours=1))
        assert len(queued) == 2
        owner_access = get_cohort_for(course["owner"], course["cohort"])
        note_visit(owner_access, now + timedelta(days=1))
        note_activity(owner_access, now + timedelta(days=1))
        assert len(queued) == 2  # the program's owner has no membership to write to
