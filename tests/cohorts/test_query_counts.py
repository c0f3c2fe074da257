"""A page costs a fixed number of SQL statements, however many cohorts and members it shows."""

import re

import pytest

from app.cohorts.models import ProgramGoal
from tests.factories import (
    add_member,
    create_cohort,
    create_module,
    create_program,
    create_user,
)
from tests.http import bearer, token_for

MEMBERS_PER_COHORT = 20


def _build(session, role: str, cohorts: int):
    """A user holding ``role`` in ``cohorts`` cohorts of 20 members each (owners: across
    several programs)."""
    user = create_user(session, can_own_programs=role == "owner")
    programs = ([create_program(session, owner=user) for _ in range(min(cohorts, 3))]
                if role == "owner" else [])
    for n in range(cohorts):
        program = programs[n % len(programs)] if programs else None
        cohort = create_cohort(session, program=program)
        if role != "owner":
            add_member(session, cohort, user, role=role)
        while len(cohort.memberships) < MEMBERS_PER_COHORT:
            add_member(session, cohort, create_user(session, password=None),
                       role="facilitator" if len(cohort.memberships) == 1 else "learner")
            session.refresh(cohort, ["memberships"])
    return user


def _statements(query_counter, request) -> tuple[int, object]:
    """Warm up once (first-use writes), then count the statements of one more request."""
    request()
    with query_counter.counting():
        response = request()
    return query_counter.count, response


@pytest.mark.parametrize("role", ["learner", "facilitator", "owner"])
def test_the_home_page_costs_the_same_for_1_or_10_cohorts(app, db, client, login,
                                                           query_counter, role):
    with db() as session:
        small = _build(session, role, 1)
        large = _build(session, role, 10)
    counts = {}
    for label, user in (("1 cohort", small), ("10 cohorts", large)):
        browser = app.test_client()
        login(browser, user)
        counts[label], response = _statements(query_counter, lambda b=browser: b.get("/"))
        assert response.status_code == 200
        linked = set(re.findall(r'href="/cohorts/(\d+)"', response.get_data(as_text=True)))
        assert len(linked) == int(label.split()[0])
    assert counts["1 cohort"] == counts["10 cohorts"], (role, counts, query_counter.statements)


def test_me_costs_the_same_for_1_or_10_cohorts_in_every_role(call, client, db, query_counter):
    with db() as session:
        tokens = [(role, n, token_for(session, _build(session, role, n)))
                  for role in ("learner", "facilitator", "owner") for n in (1, 10)]
    counts = {}
    for role, n, secret in tokens:
        counts[role, n], response = _statements(
            query_counter, lambda s=secret: call(client, "GET", "/api/v1/me", headers=bearer(s)))
        assert len(response.get_json()["cohorts"]) == n
        assert {c["role"] for c in response.get_json()["cohorts"]} == {role}
    for role in ("learner", "facilitator", "owner"):
        assert counts[role, 1] == counts[role, 10], (counts, query_counter.statements)


def test_the_counter_sees_the_statements_of_a_request(app, db, client, login, query_counter):
    """Guards the guard: a counter that counted nothing would make the tests above vacuous."""
    with db() as session:
        user = create_user(session)
    login(client, user)
    with query_counter.counting():
        client.get("/")
    assert query_counter.count >= 2
    assert any("memberships" in statement for statement in query_counter.statements)


def test_the_cohort_page_and_its_roster_cost_the_same_for_5_or_40_members(app, db, client, login,
                                                                         query_counter):
    with db() as session:
        facilitator = create_user(session)
        cohorts = {}
        for size in (5, 40):
            cohort = create_cohort(session)
            add_member(session, cohort, facilitator, role="facilitator")
            for _ in range(size - 1):
                add_member(session, cohort, create_user(session, password=None))
            cohorts[size] = cohort.id
    browser = app.test_client()
    login(browser, facilitator)
    counts = {}
    for size, cohort_id in cohorts.items():
        counts[size], response = _statements(
            query_counter, lambda c=cohort_id: browser.get(f"/cohorts/{c}/members"))
        assert response.get_data(as_text=True).count('<tr class="member-row">') == size
    assert counts[5] == counts[40], (counts, query_counter.statements)


def test_a_program_costs_the_same_with_1_or_10_modules_and_goals(call, client, db,
                                                                query_counter):
    with db() as session:
        owner = create_user(session, can_own_programs=True)
        programs = {}
        for size in (1, 10):
            program = create_program(session, owner=owner)
            program.goals = [ProgramGoal(position=i, text=f"Goal {i}") for i in range(size)]
            for _ in range(size):
                create_module(session, program)
            programs[size] = program.id
        headers = bearer(token_for(session, owner))
    counts = {}
    for size, program_id in programs.items():
        counts[size], response = _statements(
            query_counter,
            lambda p=program_id: call(client, "GET", f"/api/v1/programs/{p}", headers=headers))
        body = response.get_json()
        assert (len(body["modules"]), len(body["goals"])) == (size, size)
    assert counts[1] == counts[10], (counts, query_counter.statements)


#: What a signed-in learner's pages cost, pinned: a new statement on any of them is a
#: decision, not an accident. (Before render on write and reads without writes: home 9,
#: cohort page 14 with a commit, module page 9 with a commit, module list API 9. The cohort
#: page's featured announcement added one; its faces replaced the member counts' query.
#: Home: + the learner's completions for "Up next"; module page: + the next module, which a
#: learner is offered once they mark this one complete.)
LEARNER_PAGE_STATEMENTS = {"home": 9, "cohort page": 9, "module page": 8, "cohort API": 3,
                           "module list API": 6}


def test_a_learners_pages_cost_exactly_their_pinned_statements(app, db, client, login,
                                                               query_counter):
    from datetime import timedelta

    from app.cohorts.authoring import add_module, create_program, launch_cohort
    from app.cohorts.roster import add_member
    from app.db import utcnow
    from app.discussions import services as discussions
    from app.peer_review import services as peer_review

    today = utcnow()
    with db() as session:
        owner = create_user(session, can_own_programs=True)
        learner = create_user(session)
        headers = bearer(token_for(session, learner))
    with app.app_context():
        program = create_program(owner, title="P", now=today)
        for week in range(3):
            module = add_module(owner, program.id, title=f"Week {week + 1}", body="Read *this*.",
                                release_offset_days=7 * week)
            discussions.add_prompt(owner, module.id, title="Talk", body="Say **one** thing.")
            peer_review.add_assignment(
                owner, module.id, title="Try", instructions="Write it down.",
                rubric=[{"title": "Clear", "description": "",
                         "levels": [{"label": "No", "points": 0},
                                    {"label": "Yes", "points": 1}]}])
        cohort = launch_cohort(owner, program.id, name="C",
                               starts_on=(today - timedelta(days=8)).date(), timezone="UTC",
                               anonymity="off", now=today)
        add_member(owner, cohort.id, email=learner.email, role="learner", now=today)
        module_id = min(_cohort_module_ids(cohort.id))
    login(client, learner)
    pages = {"home": ("/", {}), "cohort page": (f"/cohorts/{cohort.id}", {}),
             "module page": (f"/cohorts/{cohort.id}/modules/{module_id}", {}),
             "cohort API": (f"/api/v1/cohorts/{cohort.id}", headers),
             "module list API": (f"/api/v1/cohorts/{cohort.id}/modules", headers)}
    counts = {}
    for name, (path, extra) in pages.items():
        _, response = _statements(query_counter, lambda p=path, h=extra: client.get(p, headers=h))
        assert response.status_code == 200, name
        # (PostgreSQL tests wrap each session's transaction in a savepoint of their own.)
        counts[name] = len([s for s in query_counter.statements
                            if not s.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))])
    assert counts == LEARNER_PAGE_STATEMENTS


def _cohort_module_ids(cohort_id: int) -> list[int]:
    """The ids of the cohort's modules (inside an app context)."""
    from sqlalchemy import select

    from app.cohorts.models import CohortModule
    from app.db import get_session

    return list(get_session().scalars(
        select(CohortModule.id).where(CohortModule.cohort_id == cohort_id)))
