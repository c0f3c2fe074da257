"""A module's address before its release: a page that says when it opens, never a dead end.

Learners arrive at it from a calendar feed, a notice or a shared link. They get a 200 page
with the opening time (their zone, the cohort's in small print) and the modules open now;
the content, prompts and assignments stay behind until the release. Outsiders still get
the 404 of a missing page.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.cohorts.authoring import launch_cohort
from app.cohorts.models import CohortModule
from app.cohorts.progress import get_module_page
from app.discussions import services as discussions
from tests.factories import add_member, create_module, create_program, create_user


def _cohort(app, db):
    """A Berlin cohort: week 1 open since yesterday, week 2 (with a prompt) in a week."""
    now = datetime.now(UTC)
    with db() as session:
        owner = create_user(session, can_own_programs=True)
        program = create_program(session, owner=owner)
        create_module(session, program, title="Week one", body="Open words",
                      release_offset_days=0)
        later = create_module(session, program, title="Week two", body="Secret plan text",
                              release_offset_days=8)
    with app.app_context():
        discussions.add_prompt(owner, later.id, title="Hidden prompt title")
        cohort = launch_cohort(owner, program.id, name="Calendar cohort",
                               timezone="Europe/Berlin",
                               starts_on=(now - timedelta(days=1)).date(), anonymity="off",
                               now=now)
    with db() as session:
        learner = add_member(session, cohort, create_user(
            session, timezone="America/New_York")).user
        outsider = create_user(session)
        first, second = session.scalars(select(CohortModule).where(
            CohortModule.cohort_id == cohort.id).order_by(CohortModule.position)).all()
    return cohort, learner, outsider, first, second


def test_the_service_gives_learners_the_opening_time_and_what_is_open(app, db):
    cohort, learner, _, first, second = _cohort(app, db)
    with app.app_context():
        page = get_module_page(learner, cohort.id, second.id, datetime.now(UTC))
        assert page.upcoming and not page.can_complete
        assert page.parts == []
        assert [m.id for m in page.open_modules] == [first.id]
        opened = get_module_page(learner, cohort.id, first.id, datetime.now(UTC))
        assert not opened.upcoming and opened.can_complete


def test_a_learner_following_a_link_learns_when_it_opens(app, db, client, login):
    cohort, learner, _, first, second = _cohort(app, db)
    login(client, learner)
    response = client.get(f"/cohorts/{cohort.id}/modules/{second.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "This module opens on" in page
    local = second.release_at.astimezone(ZoneInfo("America/New_York"))
    assert local.strftime("%H:%M") in page and "cohort time" in page
    assert f'<a href="/cohorts/{cohort.id}/modules/{first.id}">Week one</a>' in page
    for hidden in ("Secret plan text", "Hidden prompt title", "Mark complete"):
        assert hidden not in page


def test_nothing_of_it_can_be_done_before_its_release(app, db, client, login):
    cohort, learner, _, _, second = _cohort(app, db)
    login(client, learner)
    response = client.post_form(f"/cohorts/{cohort.id}/modules/{second.id}/completion",
                                {"completed": "yes"}, token_from=f"/cohorts/{cohort.id}")
    assert response.status_code == 404


def test_outsiders_still_get_the_missing_page(app, db, client, login):
    cohort, _, outsider, _, second = _cohort(app, db)
    login(client, outsider)
    hidden = client.get(f"/cohorts/{cohort.id}/modules/{second.id}")
    missing = client.get(f"/cohorts/{cohort.id}/modules/987654")
    assert hidden.status_code == missing.status_code == 404
    assert "Week two" not in hidden.get_data(as_text=True)
