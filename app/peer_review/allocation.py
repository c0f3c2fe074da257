"""Who reviews what: the allocation rules of peer review as pure code.

A learner who asks to review a peer's work is given one submission, chosen here from
plain values (no database, no clock). The rules:

- **Submit first.** With the gate on (the default), a learner who has not submitted gets
  a reason instead of a submission.
- **Never your own, never the same one twice.** ``Request.already_had`` holds every
  submission ever allocated to the reviewer: completed, active *and expired*. A reviewer
  who let an allocation expire has read that work already, and offering it again would let
  one absent reviewer hold the same submission back over and over; it goes to someone else.
- **Fewest reviews first.** A submission's reviews are its completed plus its active
  allocations, so work someone is reviewing right now is not handed out again meanwhile.
  On a tie, on-time work comes before late work, then the oldest submission, then the
  lowest id, so the order is total. The order is also data (``ORDER_BY``), which the SQL
  query mirrors column for column and an index can serve. Late work is eligible: it ranks
  after on-time work with the *same* count, never after on-time work with more reviews.
- **Below target first, then beyond.** Fewest-first already prefers submissions below the
  assignment's target (``reviews_required``). Once everything open to the reviewer is at
  or above target they still get the least-reviewed one, marked ``beyond_target``: a
  learner who still owes reviews (often the one who submitted last) must be able to do
  them, an active review counted towards a target may yet expire, and an extra review
  costs its author nothing. A request made from the "review one more for a peer who is
  still waiting" prompt sets ``only_short``: then only a submission below target will do,
  and the answer is the ``nothing_to_review`` refusal when none is open to that reviewer.
- **Expiry.** An unfinished review expires ``expiry`` after it was allocated (48 hours
  unless the assignment says otherwise) and its submission returns to the pool.

``choose`` is for a reviewer with no active allocation on the assignment: the service gives
a reviewer who has one that one again, so two tabs never allocate two submissions.

Fairness, precisely: the submission handed out has no more reviews than any on-time
submission the reviewer could have been given, so it never ends more than one review ahead
of any of them. Across the whole cohort the spread can be larger, only through work this
reviewer cannot be given (their own, one they already had) or work that arrived or came
back late; ``still_short`` lists whatever is left below target for the facilitators.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

#: How long an unfinished review stays with its reviewer unless the assignment says otherwise
#: (the ``review_expiry_hours`` default of the assignment models).
DEFAULT_EXPIRY = timedelta(hours=48)

#: The allocation order as data, for the SQL layer to mirror with an index: ascending on
#: each column in turn, where ``reviews`` is completed + active and ``late`` sorts False
#: first (``ORDER BY reviews, late, submitted_at, submission_id``). ``sort_key`` is this
#: order in Python; a test holds the two together.
ORDER_BY: tuple[str, ...] = ("reviews", "late", "submitted_at", "submission_id")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A submission of the assignment, with its review counts as of now."""

    submission_id: int
    author_id: int
    submitted_at: datetime
    #: Submitted after the submissions' due date.
    late: bool
    #: Reviews finished.
    completed: int
    #: Allocations neither finished nor expired.
    active: int

    @property
    def reviews(self) -> int:
        """Completed plus active reviews: what allocation counts."""
        return self.completed + self.active


@dataclass(frozen=True, slots=True)
class Request:
    """A learner's "Review a peer's work", with what the service knows about them."""

    reviewer_id: int
    reviewer_has_submitted: bool
    #: Every submission ever allocated to the reviewer: completed, active or expired.
    already_had: frozenset[int] = frozenset()
    #: The assignment's "submit before you review" gate.
    gate_submit_first: bool = True
    #: Asked from the "review one more" prompt: only a submission below target will do.
    only_short: bool = False


@dataclass(frozen=True, slots=True)
class Choice:
    """The submission to allocate."""

    candidate: Candidate
    #: It already had its target of reviews (counting active ones) before this one.
    beyond_target: bool

    @property
    def submission_id(self) -> int:
        """The chosen submission's id."""
        return self.candidate.submission_id


class Reason(StrEnum):
    """Why a learner was given nothing to review."""

    NOT_SUBMITTED = "not_submitted"
    NONE_SUBMITTED_YET = "none_submitted_yet"
    ALL_REVIEWED_BY_YOU = "all_reviewed_by_you"
    NOTHING_TO_REVIEW = "nothing_to_review"


#: What each refusal tells the learner: why, and what happens next.
MESSAGES: dict[Reason, str] = {
    Reason.NOT_SUBMITTED: (
        "Submit your own work first: you can review a peer's as soon as you have."),
    Reason.NONE_SUBMITTED_YET: (
        "Nobody else has submitted yet. You will be able to review as soon as someone does."),
    Reason.ALL_REVIEWED_BY_YOU: (
        "You have already had every submission your peers have made. Work submitted from "
        "now on will be offered to you."),
    Reason.NOTHING_TO_REVIEW: (
        "Nobody is waiting for a reviewer right now: everyone else's work has its reviews or "
        "is being reviewed. A review left unfinished comes back here when it expires."),
}


@dataclass(frozen=True, slots=True)
class Refusal:
    """No submission for this learner now, with a reason code and a sentence for them."""

    reason: Reason

    @property
    def message(self) -> str:
        """What the learner reads: why, and what happens next."""
        return MESSAGES[self.reason]


def sort_key(candidate: Candidate) -> tuple:
    """The allocation order of a candidate (``ORDER_BY``): fewest reviews, on time, oldest."""
    return tuple(getattr(candidate, column) for column in ORDER_BY)


def open_to(request: Request, candidates: Iterable[Candidate]) -> list[Candidate]:
    """The candidates this reviewer may be given: not their own, not one they already had."""
    return [c for c in candidates
            if c.author_id != request.reviewer_id and c.submission_id not in request.already_had]


def choose(request: Request, candidates: Iterable[Candidate], *, target: int) -> Choice | Refusal:
    """The submission to give this reviewer, or why there is none (module docstring)."""
    if request.gate_submit_first and not request.reviewer_has_submitted:
        return Refusal(Reason.NOT_SUBMITTED)
    others = [c for c in candidates if c.author_id != request.reviewer_id]
    if not others:
        return Refusal(Reason.NONE_SUBMITTED_YET)
    eligible = open_to(request, others)
    if not eligible:
        return Refusal(Reason.ALL_REVIEWED_BY_YOU)
    best = min(eligible, key=sort_key)
    beyond = best.reviews >= target
    if beyond and request.only_short:
        return Refusal(Reason.NOTHING_TO_REVIEW)
    return Choice(best, beyond_target=beyond)


def still_short(candidates: Iterable[Candidate], target: int, *,
                counting_active: bool = True) -> list[Candidate]:
    """The submissions below target, neediest first (allocation order).

    Counting active reviews (the default) answers "is anyone still waiting for a reviewer?",
    for the "review one more" prompt and the facilitators' live board. At the feedback-by
    date an unfinished review no longer counts (``counting_active=False``): what is listed
    then goes to the facilitators' triage inbox.
    """
    return sorted((c for c in candidates
                   if (c.reviews if counting_active else c.completed) < target), key=sort_key)


def expiry_cutoff(now: datetime, expiry: timedelta = DEFAULT_EXPIRY) -> datetime:
    """Allocations made at or before this instant have expired (``allocated_at <= cutoff``)."""
    return now - expiry


def is_expired(allocated_at: datetime, now: datetime, expiry: timedelta = DEFAULT_EXPIRY) -> bool:
    """True once an unfinished review has been held for ``expiry`` or longer."""
    return allocated_at <= expiry_cutoff(now, expiry)
