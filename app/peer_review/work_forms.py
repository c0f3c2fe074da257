"""Forms of peer review work: submitting, asking for a peer's work, the rubric review,
rating a review, and the board's actions (Flask-WTF: CSRF token on every one).

The forms only read the input; the rules (lengths, levels, who may do what) live in the
services, whose field errors the views put next to the matching inputs. The review form's
rubric has one radio group and one comment per criterion, so its fields are named by
criterion id (``score-<id>``, ``comment-<id>``) and read by :meth:`ReviewForm.rubric_values`.
"""

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Optional

from app.db import parse_id
from app.peer_review.board import MAX_REASON
from app.peer_review.results import MAX_FLAG_REASON, MAX_RATING_COMMENT
from app.peer_review.reviewing import MAX_COMMENT
from app.peer_review.submitting import MAX_SUBMISSION


class SubmitWorkForm(FlaskForm):
    """A learner's work: Markdown text and one optional file."""

    body = TextAreaField(
        "Your work", description="Markdown works: *italics*, **bold**, lists and links.",
        render_kw={"rows": 12, "maxlength": MAX_SUBMISSION})
    attachment = FileField(
        "Attach a file (optional)",
        description="One PDF, PNG, JPG, DOCX, PPTX or plain-text file of at most 10 MB.",
        render_kw={"accept": ".pdf,.png,.jpg,.jpeg,.docx,.pptx,.txt"})
    remove_attachment = BooleanField("Remove the file attached now")
    submit = SubmitField("Submit your work")

    def upload(self):
        """The file sent as ``(filename, bytes)``, or None when none was chosen."""
        file = self.attachment.data
        if file is None or not getattr(file, "filename", ""):
            return None
        return file.filename, file.read()


class RequestReviewForm(FlaskForm):
    """Ask for a peer's work to review (``only_short``: "review one more" for a peer still
    waiting)."""

    only_short = HiddenField()


class ReviewForm(FlaskForm):
    """The reviewer's overall comment and buttons; the rubric's fields are read by
    :meth:`rubric_values`."""

    comment = TextAreaField(
        "Overall comment",
        description="What works, and what one change would help most. Markdown works.",
        render_kw={"rows": 6, "maxlength": MAX_COMMENT})
    save = SubmitField("Save draft")
    submit = SubmitField("Submit review")
    submit_anyway = SubmitField("Submit as it is")

    @staticmethod
    def rubric_values(criterion_ids) -> tuple[dict[int, int | None], dict[int, str]]:
        """The points chosen and the comment written per criterion, as the service takes
        them. A level that is not a whole number is passed on as -1, which no level has,
        so the service says which levels there are."""
        scores: dict[int, int | None] = {}
        comments: dict[int, str] = {}
        for criterion_id in criterion_ids:
            chosen = request.form.get(f"score-{criterion_id}", "").strip()
            if chosen:
                scores[criterion_id] = int(chosen) if chosen.isdigit() and len(chosen) < 7 \
                    else -1
            comments[criterion_id] = request.form.get(f"comment-{criterion_id}", "")
        return scores, comments


#: Helpfulness as the rating form offers it.
HELPFULNESS = [SelectChoice("5", "5 — very helpful"), SelectChoice("4", "4"),
               SelectChoice("3", "3"), SelectChoice("2", "2"),
               SelectChoice("1", "1 — not helpful")]


class RatingForm(FlaskForm):
    """The author's rating of one review's helpfulness."""

    helpfulness = RadioField("How helpful was this review?", choices=HELPFULNESS,
                             validate_choice=False)
    comment = TextAreaField("A word for the reviewer (optional)",
                            render_kw={"rows": 2, "maxlength": MAX_RATING_COMMENT})
    submit = SubmitField("Rate this review")

    def rating(self) -> int | None:
        """The rating as a number (0 for an answer that is not one of the choices, so
        the service refuses it), or None when none was chosen."""
        value = (self.helpfulness.data or "").strip()
        if not value:
            return None
        return int(value) if value.isdigit() and len(value) < 3 else 0


class FlagReviewForm(FlaskForm):
    """The author flags a review as harmful."""

    flag_reason = TextAreaField(
        "What makes this review harmful?",
        description="A facilitator reads this and decides; the review is hidden from you "
                    "until then.",
        render_kw={"rows": 3, "maxlength": MAX_FLAG_REASON})
    submit = SubmitField("Flag as harmful")


class HideReviewForm(FlaskForm):
    """A facilitator hides a review, with a reason its reviewer reads."""

    reason = TextAreaField("Why hide it (the reviewer reads this)",
                           render_kw={"rows": 2, "maxlength": MAX_REASON})
    submit = SubmitField("Hide with this reason")


class AssignForm(FlaskForm):
    """A facilitator gives a short submission to a reviewer: themselves ("") or a learner."""

    submission_id = HiddenField()
    reviewer_id = SelectField("Assign to", choices=[], validate_choice=False,
                              validators=[Optional()])

    def ids(self) -> tuple[int | None, int | None]:
        """The submission and the learner chosen (None: the facilitator themselves);
        an unreadable id is 0, which no row has."""
        chosen = (self.reviewer_id.data or "").strip()
        return _id(self.submission_id.data), (_id(chosen) if chosen else None)


def _id(text: str | None) -> int:
    """An id from a form field, 0 when it is not one."""
    try:
        return parse_id((text or "").strip())
    except ValueError:
        return 0


class ConfirmForm(FlaskForm):
    """A button whose CSRF token is the point (release, reassign)."""
