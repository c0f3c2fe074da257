"""The cohort timeline and module pages: nothing of an unreleased module reaches learners."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.audit import AuditEntry
from app.cohorts.authoring import launch_cohort
from app.cohorts.models import CohortModule
from app.cohorts.releases import move_release_local, release_module, reschedule_release
from app.errors import Conflict
from tests.factories import add_member, create_module, create_program, create_user
from tests.http import bearer, token_for


def make_cohort(app, db, timezone: str = "UTC"):
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
        cohort = launch_cohort(owner, program.id, name="Now", timezone=timezone,
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
    # No link to it yet: the page only holds its address for the live update to use.
    assert f'<a href="/cohorts/{cohort.id}/modules/{second.id}"' not in page
    assert f'data-module-href="/cohorts/{cohort.id}/modules/{second.id}"' in page
    assert "Release now" not in page
    opened = client.get(f"/cohorts/{cohort.id}/modules/{first.id}")
    assert opened.status_code == 200
    assert "<strong>now</strong>" in opened.get_data(as_text=True)
    # Its address (from a calendar, say) says when it opens instead of ending in a 404.
    hidden = client.get(f"/cohorts/{cohort.id}/modules/{second.id}")
    assert hidden.status_code == 200
    assert "Secret plan text" not in hidden.get_data(as_text=True)
    release = client.post_form(f"/cohorts/{cohort.id}/modules/{second.id}/release", {},
                               token_from=f"/cohorts/{cohort.id}")
    assert release.status_code == 403


def test_a_facilitator_looks_ahead_and_releases_now(app, db, client, login):
    cohort, learner, facilitator, _, second = make_cohort(app, db)
    login(client, facilitator)
    ahead = client.get(f"/cohorts/{cohort.id}/modules/{second.id}").get_data(as_text=True)
    assert "Secret plan text" in ahead and "Not open yet" in ahead
    response = client.post_form(f"/cohorts/{cohort.id}/modules/{second.id}/release", {},
                                token_from=f"/cohorts/{cohort.id}")
    assert response.status_code == 302
    other = app.test_client()  # the learner's browser
    login(other, learner)
    assert other.get(f"/cohorts/{cohort.id}/modules/{second.id}").status_code == 200
    inbox = other.get("/notifications").get_data(as_text=True)
    assert f"New module open in {cohort.name}: Future module" in inbox


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


# --- moving a release (facilitators) ------------------------------------------------------------

def test_a_facilitator_moves_a_release_to_a_local_time_in_the_cohorts_zone(app, db, client,
                                                                           login):
    cohort, _, facilitator, _, second = make_cohort(app, db, timezone="America/New_York")
    login(client, facilitator)
    page = client.get(f"/cohorts/{cohort.id}/modules/{second.id}").get_data(as_text=True)
    assert "Move the opening" in page and "America/New_York" in page
    day = datetime.now(UTC).date() + timedelta(days=20)
    response = client.post_form(f"/cohorts/{cohort.id}/modules/{second.id}/schedule",
                                {"on": day.isoformat(), "at": "14:30"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cohorts/{cohort.id}/modules/{second.id}")
    with db() as session:
        moved = session.get(CohortModule, second.id)
        local = moved.release_at.astimezone(ZoneInfo("America/New_York"))
        assert (local.date(), local.hour, local.minute) == (day, 14, 30)
        assert moved.released_at is None
        event = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "module.release_moved")).one()
        assert event.actor_id == facilitator.id
    followed = client.get(f"/cohorts/{cohort.id}/modules/{second.id}").get_data(as_text=True)
    assert "Opening moved" in followed
    assert 'value="14:30"' in followed


@pytest.mark.parametrize(("form", "problem"), [
    ({"on": "2001-01-01", "at": "09:00"}, "already passed"),
    ({"on": "", "at": "09:00"}, "Enter a date"),
    ({"on": "next week", "at": "09:00"}, "Not a valid date"),
    ({"on": "2099-01-01", "at": "25:99"}, "Not a valid time"),
])
def test_a_bad_or_past_new_release_time_is_refused_and_changes_nothing(app, db, client, login,
                                                                      form, problem):
    cohort, _, facilitator, _, second = make_cohort(app, db)
    with db() as session:
        before = session.get(CohortModule, second.id).release_at
    login(client, facilitator)
    response = client.post_form(f"/cohorts/{cohort.id}/modules/{second.id}/schedule", form,
                                token_from=f"/cohorts/{cohort.id}/modules/{second.id}")
    assert response.status_code == 422
    assert problem in response.get_data(as_text=True)
    with db() as session:
        assert session.get(CohortModule, second.id).release_at == before


def test_only_the_cohorts_staff_move_releases(app, db, client, login):
    cohort, learner, _, _, second = make_cohort(app, db)
    _, _, other_staff, _, _ = make_cohort(app, db)
    with db() as session:
        outsider = create_user(session)
        before = session.get(CohortModule, second.id).release_at
    path = f"/cohorts/{cohort.id}/modules/{second.id}/schedule"
    form = {"on": "2099-01-01", "at": "09:00"}
    login(client, learner)
    assert "Move the opening" not in client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert client.post_form(path, form, token_from="/").status_code == 403
    for user in (outsider, other_staff):
        browser = app.test_client()
        login(browser, user)
        assert browser.post_form(path, form, token_from="/").status_code == 404
    anonymous = app.test_client()
    assert anonymous.post_form(path, form, token_from="/login").status_code == 302
    with db() as session:
        assert session.get(CohortModule, second.id).release_at == before


def test_move_release_local_keeps_local_time_across_the_clock_change(app, db):
    cohort, _, facilitator, _, second = make_cohort(app, db, timezone="Europe/Berlin")
    now = datetime.now(UTC)  # week 2 opens in a week; the clock changes in March 2027
    with app.app_context():
        # 09:00 in Berlin is 08:00 UTC before the change of 28 March 2027, 07:00 after it.
        winter = move_release_local(facilitator, cohort.id, second.id,
                                    on=date(2027, 3, 27), at=time(9), now=now)
        assert winter.release_at == datetime(2027, 3, 27, 8, tzinfo=UTC)
        summer = move_release_local(facilitator, cohort.id, second.id,
                                    on=date(2027, 3, 29), at=time(9), now=now)
        assert summer.release_at == datetime(2027, 3, 29, 7, tzinfo=UTC)
        # 02:30 on the change day never shows on a Berlin clock: it becomes 03:30 CEST.
        gap = move_release_local(facilitator, cohort.id, second.id,
                                 on=date(2027, 3, 28), at=time(2, 30), now=now)
        assert gap.release_at == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)


def test_a_released_module_cannot_be_moved(app, db, client, login):
    cohort, _, facilitator, first, _ = make_cohort(app, db)
    now = datetime.now(UTC)
    with app.app_context():
        release_module(first.id, now=now)
        with pytest.raises(Conflict):
            move_release_local(facilitator, cohort.id, first.id,
                               on=now.date() + timedelta(days=3), at=time(9), now=now)
    login(client, facilitator)
    page = client.get(f"/cohorts/{cohort.id}/modules/{first.id}").get_data(as_text=True)
    assert "Move the opening" not in page


def test_releasing_an_open_module_keeps_the_time_learners_saw_it_open(app, db, client, login):
    cohort, _, facilitator, first, _ = make_cohort(app, db)
    with db() as session:
        opened_at = session.get(CohortModule, first.id).release_at
    login(client, facilitator)
    timeline = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    # Open to learners already (since yesterday): only the future module offers "Release now".
    assert timeline.count('Release now<span class="visually-hidden">') == 1
    with app.app_context():
        reschedule_release(facilitator, cohort.id, first.id, release_at=None,
                           now=datetime.now(UTC))
    with db() as session:
        module = session.get(CohortModule, first.id)
        assert module.release_at == opened_at
        assert module.released_at is not None


def test_a_module_learners_can_already_see_is_not_hidden_again(app, db, call, client):
    cohort, _, facilitator, first, _ = make_cohort(app, db)
    with db() as session:
        opened_at = session.get(CohortModule, first.id).release_at
        headers = bearer(token_for(session, facilitator))
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    response = call(client, "POST", f"/api/v1/cohorts/{cohort.id}/releases/{first.id}",
                    json={"release_at": later}, headers=headers)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "already_released"
    with db() as session:
        assert session.get(CohortModule, first.id).release_at == opened_at


def test_release_now_on_the_module_page_returns_to_that_page(app, db, client, login):
    cohort, _, facilitator, _, second = make_cohort(app, db)
    login(client, facilitator)
    page = f"/cohorts/{cohort.id}/modules/{second.id}"
    response = client.post_form(f"{page}/release", {"back": "module"}, token_from=page)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(page)
    followed = client.get(page).get_data(as_text=True)
    assert "Opened. Members are being notified." in followed
    assert "Move the opening" not in followed


def test_release_now_asks_first_and_says_who_will_be_notified(app, db, client, login):
    cohort, _, facilitator, _, second = make_cohort(app, db)
    with db() as session:
        for _ in range(2):
            add_member(session, cohort)
    login(client, facilitator)
    base = f"/cohorts/{cohort.id}/modules/{second.id}"
    for page in (f"/cohorts/{cohort.id}", base):
        text = client.get(page).get_data(as_text=True)
        # A secondary link to the question, not a button that releases at once.
        assert f'action="{base}/release"' not in text
        assert 'role="button" class="secondary outline' in text
    confirm = client.get(f"{base}/release?back=module")
    text = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "All 4 members of Now will be notified" in text  # 3 learners, 1 facilitator
    assert f'action="{base}/release"' in text and 'name="csrf_token"' in text
    with db() as session:
        assert session.get(CohortModule, second.id).released_at is None
    # Without the form's CSRF token nothing happens.
    refused = client.post(f"{base}/release", data={"back": "module"})
    assert refused.status_code == 400
    with db() as session:
        assert session.get(CohortModule, second.id).released_at is None
    released = client.post_form(f"{base}/release", {"back": "module"},
                                token_from=f"{base}/release")
    assert released.status_code == 302 and released.headers["Location"].endswith(base)
    again = client.get(f"{base}/release")
    assert again.status_code == 302  # already released: nothing to confirm
