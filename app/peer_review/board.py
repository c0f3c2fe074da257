"""The facilitators' review board of one assignment, its actions, and the scheduled work
that keeps the feedback-by promise.

The board lists every submission with its reviews (completed, in progress), what is short
of reviews with its feedback-by date, overdue allocations, held, flagged and low-rated
reviews, and what each learner has done and still owes. Its actions are "review it
myself" and "assign to …" (:func:`app.peer_review.reviewing.assign_review`), reassigning an
overdue allocation (:func:`~app.peer_review.reviewing.release_allocation`), releasing a
held or flagged review, and hiding a review with a reason.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from app import audit
from app.accounts.models import User
from app.cohorts.access import CohortAccess, require_staff
from app.cohorts.models import Cohort, CohortModule, Membership
from app.db import get_session, lock_for_update, transaction
from app.errors import Conflict, Invalid, NotFound
from app.peer_review import live, notices
from app.peer_review.access import AssignmentAccess, dates_of, get_assignment_for
from app.peer_review.models import CohortAssignment
from app.peer_review.results import ReviewView, names_of, review_view
from app.peer_review.reviewing import _rubric, expire_overdue
from app.peer_review.work_models import Review, Submission

#: Ratings at or below this are listed as low-rated.
LOW_RATING = 2
#: Learners who still owe reviews are reminded this long before the window closes.
REMIND_BEFORE = timedelta(hours=24)
MAX_REASON = 500


@dataclass(frozen=True)
class SubmissionRow:
    """A submission on the board."""

    id: int
    author_id: int
    author: str
    submitted_at: datetime
    late: bool
    feedback_by: datetime
    completed: int
    in_progress: int
    short: bool
    overdue: bool


@dataclass(frozen=True)
class LearnerRow:
    """A learner of the cohort: submitted or not, reviews done and still owed."""

    user_id: int
    name: str
    submitted: bool
    reviews_done: int
    owed: int


@dataclass
class Board:
    """One assignment's review status for its staff."""

    access: AssignmentAccess
    submissions: list[SubmissionRow]
    learners: list[LearnerRow]
    in_progress: list[ReviewView]
    overdue_allocations: list[ReviewView]
    held: list[ReviewView]
    flagged: list[ReviewView]
    low_rated: list[ReviewView]
    #: Review id -> the submission it is of (for links).
    submission_of: dict[int, int]

    @property
    def short(self) -> list[SubmissionRow]:
        """Submissions below target, soonest feedback-by date first."""
        return sorted((s for s in self.submissions if s.short), key=lambda s: s.feedback_by)


def get_board(user: User, assignment_id: int, *, now: datetime) -> Board:
    """The assignment's review board; NotAllowed for learners, NotFound for outsiders.

    A fixed number of statements however many submissions and reviews there are.
    """
    access = get_assignment_for(user, assignment_id, now=now)
    access.require_staff()
    session = get_session()
    target = access.assignment.reviews_required
    submissions = list(session.scalars(
        select(Submission).where(Submission.cohort_assignment_id == assignment_id)
        .order_by(Submission.submitted_at, Submission.id)))
    reviews = list(session.scalars(
        select(Review).where(Review.cohort_assignment_id == assignment_id)
        .order_by(Review.submission_id, Review.number).options(selectinload(Review.scores))))
    learners = session.execute(
        select(Membership.user_id, User.name).join(User, User.id == Membership.user_id)
        .where(Membership.cohort_id == access.cohort.id, Membership.role == "learner")
        .order_by(User.name, User.id)).all()
    names = dict(learners) | names_of({r.reviewer_id for r in reviews} - {u for u, _ in learners})
    rubric = _rubric(access.assignment.rubric_id)
    blind = access.assignment.double_blind
    view = {r.id: review_view(r, rubric, access.viewer, names.get(r.reviewer_id, ""),
                              double_blind=blind) for r in reviews}
    live_now = [r for r in reviews if r.status == "active" and r.expires_at > now]
    in_progress: dict[int, int] = {}
    for r in live_now:
        in_progress[r.submission_id] = in_progress.get(r.submission_id, 0) + 1
    rows = []
    for s in submissions:
        done, going = s.completed_reviews, in_progress.get(s.id, 0)
        rows.append(SubmissionRow(
            id=s.id, author_id=s.author_id, author=names.get(s.author_id, ""),
            submitted_at=s.submitted_at, late=s.late, feedback_by=s.feedback_by,
            completed=done, in_progress=going, short=done + going < target,
            overdue=done < target and now >= s.feedback_by))
    done_by: dict[int, int] = {}
    for r in reviews:
        if r.status == "submitted":
            done_by[r.reviewer_id] = done_by.get(r.reviewer_id, 0) + 1
    authors = {s.author_id for s in submissions}
    people = [LearnerRow(uid, name, uid in authors, done_by.get(uid, 0),
                         max(0, target - done_by.get(uid, 0))) for uid, name in learners]
    return Board(
        access=access, submissions=rows, learners=people,
        in_progress=[view[r.id] for r in live_now],
        overdue_allocations=[view[r.id] for r in reviews
                             if r.status == "active" and r.expires_at <= now],
        held=[view[r.id] for r in reviews
              if r.status == "submitted" and r.held_at is not None and r.released_at is None
              and r.hidden_at is None],
        flagged=[view[r.id] for r in reviews if r.flagged_at is not None and r.hidden_at is None],
        low_rated=[view[r.id] for r in reviews
                   if r.helpfulness is not None and r.helpfulness <= LOW_RATING],
        submission_of={r.id: r.submission_id for r in reviews})


@dataclass(frozen=True)
class AssignmentStatus:
    """One assignment of a cohort and its work still short of completed reviews."""

    assignment_id: int
    title: str
    reviews_required: int
    #: The review window's close (the feedback-by date of on-time work).
    reviews_due: datetime
    #: Submissions with fewer completed reviews than required, soonest feedback-by first.
    short: list[SubmissionRow]


def get_review_status(user: User, cohort_id: int, *, now: datetime) -> list[AssignmentStatus]:
    """Every assignment of the cohort, in module order, with the submissions still short of
    completed reviews; NotAllowed for learners, NotFound for outsiders.

    A row is ``short`` when its completed and in-progress reviews together are below target
    (nobody is on it yet), ``overdue`` once its feedback-by date has passed.
    """
    access = require_staff(user, cohort_id, "Only the cohort's facilitators and owner see "
                                            "its review status.")
    session = get_session()
    assignments = session.execute(
        select(CohortAssignment, CohortModule)
        .join(CohortModule, CohortModule.id == CohortAssignment.cohort_module_id)
        .where(CohortAssignment.cohort_id == cohort_id)
        .order_by(CohortModule.position, CohortAssignment.position, CohortAssignment.id)).all()
    short = list(session.scalars(
        select(Submission)
        .join(CohortAssignment, CohortAssignment.id == Submission.cohort_assignment_id)
        .where(Submission.cohort_id == cohort_id,
               Submission.completed_reviews < CohortAssignment.reviews_required)
        .order_by(Submission.feedback_by, Submission.id)))
    going = dict(session.execute(
        select(Review.submission_id, func.count())
        .where(Review.submission_id.in_([s.id for s in short]), Review.status == "active",
               Review.expires_at > now)
        .group_by(Review.submission_id)).all()) if short else {}
    names = names_of(s.author_id for s in short)
    result = []
    for assignment, module in assignments:
        target = assignment.reviews_required
        rows = [SubmissionRow(
            id=s.id, author_id=s.author_id, author=names.get(s.author_id, ""),
            submitted_at=s.submitted_at, late=s.late, feedback_by=s.feedback_by,
            completed=s.completed_reviews, in_progress=going.get(s.id, 0),
            short=s.completed_reviews + going.get(s.id, 0) < target,
            overdue=now >= s.feedback_by)
            for s in short if s.cohort_assignment_id == assignment.id]
        dates = dates_of(assignment, module.release_at, access.cohort.timezone)
        result.append(AssignmentStatus(assignment.id, assignment.title, target,
                                       dates.reviews_due, rows))
    return result


def _staff_review(user: User, review_id: int, now: datetime) -> tuple[AssignmentAccess, Review]:
    session = get_session()
    review = session.get(Review, review_id)
    if review is None:
        raise NotFound()
    access = get_assignment_for(user, review.cohort_assignment_id, now=now, for_update=True)
    access.require_staff()
    session.refresh(review)
    return access, review


def release_review(user: User, review_id: int, *, now: datetime) -> Review:
    """Pass a held or flagged review on to its author."""
    with transaction() as session:
        access, review = _staff_review(user, review_id, now)
        was_held = review.held_at is not None and review.released_at is None
        if review.status != "submitted" or review.hidden_at is not None or not (
                was_held or review.flagged_at is not None):
            raise Conflict("This review is not held or flagged.", code="not_held")
        if was_held:
            review.released_at = now
        review.flagged_at = None
        session.flush()
        audit.record(session, user.id, "review.released", cohort_id=access.cohort.id,
                     target_type="review", target_id=review.id, flag_reason=review.flag_reason)
        submission = session.get(Submission, review.submission_id)
        if was_held:
            notices.review_received(access, submission, review, now=now)
            notices.review_moderated(access, review, "released", now=now)
        live.review_status_changed(access.assignment.id)
        return review


def hide_review(user: User, review_id: int, *, reason: str, now: datetime) -> Review:
    """Hide a submitted review from its author, with a reason its reviewer is told. It no
    longer counts towards the work's target, so the work goes back to the pool."""
    reason = (reason or "").replace("\x00", "").strip()
    with transaction() as session:
        # Who may act comes first: an outsider learns nothing from a reason's check.
        access, review = _staff_review(user, review_id, now)
        if not reason or len(reason) > MAX_REASON:
            message = (f"Give a reason of at most {MAX_REASON} characters; the reviewer "
                       "reads it.")
            raise Invalid(message, fields={"reason": message})
        if review.status != "submitted":
            raise Conflict("Only a submitted review can be hidden.", code="not_submitted")
        if review.hidden_at is not None:
            raise Conflict("This review is hidden already.", code="already_hidden")
        review.hidden_at = now
        review.hidden_reason = reason
        review.hidden_by_id = user.id
        session.execute(
            update(Submission).where(Submission.id == review.submission_id)
            .values(completed_reviews=Submission.completed_reviews - 1,
                    review_load=Submission.review_load - 1)
            .execution_options(synchronize_session=False))
        session.flush()
        audit.record(session, user.id, "review.hidden", cohort_id=access.cohort.id,
                     target_type="review", target_id=review.id, reason=reason)
        notices.review_moderated(access, review, "hidden", now=now)
        live.review_status_changed(access.assignment.id)
        return review


# --- scheduled: expiry, reminders, the feedback-by promise -------------------------------------

def run_deadlines(now: datetime) -> dict[str, int]:
    """Expire overdue allocations, remind learners who still owe reviews a day before the
    window closes, and hand work still short at its feedback-by date to the staff. Each
    step is claimed with a conditional UPDATE, so running twice (or on two schedulers)
    tells nobody twice."""
    session = get_session()
    counts = {"expired": 0, "reminded": 0, "escalated": 0}
    assignment_ids = session.scalars(
        select(Review.cohort_assignment_id).where(Review.status == "active",
                                                  Review.expires_at <= now).distinct()).all()
    for assignment_id in assignment_ids:
        with transaction():
            lock_for_update(session, CohortAssignment, assignment_id)
            counts["expired"] += expire_overdue(assignment_id, now)
    counts["reminded"] = _remind(now)
    counts["escalated"] = _escalate(now)
    return counts


def _system_access(assignment: CohortAssignment, module: CohortModule, now: datetime
                   ) -> AssignmentAccess:
    """The assignment as the scheduler acts on it (no viewer: notices only read its
    assignment, cohort and dates)."""
    cohort = get_session().get(Cohort, assignment.cohort_id)
    return AssignmentAccess(
        viewer=CohortAccess(user=None, cohort=cohort, role="system"), assignment=assignment,
        module=module, submission=None,
        dates=dates_of(assignment, module.release_at, cohort.timezone), now=now)


def _remind(now: datetime) -> int:
    """Remind, once per assignment, learners who still owe reviews within a day of the
    window's close."""
    session = get_session()
    told = 0
    rows = session.execute(
        select(CohortAssignment, CohortModule)
        .join(CohortModule, CohortModule.id == CohortAssignment.cohort_module_id)
        .where(CohortAssignment.reminded_at.is_(None), CohortModule.release_at <= now)).all()
    for assignment, module in rows:
        access = _system_access(assignment, module, now)
        due = access.dates.reviews_due
        if not (due - REMIND_BEFORE <= now < due):
            continue
        with transaction():
            claimed = session.execute(
                update(CohortAssignment).where(CohortAssignment.id == assignment.id,
                                               CohortAssignment.reminded_at.is_(None))
                .values(reminded_at=now).execution_options(synchronize_session=False))
            if claimed.rowcount != 1:
                continue
            done = (select(Review.reviewer_id, func.count().label("n"))
                    .where(Review.cohort_assignment_id == assignment.id,
                           Review.status == "submitted").group_by(Review.reviewer_id)
                    .subquery())
            owing = session.execute(
                select(Membership.user_id,
                       assignment.reviews_required - func.coalesce(done.c.n, 0))
                .outerjoin(done, done.c.reviewer_id == Membership.user_id)
                .where(Membership.cohort_id == assignment.cohort_id,
                       Membership.role == "learner",
                       func.coalesce(done.c.n, 0) < assignment.reviews_required)).all()
            notices.remind_reviewers(access, [(u, n) for u, n in owing], now=now)
            told += len(owing)
    return told


def _escalate(now: datetime) -> int:
    """Tell the staff about work at its feedback-by date still short of completed reviews."""
    session = get_session()
    rows = session.execute(
        select(Submission.id, Submission.cohort_assignment_id)
        .join(CohortAssignment, CohortAssignment.id == Submission.cohort_assignment_id)
        .where(Submission.escalated_at.is_(None), Submission.feedback_by <= now,
               Submission.completed_reviews < CohortAssignment.reviews_required)).all()
    by_assignment: dict[int, list[int]] = {}
    for submission_id, assignment_id in rows:
        by_assignment.setdefault(assignment_id, []).append(submission_id)
    escalated = 0
    for assignment_id, ids in by_assignment.items():
        with transaction():
            claimed = session.scalars(
                update(Submission).where(Submission.id.in_(ids),
                                         Submission.escalated_at.is_(None))
                .values(escalated_at=now).returning(Submission.id)
                .execution_options(synchronize_session=False)).all()
            if not claimed:
                continue
            assignment = session.get(CohortAssignment, assignment_id)
            module = session.get(CohortModule, assignment.cohort_module_id)
            access = _system_access(assignment, module, now)
            submissions = list(session.scalars(select(Submission)
                                               .where(Submission.id.in_(claimed))))
            notices.short_at_feedback_by(access, submissions, now=now)
            escalated += len(claimed)
    return escalated

