"""Stored schedules and exactly-once releases (service, API and live events)."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts import tokens
from app.cohorts.authoring import launch_cohort
from app.cohorts.models import CohortModule, Module
from app.cohorts.releases import release_due_modules, release_module, reschedule_release
from app.db import get_database
from app.errors import Conflict, NotAllowed, NotFound
from app.mail import OutboxEmail
from app.notifications.models import Notification
from tests.factories import add_member, create_module, create_program, create_user

START = date(2026, 3, 2)  # a Monday; New York changes to summer time on 8 March
LAUNCHED = datetime(2026, 2, 20, 12, tzinfo=UTC)


@pytest.fixture
def launched(app, db):
    """A New York cohort of a three-module program, with a facilitator and two learners."""
    with db() as session:
        owner = create_user(session, can_own_programs=True)
        program = create_program(session, owner=owner)
        for offset in (0, 7, 14):
            create_module(session, program, release_offset_days=offset,
                          body=f"Week {offset // 7 + 1} **content**")
    with db() as session:
        cohort = launch_cohort(owner, program.id, name="Spring", starts_on=START,
                               timezone="America/New_York", anonymity="peers",
                               now=LAUNCHED)
    with db() as session:
        facilitator = add_member(session, cohort, role="facilitator").user
        learners = [add_member(session, cohort).user for _ in range(2)]
        modules = session.scalars(select(CohortModule).where(CohortModule.cohort_id == cohort.id)
                                  .order_by(CohortModule.position)).all()
    return {"owner": owner, "cohort": cohort, "facilitator": facilitator,
            "learners": learners, "modules": modules}


def counts(db):
    """How many notifications and e-mails exist."""
    with db() as session:
        return (session.scalar(select(func.count()).select_from(Notification)),
                session.scalar(select(func.count()).select_from(OutboxEmail)))


def test_launch_stores_each_release_at_nine_local_across_the_clock_change(launched):
    release_ats = [m.release_at for m in launched["modules"]]
    assert release_ats == [datetime(2026, 3, 2, 14, tzinfo=UTC),   # EST
                           datetime(2026, 3, 9, 13, tzinfo=UTC),   # EDT
                           datetime(2026, 3, 16, 13, tzinfo=UTC)]


def test_program_edits_after_launch_do_not_change_the_running_cohort(app, db, launched):
    module = launched["modules"][0]
    with db() as session:
        session.get(Module, module.module_id).title = "Rewritten later"
    with db() as session:
        assert session.get(CohortModule, module.id).title != "Rewritten later"


def test_a_missed_release_is_processed_once_when_the_scheduler_catches_up(app, db, launched):
    members = 3
    later = datetime(2026, 3, 10, tzinfo=UTC)  # both the first and second release passed
    with app.app_context():
        assert release_due_modules(now=later) == 2
    assert counts(db) == (2 * members, 2 * members)
    with app.app_context():
        assert release_due_modules(now=later + timedelta(hours=1)) == 0
    assert counts(db) == (2 * members, 2 * members)


def test_release_now_then_the_original_time_does_nothing_more(app, db, launched):
    module = launched["modules"][1]
    with app.app_context():
        reschedule_release(launched["facilitator"], launched["cohort"].id, module.id,
                           release_at=None, now=datetime(2026, 3, 3, tzinfo=UTC))
    assert counts(db) == (3, 3)
    with app.app_context():
        assert release_module(module.id, now=datetime(2026, 3, 9, 14, tzinfo=UTC)) \
            is False
        assert release_due_modules(now=datetime(2026, 3, 9, 14, tzinfo=UTC)) == 1
    assert counts(db) == (6, 6)  # only the first module's own release was added


def test_two_schedulers_racing_produce_one_notification_per_member(tmp_path):
    """Two processes' worth of schedulers on one database file, released at the same moment."""
    from app import create_app
    from app.db import Model, get_session
    from tests.conftest import test_config

    app = create_app(test_config(DATABASE_URL=f"sqlite:///{tmp_path / 'race.db'}"))
    Model.metadata.create_all(get_database(app).engine)
    with app.app_context():
        session = get_session()
        owner = create_user(session, can_own_programs=True)
        program = create_program(session, owner=owner)
        create_module(session, program, release_offset_days=0)
        session.commit()
        cohort = launch_cohort(owner, program.id, name="Race", starts_on=START,
                               timezone="America/New_York", anonymity="off",
                               now=LAUNCHED)
        for _ in range(5):
            add_member(session, cohort)
        session.commit()
    now = datetime(2026, 3, 2, 15, tzinfo=UTC)
    results, barrier = [], threading.Barrier(2)

    def run():
        with app.app_context():
            barrier.wait()
            results.append(release_due_modules(now=now))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 1]
    with app.app_context():
        users = get_session().scalars(select(Notification.user_id)).all()
        emails = get_session().scalar(select(func.count()).select_from(OutboxEmail))
    assert len(users) == len(set(users)) == 5
    assert emails == 5
    get_database(app).engine.dispose()


def test_only_staff_move_releases_and_outsiders_get_404(app, db, launched):
    cohort, module = launched["cohort"], launched["modules"][2]
    with db() as session:
        outsider = create_user(session)
    with app.app_context():
        with pytest.raises(NotAllowed):
            reschedule_release(launched["learners"][0], cohort.id, module.id,
                               release_at=None, now=LAUNCHED)
        with pytest.raises(NotFound):
            reschedule_release(outsider, cohort.id, module.id, release_at=None,
                               now=LAUNCHED)
        moved = datetime(2026, 3, 20, 13, tzinfo=UTC)
        reschedule_release(launched["owner"], cohort.id, module.id,
                           release_at=moved, now=LAUNCHED)
    with db() as session:
        assert session.get(CohortModule, module.id).release_at == moved
        assert session.get(CohortModule, module.id).released_at is None
    with app.app_context():
        release_module(module.id, now=moved)
        with pytest.raises(Conflict):
            reschedule_release(launched["owner"], cohort.id, module.id,
                               release_at=moved + timedelta(days=1), now=moved)


def api(client, user):
    """Bearer headers for a user."""
    with client.application.app_context():
        _, secret = tokens.issue_api_token(user, name="t", now=datetime.now(UTC))
    return {"Authorization": f"Bearer {secret}"}


def test_learners_see_content_only_once_released_through_the_api(app, db, client, launched):
    cohort = launched["cohort"]
    learner = api(client, launched["learners"][0])
    staff = api(client, launched["facilitator"])
    items = client.get(f"/api/v1/cohorts/{cohort.id}/modules", headers=learner).get_json()["items"]
    # Real time is after March 2026 only if the suite runs later; compare to the stored schedule.
    now = datetime.now(UTC)
    for item, module in zip(items, launched["modules"], strict=True):
        if module.release_at <= now:
            assert "<strong>content</strong>" in item["body_html"]
        else:
            assert item["body_html"] is None and item["released"] is False
    # Move the last module into the future and check it is hidden from the learner only.
    future = (now + timedelta(days=30)).isoformat()
    last = launched["modules"][2]
    with db() as session:
        session.get(CohortModule, last.id).release_at = now + timedelta(days=30)
    response = client.post(f"/api/v1/cohorts/{cohort.id}/releases/{last.id}",
                           json={"release_at": future}, headers=learner)
    assert response.status_code == 403
    hidden = client.get(f"/api/v1/cohorts/{cohort.id}/modules", headers=learner).get_json()
    assert hidden["items"][2]["body_html"] is None
    shown = client.get(f"/api/v1/cohorts/{cohort.id}/modules", headers=staff).get_json()
    assert "<strong>content</strong>" in shown["items"][2]["body_html"]
    released = client.post(f"/api/v1/cohorts/{cohort.id}/releases/{last.id}", json={},
                           headers=staff)
    assert released.status_code == 200 and released.get_json()["released"] is True
    again = client.get(f"/api/v1/cohorts/{cohort.id}/modules", headers=learner).get_json()
    assert "<strong>content</strong>" in again["items"][2]["body_html"]
    assert client.post(f"/api/v1/cohorts/{cohort.id}/releases/{last.id}", json={},
                       headers=staff).status_code == 409


def test_release_now_reaches_the_cohort_room_live(app, db, client, login, socket_client,
                                                  launched):
    cohort, module = launched["cohort"], launched["modules"][2]
    learner = launched["learners"][0]
    login(client, learner)
    live = socket_client()
    assert live.emit("join", {"room": f"cohort:{cohort.id}"}, callback=True)["ok"] is True
    live.get_received()
    with app.app_context():
        reschedule_release(launched["facilitator"], cohort.id, module.id,
                           release_at=None, now=datetime.now(UTC))
    events = {e["name"]: e["args"][0] for e in live.get_received()}
    assert events["module_released"]["module_id"] == module.id
    assert events["notification"]["kind"] == "module_released"


def test_outsiders_and_other_cohorts_staff_get_404(app, db, client, launched):
    cohort, module = launched["cohort"], launched["modules"][2]
    with db() as session:
        outsider = create_user(session)
        other_owner = create_user(session, can_own_programs=True)
        other = create_program(session, owner=other_owner)
        create_module(session, other)
    with db() as session:
        other_cohort = launch_cohort(other_owner, other.id, name="Other",
                                     starts_on=START, timezone="UTC",
                                     anonymity="off", now=LAUNCHED)
    with db() as session:
        other_staff = add_member(session, other_cohort, role="facilitator").user
    for user in (outsider, other_staff):
        headers = api(client, user)
        listing = client.get(f"/api/v1/cohorts/{cohort.id}/modules", headers=headers)
        assert listing.status_code == 404
        assert listing.get_json()["error"]["code"] == "not_found"
        assert client.post(f"/api/v1/cohorts/{cohort.id}/releases/{module.id}", json={},
                           headers=headers).status_code == 404
    # Staff of another cohort cannot reach this cohort's module through their own cohort.
    assert client.post(f"/api/v1/cohorts/{other_cohort.id}/releases/{module.id}", json={},
                       headers=api(client, other_staff)).status_code == 404
    with db() as session:
        assert session.get(CohortModule, module.id).released_at is None
