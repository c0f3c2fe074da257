"""The command line: ``flask users create``, ``flask users token`` and ``flask demo seed``."""

from datetime import UTC, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import ApiToken, User
from app.accounts.services import authenticate
from app.cohorts.models import Cohort, CohortModule, Membership, Module, Program, ProgramGoal
from app.db import utcnow
from app.demo import DEMO_COHORT, DEMO_PASSWORD, DEMO_PROGRAM
from app.discussions.models import Post, Prompt, Reaction, Thread
from app.errors import Invalid
from app.peer_review.models import Assignment, CohortAssignment
from app.peer_review.work_models import Review, Submission
from tests.factories import create_user

PASSPHRASE = "a long passphrase"
DEMO_LOGINS = {
    "admin@demo.test": "site admin",
    "owner@demo.test": "program owner",
    "facilitator@demo.test": "facilitator",
    **{f"learner{n}@demo.test": "learner" for n in range(1, 9)},
}


@pytest.fixture
def runner(app):
    """A CLI runner for the test application."""
    return app.test_cli_runner()


def _counts(db) -> dict[str, int]:
    """Rows of the tables the demo fills."""
    with db() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (User, Program, ProgramGoal, Module, Prompt, Assignment, Cohort,
                              CohortModule, Thread, CohortAssignment, Membership)}


# --- flask users create -------------------------------------------------------------------------

def test_users_create_makes_an_account_that_can_sign_in(runner, db):
    result = runner.invoke(args=["users", "create", "Ann@Example.com", "--name", "Ann",
                                 "--password", PASSPHRASE, "--owner"])
    assert result.exit_code == 0, result.output
    assert "Created user" in result.output and "<ann@example.com>" in result.output
    with db():
        user = authenticate("ann@example.com", PASSPHRASE)
        assert (user.name, user.can_own_programs, user.is_admin) == ("Ann", True, False)


def test_users_create_can_make_a_site_admin(runner, db):
    result = runner.invoke(args=["users", "create", "root@example.com", "--name", "Root",
                                 "--password", PASSPHRASE, "--admin"])
    assert result.exit_code == 0, result.output
    with db():
        user = authenticate("root@example.com", PASSPHRASE)
        assert (user.is_admin, user.can_own_programs) == (True, False)


def test_users_create_asks_for_the_password_twice_when_omitted(runner, db):
    result = runner.invoke(args=["users", "create", "bo@example.com", "--name", "Bo"],
                           input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    assert result.exit_code == 0, result.output
    assert PASSPHRASE not in result.output
    with db():
        assert authenticate("bo@example.com", PASSPHRASE).name == "Bo"


@pytest.mark.parametrize("args,problem", [
    (["not-an-email", "--name", "X", "--password", PASSPHRASE], "email"),
    (["x@example.com", "--name", "X", "--password", "short"], "password"),
    (["x@example.com", "--name", "   ", "--password", PASSPHRASE], "name"),
])
def test_users_create_explains_bad_input_and_creates_nothing(runner, db, args, problem):
    result = runner.invoke(args=["users", "create", *args])
    assert result.exit_code == 1
    assert f"{problem}:" in result.output
    assert "Traceback" not in result.output
    assert _counts(db)["users"] == 0


def test_users_create_refuses_a_taken_email(runner, db):
    with db() as session:
        create_user(session, email="taken@example.com")
    result = runner.invoke(args=["users", "create", "TAKEN@example.com", "--name", "T",
                                 "--password", PASSPHRASE])
    assert result.exit_code == 1
    assert "email:" in result.output
    assert _counts(db)["users"] == 1


# --- flask users token ---------------------------------------------------------------------------

def test_users_token_prints_a_token_that_works(runner, app, db):
    with db() as session:
        user = create_user(session, email="bot@example.com")
    result = runner.invoke(args=["users", "token", "BOT@example.com", "--name", "HR sync"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    assert secret.startswith("cc_") and "\n" not in secret
    with db() as session:
        token = session.scalar(select(ApiToken))
        assert (token.user_id, token.name) == (user.id, "HR sync")
        assert token.token_hash != secret
    response = app.test_client().get("/api/v1/me",
                                     headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert response.get_json()["email"] == "bot@example.com"


@pytest.mark.parametrize("email", ["nobody@example.com", "disabled@example.com"])
def test_users_token_refuses_unknown_and_disabled_accounts(runner, db, email):
    with db() as session:
        create_user(session, email="disabled@example.com", is_disabled=True)
    result = runner.invoke(args=["users", "token", email])
    assert result.exit_code == 1
    assert f"No active account for {email}" in result.output
    with db() as session:
        assert session.scalar(select(func.count()).select_from(ApiToken)) == 0


# --- flask demo seed ------------------------------------------------------------------------------

def test_demo_seed_creates_the_demo_and_prints_the_logins(runner, db):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert DEMO_PASSWORD in result.output
    for email, role in DEMO_LOGINS.items():
        assert email in result.output, email
        assert role in result.output
    assert _counts(db) == {"users": 11, "programs": 1, "program_goals": 3, "modules": 6,
                           "prompts": 6, "assignments": 1, "cohorts": 1, "cohort_modules": 6,
                           "threads": 6, "cohort_assignments": 1, "memberships": 9}


def test_demo_cohort_started_two_weeks_ago_with_its_first_modules_open(runner, db):
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    now = utcnow()
    with db() as session:
        cohort = session.scalar(select(Cohort).where(Cohort.name == DEMO_COHORT))
        assert cohort.starts_on == (now - timedelta(days=14)).date()
        modules = session.scalars(select(CohortModule).where(CohortModule.cohort_id == cohort.id)
                                  .order_by(CohortModule.position)).all()
        assert [m.release_offset_days for m in modules] == [0, 7, 14, 21, 28, 35]
        assert all(m.body.strip() for m in modules)
        released = [m.is_released(now) for m in modules]
        # Weeks 1 and 2 are open; week 3 opens today at 09:00 London time; the rest later.
        assert released[:2] == [True, True] and released[3:] == [False] * 3
        assert all(m.released_at is not None for m in modules[:2])
        assignment = session.scalar(select(CohortAssignment)
                                    .where(CohortAssignment.cohort_id == cohort.id))
        assert assignment.cohort_module_id == modules[1].id
        assert len(assignment.rubric.criteria) == 2


def test_demo_discussions_have_posts_replies_and_reactions_written_in_their_stages(runner,
                                                                                  db):
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    with db() as session:
        threads = session.scalars(select(Thread).order_by(Thread.cohort_module_id)).all()
        rows = session.execute(select(Post.thread_id, Post.kind, Post.anonymity)).all()
        per_thread = {t.id: [(kind, anonymity) for thread_id, kind, anonymity in rows
                             if thread_id == t.id] for t in threads}
        first, second = threads[0].id, threads[1].id
        assert {kind for kind, _ in per_thread[first]} == {"reflection", "reply", "synthesis"}
        assert ("reflection", "peers") in per_thread[first]
        assert ("reply", "peers") in per_thread[second]
        assert all(not per_thread[t.id] for t in threads[2:])
        assert session.scalar(select(func.count()).select_from(Reaction)) > 0
        # Learners 6 to 8 have not posted in the second discussion: post first to try.
        later = session.scalars(select(User.id).where(User.email.in_(
            ["learner6@demo.test", "learner7@demo.test", "learner8@demo.test"]))).all()
        assert session.scalar(select(func.count(Post.id)).where(
            Post.thread_id == second, Post.author_id.in_(later))) == 0
    posts = len(rows)
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    with db() as session:
        assert session.scalar(select(func.count(Post.id))) == posts


def test_demo_practice_work_has_reviews_a_held_one_and_work_still_short(runner, db):
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    with db() as session:
        assignment = session.scalar(select(CohortAssignment))
        submissions = session.scalars(select(Submission)).all()
        assert len(submissions) == 5 and not any(s.late for s in submissions)
        reviews = session.scalars(select(Review)).all()
        assert sorted(r.status for r in reviews) == ["active"] + ["submitted"] * 4
        assert [r.held_phrases for r in reviews if r.held_at is not None] == [
            "this is useless; you never"]
        assert any(r.helpfulness == 5 for r in reviews)
        # Every counter agrees with the review rows, and work is still short of reviews.
        for s in submissions:
            mine = [r for r in reviews if r.submission_id == s.id]
            assert s.completed_reviews == sum(r.status == "submitted" for r in mine)
            assert s.active_reviews == sum(r.status == "active" for r in mine)
        assert any(s.completed_reviews < assignment.reviews_required for s in submissions)
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    with db() as session:
        assert session.scalar(select(func.count(Review.id))) == len(reviews)


def test_demo_cohort_has_a_pinned_welcome_an_announcement_and_intros(runner, db):
    from app.cohorts.models import Announcement
    from app.notifications.models import Notification

    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    with db() as session:
        cohort = session.scalar(select(Cohort).where(Cohort.name == DEMO_COHORT))
        announcements = session.scalars(select(Announcement).where(
            Announcement.cohort_id == cohort.id).order_by(Announcement.id)).all()
        assert [a.pinned for a in announcements] == [True, False]
        assert session.scalar(select(func.count(Notification.id)).where(
            Notification.kind == "announcement")) > 0
        assert session.scalar(select(func.count(User.id)).where(User.intro != "")) >= 3


def test_demo_seed_twice_changes_nothing(runner, db):
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    first = _counts(db)
    second_run = runner.invoke(args=["demo", "seed"])
    assert second_run.exit_code == 0, second_run.output
    assert _counts(db) == first


def test_every_demo_login_works_with_the_demo_password(runner, db):
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    with db() as session:
        for email in DEMO_LOGINS:
            assert authenticate(email, DEMO_PASSWORD).email == email
        with pytest.raises(Invalid):
            authenticate("learner1@demo.test", "not-the-demo-password")
        cohort = session.scalar(select(Cohort).where(Cohort.name == DEMO_COHORT))
        assert cohort.program.title == DEMO_PROGRAM
        assert cohort.program.owner.email == "owner@demo.test"
        roles = {m.user.email: m.role for m in cohort.memberships}
        assert roles == {email: role for email, role in DEMO_LOGINS.items()
                         if role in ("learner", "facilitator")}
        admin = session.scalar(select(User).where(User.email == "admin@demo.test"))
        assert admin.is_admin and not admin.can_own_programs


def test_demo_seed_fills_in_what_is_missing(runner, db):
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    full = _counts(db)
    with db() as session:
        learner = session.scalar(select(User).where(User.email == "learner8@demo.test"))
        session.delete(session.scalar(select(Membership).where(Membership.user_id == learner.id)))
    assert _counts(db)["memberships"] == full["memberships"] - 1
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    assert _counts(db) == full


def _utc(moment):
    """A stored time as an aware UTC datetime, whichever database returned it."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_demo_people_joined_on_different_days_and_some_went_quiet(runner, db):
    started = utcnow()
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    with db() as session:
        cohort = session.scalar(select(Cohort).where(Cohort.name == DEMO_COHORT))
        members = session.scalars(select(Membership).where(
            Membership.cohort_id == cohort.id)).all()
        joined = {m.user.email: _utc(m.joined_at) for m in members}
        # Spread over the cohort's first two weeks, on at least three different days.
        assert len({moment.date() for moment in joined.values()}) >= 3
        assert all(cohort.starts_on - timedelta(days=1) <= moment.date()
                   <= cohort.starts_on + timedelta(days=14) for moment in joined.values())
        active = {m.user.email: _utc(m.last_active_at) for m in members}
        assert all(active[email] >= joined[email] for email in joined)
        learners = [m.user.email for m in members if m.role == "learner"]
        assert any(active[email] <= started - timedelta(days=7) for email in learners)
        assert any(active[email] >= started - timedelta(days=2) for email in learners)
        # Most learners are still around; a few went quiet.
        assert sum(active[email] <= started - timedelta(days=7) for email in learners) < 4
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    with db() as session:
        again = session.scalars(select(Membership).where(
            Membership.cohort_id == cohort.id)).all()
        assert {m.user.email: (_utc(m.joined_at), _utc(m.last_active_at)) for m in again} == {
            email: (joined[email], active[email]) for email in joined}


def test_demo_notifications_are_stamped_when_things_happened(runner, db):
    from app.notifications.models import Notification

    started = utcnow()
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    with db() as session:
        rows = session.execute(select(Notification.kind, Notification.created_at,
                                      Notification.user_id)).all()
        stamped = [_utc(created_at) for _, created_at, _ in rows]
        assert len({moment.date() for moment in stamped}) >= 3
        assert all(started - timedelta(days=15) <= moment < started for moment in stamped)
        # Each module's opening is told at the moment it opened, to the members of then.
        opened = {m.id: _utc(m.released_at) for m in session.scalars(select(CohortModule))
                  if m.released_at is not None}
        releases = [_utc(created_at) for kind, created_at, _ in rows
                    if kind == "module_released"]
        assert releases and set(releases) <= set(opened.values())
        first_told = {user_id for kind, created_at, user_id in rows
                      if kind == "module_released" and _utc(created_at) == min(releases)}
        assert 0 < len(first_told) < 9  # later joiners were not there yet
    count = len(rows)
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    with db() as session:
        assert session.scalar(select(func.count(Notification.id))) == count
