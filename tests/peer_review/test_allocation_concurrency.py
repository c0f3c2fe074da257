"""Allocation under concurrent requests: 14 learners ask for a review in the same moment,
round after round, with their reviews submitted at once in between.

Like tests/test_concurrency.py, each test gets a database of its own that many connections
really share (a SQLite file, or a PostgreSQL schema of its own) rather than the rolled-back
transaction of the other tests, and threads released together by a barrier. Allocations of
one assignment queue up on the assignment's lock, so the order of the new reviews' ids is
the order they were made in: replaying them through the allocation rules from what the
database held before the round proves each one saw every allocation before it.
"""

import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from app.accounts.models import User
from app.db import get_session
from app.errors import Conflict
from app.peer_review import allocation
from app.peer_review.work_models import Review
from tests.factories import add_member
from tests.peer_review.test_allocation_db import (
    ask,
    check_invariants,
    finish,
    pool,
    submit,
)
from tests.peer_review.world import NOW, practice

LEARNERS = 14
REQUIRED = 3


def at_once(work: Callable[[int], object]) -> list:
    """Run ``work(n)`` for every learner in threads released together; what each returned
    (an exception counts as what it returned, to be looked at)."""
    barrier = threading.Barrier(LEARNERS)
    results: list = [None] * LEARNERS

    def run(n: int) -> None:
        barrier.wait()
        try:
            results[n] = work(n)
        except Exception as error:  # a crash is a server error: the test shows it
            results[n] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(LEARNERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def everyone_submitted(app):
    """The practice world grown to LEARNERS learners, each of whom has submitted (a minute
    apart), committed: the learners and the assignment's id."""
    with app.app_context():
        session = get_session()
        world = practice(session, reviews_required=REQUIRED)
        extra = [add_member(session, world.world.cohort_a).user
                 for _ in range(LEARNERS - len(world.learners))]
        session.commit()
        learner_ids = [u.id for u in world.learners + extra]
        aid = world.assignment.id
    with app.app_context():
        learners = [get_session().get(User, uid) for uid in learner_ids]
    for minute, learner in enumerate(learners):
        submit(app, learner, aid, NOW + timedelta(minutes=minute))
    return learners, aid


def test_learners_asking_at_once_get_what_they_would_have_got_one_after_another(own_database):
    app = own_database
    learners, aid = everyone_submitted(app)
    clock = NOW + timedelta(hours=1)
    for _ in range(REQUIRED + 1):
        clock += timedelta(minutes=10)
        before = pool(app, aid, clock)
        had = {u.id: _had(app, aid, u.id) for u in learners}
        answers = at_once(lambda n, now=clock: ask(app, learners[n], aid, now))
        crashes = [a for a in answers if not isinstance(a, Review | Conflict)]
        assert crashes == []
        given = [a for a in answers if isinstance(a, Review)]
        assert len({a.id for a in given}) == len(given)
        assert len({(a.submission_id, a.reviewer_id) for a in given}) == len(given)
        # Everyone has had at most three of the thirteen others' work: all are served.
        assert len(given) == LEARNERS
        replay(before, had, sorted(given, key=lambda a: a.id))
        check_invariants(app, aid)
        results = at_once(lambda n, now=clock, mine=answers: finish(
            app, learners[n], mine[n], now) if isinstance(mine[n], Review) else None)
        assert results == ["submitted" if isinstance(a, Review) else None for a in answers]
        check_invariants(app, aid)
    assert sum(c.completed for c in pool(app, aid, clock)) == LEARNERS * (REQUIRED + 1)


def _had(app, assignment_id: int, reviewer_id: int) -> frozenset[int]:
    with app.app_context():
        return frozenset(get_session().scalars(select(Review.submission_id).where(
            Review.cohort_assignment_id == assignment_id, Review.reviewer_id == reviewer_id)))


def replay(before: list[allocation.Candidate], had: dict[int, frozenset[int]],
           given: list[Review]) -> None:
    """Each allocation, in the order made, is the one the rules choose after those before
    it: none took work past its target (or one review further) while work open to that
    reviewer waited with fewer."""
    counts = {c.submission_id: c for c in before}
    for review in given:
        request = allocation.Request(review.reviewer_id, True, had[review.reviewer_id])
        expected = allocation.choose(request, counts.values(), target=REQUIRED)
        assert isinstance(expected, allocation.Choice)
        assert review.submission_id == expected.submission_id, (review.id, expected)
        assert review.beyond_target == expected.beyond_target
        chosen = counts[review.submission_id]
        counts[review.submission_id] = allocation.Candidate(
            chosen.submission_id, chosen.author_id, chosen.submitted_at, chosen.late,
            chosen.completed, chosen.active + 1)


def test_requests_and_reviews_sent_at_once_keep_the_counters_whole(own_database):
    # Half the learners submit their open review while the other half ask for a new one:
    # the counters move in both directions on the same rows at once.
    app = own_database
    learners, aid = everyone_submitted(app)
    clock = NOW + timedelta(hours=1)
    open_reviews: dict[int, Review] = {}
    for n in range(0, LEARNERS, 2):
        open_reviews[n] = ask(app, learners[n], aid, clock)
    for _ in range(4):
        clock += timedelta(minutes=10)

        def act(n: int, now=clock, mine=open_reviews):
            if n in mine:
                return finish(app, learners[n], mine[n], now)
            return ask(app, learners[n], aid, now)

        results = at_once(act)
        assert [r for r in results if not isinstance(r, str | Review | Conflict)] == []
        assert all(r == "submitted" for n, r in enumerate(results) if n in open_reviews)
        open_reviews = {n: r for n, r in enumerate(results) if isinstance(r, Review)}
        check_invariants(app, aid)
    assert sum(c.reviews for c in pool(app, aid, clock)) == 2 * LEARNERS + LEARNERS // 2
