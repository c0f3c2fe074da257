"""The cohort timeline and module pages: nothing of an unreleased module reaches learners."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.cohorts import services
from app.cohorts.models import CohortModule
from tests.factories import add_member, create_module, create_program, create_user


def make_cohort(app, db):
    """A cohort started yesterday: module 1 is open, module 2 opens in a week."""
    today = datetime.now(UTC).date()
    with db() as session:
        owner = create_user(session, can_own_programs=True)
        program = create_program(session, owner=owner)
        create_module(session, program, title="Open module", body="Visible **now**",
                      release_offset_days=0)
        create_module(session, program, title="Future module", body="Secret plan text",
                      release_offset_days=8)
    with app.app_context():
        cohort = services.launch_cohort(owner, program.id, name="Now", timezone="UTC",
                                        starts_on=today - timedelta(days=1), anonymity="off",
                                        now=datetime.now(UTC))
    with db() as session:
        learner = add_member(session, cohort).user
        facilitator = add_member(session, cohort, role="facilitator").user
        first, second = session.scalars(select(CohortModule).where(
            CohortModule.cohort_id == cohort.id).order_by(CohortModule.position)).all()
    return cohort, learner, facilitator, first, second


def test_learners_see_the_timeline_but_not_unreleased_content(app, db, client, login):
    cohort, learner, _, first, second = make_cohort(app, db)
    login(client, learner)
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "Open module" in page and "Future module" in page
    assert f"/cohorts/{cohort.id}/modules/{second.id}" not in page
    assert "Release now" not in page
    opened = client.get(f"/cohorts/{cohort.id}/modules/{first.id}")
    assert opened.status_code == 200
    assert "<strong>now</strong>" in opened.get_data(as_text=True)
    hidden = client.get(f"/cohorts/{cohort.id}/modules/{second.id}")
    assert hidden.status_code == 404
    assert "Secret plan text" not in hidden.get_data(as_text=True)
    release = client.post_form(f"/cohorts/{cohort.id}/modules/{second.id}/release", {},
                               token_from=f"/cohorts/{cohort.id}")
    assert release.status_code == 403


def test_a_facilitator_looks_ahead_and_releases_now(app, db, client, login):
    cohort, learner, facilitator, _, second = make_cohort(app, db)
    login(client, facilitator)
    ahead = client.get(f"/cohorts/{cohort.id}/modules/{second.id}").get_data(as_text=True)
    assert "Secret plan text" in ahead and "Not released yet" in ahead
    response = client.post_form(f"/cohorts/{cohort.id}/modules/{second.id}/release", {},
                                token_from=f"/cohorts/{cohort.id}")
    assert response.status_code == 302
    other = app.test_client()  # the learner's browser
    login(other, learner)
    assert other.get(f"/cohorts/{cohort.id}/modules/{second.id}").status_code == 200
    inbox = other.get("/notifications").get_data(as_text=True)
    assert "New module open: Future module" in inbox


def test_outsiders_get_404_for_module_pages(app, db, client, login):
    cohort, _, _, first, second = make_cohort(app, db)
    other_cohort, _, other_staff, _, _ = make_cohort(app, db)
    with db() as session:
        outsider = create_user(session)
    for user in (outsider, other_staff):
        browser = app.test_client()
        login(browser, user)
        assert browser.get(f"/cohorts/{cohort.id}/modules/{first.id}").status_code == 404
        response = browser.post_form(f"/cohorts/{cohort.id}/modules/{second.id}/release", {},
                                     token_from="/")
        assert response.status_code == 404
    # A module of cohort A reached through cohort B's address is not found either.
    browser = app.test_client()
    login(browser, other_staff)
    assert browser.get(f"/cohorts/{other_cohort.id}/modules/{first.id}").status_code == 404
    with db() as session:
        assert session.get(CohortModule, second.id).released_at is None
