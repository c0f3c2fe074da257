"""Allocation rules of peer review (app.peer_review.allocation): examples, then properties."""

from datetime import UTC, datetime, timedelta

import pytest

from app.peer_review.allocation import (
    DEFAULT_EXPIRY,
    MESSAGES,
    ORDER_BY,
    Candidate,
    Choice,
    Reason,
    Refusal,
    Request,
    choose,
    expiry_cutoff,
    is_expired,
    sort_key,
    still_short,
)
from app.peer_review.models import ASSIGNMENT_DEFAULTS

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
TARGET = 3


def sub(submission_id: int, author_id: int | None = None, *, minute: int = 0, late: bool = False,
        completed: int = 0, active: int = 0) -> Candidate:
    """A candidate by author ``submission_id`` (unless given), submitted ``minute`` after T0."""
    return Candidate(submission_id, submission_id if author_id is None else author_id,
                     T0 + timedelta(minutes=minute), late, completed, active)


def ask(reviewer_id: int, *, submitted: bool = True, had=(), gate: bool = True,
        only_short: bool = False) -> Request:
    """A request by ``reviewer_id``."""
    return Request(reviewer_id, submitted, frozenset(had), gate, only_short)


def chosen(result: Choice | Refusal) -> int:
    """The chosen submission's id (fails on a refusal)."""
    assert isinstance(result, Choice), result
    return result.submission_id


# --- examples: who gets what ------------------------------------------------------------------

def test_the_fewest_reviews_win_counting_active_ones():
    pool = [sub(1, completed=1), sub(2, active=1, minute=1), sub(3, completed=1, active=1),
            sub(4, minute=3)]
    assert chosen(choose(ask(9), pool, target=TARGET)) == 4


def test_ties_go_to_the_oldest_then_the_lowest_id():
    pool = [sub(1, minute=5), sub(2, minute=2), sub(3, minute=2)]
    assert chosen(choose(ask(9), pool, target=TARGET)) == 2


def test_on_time_work_comes_before_late_work_with_the_same_count():
    pool = [sub(1, late=True, minute=0), sub(2, minute=10)]
    assert chosen(choose(ask(9), pool, target=TARGET)) == 2


def test_late_work_with_fewer_reviews_comes_before_on_time_work_with_more():
    pool = [sub(1, completed=1), sub(2, late=True, minute=10)]
    assert chosen(choose(ask(9), pool, target=TARGET)) == 2


def test_never_your_own_even_when_it_has_the_fewest():
    pool = [sub(1, author_id=9), sub(2, completed=2)]
    assert chosen(choose(ask(9), pool, target=TARGET)) == 2


def test_never_one_you_already_had_expired_included():
    # Submission 1 has no reviews: the reviewer's allocation of it expired. They had it once.
    pool = [sub(1), sub(2, completed=2)]
    assert chosen(choose(ask(9, had={1}), pool, target=TARGET)) == 2


def test_below_target_first_then_the_least_reviewed_beyond_it():
    below = choose(ask(9), [sub(1, completed=3), sub(2, completed=2)], target=TARGET)
    assert chosen(below) == 2 and not below.beyond_target
    beyond = choose(ask(9), [sub(1, completed=4), sub(2, completed=3, minute=1)], target=TARGET)
    assert chosen(beyond) == 2 and beyond.beyond_target


def test_review_one_more_only_takes_work_still_below_target():
    pool = [sub(1, completed=2), sub(2, completed=3)]
    assert chosen(choose(ask(9, only_short=True), pool, target=TARGET)) == 1
    # An active review counts: nobody is waiting for a reviewer.
    pool = [sub(1, completed=2, active=1), sub(2, completed=3)]
    refusal = choose(ask(9, only_short=True), pool, target=TARGET)
    assert refusal == Refusal(Reason.NOTHING_TO_REVIEW)


def test_the_gate_can_be_turned_off():
    result = choose(ask(9, submitted=False, gate=False), [sub(1)], target=TARGET)
    assert chosen(result) == 1


# --- examples: refusals -----------------------------------------------------------------------

@pytest.mark.parametrize(("request_", "pool", "reason"), [
    (ask(9, submitted=False), [sub(1)], Reason.NOT_SUBMITTED),
    (ask(9), [], Reason.NONE_SUBMITTED_YET),
    (ask(9), [sub(5, author_id=9)], Reason.NONE_SUBMITTED_YET),
    (ask(9, gate=False, submitted=False), [], Reason.NONE_SUBMITTED_YET),
    (ask(9, had={1, 2}), [sub(1), sub(2), sub(5, author_id=9)], Reason.ALL_REVIEWED_BY_YOU),
    (ask(9, only_short=True), [sub(1, completed=3)], Reason.NOTHING_TO_REVIEW),
])
def test_each_refusal_says_why(request_, pool, reason):
    result = choose(request_, pool, target=TARGET)
    assert result == Refusal(reason)
    assert result.message == MESSAGES[reason]


def test_the_gate_comes_before_everything_else():
    assert choose(ask(9, submitted=False), [], target=TARGET) == Refusal(Reason.NOT_SUBMITTED)


def test_every_reason_has_a_sentence():
    assert set(MESSAGES) == set(Reason)
    assert all(message.endswith(".") for message in MESSAGES.values())


# --- examples: expiry, order as data, still short ---------------------------------------------

def test_an_allocation_expires_at_its_expiry_not_before():
    assert not is_expired(T0, T0 + DEFAULT_EXPIRY - timedelta(seconds=1))
    assert is_expired(T0, T0 + DEFAULT_EXPIRY)
    assert not is_expired(T0, T0 + timedelta(hours=5), timedelta(hours=6))
    assert expiry_cutoff(T0, timedelta(hours=6)) == T0 - timedelta(hours=6)


def test_the_default_expiry_is_the_assignments_default():
    assert timedelta(hours=ASSIGNMENT_DEFAULTS["review_expiry_hours"]) == DEFAULT_EXPIRY


def test_the_order_as_data_is_the_order_used():
    assert ORDER_BY == ("reviews", "late", "submitted_at", "submission_id")
    c = sub(7, minute=3, late=True, completed=1, active=1)
    assert sort_key(c) == (2, True, T0 + timedelta(minutes=3), 7)


def test_still_short_lists_the_neediest_first():
    pool = [sub(1, completed=3), sub(2, completed=1, active=1), sub(3, completed=2, active=1),
            sub(4, late=True)]
    assert [c.submission_id for c in still_short(pool, TARGET)] == [4, 2]
    # At the feedback-by date an unfinished review no longer counts.
    assert [c.submission_id for c in still_short(pool, TARGET, counting_active=False)] == [4, 2, 3]
