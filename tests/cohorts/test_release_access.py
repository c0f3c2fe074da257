"""Who reaches a cohort's modules and schedule: every address of the timeline × every role.

Cohort A started yesterday: week 1 is open, week 2 opens in a week. Each role asks for the
module list, both module pages, and for every way to change the schedule (API release or
move, the page's "Release now" and "Move the opening"). A role that may not see cohort A
gets the same 404 as for a cohort that does not exist; a learner who sees it but may not
change it gets a 403; and a refused change leaves the schedule as it was.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.cohorts.authoring import launch_cohort
from app.cohorts.models import CohortModule
from tests.factories import add_member, create_module, create_program, create_user
from tests.http import bearer, token_for

#: role → (module list API, open module page, unreleased module page,
#:         API release/move, page "Release now", page "Move the opening")
MATRIX = {
    # The unreleased module's page says when it opens, without its content.
    "learner": (200, 200, 200, 403, 403, 403),
    "facilitator": (200, 200, 200, 200, 302, 302),
    "facilitator_other": (404, 404, 404, 404, 404, 404),
    "owner": (200, 200, 200, 200, 302, 302),
    "owner_other": (404, 404, 404, 404, 404, 404),
    "admin": (404, 404, 404, 404, 404, 404),
    "outsider": (404, 404, 404, 404, 404, 404),
    # Cohort A's owner after a site admin withdrew the program-owner right.
    "former_owner": (403, 403, 403, 403, 403, 403),
}


@dataclass
class World:
    """Cohort A's id, its open and unreleased modules, and a person for each role."""

    cohort_id: int
    open_id: int
    future_id: int
    people: dict
    tokens: dict


def _launch(app, db, owner, name: str):
    """A cohort started yesterday with week 1 open and week 2 a week away."""
    today = datetime.now(UTC)
    with db() as session:
        program = create_program(session, owner=owner)
        create_module(session, program, title="Week 1", body="Open text", release_offset_days=0)
        create_module(session, program, title="Week 2", body="Hidden text",
                      release_offset_days=8)
    with app.app_context():
        return launch_cohort(owner, program.id, name=name, timezone="UTC",
                             starts_on=(today - timedelta(days=1)).date(),
                             anonymity="peers", now=today - timedelta(days=2))


@pytest.fixture
def world(app, db) -> World:
    """Cohorts A and B of different owners, with people in every relation to A."""
    with db() as session:
        owner_a = create_user(session, can_own_programs=True)
        owner_b = create_user(session, can_own_programs=True)
    cohort_a = _launch(app, db, owner_a, "Alpha")
    cohort_b = _launch(app, db, owner_b, "Beta")
    with db() as session:
        people = {
            "learner": add_member(session, cohort_a).user,
            "facilitator": add_member(session, cohort_a, role="facilitator").user,
            "facilitator_other": add_member(session, cohort_b, role="facilitator").user,
            "owner": owner_a, "owner_other": owner_b,
            "admin": create_user(session, is_admin=True, can_own_programs=True),
            "outsider": create_user(session),
        }
        # Whoever is asked as "former_owner" is owner A with the right withdrawn.
        people["former_owner"] = owner_a
        tokens = {role: token_for(session, user) for role, user in people.items()}
        first, second = session.scalars(select(CohortModule).where(
            CohortModule.cohort_id == cohort_a.id).order_by(CohortModule.position)).all()
        return World(cohort_a.id, first.id, second.id, people, tokens)


def _schedule(db, world: World) -> tuple:
    """Week 2's stored release time and whether its release was processed."""
    with db() as session:
        module = session.get(CohortModule, world.future_id)
        return module.release_at, module.released_at


def _withdraw_if_former(db, world: World, role: str) -> None:
    """For the "former_owner" role, withdraw owner A's program-owner right."""
    if role == "former_owner":
        with db() as session:
            session.get(User, world.people["owner"].id).can_own_programs = False


@pytest.mark.parametrize("role", sorted(MATRIX))
def test_the_api_answers_each_role(call, client, db, world, role):
    _withdraw_if_former(db, world, role)
    listing, _, _, change, _, _ = MATRIX[role]
    headers = bearer(world.tokens[role])
    base = f"/api/v1/cohorts/{world.cohort_id}"
    response = call(client, "GET", f"{base}/modules", headers=headers)
    assert response.status_code == listing
    if listing == 200:
        bodies = [item["body_html"] for item in response.get_json()["items"]]
        hidden_seen = any("Hidden text" in (body or "") for body in bodies)
        assert hidden_seen is (role != "learner")
    before = _schedule(db, world)
    later = (before[0] + timedelta(days=3)).isoformat()
    moved = call(client, "POST", f"{base}/releases/{world.future_id}",
                 json={"release_at": later}, headers=headers)
    assert moved.status_code == change
    if change == 200:
        assert _schedule(db, world)[0] == before[0] + timedelta(days=3)
    else:
        assert _schedule(db, world) == before
        missing = call(client, "POST", f"{base}/releases/987654", json={}, headers=headers)
        if change == 404:
            assert moved.get_json() == missing.get_json()


@pytest.mark.parametrize("role", sorted(MATRIX))
def test_the_pages_answer_each_role(app, client, db, login, world, role):
    _withdraw_if_former(db, world, role)
    _, open_page, future_page, _, release_now, move = MATRIX[role]
    login(client, world.people[role])
    base = f"/cohorts/{world.cohort_id}/modules"
    opened = client.get(f"{base}/{world.open_id}")
    assert opened.status_code == open_page
    future = client.get(f"{base}/{world.future_id}")
    assert future.status_code == future_page
    assert ("Hidden text" in future.get_data(as_text=True)) is (
        future_page == 200 and role != "learner")
    before = _schedule(db, world)
    day = (before[0] + timedelta(days=5)).date().isoformat()
    response = client.post_form(f"{base}/{world.future_id}/schedule",
                                 {"on": day, "at": "10:00"}, token_from="/")
    assert response.status_code == move
    if move != 302:
        assert _schedule(db, world) == before
    response = client.post_form(f"{base}/{world.future_id}/release", {}, token_from="/")
    assert response.status_code == release_now
    if release_now == 302:
        assert _schedule(db, world)[1] is not None
    else:
        assert _schedule(db, world) == before


def test_signed_out_callers_change_nothing(call, client, db, world):
    before = _schedule(db, world)
    base = f"/api/v1/cohorts/{world.cohort_id}"
    assert call(client, "GET", f"{base}/modules").status_code == 401
    assert call(client, "POST", f"{base}/releases/{world.future_id}",
                json={}).status_code == 401
    page = f"/cohorts/{world.cohort_id}/modules/{world.future_id}"
    assert client.get(page).status_code == 302
    for path in (f"{page}/release", f"{page}/schedule"):
        response = client.post_form(path, {"on": "2099-01-01", "at": "09:00"},
                                    token_from="/login")
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    assert _schedule(db, world) == before


@pytest.mark.parametrize("release_at", ["2099-03-01T09:00:00", "next monday", 20990301, ""])
def test_a_release_time_without_offset_or_not_a_time_is_refused(call, client, db, world,
                                                                 release_at):
    before = _schedule(db, world)
    response = call(client, "POST",
                    f"/api/v1/cohorts/{world.cohort_id}/releases/{world.future_id}",
                    json={"release_at": release_at}, headers=bearer(world.tokens["facilitator"]))
    assert response.status_code == 422
    assert "release_at" in response.get_json()["error"]["fields"]
    assert _schedule(db, world) == before


#: role → the page that confirms "Release now" (GET; the POST is the matrix above).
CONFIRM = {"learner": 403, "facilitator": 200, "owner": 200, "facilitator_other": 404,
           "owner_other": 404, "admin": 404, "outsider": 404, "former_owner": 403}


@pytest.mark.parametrize("role", sorted(CONFIRM))
def test_the_release_confirmation_answers_each_role(client, db, login, world, role):
    _withdraw_if_former(db, world, role)
    login(client, world.people[role])
    before = _schedule(db, world)
    page = client.get(f"/cohorts/{world.cohort_id}/modules/{world.future_id}/release")
    assert page.status_code == CONFIRM[role]
    assert ("Week 2" in page.get_data(as_text=True)) is (CONFIRM[role] == 200)
    assert _schedule(db, world) == before  # asking releases nothing
