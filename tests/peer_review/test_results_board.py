"""What authors get back and what facilitators see, through the services: the results gate,
medians, who is shown as whom, ratings and flags, held reviews, the board and its actions,
and the deadline job's reminders and feedback-by promise."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.db import get_session
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.notifications.models import Notification
from app.peer_review import board, results, reviewing, submitting
from app.peer_review.work_models import Submission
from tests.peer_review.world import DUE, NOW, REVIEWS_DUE, practice

LATER = NOW + timedelta(hours=1)


@pytest.fixture
def p(db):
    """The practice world (tests/peer_review/world.py)."""
    with db() as session:
        return practice(session)


def _submit(p, learners):
    return {learner.id: submitting.submit_work(learner, p.assignment.id, body="Work",
                                               now=NOW + timedelta(minutes=n)).id
            for n, learner in enumerate(learners)}


def _give(p, reviewer, *, clarity=4, kindness=1, comment="Clear, kind, specific.",
          anyway=False, now=LATER):
    review = reviewing.request_review(reviewer, p.assignment.id, now=now)
    outcome = reviewing.save_review(reviewer, review.id, scores=p.scores(clarity, kindness),
                                    comment=comment, submit=True, submit_anyway=anyway,
                                    now=now)
    return review.id, review.submission_id, outcome.status


def _kinds(session, kind):
    return sorted(n.user_id for n in session.scalars(
        select(Notification).where(Notification.kind == kind)))


def test_the_author_reads_reviews_once_they_have_done_their_own(app, p):
    with app.app_context():
        ids = _submit(p, p.learners[:3])
        a, b, c = p.people["learner_a"], p.people["peer_1"], p.people["peer_2"]
        _give(p, b)  # peer_1 reviews learner_a's work (the oldest, with fewest reviews)
        view = results.get_submission_view(a, ids[a.id], now=LATER)
        assert not view.results_open and view.reviews == [] and view.medians == []
        assert "2 more reviews" in view.gate
        _give(p, a)
        _give(p, a)
        view = results.get_submission_view(a, ids[a.id], now=LATER)
        assert view.results_open and [r.reviewer.label for r in view.reviews] == ["Reviewer 1"]
        assert view.reviews[0].reviewer.name is None and view.reviews[0].reviewer.user_id is None
        # The window's close opens everyone's results, done or not.
        assert results.get_submission_view(c, ids[c.id], now=REVIEWS_DUE).results_open


def test_with_results_after_the_window_nobody_reads_reviews_before_it_closes(app, db):
    with db() as session:
        p = practice(session, results_after="window_closed")
    with app.app_context():
        ids = _submit(p, p.learners[:3])
        a = p.people["learner_a"]
        _give(p, p.people["peer_1"])
        _give(p, a)
        _give(p, a)
        assert not results.get_submission_view(a, ids[a.id], now=LATER).results_open
        assert results.get_submission_view(a, ids[a.id], now=REVIEWS_DUE).results_open


def test_the_median_level_per_criterion_is_a_level_of_the_rubric(app, db):
    with db() as session:
        p = practice(session, reviews_required=3)
    with app.app_context():
        ids = _submit(p, p.learners)
        a = p.people["learner_a"]
        staff = p.people["facilitator_a"]
        for reviewer, clarity, kindness in ((p.people["peer_1"], 0, 1),
                                            (p.people["peer_2"], 4, 0),
                                            (p.people["peer_3"], 2, 1),
                                            (p.people["peer_4"], 4, 0)):
            reviewing.assign_review(staff, ids[a.id], reviewer_id=reviewer.id, now=NOW)
            review = reviewing.active_review_of(reviewer.id, p.assignment.id, LATER)
            reviewing.save_review(reviewer, review.id, scores=p.scores(clarity, kindness),
                                  comment="Thanks for sharing.", submit=True, now=LATER)
        medians = results.get_submission_view(a, ids[a.id], now=REVIEWS_DUE).medians
        # Clarity 0, 2, 4, 4 → the lower middle, 2; kindness 0, 0, 1, 1 → 0.
        assert [(m.criterion, m.level, m.points, m.reviews) for m in medians] == [
            ("Clarity", "Mostly clear", 2, 4), ("Kindness", "Harsh", 0, 4)]


def test_staff_see_who_reviewed_whom_and_without_double_blind_everyone_does(app, db):
    with db() as session:
        p = practice(session, double_blind=False)
    with app.app_context():
        ids = _submit(p, p.learners[:2])
        a, b = p.people["learner_a"], p.people["peer_1"]
        _give(p, b)
        view = results.get_submission_view(a, ids[a.id], now=REVIEWS_DUE)
        assert view.reviews[0].reviewer.label == b.name
    with db() as session:
        p2 = practice(session)
    with app.app_context():
        ids = _submit(p2, p2.learners[:2])
        a, b = p2.people["learner_a"], p2.people["peer_1"]
        _give(p2, b)
        staff_view = results.get_submission_view(p2.people["facilitator_a"], ids[a.id],
                                                 now=LATER)
        assert staff_view.reviews[0].reviewer.label == f"Reviewer 1 ({b.name})"
        assert staff_view.author.name == a.name
        review = reviewing.get_review_for(b, staff_view.reviews[0].id, now=LATER)
        seen = results.present_side(review.submission.author_id, "A peer",
                                    review.access.viewer, a.name, double_blind=True)
        assert (seen.label, seen.name, seen.user_id) == ("A peer", None, None)


def test_a_held_review_reaches_its_author_only_once_released(app, db, p):
    with app.app_context():
        ids = _submit(p, p.learners[:2])
        a, b = p.people["learner_a"], p.people["peer_1"]
        staff = p.people["facilitator_a"]
        review_id, work, status = _give(p, b, comment="This is useless.", anyway=True)
        assert (work, status) == (ids[a.id], "held")
        assert results.get_submission_view(a, work, now=REVIEWS_DUE).reviews == []
        held = board.get_board(staff, p.assignment.id, now=LATER).held
        assert [(r.id, r.held_phrases) for r in held] == [(review_id, "this is useless")]
        with pytest.raises(NotAllowed):
            board.release_review(b, review_id, now=LATER)
        board.release_review(staff, review_id, now=LATER)
        assert [r.id for r in results.get_submission_view(a, work, now=REVIEWS_DUE).reviews] \
            == [review_id]
        with pytest.raises(Conflict):
            board.release_review(staff, review_id, now=LATER)
    with db() as session:
        assert _kinds(session, "review_received") == [a.id]
        assert _kinds(session, "review_moderated") == [b.id]


def test_the_author_rates_and_flags_a_review_and_a_facilitator_decides(app, db, p):
    with app.app_context():
        _submit(p, p.learners[:2])
        a, b = p.people["learner_a"], p.people["peer_1"]
        staff = p.people["facilitator_a"]
        review_id, work, _ = _give(p, b)
        with pytest.raises(NotFound):  # the gate is still closed for the author
            results.rate_review(a, review_id, helpfulness=4, now=LATER)
        for bad in (0, 6, "4", None):
            with pytest.raises(Invalid):
                results.rate_review(a, review_id, helpfulness=bad, now=REVIEWS_DUE)
        with pytest.raises(NotFound):  # only the author rates
            results.rate_review(b, review_id, helpfulness=5, now=REVIEWS_DUE)
        results.rate_review(a, review_id, helpfulness=2, comment="Too vague", now=REVIEWS_DUE)
        assert results.reviewer_helpfulness(b.id, p.assignment.id) == (2.0, 1)
        assert [r.id for r in board.get_board(staff, p.assignment.id,
                                              now=REVIEWS_DUE).low_rated] == [review_id]
        results.rate_review(a, review_id, helpfulness=None, flag_reason="It mocks my accent",
                            now=REVIEWS_DUE)
        view = results.get_submission_view(a, work, now=REVIEWS_DUE)
        assert [(r.flagged, r.published) for r in view.reviews] == [(True, False)]
        assert view.medians[0].reviews == 0  # a flagged review no longer counts for them
        with pytest.raises(Conflict):
            results.rate_review(a, review_id, helpfulness=None, flag_reason="Again",
                                now=REVIEWS_DUE)
        assert [r.flag_reason for r in board.get_board(
            staff, p.assignment.id, now=REVIEWS_DUE).flagged] == ["It mocks my accent"]
        with pytest.raises(Invalid):
            board.hide_review(staff, review_id, reason="  ", now=REVIEWS_DUE)
        board.hide_review(staff, review_id, reason="Unkind remarks about a person",
                          now=REVIEWS_DUE)
        assert results.get_submission_view(a, work, now=REVIEWS_DUE).reviews == []
    with db() as session:
        assert session.get(Submission, work).completed_reviews == 0  # back in the pool
        assert _kinds(session, "reviews_waiting") == sorted(
            [staff.id, p.people["owner_a"].id])
        notice = session.scalar(select(Notification).where(
            Notification.kind == "review_moderated"))
        assert notice.user_id == b.id and "Unkind remarks" in notice.body


def test_the_board_lists_work_short_of_reviews_and_what_each_learner_owes(app, p):
    with app.app_context():
        ids = _submit(p, p.learners[:3])
        staff = p.people["facilitator_a"]
        a, b = p.people["learner_a"], p.people["peer_1"]
        _give(p, b)
        open_review = reviewing.request_review(a, p.assignment.id, now=LATER)
        state = board.get_board(staff, p.assignment.id, now=LATER)
        rows = {row.id: (row.completed, row.in_progress, row.short) for row in state.submissions}
        assert rows == {ids[a.id]: (1, 0, True), ids[b.id]: (0, 1, True),
                        ids[p.people["peer_2"].id]: (0, 0, True)}
        assert [r.id for r in state.in_progress] == [open_review.id]
        owed = {row.user_id: (row.submitted, row.reviews_done, row.owed)
                for row in state.learners}
        assert owed[b.id] == (True, 1, 1) and owed[p.people["peer_3"].id] == (False, 0, 2)
        late = board.get_board(staff, p.assignment.id, now=open_review.expires_at)
        assert [r.id for r in late.overdue_allocations] == [open_review.id]
        with pytest.raises(NotAllowed):
            board.get_board(a, p.assignment.id, now=LATER)
        for role in ("facilitator_b", "learner_b", "admin", "outsider"):
            with pytest.raises(NotFound):
                board.get_board(p.people[role], p.assignment.id, now=LATER)


def test_the_deadline_job_reminds_and_escalates_exactly_once(app, db, p):
    with app.app_context():
        ids = _submit(p, p.learners[:3])
        a = p.people["learner_a"]
        _give(p, a)
        _give(p, a)
        assert board.run_deadlines(DUE) == {"expired": 0, "reminded": 0, "escalated": 0}
        day_before = REVIEWS_DUE - timedelta(hours=23)
        first = board.run_deadlines(day_before)
        # Everyone but learner_a still owes reviews (peer_3 and peer_4 did not submit).
        assert first["reminded"] == 4
        assert board.run_deadlines(day_before)["reminded"] == 0
        at_close = board.run_deadlines(REVIEWS_DUE)
        # All three pieces of work are short of their 2 completed reviews.
        assert at_close["escalated"] == 3
        assert board.run_deadlines(REVIEWS_DUE + timedelta(hours=1))["escalated"] == 0
    with db() as session:
        reminded = _kinds(session, "reviews_reminder")
        assert a.id not in reminded and len(reminded) == 4
        staff = sorted([p.people["facilitator_a"].id, p.people["owner_a"].id])
        assert _kinds(session, "reviews_waiting") == sorted(staff * 3)
        assert session.scalar(select(func.count()).select_from(Submission).where(
            Submission.escalated_at.is_not(None))) == len(ids)


def test_the_gate_gives_the_date_in_the_authors_time_zone(app, db, p):
    with db() as session:
        session.get(User, p.people["learner_a"].id).timezone = "Asia/Tokyo"
    with app.app_context():
        a = get_session().get(User, p.people["learner_a"].id)
        ids = _submit(p, p.learners[:3])
        _give(p, p.people["peer_1"])  # reviews learner_a's work: she is told
        view = results.get_submission_view(a, ids[a.id], now=LATER)
        tokyo = REVIEWS_DUE.astimezone(ZoneInfo("Asia/Tokyo"))
        assert f"{tokyo:%a %d %b %Y, %H:%M} JST" in view.gate and "UTC" not in view.gate
        notice = get_session().scalars(select(Notification).where(
            Notification.user_id == a.id, Notification.kind == "review_received")).one()
        assert f"{tokyo:%H:%M} JST" in notice.body
