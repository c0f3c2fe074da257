"""Practice assignments with their rubrics, and the copy each cohort runs."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model, columns_of, utcnow
from app.sanitize import keep_rendered

#: A new assignment's review load and windows when its author leaves them out (forms, API
#: and services read these).
ASSIGNMENT_DEFAULTS = {"reviews_required": 3, "submit_days": 7, "review_days": 4,
                       "review_expiry_hours": 48, "submit_first": True,
                       "results_after": "reviews_done", "double_blind": True}

#: When an author sees the reviews of their work: as soon as they have done their own
#: required reviews (and in any case once the review window has closed), or only once the
#: review window has closed, for everyone at once.
RESULTS_AFTER = ("reviews_done", "window_closed")

_WINDOWS = (
    "reviews_required BETWEEN 1 AND 10 AND submit_days >= 0 AND review_days >= 0"
    " AND review_expiry_hours BETWEEN 1 AND 720"
)
_RESULTS_AFTER = "results_after IN ('reviews_done', 'window_closed')"


class Rubric(Model):
    """Criteria × levels with points. Each rubric belongs to exactly one assignment or one
    cohort assignment: launching a cohort copies the rubric, so editing the program's
    rubric never changes how a running cohort is reviewed."""

    __tablename__ = "rubrics"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    criteria: Mapped[list["RubricCriterion"]] = relationship(
        order_by="RubricCriterion.position", cascade="all, delete-orphan",
        back_populates="rubric")


class RubricCriterion(Model):
    """One row of a rubric: what is judged."""

    __tablename__ = "rubric_criteria"
    __table_args__ = (UniqueConstraint("rubric_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rubric_id: Mapped[int] = mapped_column(ForeignKey("rubrics.id", ondelete="CASCADE"))
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")

    rubric: Mapped[Rubric] = relationship(back_populates="criteria")
    levels: Mapped[list["RubricLevel"]] = relationship(
        order_by="RubricLevel.position", cascade="all, delete-orphan",
        back_populates="criterion")


class RubricLevel(Model):
    """One column of a criterion: a described level worth some points."""

    __tablename__ = "rubric_levels"
    __table_args__ = (
        UniqueConstraint("criterion_id", "position"),
        CheckConstraint("points >= 0", name="points_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    criterion_id: Mapped[int] = mapped_column(
        ForeignKey("rubric_criteria.id", ondelete="CASCADE"))
    position: Mapped[int]
    label: Mapped[str] = mapped_column(String(200))
    points: Mapped[int]

    criterion: Mapped[RubricCriterion] = relationship(back_populates="levels")


class AssignmentSettings:
    """What an assignment asks and how its reviews run: the columns a cohort's copy takes at
    launch (its rubric is copied beside it, as rows of its own).

    Assignment and CohortAssignment both declare them through this mixin, and the copy takes
    every column listed here, so a new setting is added in this one place.
    """

    title: Mapped[str] = mapped_column(String(200))
    #: Markdown as written by the owner.
    instructions: Mapped[str] = mapped_column(Text, default="")
    #: ``instructions`` cleaned into HTML when written (app.sanitize); pages show this.
    instructions_html: Mapped[str] = mapped_column(Text, default="")
    reviews_required: Mapped[int] = mapped_column(
        default=ASSIGNMENT_DEFAULTS["reviews_required"])
    #: Submissions are due this many days after the module's release.
    submit_days: Mapped[int] = mapped_column(default=ASSIGNMENT_DEFAULTS["submit_days"])
    #: Reviews are due this many days after submissions are due.
    review_days: Mapped[int] = mapped_column(default=ASSIGNMENT_DEFAULTS["review_days"])
    #: An unfinished review goes back to the pool after this many hours.
    review_expiry_hours: Mapped[int] = mapped_column(
        default=ASSIGNMENT_DEFAULTS["review_expiry_hours"])
    #: A learner must submit their own work before they may review a peer's.
    submit_first: Mapped[bool] = mapped_column(default=ASSIGNMENT_DEFAULTS["submit_first"],
                                               server_default=true())
    #: When authors see their reviews (one of ``RESULTS_AFTER``).
    results_after: Mapped[str] = mapped_column(
        String(16), default=ASSIGNMENT_DEFAULTS["results_after"], server_default="reviews_done")
    #: Reviewers and authors do not see each other's names (facilitators see both).
    double_blind: Mapped[bool] = mapped_column(default=ASSIGNMENT_DEFAULTS["double_blind"],
                                               server_default=true())


#: The settings a cohort's assignment copies from the program's.
ASSIGNMENT_SETTINGS = columns_of(AssignmentSettings)


class Assignment(AssignmentSettings, Model):
    """A practice assignment of a program module (the template)."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("module_id", "position"),
        CheckConstraint(_WINDOWS, name="windows"),
        CheckConstraint(_RESULTS_AFTER, name="results_after"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"))
    position: Mapped[int]
    rubric_id: Mapped[int] = mapped_column(ForeignKey("rubrics.id", ondelete="RESTRICT"),
                                           unique=True)

    rubric: Mapped[Rubric] = relationship()


class CohortAssignment(AssignmentSettings, Model):
    """An assignment as one cohort runs it: copied at launch with its own rubric copy."""

    __tablename__ = "cohort_assignments"
    __table_args__ = (
        UniqueConstraint("cohort_module_id", "position"),
        CheckConstraint(_WINDOWS, name="windows"),
        CheckConstraint(_RESULTS_AFTER, name="results_after"),
        Index("ix_cohort_assignments_cohort_id", "cohort_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    cohort_module_id: Mapped[int] = mapped_column(
        ForeignKey("cohort_modules.id", ondelete="CASCADE"))
    #: The program assignment it was copied from (may be deleted later).
    assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assignments.id", ondelete="SET NULL"))
    position: Mapped[int]
    #: The cohort's own copy of the rubric (copied with the assignment at launch).
    rubric_id: Mapped[int] = mapped_column(ForeignKey("rubrics.id", ondelete="RESTRICT"),
                                           unique=True)
    #: When learners who still owed reviews were reminded before the window closed.
    reminded_at: Mapped[datetime | None]

    rubric: Mapped[Rubric] = relationship()


keep_rendered(Assignment.instructions, Assignment.instructions_html)
# A cohort's copy of the instructions' HTML is taken at launch with the other settings.
keep_rendered(CohortAssignment.instructions, CohortAssignment.instructions_html, copied=True)
