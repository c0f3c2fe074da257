"""Reviewing through the services: on-demand allocation with its reasons, expiry back to the
pool, the rubric form (draft, submit), the kindness nudge and hold, and the facilitators'
"review it myself", "assign to …" and reassign."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.cohorts.access import get_cohort_module
from app.cohorts.parts import parts_of_cohort_modules
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.notifications.models import Notification
from app.peer_review import reviewing, submitting
from app.peer_review.work_models import Review, Submission
from tests.peer_review.world import NOW, practice

LATER = NOW + timedelta(hours=1)


@pytest.fixture
def p(db):
    """The practice world (tests/peer_review/world.py)."""
    with db() as session:
        return practice(session)


def _submit_all(p, learners=None, now=NOW):
    """Each learner submits, a minute apart (oldest first)."""
    ids = {}
    for n, learner in enumerate(learners or p.learners):
        ids[learner.id] = submitting.submit_work(
            learner, p.assignment.id, body=f"Work {n}", now=now + timedelta(minutes=n)).id
    return ids


def _review(p, reviewer, now=LATER, **form):
    """Ask for a peer's work and submit a kind, complete review of it."""
    review = reviewing.request_review(reviewer, p.assignment.id, now=now)
    outcome = reviewing.save_review(reviewer, review.id, scores=p.scores(),
                                    comment=form.get("comment", "Clear and kind: well done."),
                                    submit=True, now=now)
    return review, outcome


def test_a_reviewer_gets_the_least_reviewed_oldest_submission_never_their_own(app, p):
    with app.app_context():
        ids = _submit_all(p)
        learner_a, peer_1 = p.people["learner_a"], p.people["peer_1"]
        first = reviewing.request_review(learner_a, p.assignment.id, now=LATER)
        # learner_a's own work is the oldest; the next oldest is peer_1's.
        assert first.submission_id == ids[peer_1.id] and first.number == 1
        second = reviewing.request_review(peer_1, p.assignment.id, now=LATER)
        assert second.submission_id == ids[learner_a.id]
        # Asking again gives back the open review instead of a second one.
        assert reviewing.request_review(learner_a, p.assignment.id, now=LATER).id == first.id
        third = reviewing.request_review(p.people["peer_2"], p.assignment.id, now=LATER)
        # learner_a's and peer_1's work each have an active review: peer_3's is next.
        assert third.submission_id == ids[p.people["peer_3"].id]


def test_each_refusal_says_why_and_what_happens_next(app, p):
    with app.app_context():
        a, b = p.people["learner_a"], p.people["peer_1"]
        with pytest.raises(Conflict) as refused:
            reviewing.request_review(a, p.assignment.id, now=NOW)
        assert refused.value.code == "not_submitted"
        submitting.submit_work(a, p.assignment.id, body="Mine", now=NOW)
        with pytest.raises(Conflict) as refused:
            reviewing.request_review(a, p.assignment.id, now=NOW)
        assert refused.value.code == "none_submitted_yet"
        assert "as soon as someone does" in refused.value.message
        submitting.submit_work(b, p.assignment.id, body="Theirs", now=NOW)
        _review(p, a, now=NOW)
        with pytest.raises(Conflict) as refused:
            reviewing.request_review(a, p.assignment.id, now=NOW)
        assert refused.value.code == "all_reviewed_by_you"
        for role in ("facilitator_a", "owner_a"):
            with pytest.raises(NotAllowed):
                reviewing.request_review(p.people[role], p.assignment.id, now=NOW)
        for role in ("learner_b", "outsider", "admin"):
            with pytest.raises(NotFound):
                reviewing.request_review(p.people[role], p.assignment.id, now=NOW)


def test_without_the_submit_first_gate_a_learner_reviews_before_submitting(app, db):
    with db() as session:
        p = practice(session, submit_first=False)
    with app.app_context():
        submitting.submit_work(p.people["peer_1"], p.assignment.id, body="x", now=NOW)
        review = reviewing.request_review(p.people["learner_a"], p.assignment.id, now=NOW)
        assert review.status == "active"


def test_review_one_more_only_gives_work_below_target(app, p):
    with app.app_context():
        ids = _submit_all(p, p.learners[:4])
        a = p.people["learner_a"]
        _review(p, a)
        _review(p, a)  # a's required two: peer_1's and peer_2's work
        # peer_3's work has no review yet: below target, so "review one more" offers it.
        third = reviewing.request_review(a, p.assignment.id, now=LATER, only_short=True)
        assert third.submission_id == ids[p.people["peer_3"].id]
        assert third.beyond_target is False


def test_an_unfinished_review_expires_and_its_work_returns_to_the_pool(app, db, p):
    with app.app_context():
        ids = _submit_all(p, p.learners[:3])
        a, b, c = p.people["learner_a"], p.people["peer_1"], p.people["peer_2"]
        held = reviewing.request_review(a, p.assignment.id, now=NOW)
        assert held.submission_id == ids[b.id]
        held_id = held.id
        # Before expiry peer_1's work counts as being reviewed: peer_2 gets learner_a's.
        assert reviewing.request_review(c, p.assignment.id, now=NOW).submission_id == ids[a.id]
        after = NOW + timedelta(hours=48)
        # At 48 hours both allocations expire when someone asks: all work is back at 0 and
        # the oldest (learner_a's) goes first.
        d = p.people["peer_3"]
        submitting.submit_work(d, p.assignment.id, body="mine", now=after)
        assert reviewing.request_review(d, p.assignment.id, now=after).submission_id == \
            ids[a.id]
        # peer_1's work is back in the pool: the next reviewer gets it ...
        e = p.people["peer_4"]
        submitting.submit_work(e, p.assignment.id, body="mine too", now=after)
        assert reviewing.request_review(e, p.assignment.id, now=after).submission_id == \
            ids[b.id]
        # ... and the absent reviewer is never given the same work again.
        assert reviewing.request_review(a, p.assignment.id, now=after).submission_id != \
            ids[b.id]
    with db() as session:
        assert session.get(Review, held_id).status == "expired"
        work = session.get(Submission, ids[b.id])
        assert (work.completed_reviews, work.active_reviews, work.review_load) == (0, 1, 1)


def test_a_draft_is_saved_and_a_submission_needs_every_level_and_a_comment(app, db, p):
    with app.app_context():
        _submit_all(p, p.learners[:2])
        a = p.people["learner_a"]
        review = reviewing.request_review(a, p.assignment.id, now=NOW)
        saved = reviewing.save_review(a, review.id, scores={p.clarity_id: 2},
                                      comments={p.clarity_id: "The *opening* works"},
                                      comment="", now=NOW)
        assert saved.status == "saved"
        with pytest.raises(Invalid) as refused:
            reviewing.save_review(a, review.id, scores={}, comment="", submit=True, now=NOW)
        assert set(refused.value.fields) == {f"scores.{p.kindness_id}", "comment"}
        with pytest.raises(Invalid) as refused:
            reviewing.save_review(a, review.id, scores={p.clarity_id: 3}, now=NOW)
        assert "0, 2, 4" in refused.value.fields[f"scores.{p.clarity_id}"]
        with pytest.raises(Invalid) as refused:
            reviewing.save_review(a, review.id, scores={999_999: 1}, now=NOW)
        assert "scores.999999" in refused.value.fields
        review_id = review.id
    with db() as session:
        stored = session.get(Review, review_id)
        assert stored.status == "active"
        score = next(s for s in stored.scores if s.criterion_id == p.clarity_id)
        assert "<em>opening</em>" in score.comment_html and score.level_id is not None


def test_a_submitted_review_counts_and_tells_the_author_without_naming_the_reviewer(
        app, db, p):
    with app.app_context():
        ids = _submit_all(p, p.learners[:2])
        a, b = p.people["learner_a"], p.people["peer_1"]
        review, outcome = _review(p, a)
        assert outcome.status == "submitted"
        with pytest.raises(Conflict) as again:
            reviewing.save_review(a, review.id, scores=p.scores(), comment="x", submit=True,
                                  now=LATER)
        assert again.value.code == "already_submitted"
        with pytest.raises(NotAllowed):
            reviewing.save_review(p.people["facilitator_a"], review.id, scores={},
                                  now=LATER)
        with pytest.raises(NotFound):
            reviewing.get_review_for(b, review.id, now=LATER)
    with db() as session:
        work = session.get(Submission, ids[b.id])
        assert (work.completed_reviews, work.active_reviews, work.review_load) == (1, 0, 1)
        notice = session.scalar(select(Notification).where(Notification.user_id == b.id,
                                                           Notification.kind ==
                                                           "review_received"))
        assert notice is not None and notice.link == f"/submissions/{ids[b.id]}"
        assert a.name not in notice.title + notice.body


def test_harsh_phrasings_nudge_once_then_the_review_is_held_for_a_facilitator(app, db, p):
    with app.app_context():
        ids = _submit_all(p, p.learners[:2])
        a, b = p.people["learner_a"], p.people["peer_1"]
        review = reviewing.request_review(a, p.assignment.id, now=NOW)
        harsh = "Honestly this is useless."
        nudged = reviewing.save_review(a, review.id, scores=p.scores(), comment=harsh,
                                       submit=True, now=NOW)
        assert nudged.status == "nudged"
        assert [f.phrase for f in nudged.findings] == ["this is useless"]
        assert nudged.findings[0].suggestion
        review_id = review.id
    with db() as session:  # the draft was kept, nothing was sent
        stored = session.get(Review, review_id)
        assert (stored.status, stored.comment) == ("active", harsh)
    with app.app_context():
        held = reviewing.save_review(a, review_id, scores=p.scores(), comment=harsh,
                                     submit=True, submit_anyway=True, now=NOW)
        assert held.status == "held"
    with db() as session:
        stored = session.get(Review, review_id)
        assert stored.held_at == NOW and stored.held_phrases == "this is useless"
        assert not stored.is_published
        kinds = {(n.user_id, n.kind) for n in session.scalars(select(Notification))}
        assert (b.id, "review_received") not in kinds
        assert (p.people["facilitator_a"].id, "reviews_waiting") in kinds
        assert session.get(Submission, ids[b.id]).completed_reviews == 1


def test_without_the_cohort_hold_a_review_kept_unchanged_goes_straight_out(app, db, p):
    with db() as session:
        p.world.cohort_a.kindness_hold = False
        session.add(p.world.cohort_a)
    with app.app_context():
        _submit_all(p, p.learners[:2])
        review = reviewing.request_review(p.people["learner_a"], p.assignment.id, now=NOW)
        outcome = reviewing.save_review(p.people["learner_a"], review.id, scores=p.scores(),
                                        comment="You never listen.", submit=True,
                                        submit_anyway=True, now=NOW)
        assert outcome.status == "submitted" and outcome.findings


def test_a_late_save_of_an_expired_review_is_refused_with_the_text_given_back(app, p):
    with app.app_context():
        _submit_all(p, p.learners[:3])
        a = p.people["learner_a"]
        review = reviewing.request_review(a, p.assignment.id, now=NOW)
        later = NOW + timedelta(hours=49)
        # Nobody asked meanwhile: past its expiry, the review is still welcome.
        reviewing.save_review(a, review.id, scores={}, comment="Still here", now=later)
        reviewing.request_review(p.people["peer_2"], p.assignment.id, now=later)
        with pytest.raises(Conflict) as expired:
            reviewing.save_review(a, review.id, scores={}, comment="My careful words",
                                  now=later)
        assert expired.value.code == "review_expired"
        assert expired.value.details["comment"] == "My careful words"


def test_facilitators_review_it_themselves_assign_it_and_reassign_it(app, db, p):
    with app.app_context():
        ids = _submit_all(p, p.learners[:3])
        staff, a = p.people["facilitator_a"], p.people["learner_a"]
        work = ids[p.people["peer_2"].id]
        mine = reviewing.assign_review(staff, work, now=NOW)
        assert (mine.reviewer_id, mine.by_staff) == (staff.id, True)
        given = reviewing.assign_review(staff, work, reviewer_id=a.id, now=NOW)
        assert (given.reviewer_id, given.by_staff, given.number) == (a.id, False, 2)
        # A learner may be given only one review at a time through "Review a peer's work":
        assert reviewing.request_review(a, p.assignment.id, now=NOW).id == given.id
        with pytest.raises(Conflict):
            reviewing.assign_review(staff, work, reviewer_id=a.id, now=NOW)
        with pytest.raises(Invalid):
            reviewing.assign_review(staff, work, reviewer_id=p.people["peer_2"].id, now=NOW)
        with pytest.raises(Invalid):
            reviewing.assign_review(staff, work, reviewer_id=p.people["learner_b"].id,
                                    now=NOW)
        with pytest.raises(NotAllowed):
            reviewing.assign_review(a, work, now=NOW)
        with pytest.raises(NotFound):
            reviewing.assign_review(p.people["facilitator_b"], work, now=NOW)
        released = reviewing.release_allocation(staff, given.id, now=NOW)
        assert released.status == "expired"
        with pytest.raises(Conflict):
            reviewing.release_allocation(staff, given.id, now=NOW)
    with db() as session:
        stored = session.get(Submission, work)
        assert (stored.active_reviews, stored.review_load) == (1, 1)


def test_the_module_page_part_tells_a_learner_what_they_still_owe(app, p):
    def facts(role):
        access, module = get_cohort_module(p.people[role], p.world.cohort_a.id,
                                           p.assignment.cohort_module_id, now=LATER)
        (part,) = parts_of_cohort_modules(access, [module])[module.id]
        return part.facts[1:]

    with app.app_context():
        assert facts("learner_a") == ("Submit your work", "You owe 2 reviews")
        _submit_all(p, p.learners[:3])
        _review(p, p.people["learner_a"])
        assert facts("learner_a") == ("You have submitted your work", "You owe 1 review")
        _review(p, p.people["learner_a"])
        assert facts("learner_a") == ("You have submitted your work", "Your reviews are done")
        assert facts("facilitator_a") == ()  # staff run the assignment
