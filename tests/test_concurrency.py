"""Concurrent writes: 16 requests at once on one program or cohort, and not one 5xx.

These need real concurrency, so each test gets a database of its own that many
connections share (a SQLite file, or a PostgreSQL schema), rather than the rolled-back
transaction the other tests run in. Requests go through the app in 16 threads released
together by a barrier, each with its own test client, as 16 browsers or scripts would.
"""

import io
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from app.accounts.tokens import issue_api_token
from app.cohorts.models import Cohort, Membership, Module
from app.db import get_session, utcnow
from app.discussions.models import Prompt
from app.peer_review.models import Assignment
from tests.factories import create_cohort, create_module, create_program, create_user

THREADS = 16


@pytest.fixture
def world(own_database) -> dict:
    """An owner's program with one module and a cohort with a facilitator; their tokens."""
    with own_database.app_context():
        session = get_session()
        owner = create_user(session, can_own_programs=True)
        program = create_program(session, owner=owner)
        module = create_module(session, program)
        cohort = create_cohort(session, program=program)
        facilitator = create_user(session)
        session.add(Membership(cohort_id=cohort.id, user_id=facilitator.id, role="facilitator"))
        session.commit()
        tokens = {name: issue_api_token(user, name="load", now=utcnow())[1]
                  for name, user in (("owner", owner), ("facilitator", facilitator))}
        return {"program": program.id, "module": module.id, "cohort": cohort.id,
                "tokens": tokens}


def at_once(app, request: Callable) -> list:
    """Run ``request(client, n)`` in THREADS threads released together; their responses."""
    barrier = threading.Barrier(THREADS)
    responses: list = [None] * THREADS

    def run(n: int) -> None:
        client = app.test_client()
        barrier.wait()
        try:
            responses[n] = request(client, n)
        except Exception as error:  # a crash in the app is a server error too
            responses[n] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def statuses(responses: list) -> Counter:
    """How many responses had each status (exceptions count as 500)."""
    return Counter(500 if isinstance(r, Exception) else r.status_code for r in responses)


def bearer(secret: str) -> dict:
    """The Authorization header of a token."""
    return {"Authorization": f"Bearer {secret}"}


def positions(app, model, parent_column, parent_id) -> list[int]:
    """The stored positions under one parent, in order."""
    with app.app_context():
        return list(get_session().scalars(
            select(model.position).where(parent_column == parent_id).order_by(model.position)))


def test_16_modules_added_at_once_all_get_their_own_place(own_database, world):
    headers = bearer(world["tokens"]["owner"])
    responses = at_once(own_database, lambda client, n: client.post(
        f"/api/v1/programs/{world['program']}/modules", json={"title": f"Parallel {n}"},
        headers=headers))
    assert statuses(responses) == {201: THREADS}, [
        r if isinstance(r, Exception) else r.get_json() for r in responses]
    assert positions(own_database, Module, Module.program_id, world["program"]) == list(
        range(THREADS + 1))


def test_16_prompts_added_at_once_all_get_their_own_place(own_database, world):
    headers = bearer(world["tokens"]["owner"])
    responses = at_once(own_database, lambda client, n: client.post(
        f"/api/v1/modules/{world['module']}/prompts", json={"title": f"Reflect {n}"},
        headers=headers))
    assert statuses(responses) == {201: THREADS}
    assert positions(own_database, Prompt, Prompt.module_id, world["module"]) == list(
        range(THREADS))


def test_16_assignments_added_at_once_all_get_their_own_place(own_database, world):
    headers = bearer(world["tokens"]["owner"])
    rubric = [{"criterion": "Clear", "levels": [{"label": "No", "points": 0},
                                               {"label": "Yes", "points": 1}]}]
    responses = at_once(own_database, lambda client, n: client.post(
        f"/api/v1/modules/{world['module']}/assignments",
        json={"title": f"Practise {n}", "instructions": "", "rubric": rubric,
              "reviews_required": 1, "submit_days": 3, "review_days": 2}, headers=headers))
    assert statuses(responses) == {201: THREADS}
    assert positions(own_database, Assignment, Assignment.module_id, world["module"]) == list(
        range(THREADS))


def test_modules_added_while_others_move_keep_positions_whole(own_database, world):
    headers = bearer(world["tokens"]["owner"])

    def add_or_move(client, n):
        if n % 2:
            return client.post(f"/api/v1/programs/{world['program']}/modules",
                               json={"title": f"Added {n}"}, headers=headers)
        return client.patch(f"/api/v1/modules/{world['module']}", json={"position": 0},
                            headers=headers)

    responses = at_once(own_database, add_or_move)
    assert set(statuses(responses)) <= {200, 201}, statuses(responses)
    assert positions(own_database, Module, Module.program_id, world["program"]) == list(
        range(THREADS // 2 + 1))


def test_16_edits_of_a_programs_goals_at_once_leave_one_whole_list(own_database, world):
    headers = bearer(world["tokens"]["owner"])
    responses = at_once(own_database, lambda client, n: client.patch(
        f"/api/v1/programs/{world['program']}",
        json={"goals": [f"Goal {n}.{k}" for k in range(n % 4 + 1)] + ["Shared"]},
        headers=headers))
    assert statuses(responses) == {200: THREADS}
    with own_database.app_context():
        from app.cohorts.models import ProgramGoal
        stored = get_session().scalars(select(ProgramGoal).where(
            ProgramGoal.program_id == world["program"]).order_by(ProgramGoal.position)).all()
    assert [goal.position for goal in stored] == list(range(len(stored)))
    assert stored[-1].text == "Shared"
    assert len({goal.text.split(".")[0] for goal in stored[:-1]}) == 1  # one edit's list


def test_the_same_new_person_added_16_times_at_once_is_enrolled_once(own_database, world):
    headers = bearer(world["tokens"]["facilitator"])
    responses = at_once(own_database, lambda client, n: client.post(
        f"/api/v1/cohorts/{world['cohort']}/members",
        json={"email": "newcomer@example.com", "role": "learner"}, headers=headers))
    assert statuses(responses) == {201: 1, 409: THREADS - 1}
    for response in responses:
        if response.status_code == 409:
            assert response.get_json()["error"]["code"] == "already_member"
    with own_database.app_context():
        assert get_session().scalar(select(func.count()).select_from(Membership).where(
            Membership.cohort_id == world["cohort"])) == 2


def test_the_same_person_added_to_16_cohorts_at_once_gets_one_account(own_database, world):
    with own_database.app_context():
        session = get_session()
        program = session.get(Module, world["module"]).program
        cohorts = [create_cohort(session, program=program).id for _ in range(THREADS)]
        session.commit()
    headers = bearer(world["tokens"]["owner"])
    responses = at_once(own_database, lambda client, n: client.post(
        f"/api/v1/cohorts/{cohorts[n]}/members",
        json={"email": "everywhere@example.com", "role": "learner"}, headers=headers))
    assert statuses(responses) == {201: THREADS}
    with own_database.app_context():
        session = get_session()
        from app.accounts.models import User
        assert session.scalar(select(func.count()).select_from(User).where(
            User.email == "everywhere@example.com")) == 1


def test_the_same_csv_imported_16_times_at_once_enrols_everyone_once(own_database, world):
    headers = bearer(world["tokens"]["facilitator"])
    csv = "email,name,role\n" + "".join(f"person{n}@example.com,Person {n},\n"
                                        for n in range(20))
    responses = at_once(own_database, lambda client, n: client.post(
        f"/api/v1/cohorts/{world['cohort']}/members/import", data=io.BytesIO(csv.encode()),
        content_type="text/csv", headers=headers))
    assert statuses(responses) == {200: THREADS}
    reports = [r.get_json() for r in responses]
    assert sum(len(report["invited"]) for report in reports) == 20
    assert sum(len(report["already_members"]) for report in reports) == 20 * (THREADS - 1)
    with own_database.app_context():
        assert get_session().scalar(select(func.count()).select_from(Membership).where(
            Membership.cohort_id == world["cohort"])) == 21


def test_16_cohorts_launched_at_once(own_database, world):
    headers = bearer(world["tokens"]["owner"])
    responses = at_once(own_database, lambda client, n: client.post(
        f"/api/v1/programs/{world['program']}/cohorts",
        json={"name": f"Run {n}", "starts_on": "2026-12-07", "timezone": "UTC",
              "anonymity": "off"}, headers=headers))
    assert statuses(responses) == {201: THREADS}
    with own_database.app_context():
        assert get_session().scalar(select(func.count()).select_from(Cohort)) == THREADS + 1


@pytest.fixture
def thread_world(own_database) -> dict:
    """The discussion world (a thread in its respond stage), committed, with tokens."""
    from tests.discussions.world import discussion, live_release

    with own_database.app_context():
        session = get_session()
        d = discussion(session, released_at=live_release(2.5))
        for n in range(6, THREADS + 1):
            d.people[f"peer_{n}"] = create_user(session)
            session.add(Membership(cohort_id=d.world.cohort_a.id,
                                   user_id=d.people[f"peer_{n}"].id, role="learner"))
        session.commit()
        tokens = {name: issue_api_token(user, name="load", now=utcnow())[1]
                  for name, user in d.people.items()}
        return {"thread": d.thread.id, "tokens": tokens}


def test_one_learner_posting_16_reflections_at_once_gets_exactly_one(own_database,
                                                                     thread_world):
    from app.discussions.models import Post, Thread

    path = f"/api/v1/threads/{thread_world['thread']}/posts"
    responses = at_once(own_database, lambda client, n: client.post(
        path, json={"body": f"reflection {n}"},
        headers=bearer(thread_world["tokens"]["peer_1"])))
    assert statuses(responses) == Counter({201: 1, 403: THREADS - 1})
    with own_database.app_context():
        session = get_session()
        assert session.scalar(select(func.count(Post.id))) == 1
        assert session.get(Thread, thread_world["thread"]).reflection_count == 1


def test_16_learners_posting_anonymously_at_once_get_16_different_pseudonyms(own_database,
                                                                            thread_world):
    from app.discussions.models import Post, Thread

    path = f"/api/v1/threads/{thread_world['thread']}/posts"
    people = [f"peer_{n}" for n in range(1, THREADS + 1)]
    responses = at_once(own_database, lambda client, n: client.post(
        path, json={"body": "anonymous", "anonymous": True},
        headers=bearer(thread_world["tokens"][people[n]])))
    assert statuses(responses) == Counter({201: THREADS})
    with own_database.app_context():
        session = get_session()
        names = list(session.scalars(select(Post.pseudonym)))
        assert len(set(names)) == THREADS
        assert session.get(Thread, thread_world["thread"]).reflection_count == THREADS
