"""Allocation rules of peer review (app.peer_review.allocation): examples, then properties."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# --- properties: a small world run through choose ---------------------------------------------

class World:
    """Submissions and allocations in memory, allocated through ``choose`` as a service would."""

    def __init__(self, target: int, gate: bool = True):
        self.target, self.gate = target, gate
        self.submissions: dict[int, Candidate] = {}  # by author, counts left at zero
        self.allocations: list[list] = []  # [reviewer, submission_id, state]
        self.clock = 0

    def submit(self, author: int, late: bool = False) -> None:
        """The author submits (once)."""
        if author not in self.submissions:
            self.clock += 1
            self.submissions[author] = sub(100 + author, author, minute=self.clock, late=late)

    def candidates(self) -> list[Candidate]:
        """Every submission with its counts now."""
        states = [(s, state) for _, s, state in self.allocations]
        return [Candidate(c.submission_id, c.author_id, c.submitted_at, c.late,
                          states.count((c.submission_id, "completed")),
                          states.count((c.submission_id, "active")))
                for c in self.submissions.values()]

    def had(self, reviewer: int) -> frozenset[int]:
        """Every submission ever allocated to the reviewer."""
        return frozenset(s for r, s, _ in self.allocations if r == reviewer)

    def active_of(self, reviewer: int) -> list | None:
        """The reviewer's active allocation, if any."""
        return next((a for a in self.allocations if a[0] == reviewer and a[2] == "active"), None)

    def ask(self, reviewer: int, only_short: bool = False) -> Choice | Refusal | None:
        """The reviewer asks; the invariants are checked; a choice becomes an allocation."""
        if self.active_of(reviewer):
            return None  # the service gives them their active one again
        request = Request(reviewer, reviewer in self.submissions, self.had(reviewer),
                          self.gate, only_short)
        pool = self.candidates()
        result = choose(request, pool, target=self.target)
        check(request, pool, self.target, result)
        if isinstance(result, Choice):
            self.allocations.append([reviewer, result.submission_id, "active"])
        return result

    def end(self, allocation: list, state: str) -> None:
        """An active allocation is completed or expires."""
        if allocation[2] == "active":
            allocation[2] = state

    def done_by(self, reviewer: int) -> int:
        """Reviews the reviewer completed."""
        return sum(1 for r, _, state in self.allocations if r == reviewer and state == "completed")


def check(request: Request, pool: list[Candidate], target: int, result) -> None:
    """The allocation invariants for one answer of ``choose``."""
    eligible = [c for c in pool if c.author_id != request.reviewer_id
                and c.submission_id not in request.already_had]
    if isinstance(result, Refusal):
        assert result.reason in Reason and result.message
        if result.reason is Reason.NOT_SUBMITTED:
            assert request.gate_submit_first and not request.reviewer_has_submitted
        elif result.reason is Reason.NOTHING_TO_REVIEW:
            assert request.only_short and all(c.reviews >= target for c in eligible)
        else:
            assert not eligible
        return
    given = result.candidate
    assert given in pool
    assert given.author_id != request.reviewer_id, "never self"
    assert given.submission_id not in request.already_had, "never the same one twice"
    assert request.reviewer_has_submitted or not request.gate_submit_first
    assert result.beyond_target == (given.reviews >= target)
    if request.only_short:
        assert given.reviews < target
    if result.beyond_target:
        assert all(c.reviews >= target for c in eligible), "below target first"
    for other in eligible:
        if not other.late:
            # The fair share: once given, it is one review ahead at most of any on-time work
            # it could have been instead; late work goes only with strictly fewer reviews.
            assert given.reviews <= other.reviews, "fewest first"
            if given.late:
                assert given.reviews < other.reviews


#: Fast and the same examples on every run (no hypothesis profile is set for the project).
PROPERTIES = settings(max_examples=200, deadline=None, derandomize=True)
LEARNERS = range(1, 7)

#: (what happens, who, a flag): a submission (late?), a request (from the "review one more"
#: prompt?), or the end of one of the active allocations (the ``who``-th, wrapping round).
events = st.lists(st.tuples(
    st.sampled_from(["submit", "submit", "ask", "ask", "ask", "completed", "completed",
                     "expired"]),
    st.sampled_from(LEARNERS), st.booleans(),
), min_size=30, max_size=120)


@PROPERTIES
@given(events=events, target=st.integers(1, 4), gate=st.booleans())
def test_random_submissions_requests_reviews_and_expiries_keep_the_rules(events, target, gate):
    world = World(target, gate)
    for kind, who, flag in events:
        if kind == "submit":
            world.submit(who, late=flag)
        elif kind == "ask":
            world.ask(who, only_short=flag)  # checks every answer
        else:
            active = [a for a in world.allocations if a[2] == "active"]
            if active:
                world.end(active[who % len(active)], kind)
    for reviewer in LEARNERS:
        mine = [s for r, s, _ in world.allocations if r == reviewer]
        assert len(mine) == len(set(mine)), "never the same submission twice, expired included"
        assert world.submissions.get(reviewer) is None or \
            world.submissions[reviewer].submission_id not in mine, "never self"


@PROPERTIES
@given(pool=st.lists(st.builds(
    Candidate, st.integers(1, 30), st.integers(1, 8),
    st.datetimes(timezones=st.just(UTC)), st.booleans(), st.integers(0, 4), st.integers(0, 2),
), max_size=12, unique_by=lambda c: c.submission_id), had=st.frozensets(st.integers(1, 30)))
def test_choose_gives_the_first_row_of_the_order_as_data(pool, had):
    # What the SQL layer will run: filter, ORDER BY the columns of ORDER_BY, LIMIT 1.
    rows = sorted(pool, key=lambda c: tuple(getattr(c, name) for name in ORDER_BY))
    open_rows = [c for c in rows if c.author_id != 1 and c.submission_id not in had]
    result = choose(Request(1, True, had), pool, target=TARGET)
    if open_rows:
        assert result.candidate == open_rows[0]
    else:
        assert isinstance(result, Refusal)
    assert still_short(pool, TARGET) == [c for c in rows if c.reviews < TARGET]


def test_across_the_cohort_the_spread_can_pass_one_through_work_the_reviewer_cannot_have():
    world = World(TARGET)
    for author in (1, 2, 3):
        world.submit(author)
    for reviewer in (2, 3):  # 2 gets 1's, 3 gets 2's (fewest, then oldest)
        world.ask(reviewer)
        world.end(world.active_of(reviewer), "completed")
    # 3 asks again: 1's (one review) is all that is open to them; 3's own has none.
    assert chosen(world.ask(3)) == 101
    assert sorted(c.reviews for c in world.candidates()) == [0, 1, 2]


# --- the last learner problem -----------------------------------------------------------------

def settle(world: World, quota: int, helpers=frozenset(), outcome=lambda: "completed") -> None:
    """Everyone able to review does so until nobody can: each learner their own ``quota``, then
    the ``helpers`` "review one more" while anyone is still short; each review then ends
    (``outcome``: completed or expired) before the next request."""
    acted = True
    while acted:
        acted = False
        for reviewer in sorted(world.submissions):
            owes = world.done_by(reviewer) < quota
            if not owes and (reviewer not in helpers
                             or not still_short(world.candidates(), world.target)):
                continue
            if isinstance(world.ask(reviewer, only_short=not owes), Choice):
                world.end(world.active_of(reviewer), outcome())
                acted = True


def test_the_last_learner_is_reviewed_by_those_who_review_one_more():
    world = World(TARGET)
    for author in (1, 2, 3, 4):
        world.submit(author)
        settle(world, quota=TARGET)
    assert [c.completed for c in world.candidates()] == [3, 3, 3, 3]
    world.submit(5, late=True)
    settle(world, quota=TARGET)
    # The late learner did their three reviews (beyond target: everyone else had theirs),
    # but nobody owed them one: their work is what the facilitators would see.
    assert world.done_by(5) == TARGET
    assert [c.submission_id for c in still_short(world.candidates(), TARGET)] == [105]
    settle(world, quota=TARGET, helpers={1, 2, 3, 4})
    assert still_short(world.candidates(), TARGET) == []
    assert [c.completed for c in world.candidates()] == [4, 4, 4, 3, 3]


@PROPERTIES
@given(order=st.permutations([1, 2, 3, 4, 5]), helpers=st.frozensets(st.sampled_from(LEARNERS)),
       target=st.integers(1, 4), expiring=st.booleans(), data=st.data())
def test_every_submission_reaches_its_target_or_is_listed_for_the_facilitators(
        order, helpers, target, expiring, data):
    world = World(target)

    def outcome():
        """A review is finished, or (in an expiring world) maybe left to expire."""
        return data.draw(st.sampled_from(["completed", "completed", "expired"]
                                         if expiring else ["completed"]))

    for position, author in enumerate(order):
        world.submit(author, late=position == len(order) - 1)
        settle(world, target, helpers, outcome)
    pool = world.candidates()
    short = still_short(pool, target, counting_active=False)
    for c in pool:
        assert c.completed >= target or c in short
    for c in short:
        # Nobody who would have helped could have been given it: they wrote it or had it.
        assert all(h == c.author_id or c.submission_id in world.had(h)
                   for h in helpers & set(world.submissions))
    if not expiring and helpers >= set(order):
        assert short == []
