"""The facilitators' side of peer review in the JSON API: a cohort's review status, an
assignment's review board and its actions (review it myself, assign to a learner, release,
hide, reassign). Staff see who wrote and who reviewed; learners get 403, outsiders 404.
"""

from datetime import datetime

from flask import Blueprint
from pydantic import Field

from app.api import Id, ResponseSchema, Schema, endpoint
from app.db import utcnow
from app.peer_review import board, reviewing
from app.peer_review.work_api import ReviewResultOut

bp = Blueprint("peer_review_board_api", __name__, url_prefix="/api/v1")


class SubmissionRowOut(ResponseSchema):
    """A submission on the board: its author and its reviews so far."""

    id: int
    author_id: int
    author: str
    submitted_at: datetime
    late: bool
    feedback_by: datetime
    completed: int = Field(description="Reviews submitted.")
    in_progress: int = Field(description="Reviews allocated and not expired.")
    short: bool = Field(description="Completed and in-progress reviews are below target.")
    overdue: bool = Field(description="Past its feedback-by date (board: still short).")


class LearnerRowOut(ResponseSchema):
    """A learner: submitted or not, reviews done and still owed."""

    user_id: int
    name: str
    submitted: bool
    reviews_done: int
    owed: int


class BoardReviewOut(ReviewResultOut):
    """A review on the board, with the work it is of."""

    submission_id: int


class BoardOut(ResponseSchema):
    """One assignment's review board."""

    assignment_id: int
    reviews_required: int
    submissions: list[SubmissionRowOut]
    short: list[SubmissionRowOut] = Field(description="Short of reviews, soonest "
                                                      "feedback-by date first.")
    learners: list[LearnerRowOut]
    in_progress: list[BoardReviewOut]
    overdue_allocations: list[BoardReviewOut]
    held: list[BoardReviewOut]
    flagged: list[BoardReviewOut]
    low_rated: list[BoardReviewOut]


class AssignmentStatusOut(ResponseSchema):
    """An assignment of the cohort and its work still short of completed reviews."""

    assignment_id: int
    title: str
    reviews_required: int
    reviews_due: datetime
    short: list[SubmissionRowOut]


class ReviewStatusOut(ResponseSchema):
    """A cohort's review status, assignment by assignment (module order)."""

    cohort_id: int
    assignments: list[AssignmentStatusOut]


class AssignIn(Schema):
    """Who reviews the submission."""

    reviewer_id: Id | None = Field(default=None, description=(
        "A learner of the cohort who neither wrote it nor had it; leave out to review it "
        "yourself."))


class HideIn(Schema):
    """Why a review is hidden (its reviewer is told)."""

    reason: str = Field(description="1 to 500 characters.")


class StaffReviewOut(ResponseSchema):
    """A review after a staff action."""

    id: int
    submission_id: int
    reviewer_id: int
    number: int
    status: str
    by_staff: bool
    allocated_at: datetime
    expires_at: datetime
    submitted_at: datetime | None
    held: bool
    hidden: bool
    hidden_reason: str
    flagged: bool


def _staff_review_out(review) -> StaffReviewOut:
    """A review as its cohort's staff see it after acting on it."""
    return StaffReviewOut(
        id=review.id, submission_id=review.submission_id, reviewer_id=review.reviewer_id,
        number=review.number, status=review.status, by_staff=review.by_staff,
        allocated_at=review.allocated_at, expires_at=review.expires_at,
        submitted_at=review.submitted_at,
        held=review.held_at is not None and review.released_at is None,
        hidden=review.hidden_at is not None, hidden_reason=review.hidden_reason,
        flagged=review.flagged_at is not None)


@endpoint(bp, "/cohorts/<int:cohort_id>/review-status", "GET", response=ReviewStatusOut,
          errors=(403, 404),
          summary="Submissions still short of reviews, per assignment, with their "
                  "feedback-by dates (facilitators, owner)")
def get_review_status(user, cohort_id: int):
    """What is still waiting for reviews across the cohort."""
    statuses = board.get_review_status(user, cohort_id, now=utcnow())
    return {"cohort_id": cohort_id, "assignments": statuses}


@endpoint(bp, "/assignments/<int:assignment_id>/board", "GET", response=BoardOut,
          errors=(403, 404),
          summary="Staff action: an assignment's review board — every submission, what is "
                  "short, overdue, held, flagged or low-rated, and each learner's reviews")
def get_board(user, assignment_id: int):
    """The board, names and all (staff only)."""
    found = board.get_board(user, assignment_id, now=utcnow())

    def with_work(views):
        return [BoardReviewOut(**ReviewResultOut.model_validate(v).model_dump(),
                               submission_id=found.submission_of[v.id]) for v in views]

    return BoardOut(
        assignment_id=assignment_id, reviews_required=found.access.assignment.reviews_required,
        submissions=found.submissions, short=found.short, learners=found.learners,
        in_progress=with_work(found.in_progress),
        overdue_allocations=with_work(found.overdue_allocations),
        held=with_work(found.held), flagged=with_work(found.flagged),
        low_rated=with_work(found.low_rated))


@endpoint(bp, "/submissions/<int:submission_id>/reviewers", "POST", body=AssignIn,
          response=StaffReviewOut, status=201, errors=(403, 404, 409),
          summary="Staff action: review this submission myself, or assign it to a learner")
def assign_reviewer(user, submission_id: int, body: AssignIn):
    """Allocate the submission to the caller or to a learner, now."""
    return _staff_review_out(reviewing.assign_review(user, submission_id,
                                                     reviewer_id=body.reviewer_id,
                                                     now=utcnow()))


@endpoint(bp, "/reviews/<int:review_id>/release", "POST", response=StaffReviewOut,
          errors=(403, 404, 409),
          summary="Staff action: pass a held or flagged review on to its author")
def release_review(user, review_id: int):
    """Release the review."""
    return _staff_review_out(board.release_review(user, review_id, now=utcnow()))


@endpoint(bp, "/reviews/<int:review_id>/hide", "POST", body=HideIn, response=StaffReviewOut,
          errors=(403, 404, 409),
          summary="Staff action: hide a submitted review from its author, with a reason its "
                  "reviewer reads (the work goes back to the pool)")
def hide_review(user, review_id: int, body: HideIn):
    """Hide the review."""
    return _staff_review_out(board.hide_review(user, review_id, reason=body.reason,
                                               now=utcnow()))


@endpoint(bp, "/reviews/<int:review_id>/reassign", "POST", response=StaffReviewOut,
          errors=(403, 404, 409),
          summary="Staff action: end an unfinished review now, so its work goes to the next "
                  "reviewer who asks")
def reassign_review(user, review_id: int):
    """Expire the allocation."""
    return _staff_review_out(reviewing.release_allocation(user, review_id, now=utcnow()))
