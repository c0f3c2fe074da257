"""The first visit's welcome: how the cohort works and its anonymity policy in plain words,
until the member says "Got it" (then never again)."""

from datetime import UTC, datetime, timedelta

import pytest

from app.cohorts.access import get_cohort_for
from app.cohorts.models import Cohort, Membership
from app.cohorts.progress import record_visit
from app.cohorts.welcome import dismiss_welcome, welcome_for
from tests.factories import add_member, create_cohort, create_user

WELCOME = "Welcome to"


@pytest.fixture
def cohort(db):
    with db() as session:
        return create_cohort(session, name="Harbour", anonymity="peers")


def _member(db, cohort, role="learner"):
    with db() as session:
        return add_member(session, cohort, role=role).user


def test_a_first_visit_is_welcomed_until_dismissed(app, db, cohort):
    learner = _member(db, cohort)
    now = datetime.now(UTC)
    with app.app_context():
        welcome = welcome_for(get_cohort_for(learner, cohort.id), now)
        assert welcome.anonymity == ("You can post anonymously: your peers will not see "
                                     "your name; facilitators will.")
        record_visit(learner.id, cohort.id, now)
        # Reloading within the first sitting keeps it.
        assert welcome_for(get_cohort_for(learner, cohort.id), now + timedelta(minutes=10))
        dismiss_welcome(learner, cohort.id, now + timedelta(minutes=11))
        dismiss_welcome(learner, cohort.id, now + timedelta(minutes=12))  # twice: no change
        access = get_cohort_for(learner, cohort.id)
        assert welcome_for(access, now + timedelta(minutes=12)) is None
        assert access.membership.previous_visit_at == now  # the first visit, kept
        assert welcome_for(access, now + timedelta(days=3)) is None


def test_a_later_sitting_is_not_a_first_visit(app, db, cohort):
    learner = _member(db, cohort)
    now = datetime.now(UTC)
    with app.app_context():
        record_visit(learner.id, cohort.id, now)
        assert welcome_for(get_cohort_for(learner, cohort.id), now + timedelta(hours=2)) is None


@pytest.mark.parametrize("policy, words", [
    ("off", "this cohort has no anonymous posting"),
    ("everyone", "nobody in the cohort will see your name, facilitators included"),
])
def test_the_policy_is_said_in_plain_words(app, db, policy, words):
    with db() as session:
        cohort = create_cohort(session, anonymity=policy)
        learner = add_member(session, cohort).user
    with app.app_context():
        assert words in welcome_for(get_cohort_for(learner, cohort.id),
                                    datetime.now(UTC)).anonymity


def test_facilitators_hear_it_as_facilitators_and_owners_get_none(app, db, cohort):
    facilitator = _member(db, cohort, role="facilitator")
    with app.app_context():
        welcome = welcome_for(get_cohort_for(facilitator, cohort.id), datetime.now(UTC))
        assert welcome.anonymity.startswith("Learners can post anonymously")
    with db() as session:
        owner = session.get(Cohort, cohort.id).program.owner
    with app.app_context():
        assert welcome_for(get_cohort_for(owner, cohort.id), datetime.now(UTC)) is None


def test_got_it_hides_the_welcome_for_good(app, db, client, login, cohort):
    learner = _member(db, cohort)
    login(client, learner)
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert f"{WELCOME} Harbour" in page
    assert "reflects" in page and "responds" in page and "synthesizes" in page
    assert "your peers will not see your name; facilitators will" in page
    assert f'action="/cohorts/{cohort.id}/welcome"' in page
    assert client.post(f"/cohorts/{cohort.id}/welcome").status_code == 400  # no CSRF token
    assert f"{WELCOME} Harbour" in client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    response = client.post_form(f"/cohorts/{cohort.id}/welcome", {},
                                token_from=f"/cohorts/{cohort.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/cohorts/{cohort.id}"
    assert WELCOME not in client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)


def test_only_members_dismiss_their_own_welcome(app, db, client, login, cohort):
    learner = _member(db, cohort)
    with db() as session:
        outsider = create_user(session)
    login(client, outsider)
    response = client.post_form(f"/cohorts/{cohort.id}/welcome", {}, token_from="/")
    assert response.status_code == 404
    missing = client.post_form("/cohorts/987654/welcome", {}, token_from="/")
    assert missing.status_code == 404
    with db() as session:
        membership = session.query(Membership).filter_by(user_id=learner.id).one()
        assert membership.previous_visit_at is None  # the learner's welcome is untouched
