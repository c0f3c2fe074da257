"""Exports of a cohort's peer reviews for its staff: one row per review, with the author and
the reviewer presented as the person exporting may see them (``present_side``), the level
chosen per criterion and the author's rating."""

import csv
import io

from sqlalchemy import select
from sqlalchemy.orm import aliased, selectinload

from app.accounts.models import User
from app.cohorts.access import require_staff
from app.db import get_session
from app.discussions.exports import safe_cell
from app.peer_review.models import CohortAssignment, Rubric, RubricCriterion
from app.peer_review.results import present_side
from app.peer_review.work_models import Review, Submission

REVIEW_COLUMNS = ("review_id", "assignment", "submission_id", "author", "late", "reviewer",
                  "by_staff", "status", "state", "allocated_at", "submitted_at", "levels",
                  "points", "comment", "helpfulness", "helpfulness_comment", "flag_reason")


def _state(review: Review) -> str:
    if review.hidden_at is not None:
        return "hidden"
    if review.flagged_at is not None:
        return "flagged"
    if review.held_at is not None and review.released_at is None:
        return "held"
    return "published" if review.status == "submitted" else ""


def export_reviews_csv(user: User, cohort_id: int) -> str:
    """Every review of the cohort's assignments as CSV, for its staff (NotAllowed for
    learners, NotFound for outsiders). Four statements however many reviews."""
    viewer = require_staff(user, cohort_id, "Only the cohort's facilitators and its "
                                            "program's owner can export its reviews.")
    session = get_session()
    author, reviewer = aliased(User), aliased(User)
    rows = session.execute(
        select(Review, Submission, CohortAssignment, author.name, reviewer.name)
        .join(Submission, Submission.id == Review.submission_id)
        .join(CohortAssignment, CohortAssignment.id == Review.cohort_assignment_id)
        .join(author, author.id == Submission.author_id)
        .join(reviewer, reviewer.id == Review.reviewer_id)
        .where(CohortAssignment.cohort_id == cohort_id)
        .options(selectinload(Review.scores))
        .order_by(CohortAssignment.cohort_module_id, CohortAssignment.position,
                  Submission.id, Review.number)).all()
    rubric_ids = {assignment.rubric_id for _, _, assignment, _, _ in rows}
    levels = {level.id: (criterion.title, level.label, level.points)
              for rubric in session.scalars(
                  select(Rubric).where(Rubric.id.in_(rubric_ids)).options(
                      selectinload(Rubric.criteria).selectinload(RubricCriterion.levels)))
              for criterion in rubric.criteria for level in criterion.levels}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(REVIEW_COLUMNS)
    for review, submission, assignment, author_name, reviewer_name in rows:
        blind = assignment.double_blind
        shown_author = present_side(submission.author_id, "A peer", viewer, author_name,
                                    double_blind=blind)
        shown_reviewer = present_side(review.reviewer_id, f"Reviewer {review.number}", viewer,
                                      reviewer_name, double_blind=blind,
                                      by_staff=review.by_staff)
        chosen = [levels[s.level_id] for s in review.scores if s.level_id in levels]
        writer.writerow([safe_cell(value) for value in (
            review.id, assignment.title, submission.id, shown_author.label,
            "yes" if submission.late else "no", shown_reviewer.label,
            "yes" if review.by_staff else "no", review.status, _state(review),
            review.allocated_at.isoformat(),
            review.submitted_at.isoformat() if review.submitted_at else "",
            "; ".join(f"{criterion}: {label}" for criterion, label, _ in chosen),
            sum(points for _, _, points in chosen) if chosen else "",
            review.comment, review.helpfulness or "", review.helpfulness_comment,
            review.flag_reason)])
    return out.getvalue()
