"""Learners' work and their peers' reviews of it: submissions with their earlier versions,
reviews allocated on demand, and a review's level and comment per rubric criterion."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model, utcnow
from app.sanitize import keep_rendered

#: A review's life: allocated to a reviewer (``active``), then ``submitted``, or
#: ``expired`` when left unfinished past its expiry (its submission returns to the pool).
REVIEW_STATUSES = ("active", "submitted", "expired")


class AttachmentColumns:
    """An optional uploaded file (app.peer_review.attachments stores it under ``key``)."""

    #: The stored file's random name; None without an attachment.
    attachment_key: Mapped[str | None] = mapped_column(String(32))
    #: The uploader's file name, cleaned (shown and offered when downloading).
    attachment_name: Mapped[str | None] = mapped_column(String(200))
    #: The type found in the file's content: pdf, png, jpg, docx, pptx or txt.
    attachment_type: Mapped[str | None] = mapped_column(String(8))
    attachment_size: Mapped[int | None]


class Submission(AttachmentColumns, Model):
    """A learner's work for one cohort assignment: one row per learner, re-submitted in
    place until the due date (each earlier text is kept as a SubmissionVersion)."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("cohort_assignment_id", "author_id"),
        CheckConstraint("completed_reviews >= 0 AND active_reviews >= 0", name="counts"),
        # The allocation order (app.peer_review.allocation.ORDER_BY), served by an index:
        # the next submission to review is the first eligible row of this index.
        Index("ix_submissions_allocation", "cohort_assignment_id", "review_load", "late",
              "submitted_at", "id"),
        Index("ix_submissions_author_id", "author_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_assignment_id: Mapped[int] = mapped_column(
        ForeignKey("cohort_assignments.id", ondelete="CASCADE"))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"),
                                           index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    #: ``body`` cleaned into HTML when it is written (app.sanitize).
    body_html: Mapped[str] = mapped_column(Text, default="")
    #: Bumped by every re-submission.
    version: Mapped[int] = mapped_column(default=1)
    #: First submitted: allocation serves the oldest first.
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The latest version's time.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: First submitted after the due date.
    late: Mapped[bool] = mapped_column(default=False)
    #: The promise: by this instant it has its reviews, or the facilitators are told.
    feedback_by: Mapped[datetime]
    completed_reviews: Mapped[int] = mapped_column(default=0)
    #: Allocations not yet submitted, expired ones included until they are marked expired.
    active_reviews: Mapped[int] = mapped_column(default=0)
    #: completed_reviews + active_reviews, kept in one column for the allocation index.
    review_load: Mapped[int] = mapped_column(default=0)
    #: When it reached its feedback-by date short of reviews and the staff were told.
    escalated_at: Mapped[datetime | None]

    reviews: Mapped[list["Review"]] = relationship(
        back_populates="submission", order_by="Review.number")


class SubmissionVersion(AttachmentColumns, Model):
    """An earlier version of a re-submitted piece of work (its author and staff read them)."""

    __tablename__ = "submission_versions"
    __table_args__ = (UniqueConstraint("submission_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"))
    version: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    #: When this version was submitted.
    written_at: Mapped[datetime]


class Review(Model):
    """One reviewer's review of one submission, from allocation to submission.

    A reviewer never gets the same submission twice (the unique key), expired allocations
    included. ``number`` is the "Reviewer N" an author sees under double-blind.
    """

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("submission_id", "reviewer_id"),
        UniqueConstraint("submission_id", "number"),
        CheckConstraint("status IN ('active', 'submitted', 'expired')", name="status"),
        CheckConstraint("helpfulness IS NULL OR helpfulness BETWEEN 1 AND 5",
                        name="helpfulness"),
        Index("ix_reviews_expiry", "cohort_assignment_id", "status", "expires_at"),
        Index("ix_reviews_reviewer", "reviewer_id", "cohort_assignment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_assignment_id: Mapped[int] = mapped_column(
        ForeignKey("cohort_assignments.id", ondelete="CASCADE"))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: Reviewer 1, 2, … of this submission, in order of allocation.
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="active")
    #: Written by a facilitator or the program's owner ("review it myself").
    by_staff: Mapped[bool] = mapped_column(default=False)
    #: Given although the submission already had its target (counting active reviews).
    beyond_target: Mapped[bool] = mapped_column(default=False)
    #: Which version of the submission the reviewer was given.
    submission_version: Mapped[int] = mapped_column(default=1)
    allocated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Unfinished by then, it expires and its submission returns to the pool.
    expires_at: Mapped[datetime]
    saved_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    #: The overall comment, Markdown as written.
    comment: Mapped[str] = mapped_column(Text, default="")
    comment_html: Mapped[str] = mapped_column(Text, default="")
    #: Submitted unchanged after the kindness nudge: waits for a facilitator (the phrasings
    #: that were found are kept for them).
    held_at: Mapped[datetime | None]
    held_phrases: Mapped[str] = mapped_column(String(500), default="")
    released_at: Mapped[datetime | None]
    #: Hidden by a facilitator, with a reason the reviewer sees.
    hidden_at: Mapped[datetime | None]
    hidden_reason: Mapped[str] = mapped_column(String(500), default="")
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                ondelete="SET NULL"))
    #: The author's rating of this review (1–5) and what they said.
    helpfulness: Mapped[int | None]
    helpfulness_comment: Mapped[str] = mapped_column(String(2000), default="")
    rated_at: Mapped[datetime | None]
    #: Flagged as harmful by its author: hidden from them until a facilitator decides.
    flagged_at: Mapped[datetime | None]
    flag_reason: Mapped[str] = mapped_column(String(500), default="")

    submission: Mapped[Submission] = relationship(back_populates="reviews")
    scores: Mapped[list["ReviewScore"]] = relationship(
        cascade="all, delete-orphan", back_populates="review")

    @property
    def is_published(self) -> bool:
        """Submitted and visible to its author: not held, hidden or flagged."""
        return (self.status == "submitted" and self.hidden_at is None
                and self.flagged_at is None
                and (self.held_at is None or self.released_at is not None))


class ReviewScore(Model):
    """A review's level and comment for one criterion of the rubric."""

    __tablename__ = "review_scores"
    __table_args__ = (UniqueConstraint("review_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(
        ForeignKey("rubric_criteria.id", ondelete="CASCADE"))
    #: The chosen level; None while a draft leaves it open.
    level_id: Mapped[int | None] = mapped_column(
        ForeignKey("rubric_levels.id", ondelete="CASCADE"))
    comment: Mapped[str] = mapped_column(Text, default="")
    comment_html: Mapped[str] = mapped_column(Text, default="")

    review: Mapped[Review] = relationship(back_populates="scores")


keep_rendered(Submission.body, Submission.body_html)
keep_rendered(SubmissionVersion.body, SubmissionVersion.body_html, copied=True)
keep_rendered(Review.comment, Review.comment_html)
keep_rendered(ReviewScore.comment, ReviewScore.comment_html)
