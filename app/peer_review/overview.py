"""An assignment as a learner (or the staff) meets it: their work, the reviews they were
given, what they still owe, whether a peer is still waiting for a reviewer, and how
helpful authors found their feedback; and the reviews each learner owes in a cohort, for
its staff's Members view."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Subquery, and_, case, exists, func, select

from app.accounts.models import User
from app.cohorts.models import Cohort, CohortModule, Membership
from app.db import get_session
from app.peer_review.access import AssignmentAccess, get_assignment_for
from app.peer_review.models import CohortAssignment, Rubric
from app.peer_review.results import gate_sentence, results_open, reviewer_helpfulness
from app.peer_review.reviewing import _rubric
from app.peer_review.work_models import Review, Submission


@dataclass
class Overview:
    """What the assignment page and ``GET /api/v1/assignments/{id}`` show."""

    access: AssignmentAccess
    #: Reviews the viewer was given, newest first (active, submitted and expired).
    my_reviews: list[Review]
    reviews_done: int
    #: Reviews still to do to meet the assignment's requirement.
    owed: int
    #: The viewer's unfinished review, if any ("Continue your review").
    active: Review | None
    #: Someone's work is below target and not being reviewed enough: after their required
    #: reviews a learner is asked to "review one more for a peer who is still waiting".
    anyone_waiting: bool
    #: The viewer's average helpfulness as rated by authors, and over how many ratings.
    helpfulness: tuple[float | None, int]
    #: The viewer may read the reviews of their own work now, and if not, when.
    results_open: bool
    gate: str
    #: The rubric reviewers fill in, with its criteria and levels.
    rubric: Rubric

    @property
    def submission(self) -> Submission | None:
        """The viewer's own work."""
        return self.access.submission

    @property
    def ask_for_one_more(self) -> bool:
        """Show the "review one more" prompt."""
        return (self.access.is_learner and self.owed == 0 and self.active is None
                and self.anyone_waiting)


def get_overview(user: User, assignment_id: int, *, now: datetime) -> Overview:
    """The assignment for this viewer (NotFound as :func:`get_assignment_for`)."""
    access = get_assignment_for(user, assignment_id, now=now)
    session = get_session()
    mine = list(session.scalars(
        select(Review).where(Review.reviewer_id == user.id,
                             Review.cohort_assignment_id == assignment_id)
        .order_by(Review.allocated_at.desc(), Review.id.desc())))
    done = sum(1 for r in mine if r.status == "submitted")
    active = next((r for r in mine if r.status == "active" and r.expires_at > now), None)
    target = access.assignment.reviews_required
    waiting = session.scalar(select(exists().where(
        Submission.cohort_assignment_id == assignment_id, Submission.author_id != user.id,
        Submission.review_load < target,
        Submission.id.not_in(select(Review.submission_id).where(
            Review.reviewer_id == user.id, Review.cohort_assignment_id == assignment_id)))))
    own = access.submission
    opened = own is not None and results_open(access.assignment, access.dates, user.id, now)
    return Overview(
        access=access, my_reviews=mine, reviews_done=done, owed=owed(target, done),
        active=active, anyone_waiting=bool(waiting),
        helpfulness=reviewer_helpfulness(user.id, assignment_id),
        results_open=opened,
        gate=("" if own is None or opened
              else gate_sentence(access.assignment, access.dates, user.id, now,
                                 user.timezone)),
        rubric=_rubric(access.assignment.rubric_id))


def owed(required: int, done: int) -> int:
    """The rule of reviews owed on one assignment: its required reviews not yet submitted."""
    return max(0, required - done)


class ReviewsOwed:
    """Peer review's member facts (see app.cohorts.members): reviews owed per learner."""

    def member_facts(self, cohort: Cohort, now: datetime) -> Subquery:
        """Per learner, :func:`owed` summed over the cohort's assignments whose module is
        released (the review window has opened, whether or not it has closed), as the
        assignment page's "You owe N reviews" counts it: one grouped subquery."""
        done = (select(Review.reviewer_id, Review.cohort_assignment_id,
                       func.count().label("n"))
                .where(Review.status == "submitted",
                       Review.cohort_assignment_id.in_(
                           select(CohortAssignment.id)
                           .where(CohortAssignment.cohort_id == cohort.id)))
                .group_by(Review.reviewer_id, Review.cohort_assignment_id).subquery())
        required, given = CohortAssignment.reviews_required, func.coalesce(done.c.n, 0)
        return (select(Membership.user_id,
                       func.sum(case((given < required, required - given), else_=0))
                       .label("reviews_owed"))
                .join(CohortAssignment, CohortAssignment.cohort_id == Membership.cohort_id)
                .join(CohortModule, CohortModule.id == CohortAssignment.cohort_module_id)
                .outerjoin(done, and_(done.c.reviewer_id == Membership.user_id,
                                      done.c.cohort_assignment_id == CohortAssignment.id))
                .where(Membership.cohort_id == cohort.id, Membership.role == "learner",
                       CohortModule.release_at <= now)
                .group_by(Membership.user_id).subquery())


provider = ReviewsOwed()
