"""A cohort's assignment as one person meets it: its dates, the viewer's role and own
submission, and what they may do now.

:func:`get_assignment_for` is the one lookup every entrypoint of submissions and reviews
goes through (pages, API, live events, jobs acting for a person): one query brings the
assignment, its module, cohort and program, the viewer's membership and their submission.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import aliased, contains_eager, defer

from app.accounts.models import User
from app.cohorts.access import CohortAccess, access_of
from app.cohorts.models import Cohort, CohortModule, Membership, Program
from app.cohorts.schedule import days_after
from app.db import get_session, lock_for_update
from app.errors import NotAllowed, NotFound
from app.peer_review.models import CohortAssignment
from app.peer_review.work_models import Submission


@dataclass(frozen=True)
class Dates:
    """An assignment's milestones in a cohort (local days in the cohort's zone)."""

    #: Submissions open (the module's release).
    opens: datetime
    #: Submissions are due; later ones are accepted and marked late.
    due: datetime
    #: The review window closes: the feedback-by date of on-time work.
    reviews_due: datetime


def dates_of(assignment: CohortAssignment, release_at: datetime, zone: str) -> Dates:
    """When submissions open and are due and when the review window closes."""
    due = days_after(release_at, assignment.submit_days, zone)
    return Dates(opens=release_at, due=due,
                 reviews_due=days_after(due, assignment.review_days, zone))


def feedback_by(dates: Dates, submitted_at: datetime, *, review_days: int, zone: str,
                late: bool) -> datetime:
    """The feedback-by promise of a submission: the review window's close for on-time work;
    for late work its own window, as long as the assignment's, from when it came in."""
    if not late:
        return dates.reviews_due
    return max(dates.reviews_due, days_after(submitted_at, review_days, zone))


@dataclass
class AssignmentAccess:
    """An assignment as one viewer may meet it now."""

    viewer: CohortAccess
    assignment: CohortAssignment
    module: CohortModule
    #: The viewer's own submission, if any.
    submission: Submission | None
    dates: Dates
    now: datetime

    @property
    def cohort(self) -> Cohort:
        """The cohort running the assignment."""
        return self.viewer.cohort

    @property
    def is_learner(self) -> bool:
        """Learners submit work and review their peers'."""
        return self.viewer.role == "learner"

    @property
    def is_late_now(self) -> bool:
        """A first submission made now would be late."""
        return self.now > self.dates.due

    @property
    def can_resubmit(self) -> bool:
        """Work already submitted may be replaced until the due date."""
        return self.now <= self.dates.due

    def require_learner(self, action: str) -> None:
        """NotAllowed for staff: they run the assignment rather than take part in it."""
        if not self.is_learner:
            raise NotAllowed(f"Only learners {action}; facilitators and owners use the "
                             "assignment's review board.", code="learners_only")

    def require_staff(self) -> None:
        """NotAllowed for learners (they know the assignment exists: a 403, not a 404)."""
        if not self.viewer.is_staff:
            raise NotAllowed("Only the cohort's facilitators and owner can do that.")


@cache
def _assignment_statement(fresh: bool = False):
    """The assignment with its module, cohort, program, the viewer's membership and their
    submission: one statement, built once (``fresh``: a variant that overwrites what the
    session holds, for reads under the assignment's lock)."""
    mine = aliased(Submission)
    statement = (
        select(CohortAssignment, Membership, mine, CohortModule, Cohort)
        .select_from(CohortAssignment)
        .join(CohortModule, CohortModule.id == CohortAssignment.cohort_module_id)
        .join(Cohort, Cohort.id == CohortAssignment.cohort_id)
        .join(Program, Program.id == Cohort.program_id)
        .outerjoin(Membership, and_(Membership.cohort_id == CohortAssignment.cohort_id,
                                    Membership.user_id == bindparam("user_id")))
        .outerjoin(mine, and_(mine.cohort_assignment_id == CohortAssignment.id,
                              mine.author_id == bindparam("user_id")))
        .where(CohortAssignment.id == bindparam("assignment_id"))
        .options(contains_eager(Cohort.program), defer(CohortAssignment.instructions),
                 defer(mine.body),
                 defer(CohortModule.body), defer(CohortModule.body_html))
    )
    return statement.execution_options(populate_existing=True) if fresh else statement


def get_assignment_for(user: User, assignment_id: int, *, now: datetime,
                       for_update: bool = False) -> AssignmentAccess:
    """The cohort assignment as the user may meet it; NotFound unless they take part in its
    cohort and (learners) its module is released.

    ``for_update`` (writes that allocate or count reviews) first locks the assignment's row,
    so such writes to one assignment queue up and each reads what the one before committed.
    """
    session = get_session()
    if for_update:
        lock_for_update(session, CohortAssignment, assignment_id)
    row = session.execute(_assignment_statement(fresh=for_update),
                          {"user_id": user.id, "assignment_id": assignment_id}).first()
    if row is None:
        raise NotFound()
    assignment, membership, submission, module, cohort = row
    viewer = access_of(user, cohort, membership)
    if not viewer.is_staff and not module.is_released(now):
        raise NotFound()
    return AssignmentAccess(viewer=viewer, assignment=assignment, module=module,
                            submission=submission,
                            dates=dates_of(assignment, module.release_at, cohort.timezone),
                            now=now)
