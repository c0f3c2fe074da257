"""Submitting practice work: Markdown text and at most one checked attachment, re-submitted
until the due date (earlier versions kept), late work accepted and marked late, each with
its feedback-by promise.

The attachment is checked by :mod:`app.peer_review.attachments` before anything is written
and stored under a random name outside ``static/``; it is served only through
:func:`get_attachment_for`, to those who may see the work.
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app import audit
from app.accounts.models import User
from app.db import get_session, transaction
from app.errors import Conflict, Invalid, NotFound
from app.peer_review import attachments, live
from app.peer_review.access import AssignmentAccess, feedback_by, get_assignment_for
from app.peer_review.attachments import CheckedFile
from app.peer_review.work_models import Review, Submission, SubmissionVersion

#: Longest submission text, in characters of Markdown.
MAX_SUBMISSION = 50_000


@dataclass(frozen=True)
class Upload:
    """An attachment as an entrypoint received it: the sender's file name and its bytes."""

    filename: str
    data: bytes


def upload_folder() -> Path:
    """Where attachments are stored (``UPLOAD_FOLDER``)."""
    return Path(current_app.config["UPLOAD_FOLDER"])


def _clean_body(body: str | None, has_attachment: bool) -> str:
    """The submission's Markdown, or Invalid saying what to do."""
    body = (body or "").replace("\x00", "").strip()
    if not body and not has_attachment:
        message = "Write your work here, or attach a file with a line about it."
        raise Invalid(message, fields={"body": message})
    if len(body) > MAX_SUBMISSION:
        message = (f"Keep the text under {MAX_SUBMISSION:,} characters (this has "
                   f"{len(body):,}); attach a file for longer work.")
        raise Invalid(message, fields={"body": message})
    return body


def submit_work(user: User, assignment_id: int, *, body: str | None,
                upload: Upload | None = None, keep_attachment: bool = True,
                now: datetime) -> Submission:
    """Submit or re-submit the learner's work; return their submission.

    A re-submission replaces the text (and the attachment when a new one is given, or
    removes it when ``keep_attachment`` is false) and keeps the earlier version. Work is
    re-submitted until the due date; after it, work already in stands (409), and a first
    submission is accepted as late with a feedback-by date of its own.
    """
    checked: CheckedFile | None = None
    if upload is not None:
        checked = attachments.check_upload(upload.filename, upload.data)
    stored: list[str] = []
    try:
        return _submit(user, assignment_id, body, upload, checked, keep_attachment, now, stored)
    except BaseException:
        # A file stored for work that was then not saved is removed again.
        for name in stored:
            attachments.path_for(upload_folder(), name).unlink(missing_ok=True)
        raise


def _submit(user, assignment_id, body, upload, checked, keep_attachment, now, stored
            ) -> Submission:
    """``submit_work`` once the attachment (if any) has been checked."""
    with transaction() as session:
        access = get_assignment_for(user, assignment_id, now=now, for_update=True)
        access.require_learner("submit work")
        previous = access.submission
        if previous is not None and not access.can_resubmit:
            raise Conflict("The due date has passed, so the work you submitted stands. "
                           "Your reviewers are reading it.", code="submissions_closed")
        keeps_file = previous is not None and keep_attachment and previous.attachment_key
        text = _clean_body(body, checked is not None or bool(keeps_file))
        submission = (_first(access, text, now) if previous is None
                      else _again(access, previous, text, keep_attachment, now))
        if checked is not None:
            stored.append(attachments.store(checked, upload.data, upload_folder()))
            submission.attachment_key = stored[-1]
            submission.attachment_name = checked.display_name
            submission.attachment_type = checked.kind
            submission.attachment_size = checked.size
        session.flush()
        audit.record(session, user.id, "submission.submitted", cohort_id=access.cohort.id,
                     target_type="submission", target_id=submission.id,
                     version=submission.version, late=submission.late)
        live.review_status_changed(access.assignment.id)
    return submission


def _first(access: AssignmentAccess, text: str, now: datetime) -> Submission:
    """A learner's first submission: on time or late, with its feedback-by date."""
    late = access.is_late_now
    submission = Submission(
        cohort_assignment_id=access.assignment.id, cohort_id=access.cohort.id,
        author_id=access.viewer.user.id, body=text, version=1, submitted_at=now,
        updated_at=now, late=late, completed_reviews=0, active_reviews=0, review_load=0,
        feedback_by=feedback_by(access.dates, now, review_days=access.assignment.review_days,
                                zone=access.cohort.timezone, late=late))
    get_session().add(submission)
    return submission


def _again(access: AssignmentAccess, submission: Submission, text: str,
           keep_attachment: bool, now: datetime) -> Submission:
    """A re-submission: the current version is kept as an earlier one, then replaced."""
    session = get_session()
    session.add(SubmissionVersion(
        submission_id=submission.id, version=submission.version, body=submission.body,
        body_html=submission.body_html, written_at=submission.updated_at,
        attachment_key=submission.attachment_key, attachment_name=submission.attachment_name,
        attachment_type=submission.attachment_type,
        attachment_size=submission.attachment_size))
    submission.body = text
    submission.version += 1
    submission.updated_at = now
    if not keep_attachment:
        submission.attachment_key = submission.attachment_name = None
        submission.attachment_type = submission.attachment_size = None
    return submission


def list_versions(user: User, submission_id: int, *, now: datetime) -> list[SubmissionVersion]:
    """Earlier versions of a submission, newest first, for its author and the staff."""
    submission, _ = get_submission_for(user, submission_id, now=now)
    return list(get_session().scalars(
        select(SubmissionVersion).where(SubmissionVersion.submission_id == submission.id)
        .order_by(SubmissionVersion.version.desc())))


def get_submission_for(user: User, submission_id: int, *, now: datetime
                       ) -> tuple[Submission, AssignmentAccess]:
    """A submission for its author or the cohort's staff; NotFound for anyone else (a
    reviewer reads the work through their review)."""
    session = get_session()
    assignment_id = session.scalar(select(Submission.cohort_assignment_id)
                                   .where(Submission.id == submission_id))
    if assignment_id is None:
        raise NotFound()
    access = get_assignment_for(user, assignment_id, now=now)
    submission = session.get(Submission, submission_id)
    if submission.author_id != user.id and not access.viewer.is_staff:
        raise NotFound()
    return submission, access


def get_attachment_for(user: User, submission_id: int, *, now: datetime
                       ) -> tuple[Path, str, str]:
    """The stored file of a submission, its display name and media type, for its author,
    the staff, and reviewers it was allocated to (expired allocations included: they read
    it already). Everyone else gets NotFound, as for a submission without a file. The name
    is :func:`attachment_name_for` the user."""
    session = get_session()
    submission = session.get(Submission, submission_id)
    if submission is None or submission.attachment_key is None:
        raise NotFound()
    access = get_assignment_for(user, submission.cohort_assignment_id, now=now)
    allowed = (submission.author_id == user.id or access.viewer.is_staff
               or session.scalar(select(Review.id).where(
                   Review.submission_id == submission.id, Review.reviewer_id == user.id)))
    if not allowed:
        raise NotFound()
    path = attachments.path_for(upload_folder(), submission.attachment_key)
    media_type = attachments.KINDS[submission.attachment_type][1]
    return path, attachment_name_for(submission, access), media_type


def attachment_name_for(submission: Submission, access: AssignmentAccess) -> str:
    """The attachment's file name as this viewer is shown it (on pages and when it is
    downloaded): its own for the author and the staff, and for reviewers when names are
    shown anyway; under double-blind a reviewer gets ``submission-<id>.<ext>``, since
    people name files after themselves ("cv-maria-lopez.pdf")."""
    viewer = access.viewer
    if (submission.author_id == viewer.user.id or viewer.is_staff
            or not access.assignment.double_blind):
        return submission.attachment_name or ""
    return f"submission-{submission.id}.{attachments.KINDS[submission.attachment_type][0]}"
