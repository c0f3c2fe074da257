"""Peer review work in the JSON API: a learner's assignment, submissions (JSON or a form with
an attachment), reviews (allocate, read, save, submit), results and ratings.

Every person in a response went through the presentation of
:mod:`app.peer_review.results` (``present_side`` / ``review_view``): under double-blind an
author meets "Reviewer 1, 2, …" and a reviewer meets "A peer"; facilitators and the
program's owner see both names. The staff's review board is in ``board_api``.
"""

from datetime import datetime
from typing import Literal

from flask import Blueprint, request, send_file
from pydantic import Field

from app.api import Id, ResponseSchema, Schema, Status, endpoint, parse_json
from app.db import utcnow
from app.errors import BadRequest, Conflict, Invalid
from app.extensions import limiter
from app.peer_review import attachments, results, reviewing, submitting
from app.peer_review.api import CriterionOut, LevelOut
from app.peer_review.overview import get_overview
from app.peer_review.services import max_points
from app.security import per_person, posting_rate_limit

bp = Blueprint("peer_review_work_api", __name__, url_prefix="/api/v1")

#: The largest request the submission endpoint reads: an attachment of up to
#: ``attachments.MAX_BYTES`` and the text beside it. A file just over the limit gets the
#: attachment check's own 422; a request over this one is refused with 413 unread.
SUBMISSION_REQUEST_LIMIT = attachments.MAX_BYTES + 1024 * 1024


#: The media types an attachment is sent with (its type found in the content).
DOWNLOAD_TYPES = tuple(media.split(";")[0] for _, media, _ in attachments.KINDS.values())


# --- shapes ------------------------------------------------------------------------------------

class PersonOut(ResponseSchema):
    """An author or a reviewer as the caller may see them."""

    label: str = Field(description="What to show: 'Reviewer 2' or 'A peer' under "
                                   "double-blind, with the name added for staff.")
    name: str | None = Field(description="Only when the caller may know who it is.")
    user_id: int | None = Field(description="Only when the caller may know who it is.")
    is_you: bool
    anonymous: bool


class AttachmentOut(ResponseSchema):
    """A submission's file: download it from ``url``."""

    name: str = Field(description="The file's name as the caller may see it (a reviewer "
                                  "under double-blind gets a neutral one).")
    type: str = Field(description="pdf, png, jpg, docx, pptx or txt (found in the content).")
    size: int = Field(description="Bytes.")
    url: str


class SubmissionOut(ResponseSchema):
    """The caller's submitted work."""

    id: int
    assignment_id: int
    version: int = Field(description="1, then one more for each re-submission.")
    late: bool
    submitted_at: datetime = Field(description="First submitted.")
    updated_at: datetime = Field(description="The current version's time.")
    feedback_by: datetime = Field(description="Reviews are promised by then.")
    body: str = Field(description="The Markdown as written.")
    body_html: str
    attachment: AttachmentOut | None


class SubmissionIn(Schema):
    """Work to submit (or re-submit until the due date)."""

    body: str = Field(description="Markdown, up to 50,000 characters; may be empty when a "
                                  "file is attached (multipart only).")
    keep_attachment: bool = Field(default=True, description="On a re-submission, keep the "
                                                            "file attached before.")


#: The submission endpoint's two bodies, for the document.
SUBMISSION_BODY = {
    "application/json": {"schema": SubmissionIn.model_json_schema()},
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "properties": {
                "body": {"type": "string", "description": "Markdown."},
                "keep_attachment": {"type": "string", "enum": ["true", "false"],
                                    "description": "On a re-submission without a new file: "
                                                   "keep the one attached before (default)."},
                "attachment": {"type": "string", "format": "binary",
                               "description": "One PDF, PNG, JPG, DOCX, PPTX or UTF-8 text "
                                              "file of at most 10 MB, checked by content."},
            },
        },
    },
}


class DatesOut(ResponseSchema):
    """The assignment's milestones (UTC)."""

    opens: datetime
    due: datetime = Field(description="Later work is accepted and marked late.")
    reviews_due: datetime = Field(description="The review window closes.")


class SettingsOut(ResponseSchema):
    """How the assignment runs."""

    reviews_required: int
    review_expiry_hours: int
    submit_first: bool
    results_after: Literal["reviews_done", "window_closed"]
    double_blind: bool


class MyReviewOut(ResponseSchema):
    """A review the caller was given to write."""

    id: int
    status: str = Field(description="active, submitted or expired.")
    allocated_at: datetime
    expires_at: datetime
    submitted_at: datetime | None
    held: bool = Field(description="Waiting for a facilitator before its author reads it.")
    hidden: bool
    hidden_reason: str


class HelpfulnessOut(ResponseSchema):
    """How helpful authors found the caller's reviews."""

    average: float | None
    ratings: int


class AssignmentOverviewOut(ResponseSchema):
    """An assignment as the caller meets it."""

    id: int
    cohort_id: int
    module_id: int
    title: str
    instructions_html: str
    my_role: str
    dates: DatesOut
    settings: SettingsOut
    rubric: list[CriterionOut]
    max_points: int
    submission: SubmissionOut | None = Field(description="The caller's own work.")
    can_submit: bool = Field(description="May submit, or re-submit, now.")
    is_late_now: bool = Field(description="A first submission now would be late.")
    reviews_done: int
    owed: int = Field(description="Reviews still to do to meet the requirement.")
    my_reviews: list[MyReviewOut]
    open_review_id: int | None = Field(description="The unfinished review to continue.")
    anyone_waiting: bool = Field(description="A peer's work is still waiting for a reviewer.")
    ask_for_one_more: bool = Field(description="Show 'review one more for a peer who is "
                                               "still waiting'.")
    helpfulness: HelpfulnessOut
    results_open: bool = Field(description="The caller may read the reviews of their work.")
    gate: str = Field(description="When they can, in a sentence ('' when they can now or "
                                  "have not submitted).")


class WorkOut(ResponseSchema):
    """The work a review is of, presented for the caller."""

    submission_id: int
    author: PersonOut
    version: int
    reviewed_version: int = Field(description="The version the reviewer was given.")
    body_html: str
    attachment: AttachmentOut | None


class ReviewOut(ResponseSchema):
    """A review as its reviewer (or the staff) works with it: the work, the rubric, the
    draft or what was sent."""

    id: int
    assignment_id: int
    number: int = Field(description="The 'Reviewer N' its author meets.")
    status: str = Field(description="active, submitted or expired.")
    is_open: bool = Field(description="May still be saved and submitted.")
    reviewer: PersonOut
    by_staff: bool
    allocated_at: datetime
    expires_at: datetime
    saved_at: datetime | None
    submitted_at: datetime | None
    work: WorkOut
    rubric: list[CriterionOut]
    scores: dict[int, int | None] = Field(description="Points chosen per criterion id "
                                                      "(null: not chosen yet).")
    comments: dict[int, str] = Field(description="Markdown comment per criterion id.")
    comment: str = Field(description="The overall comment, Markdown as written.")
    comment_html: str
    held: bool
    hidden: bool
    hidden_reason: str


class ReviewRequestIn(Schema):
    """Ask for the next piece of work to review."""

    only_short: bool = Field(default=False, description="Only work still short of its "
                                                        "reviews ('review one more').")


class ReviewSaveIn(Schema):
    """The rubric form: saved as a draft, or submitted."""

    scores: dict[Id, int | None] = Field(default_factory=dict, description=(
        "Points of the chosen level per criterion id (null clears it); criteria left out "
        "keep what was saved."))
    comments: dict[Id, str] = Field(default_factory=dict, description=(
        "Markdown comment per criterion id, up to 10,000 characters each."))
    comment: str = Field(default="", description="The overall comment (replaces the saved "
                                                 "one), Markdown, up to 10,000 characters.")
    submit: bool = Field(default=False, description="Submit (needs every level and an "
                                                    "overall comment); false saves a draft.")
    submit_anyway: bool = Field(default=False, description=(
        "Submit after the kindness check answered 409 kindness_check."))


class ReviewSaveOut(ResponseSchema):
    """What saving did, and the review as it now is."""

    status: Literal["saved", "submitted", "held"]
    message: str
    review: ReviewOut


class CriterionResultOut(ResponseSchema):
    """One criterion of a review: the level chosen and the comment."""

    criterion_id: int
    criterion: str
    level: str | None
    points: int | None
    comment_html: str


class ReviewResultOut(ResponseSchema):
    """A review of a piece of work, its reviewer presented for the caller."""

    id: int
    number: int
    reviewer: PersonOut
    status: str
    submitted_at: datetime | None
    criteria: list[CriterionResultOut]
    comment_html: str
    published: bool = Field(description="Its author can read it.")
    held: bool
    held_phrases: str = Field(description="Staff only: what the kindness check found.")
    hidden: bool
    hidden_reason: str
    flagged: bool
    flag_reason: str
    helpfulness: int | None
    helpfulness_comment: str
    expires_at: datetime
    by_staff: bool = Field(description="Written by a facilitator or the program's owner "
                                       "(shown to the staff; always false for the author).")


class MedianOut(ResponseSchema):
    """The median level of a criterion over the published reviews."""

    criterion_id: int
    criterion: str
    level: str | None
    points: int | None
    reviews: int


class SubmissionDetailOut(SubmissionOut):
    """A piece of work with its reviews, for its author or the staff."""

    author: PersonOut
    versions: int = Field(description="How many versions were submitted.")
    results_open: bool
    gate: str = Field(description="When the author can read the reviews ('' once open).")
    reviews: list[ReviewResultOut]
    medians: list[MedianOut]
    rubric: list[CriterionOut]


class RatingIn(Schema):
    """The author's rating of a review, and/or a flag."""

    helpfulness: int | None = Field(default=None, description="1 (not helpful) to 5.")
    comment: str = Field(default="", description="Up to 2,000 characters.")
    flag_reason: str | None = Field(default=None, description=(
        "Flag the review as harmful, saying why (up to 500 characters): it is hidden from "
        "you until a facilitator decides."))


class RatingOut(ResponseSchema):
    """The rating as saved."""

    review_id: int
    helpfulness: int | None
    comment: str
    rated_at: datetime | None
    flagged: bool
    flag_reason: str


# --- presentation ------------------------------------------------------------------------------

def rubric_out(rubric) -> list[CriterionOut]:
    """A rubric's criteria with their levels."""
    return [CriterionOut(id=c.id, criterion=c.title, description=c.description,
                         levels=[LevelOut(id=lv.id, label=lv.label, points=lv.points)
                                 for lv in c.levels])
            for c in rubric.criteria]


def _attachment_out(submission, name: str | None) -> AttachmentOut | None:
    """The file's description and download address, under the name the caller may see."""
    if name is None:
        return None
    return AttachmentOut(name=name, type=submission.attachment_type,
                         size=submission.attachment_size,
                         url=f"/api/v1/submissions/{submission.id}/attachment")


def _submission_fields(submission, attachment_name: str | None) -> dict:
    """The fields of a submission for its author or the staff (``attachment_name`` as
    :func:`~app.peer_review.submitting.attachment_name_for` gives it)."""
    return {"id": submission.id, "assignment_id": submission.cohort_assignment_id,
            "version": submission.version, "late": submission.late,
            "submitted_at": submission.submitted_at, "updated_at": submission.updated_at,
            "feedback_by": submission.feedback_by, "body": submission.body,
            "body_html": submission.body_html,
            "attachment": _attachment_out(submission, attachment_name)}


def _review_out(ra: reviewing.ReviewAccess) -> ReviewOut:
    """A review for its reviewer or the staff, both sides presented for the caller."""
    review, submission, viewer = ra.review, ra.submission, ra.access.viewer
    blind = ra.access.assignment.double_blind
    names = results.names_of([review.reviewer_id, submission.author_id])
    author = results.present_side(submission.author_id, "A peer", viewer,
                                  names.get(submission.author_id, ""), double_blind=blind)
    reviewer = results.present_side(review.reviewer_id, f"Reviewer {review.number}", viewer,
                                     names.get(review.reviewer_id, ""), double_blind=blind,
                                     by_staff=review.by_staff)
    levels = {lv.id: lv.points for c in ra.rubric.criteria for lv in c.levels}
    return ReviewOut(
        id=review.id, assignment_id=review.cohort_assignment_id, number=review.number,
        status=review.status, is_open=ra.is_open,
        reviewer=PersonOut.model_validate(reviewer), by_staff=review.by_staff,
        allocated_at=review.allocated_at, expires_at=review.expires_at,
        saved_at=review.saved_at, submitted_at=review.submitted_at,
        work=WorkOut(
            submission_id=submission.id, author=PersonOut.model_validate(author),
            version=submission.version, reviewed_version=review.submission_version,
            body_html=submission.body_html,
            attachment=_attachment_out(
                submission, submitting.attachment_name_for(submission, ra.access))),
        rubric=rubric_out(ra.rubric),
        scores={s.criterion_id: levels.get(s.level_id) for s in review.scores},
        comments={s.criterion_id: s.comment for s in review.scores if s.comment},
        comment=review.comment, comment_html=review.comment_html,
        held=review.held_at is not None and review.released_at is None,
        hidden=review.hidden_at is not None, hidden_reason=review.hidden_reason)


def _overview_out(overview) -> AssignmentOverviewOut:
    """The caller's overview of an assignment."""
    access = overview.access
    assignment = access.assignment
    own = overview.submission
    average, ratings = overview.helpfulness
    return AssignmentOverviewOut(
        id=assignment.id, cohort_id=assignment.cohort_id, module_id=access.module.id,
        title=assignment.title, instructions_html=assignment.instructions_html,
        my_role=access.viewer.role,
        dates=DatesOut(opens=access.dates.opens, due=access.dates.due,
                       reviews_due=access.dates.reviews_due),
        settings=SettingsOut.model_validate(assignment),
        rubric=rubric_out(assignment.rubric), max_points=max_points(assignment.rubric),
        submission=(SubmissionOut(**_submission_fields(own, own.attachment_name))
                    if own is not None else None),
        can_submit=access.is_learner and (own is None or access.can_resubmit),
        is_late_now=access.is_late_now, reviews_done=overview.reviews_done,
        owed=overview.owed,
        my_reviews=[MyReviewOut(
            id=r.id, status=r.status, allocated_at=r.allocated_at, expires_at=r.expires_at,
            submitted_at=r.submitted_at,
            held=r.held_at is not None and r.released_at is None,
            hidden=r.hidden_at is not None, hidden_reason=r.hidden_reason)
            for r in overview.my_reviews],
        open_review_id=overview.active.id if overview.active is not None else None,
        anyone_waiting=overview.anyone_waiting, ask_for_one_more=overview.ask_for_one_more,
        helpfulness=HelpfulnessOut(average=average, ratings=ratings),
        results_open=overview.results_open, gate=overview.gate)


# --- reading the request -----------------------------------------------------------------------

_YES, _NO = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def _submission_input() -> tuple[str, submitting.Upload | None, bool]:
    """The text, the attachment (if any) and keep_attachment, from JSON or a form."""
    if request.mimetype != "multipart/form-data":
        if not request.is_json:
            raise BadRequest("Send JSON ({\"body\": …}), or multipart/form-data with the "
                             "fields body and attachment.", code="malformed_json")
        data = parse_json(SubmissionIn)
        return data.body, None, data.keep_attachment
    form = request.form
    keep = form.get("keep_attachment", "true").strip().lower()
    if keep not in _YES + _NO:
        raise Invalid(fields={"keep_attachment": "Send true or false."})
    file = request.files.get("attachment")
    upload = None
    if file is not None and file.filename:
        # One byte past the limit is enough for the check to say the file is too large.
        upload = submitting.Upload(file.filename, file.read(attachments.MAX_BYTES + 1))
    return form.get("body", ""), upload, keep in _YES


# --- endpoints ---------------------------------------------------------------------------------

@endpoint(bp, "/assignments/<int:assignment_id>", "GET", response=AssignmentOverviewOut,
          errors=(403, 404),
          summary="An assignment as I meet it: dates, rubric, my work, reviews done and "
                  "owed, and when I can read my results")
def get_assignment(user, assignment_id: int):
    """The caller's overview of a cohort assignment."""
    return _overview_out(get_overview(user, assignment_id, now=utcnow()))


@endpoint(bp, "/assignments/<int:assignment_id>/submissions", "POST",
          response=SubmissionOut, status=201, also=(200,), raw_body=SUBMISSION_BODY,
          errors=(403, 404, 409, 429), max_content_length=SUBMISSION_REQUEST_LIMIT,
          summary="Submit my work (201), or re-submit it until the due date (200): JSON, or "
                  "multipart/form-data with one attachment of up to 10 MB (learners)")
@limiter.shared_limit(posting_rate_limit, scope="posting", key_func=per_person)
def submit(user, assignment_id: int):
    """Submit or re-submit; late first submissions are accepted and marked late."""
    body, upload, keep = _submission_input()
    now = utcnow()
    submission = submitting.submit_work(user, assignment_id, body=body, upload=upload,
                                        keep_attachment=keep, now=now)
    # The author meets their own file under the name they gave it.
    fields = _submission_fields(submission, submission.attachment_name)
    return Status(SubmissionOut(**fields), 201 if submission.version == 1 else 200)


@endpoint(bp, "/assignments/<int:assignment_id>/reviews", "POST", body=ReviewRequestIn,
          response=ReviewOut, status=201, also=(200,), errors=(403, 404, 409),
          summary="Give me the next piece of work to review (201), or the one I am "
                  "reviewing (200); 409 with the reason when there is none (learners)")
def request_review(user, assignment_id: int, body: ReviewRequestIn):
    """Allocate the next submission on demand."""
    now = utcnow()
    review = reviewing.request_review(user, assignment_id, only_short=body.only_short, now=now)
    # A new allocation is stamped with this request's moment; an open one is older.
    created = review.allocated_at == now
    ra = reviewing.get_review_for(user, review.id, now=now)
    return Status(_review_out(ra), 201 if created else 200)


@endpoint(bp, "/reviews/<int:review_id>", "GET", response=ReviewOut, errors=(403, 404),
          summary="A review I was given (or, for staff, any of the cohort's): the work, "
                  "the rubric and the draft")
def get_review(user, review_id: int):
    """The review as its reviewer works with it."""
    return _review_out(reviewing.get_review_for(user, review_id, now=utcnow()))


_SENT = {
    "saved": "Your draft is saved.",
    "submitted": "Your review is submitted. Thank you: its author is told.",
    "held": ("Your review is submitted. Because it kept phrasings the kindness check "
             "pointed out, a facilitator reads it before its author does."),
}


@endpoint(bp, "/reviews/<int:review_id>", "PUT", body=ReviewSaveIn, response=ReviewSaveOut,
          errors=(403, 404, 409, 429),
          summary="Save my review as a draft or submit it; 409 kindness_check keeps the "
                  "draft and lists phrasings to reconsider")
@limiter.shared_limit(posting_rate_limit, scope="posting", key_func=per_person)
def save_review(user, review_id: int, body: ReviewSaveIn):
    """Save or submit the rubric form. The kindness check answers 409 after the draft is
    committed, so nothing typed is lost."""
    now = utcnow()
    outcome = reviewing.save_review(
        user, review_id, scores=body.scores, comments=body.comments, comment=body.comment,
        submit=body.submit, submit_anyway=body.submit_anyway, now=now)
    ra = reviewing.get_review_for(user, review_id, now=now)
    if outcome.status == "nudged":
        after = ("a facilitator reads it before its author does"
                 if ra.access.cohort.kindness_hold else "it goes to its author")
        raise Conflict(
            "Your draft is saved. Some phrasings may read as harsh to the author: see the "
            "suggestions, change what you like and submit again. To send it as it is, "
            f"submit again with submit_anyway: true ({after}).", code="kindness_check",
            details={"findings": [{"phrase": f.phrase, "suggestion": f.suggestion}
                                  for f in outcome.findings]})
    return ReviewSaveOut(status=outcome.status, message=_SENT[outcome.status],
                         review=_review_out(ra))


@endpoint(bp, "/reviews/<int:review_id>/rating", "POST", body=RatingIn, response=RatingOut,
          errors=(403, 404, 409),
          summary="Rate how helpful a review of my work was (1–5), and/or flag it as harmful "
                  "(its author)")
def rate_review(user, review_id: int, body: RatingIn):
    """Rate or flag a published review of the caller's work."""
    review = results.rate_review(user, review_id, helpfulness=body.helpfulness,
                                 comment=body.comment, flag_reason=body.flag_reason,
                                 now=utcnow())
    return RatingOut(review_id=review.id, helpfulness=review.helpfulness,
                     comment=review.helpfulness_comment, rated_at=review.rated_at,
                     flagged=review.flagged_at is not None, flag_reason=review.flag_reason)


@endpoint(bp, "/submissions/<int:submission_id>", "GET", response=SubmissionDetailOut,
          errors=(403, 404),
          summary="A piece of work with its reviews and median levels, reviewers presented "
                  "per policy (its author, staff)")
def get_submission(user, submission_id: int):
    """The work and, once the results gate opens, its reviews."""
    view = results.get_submission_view(user, submission_id, now=utcnow())
    return SubmissionDetailOut(
        **_submission_fields(view.submission, submitting.attachment_name_for(
            view.submission, view.access)),
        author=PersonOut.model_validate(view.author), versions=view.submission.version,
        results_open=view.results_open, gate=view.gate,
        reviews=[ReviewResultOut.model_validate(r) for r in view.reviews],
        medians=[MedianOut.model_validate(m) for m in view.medians],
        rubric=rubric_out(view.rubric))


@endpoint(bp, "/submissions/<int:submission_id>/attachment", "GET",
          content_type=DOWNLOAD_TYPES, errors=(403, 404),
          summary="Download a submission's attachment (its author, staff, and reviewers it "
                  "was given to; a neutral file name for reviewers under double-blind)")
def download_attachment(user, submission_id: int):
    """The file as a download: never shown inline, never sniffed, never cached."""
    path, name, media_type = submitting.get_attachment_for(user, submission_id, now=utcnow())
    response = send_file(path, mimetype=media_type, conditional=False, etag=False,
                         max_age=0)
    response.headers["Content-Disposition"] = attachments.content_disposition(name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
