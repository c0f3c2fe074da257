"""Discussion forms: prompts, and posts in threads (Flask-WTF: CSRF token on every one).

The forms only read the input; the rules (lengths, ranges, stage order) live in the
services, whose field errors the views put next to the matching inputs.
"""

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField, SubmitField, TextAreaField
from wtforms.validators import Optional
from wtforms.widgets import HiddenInput

from app.db import parse_id
from app.discussions.models import PROMPT_DEFAULTS

WHOLE_DAYS = "Enter a whole number of days, like 3."


class PromptForm(FlaskForm):
    """A discussion prompt: its text, anonymity, stage offsets and reply requirement."""

    title = StringField("Title", render_kw={"required": True, "maxlength": 200})
    body = TextAreaField("Prompt", description="What learners reflect on. Markdown works.",
                         render_kw={"rows": 8})
    anonymity_allowed = BooleanField(
        "Learners may post anonymously (where the cohort's anonymity policy allows it)",
        default=PROMPT_DEFAULTS["anonymity_allowed"])
    respond_after_days = IntegerField(
        "Replies open after (days)", default=PROMPT_DEFAULTS["respond_after_days"],
        invalid_value_message=WHOLE_DAYS,
        description="Days after the module opens. Reflections open when it opens.",
        render_kw={"min": 0, "max": 365})
    synthesize_after_days = IntegerField(
        "Synthesis opens after (days)", default=PROMPT_DEFAULTS["synthesize_after_days"],
        invalid_value_message=WHOLE_DAYS,
        description="Not before replies open.", render_kw={"min": 0, "max": 365})
    close_after_days = IntegerField(
        "Discussion closes after (days)", default=PROMPT_DEFAULTS["close_after_days"],
        invalid_value_message=WHOLE_DAYS,
        description="Not before synthesis opens.", render_kw={"min": 0, "max": 365})
    min_replies = IntegerField(
        "Replies each learner gives before their synthesis",
        default=PROMPT_DEFAULTS["min_replies"],
        invalid_value_message="Enter a whole number of replies, like 2.",
        render_kw={"min": 0, "max": 20})
    submit = SubmitField("Save prompt")

    def values(self) -> dict:
        """The fields as the services take them."""
        return {"title": self.title.data or "", "body": self.body.data or "",
                "anonymity_allowed": self.anonymity_allowed.data,
                "respond_after_days": self.respond_after_days.data,
                "synthesize_after_days": self.synthesize_after_days.data,
                "close_after_days": self.close_after_days.data,
                "min_replies": self.min_replies.data}


class DeleteForm(FlaskForm):
    """Confirms a deletion (the CSRF token is the point)."""

    submit = SubmitField("Delete prompt")


class PostForm(FlaskForm):
    """A new post or reply, as the thread page's composers send it (they are written by
    hand in the template: one page has many of them)."""

    body = TextAreaField("Your post")
    anonymous = BooleanField("Post anonymously")
    #: The post a reply answers; empty for a new top-level post.
    parent_id = IntegerField("Reply to", validators=[Optional()], widget=HiddenInput())


class EditPostForm(FlaskForm):
    """A change to one's own post, from the version it started from."""

    body = TextAreaField("Your post", render_kw={"rows": 10})
    #: The version the edit started from; a newer one saved meanwhile is a conflict.
    version = IntegerField(validators=[Optional()], widget=HiddenInput())
    submit = SubmitField("Save changes")


class DeletePostForm(FlaskForm):
    """Confirms the deletion of a post (the CSRF token is the point)."""

    submit = SubmitField("Delete post")


class ReactionForm(FlaskForm):
    """A reaction button of the thread page: the page has one form, and each button sends
    ``reaction`` as "POST_ID:KIND:ON" (``ON`` is "1" to add the reaction, "0" to take it
    back)."""

    reaction = StringField()

    def parsed(self) -> tuple[int, str, bool] | None:
        """The post, the kind and whether it is turned on; None when it is not of that
        shape."""
        post_id, _, rest = (self.reaction.data or "").partition(":")
        kind, _, on = rest.partition(":")
        try:
            post_id = parse_id(post_id)
        except ValueError:
            return None
        return post_id, kind, on == "1"
