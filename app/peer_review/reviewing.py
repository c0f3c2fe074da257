"""Reviewing a peer's work: on-demand allocation in the database, expiry, the rubric form
(draft and submit), the kindness nudge and hold, and facilitators' "review it myself" and
"assign to …".

The rules of who gets what are :mod:`app.peer_review.allocation`'s; this module feeds them
from the database. Every allocation first locks the assignment's row
(:func:`get_assignment_for` with ``for_update``): allocations of one assignment queue up, so
two reviewers asking at once never both take the last place below target while another
submission waits with fewer (row locks on PostgreSQL, the write lock on SQLite). The next
submission is the first eligible row of the ``ix_submissions_allocation`` index, whose
columns are the allocation order.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.orm import selectinload

from app import audit
from app.accounts.models import User
from app.cohorts.models import Membership
from app.db import get_session, transaction
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.peer_review import allocation, live
from app.peer_review.access import AssignmentAccess, get_assignment_for
from app.peer_review.kindness import Finding, harsh_phrasings
from app.peer_review.models import Rubric, RubricCriterion
from app.peer_review.work_models import Review, ReviewScore, Submission

#: Longest comment, overall or per criterion, in characters of Markdown.
MAX_COMMENT = 10_000


# --- allocation --------------------------------------------------------------------------------

@cache
def _expire_statement():
    """Mark the assignment's overdue unfinished reviews expired (built once)."""
    return (update(Review)
            .where(Review.cohort_assignment_id == bindparam("assignment"),
                   Review.status == "active", Review.expires_at <= bindparam("cutoff"))
            .values(status="expired")
            .returning(Review.submission_id)
            .execution_options(synchronize_session=False))


def expire_overdue(assignment_id: int, now: datetime) -> int:
    """Mark the assignment's unfinished reviews past their expiry as expired and return
    their submissions to the pool; return how many expired. Runs in the caller's
    transaction, which holds the assignment's lock."""
    session = get_session()
    expired = session.execute(_expire_statement(),
                              {"assignment": assignment_id, "cutoff": now}).scalars().all()
    counts: dict[int, int] = {}
    for submission_id in expired:
        counts[submission_id] = counts.get(submission_id, 0) + 1
    for submission_id, n in counts.items():
        session.execute(
            update(Submission).where(Submission.id == submission_id)
            .values(active_reviews=Submission.active_reviews - n,
                    review_load=Submission.review_load - n)
            .execution_options(synchronize_session=False))
    return len(expired)


def _candidate(submission: Submission) -> allocation.Candidate:
    return allocation.Candidate(
        submission_id=submission.id, author_id=submission.author_id,
        submitted_at=submission.submitted_at, late=submission.late,
        completed=submission.completed_reviews, active=submission.active_reviews)


#: The Submission column behind each name of ``allocation.ORDER_BY``.
_COLUMNS = {"reviews": "review_load", "late": "late", "submitted_at": "submitted_at",
            "submission_id": "id"}


@cache
def _candidate_statements():
    """The first submission open to a reviewer in the allocation order (an index scan of
    ``ix_submissions_allocation`` that stops at the first row), and any submission of
    someone else: both built once, read fresh (``populate_existing``) under the lock."""
    had = (select(Review.submission_id)
           .where(Review.reviewer_id == bindparam("reviewer"),
                  Review.cohort_assignment_id == bindparam("assignment")))
    others = (select(Submission)
              .where(Submission.cohort_assignment_id == bindparam("assignment"),
                     Submission.author_id != bindparam("reviewer"))
              .execution_options(populate_existing=True))
    order = [getattr(Submission, _COLUMNS[column]) for column in allocation.ORDER_BY]
    return others.where(Submission.id.not_in(had)).order_by(*order).limit(1), others.limit(1)


def _candidates_for(access: AssignmentAccess, reviewer_id: int
                    ) -> tuple[list[allocation.Candidate], frozenset[int], Submission | None]:
    """What ``allocation.choose`` needs to decide, in one or two reads: the first submission
    open to the reviewer in the allocation order; or, when there is none, one of someone
    else's, which the reviewer then already had (so the refusal can say so). Returns the
    candidates, which of them the reviewer already had, and the row, fresh."""
    session = get_session()
    first_open, any_other = _candidate_statements()
    values = {"assignment": access.assignment.id, "reviewer": reviewer_id}
    best = session.scalar(first_open, values)
    if best is not None:
        return [_candidate(best)], frozenset(), best
    best = session.scalar(any_other, values)
    if best is None:
        return [], frozenset(), None
    return [_candidate(best)], frozenset({best.id}), best


@cache
def _active_review_statement():
    return select(Review).where(Review.reviewer_id == bindparam("reviewer"),
                                Review.cohort_assignment_id == bindparam("assignment"),
                                Review.status == "active", Review.expires_at > bindparam("now"))


def active_review_of(reviewer_id: int, assignment_id: int, now: datetime) -> Review | None:
    """The reviewer's unfinished, unexpired review on the assignment, if any."""
    return get_session().scalar(_active_review_statement(), {
        "reviewer": reviewer_id, "assignment": assignment_id, "now": now})


def request_review(user: User, assignment_id: int, *, now: datetime,
                   only_short: bool = False) -> Review:
    """Allocate the learner the next submission to review, or give back the one they are
    already reviewing; Conflict with the reason's code and sentence when there is none."""
    with transaction():
        access = get_assignment_for(user, assignment_id, now=now, for_update=True)
        access.require_learner("review a peer's work here")
        current = active_review_of(user.id, assignment_id, now)
        if current is not None:
            return current
        expire_overdue(assignment_id, now)
        candidates, had, row = _candidates_for(access, user.id)
        request = allocation.Request(
            reviewer_id=user.id, reviewer_has_submitted=access.submission is not None,
            already_had=had, gate_submit_first=access.assignment.submit_first,
            only_short=only_short)
        choice = allocation.choose(request, candidates,
                                   target=access.assignment.reviews_required)
        if isinstance(choice, allocation.Refusal):
            raise Conflict(choice.message, code=choice.reason.value)
        return _allocate(access, row, user.id, now, beyond_target=choice.beyond_target,
                         by_staff=False)


@cache
def _last_number_statement():
    return select(func.max(Review.number)).where(Review.submission_id == bindparam("submission"))


def _allocate(access: AssignmentAccess, submission: Submission, reviewer_id: int,
              now: datetime, *, beyond_target: bool, by_staff: bool) -> Review:
    """Give the reviewer the submission (read fresh under the assignment's lock): a new
    active review, counted on the submission."""
    session = get_session()
    submission_id = submission.id
    number = (session.scalar(_last_number_statement(), {"submission": submission_id})
              or 0) + 1
    review = Review(
        cohort_assignment_id=access.assignment.id, submission_id=submission_id,
        reviewer_id=reviewer_id, number=number, status="active", by_staff=by_staff,
        beyond_target=beyond_target, submission_version=submission.version,
        allocated_at=now,
        expires_at=now + timedelta(hours=access.assignment.review_expiry_hours))
    session.add(review)
    submission.active_reviews += 1
    submission.review_load += 1
    session.flush()
    audit.record(session, access.viewer.user.id, "review.allocated",
                 cohort_id=access.cohort.id, target_type="review", target_id=review.id,
                 submission_id=submission_id, reviewer_id=reviewer_id, by_staff=by_staff)
    live.review_status_changed(access.assignment.id)
    return review


def assign_review(user: User, submission_id: int, *, reviewer_id: int | None = None,
                  assignment_id: int | None = None, now: datetime) -> Review:
    """A facilitator's "review it myself" (no ``reviewer_id``) or "assign to …" a learner of
    the cohort who is not its author and never had it. ``assignment_id`` (the board the
    request came from): NotFound when the submission is of another assignment."""
    session = get_session()
    found = session.scalar(select(Submission.cohort_assignment_id)
                           .where(Submission.id == submission_id))
    if found is None or assignment_id not in (None, found):
        raise NotFound()
    assignment_id = found
    with transaction():
        access = get_assignment_for(user, assignment_id, now=now, for_update=True)
        access.require_staff()
        submission = session.get(Submission, submission_id)
        reviewer_id = user.id if reviewer_id is None else reviewer_id
        if reviewer_id == submission.author_id:
            raise Invalid("Nobody reviews their own work; choose another learner.",
                          fields={"reviewer_id": "This learner wrote the work."})
        if reviewer_id != user.id and session.scalar(
                select(Membership.role).where(Membership.cohort_id == access.cohort.id,
                                              Membership.user_id == reviewer_id)) != "learner":
            raise Invalid("Choose a learner of this cohort.",
                          fields={"reviewer_id": "Not a learner of this cohort."})
        had = session.scalar(select(Review).where(Review.submission_id == submission_id,
                                                  Review.reviewer_id == reviewer_id))
        if had is not None:
            raise Conflict("That person already has (or had) this submission to review; "
                           "choose someone else.", code="already_allocated")
        expire_overdue(assignment_id, now)
        session.refresh(submission)
        return _allocate(access, submission, reviewer_id, now,
                         beyond_target=submission.review_load
                         >= access.assignment.reviews_required,
                         by_staff=reviewer_id == user.id)


def release_allocation(user: User, review_id: int, *, now: datetime) -> Review:
    """A facilitator ends an unfinished review now ("reassign"): it expires and its
    submission returns to the pool for the next reviewer who asks."""
    with transaction() as session:
        review = _review_row(review_id)
        access = get_assignment_for(user, review.cohort_assignment_id, now=now,
                                    for_update=True)
        access.require_staff()
        session.refresh(review)
        if review.status != "active":
            raise Conflict("This review is no longer open.", code="not_active")
        review.expires_at = now
        session.flush()
        expire_overdue(access.assignment.id, now)
        session.refresh(review)
        audit.record(session, user.id, "review.reassigned", cohort_id=access.cohort.id,
                     target_type="review", target_id=review.id)
        return review


# --- the reviewer's form -----------------------------------------------------------------------

@dataclass
class ReviewAccess:
    """A review as its reviewer (or the staff) may work with it."""

    access: AssignmentAccess
    review: Review
    submission: Submission
    rubric: Rubric

    @property
    def is_reviewer(self) -> bool:
        return self.review.reviewer_id == self.access.viewer.user.id

    @property
    def is_open(self) -> bool:
        """The reviewer may still save and submit it. A review past its expiry stays open
        until it is marked expired (when another reviewer asks): until then nobody else
        has been given the work in its place, so the reviewer's work is still welcome."""
        return self.review.status == "active"


def _review_row(review_id: int) -> Review:
    review = get_session().get(Review, review_id)
    if review is None:
        raise NotFound()
    return review


def _rubric(rubric_id: int) -> Rubric:
    return get_session().scalar(
        select(Rubric).where(Rubric.id == rubric_id)
        .options(selectinload(Rubric.criteria).selectinload(RubricCriterion.levels)))


def get_review_for(user: User, review_id: int, *, now: datetime,
                   for_update: bool = False) -> ReviewAccess:
    """A review for its reviewer or the cohort's staff; NotFound for anyone else (authors
    read their reviews through their submission)."""
    review = _review_row(review_id)
    access = get_assignment_for(user, review.cohort_assignment_id, now=now,
                                for_update=for_update)
    if for_update:
        get_session().refresh(review)
    if review.reviewer_id != user.id and not access.viewer.is_staff:
        raise NotFound()
    submission = get_session().get(Submission, review.submission_id)
    return ReviewAccess(access=access, review=review, submission=submission,
                        rubric=_rubric(access.assignment.rubric_id))


@dataclass
class SaveOutcome:
    """What saving a review did: ``saved`` (a draft), ``submitted``, ``held`` (submitted
    and waiting for a facilitator) or ``nudged`` (saved as a draft: the kindness check
    found phrasings to reconsider)."""

    review: Review
    status: str
    findings: list[Finding] = field(default_factory=list)


def _clean_comment(text: str | None, name: str, errors: dict[str, str]) -> str:
    text = (text or "").replace("\x00", "").strip()
    if len(text) > MAX_COMMENT:
        errors[name] = (f"Keep this under {MAX_COMMENT:,} characters (it has {len(text):,}).")
    return text


def _levels_of(rubric: Rubric, points: dict[int, int | None], errors: dict[str, str]
               ) -> dict[int, int | None]:
    """Criterion id -> chosen level id, from the points given per criterion id."""
    chosen: dict[int, int | None] = {}
    criteria = {c.id: c for c in rubric.criteria}
    for criterion_id, value in points.items():
        criterion = criteria.get(criterion_id)
        if criterion is None:
            errors[f"scores.{criterion_id}"] = "Not a criterion of this rubric."
            continue
        if value is None:
            chosen[criterion_id] = None
            continue
        level = next((lv for lv in criterion.levels if lv.points == value), None)
        if level is None:
            allowed = ", ".join(str(lv.points) for lv in criterion.levels)
            errors[f"scores.{criterion_id}"] = f"Choose one of the levels ({allowed} points)."
            continue
        chosen[criterion_id] = level.id
    return chosen


def save_review(user: User, review_id: int, *, scores: dict[int, int | None],
                comments: dict[int, str] | None = None, comment: str = "",
                submit: bool = False, submit_anyway: bool = False,
                now: datetime) -> SaveOutcome:
    """Save the reviewer's rubric form as a draft, or submit it.

    Submitting needs a level for every criterion and an overall comment. Harsh or absolute
    phrasings stop a submission once (``nudged``, the text kept as a draft) with
    suggestions; submitting again unchanged (``submit_anyway``) sends it, held for a
    facilitator first when the cohort keeps the kindness hold on.
    """
    comments = comments or {}
    with transaction() as session:
        ra = get_review_for(user, review_id, now=now, for_update=True)
        if not ra.is_reviewer:
            raise NotAllowed("Only the reviewer it was given to can write this review.")
        review = ra.review
        if review.status == "submitted":
            raise Conflict("This review has been submitted already.", code="already_submitted")
        if review.status == "expired":
            raise Conflict(
                "This review expired and the work went to another reviewer, so it can no "
                "longer be saved. Your text is below: copy what you want to keep.",
                code="review_expired", details={"comment": comment, "comments": {
                    str(k): v for k, v in comments.items()}})
        errors: dict[str, str] = {}
        chosen = _levels_of(ra.rubric, scores, errors)
        overall = _clean_comment(comment, "comment", errors)
        notes = {}
        for criterion_id, text in comments.items():
            if criterion_id not in {c.id for c in ra.rubric.criteria}:
                errors[f"comments.{criterion_id}"] = "Not a criterion of this rubric."
                continue
            notes[criterion_id] = _clean_comment(text, f"comments.{criterion_id}", errors)
        if errors:
            raise Invalid("Some parts of the review need attention.", fields=errors)
        _write_form(review, ra.rubric, chosen, notes, overall, now)
        if not submit:
            session.flush()
            return SaveOutcome(review, "saved")
        missing = [c for c in ra.rubric.criteria
                   if _level_after(review, c.id) is None]
        if not missing and overall:
            findings = harsh_phrasings(overall, *notes.values())
            if findings and not submit_anyway:
                return SaveOutcome(review, "nudged", findings)
            return _submit(ra, findings, now)
        # Refused after the transaction, so the draft is saved.
        session.flush()
    fields = {f"scores.{c.id}": "Choose a level." for c in missing}
    if not overall:
        fields["comment"] = "Say in a few sentences what works and what would help."
    raise Invalid("Choose a level for every criterion and write an overall comment "
                  "before submitting; your draft is kept.", fields=fields)


def _level_after(review: Review, criterion_id: int) -> int | None:
    return next((s.level_id for s in review.scores if s.criterion_id == criterion_id), None)


def _write_form(review: Review, rubric: Rubric, chosen: dict[int, int | None],
                notes: dict[int, str], overall: str, now: datetime) -> None:
    """Put the form's values on the review's rows (criteria left out keep what they had)."""
    by_criterion = {s.criterion_id: s for s in review.scores}
    for criterion in rubric.criteria:
        if criterion.id not in chosen and criterion.id not in notes:
            continue
        score = by_criterion.get(criterion.id)
        if score is None:
            score = ReviewScore(criterion_id=criterion.id, comment="")
            review.scores.append(score)
        if criterion.id in chosen:
            score.level_id = chosen[criterion.id]
        if criterion.id in notes and notes[criterion.id] != score.comment:
            score.comment = notes[criterion.id]
    if overall != review.comment:
        review.comment = overall
    review.saved_at = now


def _submit(ra: ReviewAccess, findings: list[Finding], now: datetime) -> SaveOutcome:
    """Send the review: counted as completed, published or held, and announced."""
    from app.peer_review import notices

    session = get_session()
    review, submission = ra.review, ra.submission
    review.status = "submitted"
    review.submitted_at = now
    held = bool(findings) and ra.access.cohort.kindness_hold
    if held:
        review.held_at = now
        review.held_phrases = "; ".join(f.phrase for f in findings)[:500]
    session.execute(
        update(Submission).where(Submission.id == submission.id)
        .values(completed_reviews=Submission.completed_reviews + 1,
                active_reviews=Submission.active_reviews - 1)
        .execution_options(synchronize_session=False))
    session.flush()
    audit.record(session, ra.access.viewer.user.id, "review.submitted",
                 cohort_id=ra.access.cohort.id, target_type="review", target_id=review.id,
                 held=held)
    live.review_status_changed(ra.access.assignment.id)
    if held:
        notices.review_held(ra.access, review, now=now)
        return SaveOutcome(review, "held", findings)
    notices.review_received(ra.access, submission, review, now=now)
    return SaveOutcome(review, "submitted", findings)


def reviews_done(reviewer_id: int, assignment_id: int) -> int:
    """How many reviews the learner has submitted on the assignment."""
    return get_session().scalar(
        select(func.count()).select_from(Review)
        .where(and_(Review.reviewer_id == reviewer_id,
                    Review.cohort_assignment_id == assignment_id,
                    Review.status == "submitted"))) or 0
