"""Launching a cohort: the schedule in the cohort's zone, and the snapshot rule."""

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from app.cohorts.access import get_program_for
from app.cohorts.authoring import (
    add_module,
    delete_module,
    launch_cohort,
    move_module,
    update_module,
    update_program,
)
from app.cohorts.models import Cohort, CohortModule
from app.errors import Invalid
from tests.factories import create_module, create_program, create_user

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
#: A Monday; Berlin moves to summer time on Sunday 29 March 2026.
START = date(2026, 3, 23)


@pytest.fixture
def program(db):
    """A program of three modules: day 0 at 09:00, day 7 at 09:00, day 2 at 23:30."""
    with db() as session:
        owner = create_user(session, can_own_programs=True, timezone="Europe/Berlin")
        program = create_program(session, owner=owner, title="Coaching")
        create_module(session, program, title="Kick-off", release_offset_days=0)
        create_module(session, program, title="Week two", release_offset_days=7)
        create_module(session, program, title="Late night", release_offset_days=2,
                      release_time=time(23, 30))
    return {"owner": owner, "id": program.id}


def schedule(db, cohort_id: int) -> list[tuple[str, datetime]]:
    """The cohort's (title, release_at) in order."""
    with db() as session:
        return [(m.title, m.release_at) for m in session.scalars(
            select(CohortModule).where(CohortModule.cohort_id == cohort_id)
            .order_by(CohortModule.position))]


def test_launch_computes_each_release_in_the_cohorts_zone(app, db, program):
    with app.app_context():
        berlin = launch_cohort(program["owner"], program["id"], name="Berlin",
                               starts_on=START, timezone="Europe/Berlin",
                               anonymity="peers", now=NOW)
        tokyo = launch_cohort(program["owner"], program["id"], name="Tokyo",
                              starts_on=START, timezone="Asia/Tokyo",
                              anonymity="off", now=NOW)
    assert schedule(db, berlin.id) == [
        ("Kick-off", datetime(2026, 3, 23, 8, tzinfo=UTC)),        # CET, UTC+1
        ("Week two", datetime(2026, 3, 30, 7, tzinfo=UTC)),        # CEST, UTC+2
        ("Late night", datetime(2026, 3, 25, 22, 30, tzinfo=UTC)),
    ]
    assert schedule(db, tokyo.id) == [
        ("Kick-off", datetime(2026, 3, 23, 0, tzinfo=UTC)),
        ("Week two", datetime(2026, 3, 30, 0, tzinfo=UTC)),
        ("Late night", datetime(2026, 3, 25, 14, 30, tzinfo=UTC)),
    ]


def test_editing_the_program_after_launch_leaves_the_cohort_as_launched(app, db, program):
    owner = program["owner"]
    with app.app_context():
        cohort = launch_cohort(owner, program["id"], name="Running", starts_on=START,
                               timezone="Europe/Berlin", anonymity="peers", now=NOW)
    launched = schedule(db, cohort.id)
    with db() as session:
        bodies = [m.body for m in session.scalars(select(CohortModule).where(
            CohortModule.cohort_id == cohort.id).order_by(CohortModule.position))]
    with app.app_context():
        first, second, third = get_program_for(owner, program["id"]).modules
        first_id, second_id, third_id = first.id, second.id, third.id
        update_program(owner, program["id"], title="Renamed", summary="",
                       goals=["New goal"], now=NOW)
        update_module(owner, first_id, title="Changed", body="Rewritten",
                      release_offset_days=30, release_time=time(6))
        move_module(owner, third_id, 0)
        delete_module(owner, second_id)
        add_module(owner, program["id"], title="Brand new")
    assert schedule(db, cohort.id) == launched
    with db() as session:
        assert [m.body for m in session.scalars(select(CohortModule).where(
            CohortModule.cohort_id == cohort.id).order_by(CohortModule.position))] == bodies
    with app.app_context():
        later = launch_cohort(owner, program["id"], name="Next", starts_on=START,
                              timezone="Europe/Berlin", anonymity="peers", now=NOW)
    assert [title for title, _ in schedule(db, later.id)] == ["Late night", "Changed",
                                                              "Brand new"]


def test_launch_reports_every_bad_field(app, db, program):
    with app.app_context(), pytest.raises(Invalid) as error:
        launch_cohort(program["owner"], program["id"], name=" ", starts_on=START,
                      timezone="Mars/Olympus", anonymity="sometimes", now=NOW)
    assert set(error.value.fields) == {"name", "timezone", "anonymity"}
    with db() as session:
        assert session.scalar(select(Cohort.id)) is None


# --- the launch page ---------------------------------------------------------------------------

def test_the_launch_page_explains_each_anonymity_policy(app, db, client, login, program):
    login(client, program["owner"])
    page = client.get(f"/programs/{program['id']}/launch").get_data(as_text=True)
    assert '<option selected value="Europe/Berlin">' in page
    assert page.count('type="radio"') == 3 and 'checked id="anonymity-1"' in page
    assert "Names are always shown" in page
    assert "facilitators can still see who wrote it" in page
    assert "nobody sees the author in the app" in page
    assert 'href="/programs/' in page  # the way back


def test_launching_from_the_page_opens_the_cohort_with_its_timeline(app, db, client, login,
                                                                    program):
    login(client, program["owner"])
    path = f"/programs/{program['id']}/launch"
    response = client.post_form(path, {"name": "Spring", "starts_on": "2026-03-23",
                                       "timezone": "Asia/Tokyo", "anonymity": "everyone"})
    assert response.status_code == 302
    with db() as session:
        cohort = session.scalar(select(Cohort).where(Cohort.name == "Spring"))
        assert (cohort.timezone, cohort.anonymity, cohort.starts_on) == (
            "Asia/Tokyo", "everyone", START)
    assert response.headers["Location"] == f"/cohorts/{cohort.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Kick-off" in page and "Week two" in page
    program_page = client.get(f"/programs/{program['id']}").get_data(as_text=True)
    assert f'href="/cohorts/{cohort.id}"' in program_page


def test_a_bad_launch_form_comes_back_with_messages_and_the_typed_input(app, db, client,
                                                                         login, program):
    login(client, program["owner"])
    path = f"/programs/{program['id']}/launch"
    response = client.post_form(path, {"name": "Typed name", "starts_on": "not a date",
                                       "timezone": "Mars/Olympus", "anonymity": "sometimes"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="Typed name"' in page
    assert 'id="starts_on-error"' in page and 'id="timezone-error"' in page
    assert 'id="anonymity-error"' in page
    with db() as session:
        assert session.scalar(select(Cohort.id)) is None
