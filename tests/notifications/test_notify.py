"""One notification path: preferences decide inbox, e-mail or digest; live notices go to the
members' room once, or person by person when some were already told."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.cohorts.models import CohortModule
from app.cohorts.releases import release_module
from app.cohorts.roster import remove_member
from app.mail import OutboxEmail
from app.notifications.models import Notification
from app.notifications.preferences import set_notification_preferences
from tests.factories import add_member, create_cohort, create_user

NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)


def cohort_with_module(session, members: int = 0):
    """A cohort with one module due now and ``members`` learners."""
    cohort = create_cohort(session)
    module = CohortModule(cohort_id=cohort.id, position=0, title="Week 1",
                          release_at=NOW - timedelta(minutes=1))
    session.add(module)
    session.flush()
    people = [add_member(session, cohort).user for _ in range(members)]
    return cohort, module, people


def test_each_kind_reaches_each_person_as_they_chose(app, db):
    with db() as session:
        cohort, module, (default, app_only, email, digest) = cohort_with_module(session, 4)
    with app.app_context():
        set_notification_preferences(app_only, kinds={"module_released": "app"})
        set_notification_preferences(email, kinds={"module_released": "email"})
        set_notification_preferences(digest, kinds={"module_released": "digest"})
        assert release_module(module.id, now=NOW) is True
    with db() as session:
        notices = {n.user_id: n for n in session.scalars(select(Notification))}
        assert set(notices) == {default.id, app_only.id, email.id, digest.id}
        assert {uid for uid, n in notices.items() if n.digest_pending} == {digest.id}
        assert notices[email.id].link == f"/cohorts/{cohort.id}/modules/{module.id}"
        mails = session.scalars(select(OutboxEmail)).all()
        assert {m.user_id for m in mails} == {default.id, email.id}  # release default: e-mail
        assert all(f"http://localhost/cohorts/{cohort.id}/modules/{module.id}" in m.body_text
                   and "http://localhost/settings/notifications" in m.body_text
                   for m in mails)


def test_a_release_costs_the_same_statements_for_1_or_5_members(app, db, query_counter):
    counts = {}
    for size in (1, 5):
        with db() as session:
            _, module, people = cohort_with_module(session, size)
        with app.app_context():
            set_notification_preferences(people[0], kinds={"module_released": "digest"})
        with app.app_context(), query_counter.counting() as counter:
            release_module(module.id, now=NOW)
        counts[size] = counter.count
    assert counts[1] == counts[5], counts


def test_members_get_the_notice_live_on_any_page_and_the_owner_does_not(
        app, db, client, login, socket_client):
    with db() as session:
        cohort, module, (learner,) = cohort_with_module(session, 1)
        owner = cohort.program.owner
    login(client, learner)
    learner_socket = socket_client()  # on a page without the cohort: no join
    owner_client = app.test_client()  # another browser
    login(owner_client, owner)
    owner_socket = socket_client(flask_client=owner_client)
    assert owner_socket.emit("join", {"room": f"cohort:{cohort.id}"}, callback=True)["ok"]
    learner_socket.get_received()
    owner_socket.get_received()
    with app.app_context():
        release_module(module.id, now=NOW)
    learner_events = [e for e in learner_socket.get_received() if e["name"] == "notification"]
    assert [e["args"][0]["kind"] for e in learner_events] == ["module_released"]
    owner_events = {e["name"] for e in owner_socket.get_received()}
    assert "module_released" in owner_events and "notification" not in owner_events


def test_people_already_told_get_no_second_live_notice(app, db, client, login,
                                                       socket_client):
    with db() as session:
        cohort, module, (told, fresh) = cohort_with_module(session, 2)
        session.add(Notification(user_id=told.id, kind="module_released", title="Earlier",
                                 dedupe_key=f"release:{module.id}", created_at=NOW))
    login(client, told)
    told_socket = socket_client()
    fresh_client = app.test_client()  # another browser
    login(fresh_client, fresh)
    fresh_socket = socket_client(flask_client=fresh_client)
    told_socket.get_received()
    fresh_socket.get_received()
    with app.app_context():
        release_module(module.id, now=NOW)
    assert [e for e in told_socket.get_received() if e["name"] == "notification"] == []
    assert [e["name"] for e in fresh_socket.get_received()] == ["notification"]
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 2


def test_a_removed_member_stops_getting_the_cohorts_live_notices(app, db, client, login,
                                                                 socket_client):
    with db() as session:
        cohort, module, (learner, other) = cohort_with_module(session, 2)
        facilitator = add_member(session, cohort, role="facilitator").user
    login(client, learner)
    live = socket_client()
    with app.app_context():
        remove_member(facilitator, cohort.id, learner.id, now=NOW)
        live.get_received()
        release_module(module.id, now=NOW)
    assert [e for e in live.get_received() if e["name"] == "notification"] == []


def test_nobody_can_ask_to_join_a_members_room(app, db, client, login, socket_client):
    with db() as session:
        cohort, _, _ = cohort_with_module(session, 1)
        outsider = create_user(session)
    login(client, outsider)
    live = socket_client()
    answer = live.emit("join", {"room": f"members:{cohort.id}"}, callback=True)
    assert answer == {"ok": False, "error": "not_found"}
