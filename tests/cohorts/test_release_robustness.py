"""Releases that nothing in a title can break, that commit once, and that never move back.

Found by probing: a 200-character module title made "New module open in …: …" overflow the
notification title and e-mail subject on PostgreSQL (the release failed every minute); a
line break in a title made its release e-mail unsendable; "release now" and the cohort page
committed twice; the API stored release times in the past.
"""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.cohorts.authoring import launch_cohort
from app.cohorts.models import CohortModule, Module
from app.cohorts.releases import record_release_failure, release_due_modules, reschedule_release
from app.db import get_session
from app.errors import Invalid
from app.mail import OutboxEmail, deliver_pending
from app.notifications.models import Notification
from tests.factories import add_member, create_module, create_program, create_user
from tests.http import bearer, token_for

LONG_TITLE = ("Receiving feedback well: " + "listening to the end, " * 9).strip()[:200]


@pytest.fixture
def cohort(app, db):
    """A cohort started yesterday; its second module (a 200-character title) opens in a week."""
    now = datetime.now(UTC)
    with db() as session:
        owner = create_user(session, can_own_programs=True)
        program = create_program(session, owner=owner)
        create_module(session, program, title="Week 1", release_offset_days=0)
        create_module(session, program, title=LONG_TITLE, release_offset_days=8)
    with app.app_context():
        launched = launch_cohort(owner, program.id, name="Spring", timezone="UTC",
                                 starts_on=(now - timedelta(days=1)).date(),
                                 anonymity="off", now=now)
    with db() as session:
        facilitator = add_member(session, launched, role="facilitator").user
        learners = [add_member(session, launched).user for _ in range(2)]
        first, second = session.scalars(select(CohortModule).where(
            CohortModule.cohort_id == launched.id).order_by(CohortModule.position)).all()
        token = token_for(session, facilitator)
    return {"cohort": launched.id, "owner": owner, "facilitator": facilitator,
            "learners": learners, "open": first.id, "future": second.id,
            "headers": bearer(token)}


@contextmanager
def counting_commits():
    """Count the sessions' commits within the block (savepoint releases are not commits)."""
    commits = []

    def count(session):
        if not session.in_nested_transaction():
            commits.append(session)

    event.listen(Session, "after_commit", count)
    try:
        yield commits
    finally:
        event.remove(Session, "after_commit", count)


# --- derived texts fit ---------------------------------------------------------------------------

def test_a_200_character_title_is_released_with_notices_that_fit(app, db, call, client,
                                                                 cohort):
    assert len(LONG_TITLE) == 200
    response = call(client, "POST",
                    f"/api/v1/cohorts/{cohort['cohort']}/releases/{cohort['future']}",
                    json={}, headers=cohort["headers"])
    assert response.status_code == 200
    with db() as session:
        module = session.get(CohortModule, cohort["future"])
        assert module.released_at is not None and not module.release_stuck
        titles = session.scalars(select(Notification.title)).all()
        subjects = session.scalars(select(OutboxEmail.subject)).all()
    assert len(titles) == len(subjects) == 3  # two learners and the facilitator
    for text in titles + subjects:
        assert len(text) <= 200
        assert text.startswith("New module open in Spring: Receiving feedback well:")
        assert text.endswith("…") and not text.endswith(" …")


def test_the_reconcile_job_releases_a_long_title_once(app, db, cohort):
    with db() as session:
        session.get(CohortModule, cohort["future"]).release_at = datetime.now(UTC)
    with app.app_context():
        # Week 1 (open since yesterday) and the long title.
        assert release_due_modules(now=datetime.now(UTC) + timedelta(seconds=1)) == 2
        assert release_due_modules(now=datetime.now(UTC) + timedelta(minutes=5)) == 0
    with db() as session:
        assert session.get(CohortModule, cohort["future"]).released_at is not None
        assert len(session.scalars(select(Notification.id).where(
            Notification.link.endswith(f"/modules/{cohort['future']}"))).all()) == 3


# --- one-line titles -----------------------------------------------------------------------------

BROKEN_TITLES = ["Week 2\r\nBcc: everyone@example.com", "Week 2\nmore", "Tab\there",
                 "Line\u2028separator", "Bell\x07"]


@pytest.mark.parametrize("title", BROKEN_TITLES)
def test_a_title_with_a_line_break_is_refused_everywhere(app, db, call, client, table_counts,
                                                         title):
    with db() as session:
        owner = create_user(session, can_own_programs=True)
        program = create_program(session, owner=owner)
        module = create_module(session, program)
        headers = bearer(token_for(session, owner))
    before = table_counts()
    rubric = [{"criterion": "Clear", "levels": [{"label": "No", "points": 0},
                                               {"label": title, "points": 1}]}]
    attempts = {
        ("POST", "/api/v1/programs"): ({"title": title}, "title"),
        ("PATCH", f"/api/v1/programs/{program.id}"): ({"goals": ["Fine", title]}, "goals"),
        ("POST", f"/api/v1/programs/{program.id}/modules"): ({"title": title}, "title"),
        ("PATCH", f"/api/v1/modules/{module.id}"): ({"title": title}, "title"),
        ("POST", f"/api/v1/modules/{module.id}/prompts"): ({"title": title}, "title"),
        ("POST", f"/api/v1/modules/{module.id}/assignments"): (
            {"title": "Practise", "instructions": "", "rubric": rubric,
             "reviews_required": 1, "submit_days": 3, "review_days": 2},
            "rubric.0.levels.1.label"),
        ("POST", f"/api/v1/programs/{program.id}/cohorts"): (
            {"name": title, "starts_on": "2026-12-07", "timezone": "UTC",
             "anonymity": "off"}, "name"),
    }
    for (method, path), (body, field) in attempts.items():
        response = call(client, method, path, json=body, headers=headers)
        assert response.status_code == 422, (path, response.get_json())
        assert field in response.get_json()["error"]["fields"], path
    assert table_counts() == before
    with db() as session:
        assert session.get(Module, module.id).title != title


def test_the_module_form_refuses_a_line_break_with_a_message(app, db, client, login):
    with db() as session:
        owner = create_user(session, can_own_programs=True)
        program = create_program(session, owner=owner)
    login(client, owner)
    response = client.post_form(f"/programs/{program.id}/modules/new", {
        "title": "Week 1\r\nBcc: x@example.com", "release_offset_days": "0",
        "release_time": "09:00", "submit": "Add"})
    assert response.status_code == 422
    assert "Keep this on one line" in response.get_data(as_text=True)


def test_a_subject_stored_with_a_line_break_is_still_sent_on_one_line(app, db):
    """Rows queued before the rule (or by any path that forgets it) do not fail forever."""
    now = datetime.now(UTC)
    with db() as session:
        session.add(OutboxEmail(to_address="a@example.com", subject="New module\r\nBcc: x",
                                body_text="Hello", created_at=now, next_attempt_at=now))
    with app.app_context():
        assert deliver_pending(get_session(), app.config, now) == 1
    with db() as session:
        row = session.scalars(select(OutboxEmail)).one()
        assert row.sent_at is not None and row.last_error is None


# --- one business action, one transaction ----------------------------------------------------

def test_release_now_commits_once(app, call, client, cohort):
    call(client, "GET", "/api/v1/me", headers=cohort["headers"])  # the token's first use
    with counting_commits() as commits:
        response = call(client, "POST",
                        f"/api/v1/cohorts/{cohort['cohort']}/releases/{cohort['future']}",
                        json={}, headers=cohort["headers"])
    assert response.status_code == 200 and response.get_json()["released"] is True
    assert len(commits) == 1


def test_release_now_on_the_page_commits_once(app, client, login, cohort):
    login(client, cohort["facilitator"])
    path = f"/cohorts/{cohort['cohort']}/modules/{cohort['future']}/release"
    token = client.csrf_token(f"/cohorts/{cohort['cohort']}")
    with counting_commits() as commits:
        response = client.post(path, data={"csrf_token": token})
    assert response.status_code == 302
    assert len(commits) == 1


def test_a_failing_release_now_changes_nothing(app, db, call, client, cohort):
    from app.cohorts.signals import module_released

    def fail(*_, **__):
        raise RuntimeError("notices cannot be written")

    with db() as session:
        before = session.get(CohortModule, cohort["future"]).release_at
    module_released.connect(fail)
    try:
        with pytest.raises(RuntimeError):
            client.post(f"/api/v1/cohorts/{cohort['cohort']}/releases/{cohort['future']}",
                        json={}, headers=cohort["headers"])
    finally:
        module_released.disconnect(fail)
    with db() as session:
        module = session.get(CohortModule, cohort["future"])
        assert (module.release_at, module.released_at) == (before, None)
        assert not session.scalars(select(Notification.id)).all()


@pytest.mark.parametrize("who", ["learner", "facilitator"])
def test_opening_the_cohort_page_commits_at_most_once(app, client, login, cohort, who):
    person = cohort["learners"][0] if who == "learner" else cohort["facilitator"]
    login(client, person)
    with counting_commits() as commits:
        assert client.get(f"/cohorts/{cohort['cohort']}").status_code == 200
    assert len(commits) == 1


def test_the_owner_opening_the_cohort_page_writes_nothing(app, client, login, cohort):
    login(client, cohort["owner"])
    with counting_commits() as commits:
        assert client.get(f"/cohorts/{cohort['cohort']}").status_code == 200
    assert commits == []


def test_a_visit_also_counts_as_activity(app, db, client, login, cohort):
    learner = cohort["learners"][0]
    login(client, learner)
    client.get(f"/cohorts/{cohort['cohort']}")
    with db() as session:
        from app.cohorts.models import Membership
        membership = session.scalars(select(Membership).where(
            Membership.user_id == learner.id)).one()
        assert membership.last_active_at is not None
        assert membership.last_active_at == membership.last_visit_at


# --- no move into the past, whoever asks ---------------------------------------------------------

@pytest.mark.parametrize("delta", [timedelta(days=-3), timedelta(seconds=-1), timedelta(0)])
def test_the_api_refuses_a_release_time_that_has_passed(app, db, call, client, cohort, delta):
    with db() as session:
        before = session.get(CohortModule, cohort["future"]).release_at
    at = (datetime.now(UTC) + delta).isoformat()
    response = call(client, "POST",
                    f"/api/v1/cohorts/{cohort['cohort']}/releases/{cohort['future']}",
                    json={"release_at": at}, headers=cohort["headers"])
    assert response.status_code == 422
    assert "already passed" in response.get_json()["error"]["fields"]["release_at"]
    with db() as session:
        module = session.get(CohortModule, cohort["future"])
        assert (module.release_at, module.released_at) == (before, None)
        assert not session.scalars(select(Notification.id)).all()


def test_the_service_refuses_a_past_time_for_every_caller(app, cohort):
    now = datetime.now(UTC)
    with app.app_context():
        with pytest.raises(Invalid):
            reschedule_release(cohort["facilitator"], cohort["cohort"],
                               cohort["future"], release_at=now - timedelta(days=3),
                               now=now)
        with pytest.raises(Invalid) as far:
            reschedule_release(cohort["owner"], cohort["cohort"], cohort["future"],
                               release_at=now + timedelta(days=3651), now=now)
        assert "ten years" in far.value.fields["release_at"]


@pytest.mark.parametrize("release_at", ["9999-12-31T23:00:00-23:59", "0001-01-01T00:00:00+23:59",
                                        "9999-12-31T23:59:59Z"])
def test_release_times_at_the_ends_of_the_calendar_are_422s(app, db, call, client, cohort,
                                                            release_at):
    response = call(client, "POST",
                    f"/api/v1/cohorts/{cohort['cohort']}/releases/{cohort['future']}",
                    json={"release_at": release_at}, headers=cohort["headers"])
    assert response.status_code == 422
    assert "release_at" in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("starts_on", ["9999-12-31", "0001-01-01", "2099-01-01"])
def test_a_cohort_starting_at_the_ends_of_the_calendar_is_a_422(app, db, call, client,
                                                                cohort, starts_on):
    with db() as session:
        program = create_program(session, owner=session.get(type(cohort["owner"]),
                                                             cohort["owner"].id))
        create_module(session, program, release_offset_days=3650)
        headers = bearer(token_for(session, cohort["owner"]))
    response = call(client, "POST", f"/api/v1/programs/{program.id}/cohorts",
                    json={"name": "Far", "starts_on": starts_on, "timezone": "Pacific/Kiritimati",
                          "anonymity": "off"}, headers=headers)
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"starts_on"}


@pytest.mark.parametrize("on", ["9999-12-31", "0001-01-01"])
def test_the_move_form_refuses_dates_at_the_ends_of_the_calendar(app, db, client, login,
                                                                 cohort, on):
    login(client, cohort["facilitator"])
    base = f"/cohorts/{cohort['cohort']}/modules/{cohort['future']}"
    response = client.post_form(f"{base}/schedule", {"on": on, "at": "23:59"},
                                token_from=base)
    assert response.status_code == 422


def test_staff_see_a_release_whose_notices_failed_and_can_send_them_again(app, db, client,
                                                                          login, cohort):
    now = datetime.now(UTC)
    with app.app_context():
        record_release_failure(cohort["open"], RuntimeError("SMTP table locked"),
                               now=now)
    login(client, cohort["facilitator"])
    page = client.get(f"/cohorts/{cohort['cohort']}").get_data(as_text=True)
    assert "Members have not been notified yet" in page
    assert "failed 1 time;" in page and "Send the notifications now" in page
    client.post_form(f"/cohorts/{cohort['cohort']}/modules/{cohort['open']}/release", {},
                     token_from=f"/cohorts/{cohort['cohort']}")
    with db() as session:
        assert not session.get(CohortModule, cohort["open"]).release_stuck
    assert "Members have not been notified" not in client.get(
        f"/cohorts/{cohort['cohort']}").get_data(as_text=True)
    client.post_form("/logout", {}, token_from="/")
    login(client, cohort["learners"][0])
    with app.app_context():
        record_release_failure(cohort["future"], RuntimeError("x"), now=now)
    assert "Members have not been notified" not in client.get(
        f"/cohorts/{cohort['cohort']}").get_data(as_text=True)
