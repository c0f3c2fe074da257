"""What an author gets back: their reviews and the median level per criterion behind the
results gate, helpfulness ratings and harmful-review flags; and who is shown as whom.

:func:`present_side` is the one path from a review or a submission to a name. It goes
through the same presentation function as discussions (``present_author``) with a fixed
policy: under double-blind (the default) learners see "Reviewer 1, 2, …" and "a peer's
work", facilitators and the program's owner see both names; without it, names show.
"""

import statistics
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app import audit
from app.accounts.models import User
from app.cohorts.access import CohortAccess
from app.db import get_session, transaction
from app.discussions.anonymity import AuthorView, present_author
from app.errors import Conflict, Invalid, NotFound
from app.peer_review import live, notices
from app.peer_review.access import AssignmentAccess, Dates, get_assignment_for
from app.peer_review.models import CohortAssignment, Rubric
from app.peer_review.reviewing import ReviewAccess, _rubric, reviews_done
from app.peer_review.submitting import get_submission_for
from app.peer_review.work_models import Review, Submission

MAX_RATING_COMMENT = 2_000
MAX_FLAG_REASON = 500


@dataclass(frozen=True)
class _Side:
    """A reviewer or an author as ``present_author`` takes them."""

    author_id: int
    pseudonym: str
    is_anonymous: bool
    by_staff: bool = False
    anonymity: str = "peers"


def present_side(user_id: int, stand_in: str, viewer: CohortAccess, name: str, *,
                 double_blind: bool, by_staff: bool = False) -> AuthorView:
    """A reviewer ("Reviewer 2") or an author ("A peer") as this viewer may see them."""
    side = _Side(author_id=user_id, pseudonym=stand_in, is_anonymous=double_blind,
                 by_staff=by_staff)
    return present_author(side, viewer, name, policy="peers" if double_blind else "off")


def names_of(user_ids) -> dict[int, str]:
    """Display names by user id (``present_side`` decides who may see them)."""
    ids = set(user_ids)
    if not ids:
        return {}
    return dict(get_session().execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def work_author(ra: ReviewAccess) -> AuthorView:
    """The author of the work under review as the review page's viewer may see them: "A
    peer" for its reviewer under double-blind, the name for the staff."""
    submission = ra.submission
    return present_side(submission.author_id, "A peer", ra.access.viewer,
                        names_of([submission.author_id]).get(submission.author_id, ""),
                        double_blind=ra.access.assignment.double_blind)


def reviewer_of(ra: ReviewAccess) -> AuthorView:
    """The reviewer as the review page's viewer may see them (themselves, or the staff)."""
    review = ra.review
    return present_side(review.reviewer_id, f"Reviewer {review.number}", ra.access.viewer,
                        names_of([review.reviewer_id]).get(review.reviewer_id, ""),
                        double_blind=ra.access.assignment.double_blind,
                        by_staff=review.by_staff)


# --- the results gate --------------------------------------------------------------------------

def results_open(assignment: CohortAssignment, dates: Dates, author_id: int,
                 now: datetime) -> bool:
    """Whether the author may read the reviews of their work now (``results_after``)."""
    if now >= dates.reviews_due:
        return True
    if assignment.results_after == "window_closed":
        return False
    return reviews_done(author_id, assignment.id) >= assignment.reviews_required


def gate_sentence(assignment: CohortAssignment, dates: Dates, author_id: int,
                  now: datetime, timezone: str) -> str:
    """When the author can read their reviews, in a sentence ("" when they can now), with
    the date in ``timezone`` (the author's)."""
    if results_open(assignment, dates, author_id, now):
        return "You can read it now."
    local = dates.reviews_due.astimezone(ZoneInfo(timezone))
    when = f"{local:%a %d %b %Y, %H:%M} {local.tzname()}"
    if assignment.results_after == "window_closed":
        return f"Everyone's reviews open when the review window closes, {when}."
    owed = assignment.reviews_required - reviews_done(author_id, assignment.id)
    return (f"You can read your reviews once you have done {owed} more review"
            f"{'s' if owed != 1 else ''} of your peers' work, or when the review window "
            f"closes, {when}.")


# --- the author's view -------------------------------------------------------------------------

@dataclass(frozen=True)
class CriterionResult:
    """One criterion of one review: the level chosen and the reviewer's comment."""

    criterion_id: int
    criterion: str
    level: str | None
    points: int | None
    comment_html: str


@dataclass(frozen=True)
class ReviewView:
    """A review as one viewer may see it."""

    id: int
    number: int
    reviewer: AuthorView
    status: str
    submitted_at: datetime | None
    criteria: tuple[CriterionResult, ...]
    comment_html: str
    published: bool
    held: bool
    held_phrases: str
    hidden: bool
    hidden_reason: str
    flagged: bool
    flag_reason: str
    helpfulness: int | None
    helpfulness_comment: str
    expires_at: datetime
    by_staff: bool


@dataclass(frozen=True)
class Median:
    """The median level of a criterion over the published reviews (the lower of two
    middles, so it is always a level of the rubric)."""

    criterion_id: int
    criterion: str
    level: str | None
    points: int | None
    reviews: int


@dataclass
class SubmissionView:
    """A submission with its reviews, for its author or the staff."""

    access: AssignmentAccess
    submission: Submission
    author: AuthorView
    results_open: bool
    gate: str
    reviews: list[ReviewView]
    medians: list[Median]
    rubric: Rubric


def review_view(review: Review, rubric: Rubric, viewer: CohortAccess, name: str, *,
                double_blind: bool) -> ReviewView:
    """A review's levels and comments, and its reviewer as this viewer may see them."""
    levels = {lv.id: lv for c in rubric.criteria for lv in c.levels}
    scores = {s.criterion_id: s for s in review.scores}
    criteria = []
    for criterion in rubric.criteria:
        score = scores.get(criterion.id)
        level = levels.get(score.level_id) if score is not None and score.level_id else None
        criteria.append(CriterionResult(
            criterion.id, criterion.title, level.label if level else None,
            level.points if level else None, score.comment_html if score else ""))
    staff = viewer.is_staff
    return ReviewView(
        id=review.id, number=review.number,
        reviewer=present_side(review.reviewer_id, f"Reviewer {review.number}", viewer, name,
                              double_blind=double_blind, by_staff=review.by_staff),
        status=review.status, submitted_at=review.submitted_at, criteria=tuple(criteria),
        comment_html=review.comment_html, published=review.is_published,
        held=review.held_at is not None and review.released_at is None,
        held_phrases=review.held_phrases if staff else "",
        hidden=review.hidden_at is not None,
        hidden_reason=review.hidden_reason,
        flagged=review.flagged_at is not None, flag_reason=review.flag_reason,
        helpfulness=review.helpfulness, helpfulness_comment=review.helpfulness_comment,
        # A review by the staff is "Reviewer N" to its author like any other: few people
        # facilitate, so the mark would narrow down who wrote it. The staff see it.
        expires_at=review.expires_at, by_staff=review.by_staff and staff)


def medians_of(rubric: Rubric, reviews: list[Review]) -> list[Median]:
    """The median level per criterion over ``reviews``."""
    levels = {lv.id: lv for c in rubric.criteria for lv in c.levels}
    result = []
    for criterion in rubric.criteria:
        points = sorted(levels[s.level_id].points for r in reviews for s in r.scores
                        if s.criterion_id == criterion.id and s.level_id in levels)
        if not points:
            result.append(Median(criterion.id, criterion.title, None, None, 0))
            continue
        middle = statistics.median_low(points)
        label = next(lv.label for lv in criterion.levels if lv.points == middle)
        result.append(Median(criterion.id, criterion.title, label, middle, len(points)))
    return result


def get_submission_view(user: User, submission_id: int, *, now: datetime) -> SubmissionView:
    """The work and its reviews: the author sees published reviews once the gate opens;
    the staff see every review, held, flagged and hidden ones included, with names."""
    submission, access = get_submission_for(user, submission_id, now=now)
    viewer = access.viewer
    rubric = _rubric(access.assignment.rubric_id)
    reviews = list(get_session().scalars(
        select(Review).where(Review.submission_id == submission.id).order_by(Review.number)))
    opened = viewer.is_staff or results_open(access.assignment, access.dates, user.id, now)
    if not viewer.is_staff:
        # The author: their published reviews, and the ones they flagged (hidden from
        # them until a facilitator decides; shown only as "flagged").
        reviews = [r for r in reviews if r.is_published or (r.flagged_at is not None
                                                             and r.hidden_at is None)]
        reviews = reviews if opened else []
    names = names_of([r.reviewer_id for r in reviews] + [submission.author_id])
    blind = access.assignment.double_blind
    views = [review_view(r, rubric, viewer, names.get(r.reviewer_id, ""), double_blind=blind)
             for r in reviews]
    published = [r for r in reviews if r.is_published]
    return SubmissionView(
        access=access, submission=submission,
        author=present_side(submission.author_id, "A peer", viewer,
                            names.get(submission.author_id, ""), double_blind=blind),
        results_open=opened,
        gate="" if opened else gate_sentence(access.assignment, access.dates, user.id, now,
                                             user.timezone),
        reviews=views, medians=medians_of(rubric, published) if opened else [],
        rubric=rubric)


# --- ratings and flags -------------------------------------------------------------------------

def rate_review(user: User, review_id: int, *, helpfulness: int | None, comment: str = "",
                flag_reason: str | None = None, now: datetime) -> Review:
    """The author rates a review's helpfulness (1–5, optional comment) and/or flags it as
    harmful (hidden from them until a facilitator releases or hides it). A flag
    (``flag_reason`` given, even empty) needs a reason; a rating alone needs its number."""
    with transaction() as session:
        review = session.get(Review, review_id)
        if review is None:
            raise NotFound()
        submission = session.get(Submission, review.submission_id)
        if submission.author_id != user.id:
            raise NotFound()
        access = get_assignment_for(user, review.cohort_assignment_id, now=now)
        if not (review.is_published or review.flagged_at is not None) or not results_open(
                access.assignment, access.dates, user.id, now):
            raise NotFound()
        errors = {}
        comment = (comment or "").replace("\x00", "").strip()
        if helpfulness is None and flag_reason is None:
            errors["helpfulness"] = "Choose how helpful the review was, from 1 to 5."
        if helpfulness is not None and not (isinstance(helpfulness, int)
                                            and 1 <= helpfulness <= 5):
            errors["helpfulness"] = "Choose how helpful the review was, from 1 to 5."
        if len(comment) > MAX_RATING_COMMENT:
            errors["comment"] = f"Keep the comment under {MAX_RATING_COMMENT:,} characters."
        reason = (flag_reason or "").replace("\x00", "").strip()
        if flag_reason is not None and not reason:
            errors["flag_reason"] = "Say in a few words why this review is harmful."
        if len(reason) > MAX_FLAG_REASON:
            errors["flag_reason"] = f"Keep the reason under {MAX_FLAG_REASON} characters."
        if errors:
            raise Invalid("The rating needs attention.", fields=errors)
        if helpfulness is not None:
            review.helpfulness = helpfulness
            review.helpfulness_comment = comment
            review.rated_at = now
        if reason:
            if review.flagged_at is not None:
                raise Conflict("You have flagged this review already; a facilitator will "
                               "look at it.", code="already_flagged")
            review.flagged_at = now
            review.flag_reason = reason
            notices.review_flagged(access, review, now=now)
        session.flush()
        audit.record(session, user.id, "review.rated", cohort_id=access.cohort.id,
                     target_type="review", target_id=review.id,
                     helpfulness=review.helpfulness, flagged=bool(reason))
        live.review_status_changed(access.assignment.id)
        return review


def submission_id_of(review_id: int) -> int:
    """The submission a review is of; NotFound when there is no such review (who may see
    it is :func:`get_submission_view`'s to decide)."""
    submission_id = get_session().scalar(select(Review.submission_id)
                                         .where(Review.id == review_id))
    if submission_id is None:
        raise NotFound()
    return submission_id


def reviewer_helpfulness(reviewer_id: int, assignment_id: int | None = None
                         ) -> tuple[float | None, int]:
    """A reviewer's average helpfulness as rated by authors, and over how many ratings
    (one assignment, or all of them)."""
    query = select(func.avg(Review.helpfulness), func.count(Review.helpfulness)).where(
        Review.reviewer_id == reviewer_id, Review.helpfulness.is_not(None))
    if assignment_id is not None:
        query = query.where(Review.cohort_assignment_id == assignment_id)
    average, count = get_session().execute(query).one()
    return (round(float(average), 1) if average is not None else None), count
