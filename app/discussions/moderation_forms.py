"""Moderation forms (Flask-WTF: CSRF token on every one).

The forms only read the input; the rules (reasons, actions, how long a mute lasts) live
in the services, whose errors the views show next to the matching inputs.
"""

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField, StringField, SubmitField, TextAreaField

from app.discussions.moderation import MAX_REASON
from app.discussions.reveals import MAX_REASON as MAX_REVEAL_REASON
from app.discussions.reveals import MIN_REASON as MIN_REVEAL_REASON


class FlagForm(FlaskForm):
    """A member's report of a post."""

    reason = TextAreaField(
        "What is wrong with this post?",
        description="A facilitator reads this; the post's author does not see who reported "
                    "it.",
        render_kw={"rows": 4, "maxlength": MAX_REASON, "required": True})
    submit = SubmitField("Report the post")


class ModerationForm(FlaskForm):
    """A facilitator's action on a post or a thread (the thread page's and the flag queue's
    buttons post it); ``next`` is where to return."""

    action = HiddenField()
    reason = StringField("Reason", render_kw={"maxlength": MAX_REASON})
    next = HiddenField()


#: How long a mute lasts, as the form offers it: days -> label.
MUTE_DAYS = {"1": "1 day", "3": "3 days", "7": "1 week", "14": "2 weeks", "30": "30 days",
             "90": "90 days"}


class MuteForm(FlaskForm):
    """Mute a learner for a while, with a reason."""

    days = SelectField("Mute for", default="3",
                       choices=[SelectChoice(days, label) for days, label in MUTE_DAYS.items()])
    reason = TextAreaField("Reason", description="Kept in the audit log with your name.",
                           render_kw={"rows": 3, "maxlength": MAX_REASON, "required": True})
    submit = SubmitField("Mute")


class RevealRequestForm(FlaskForm):
    """Why the author of an anonymous post must be known."""

    reason = TextAreaField(
        "Why must the author be known?",
        description=(f"{MIN_REVEAL_REASON} to {MAX_REVEAL_REASON} characters. A second owner "
                     "or admin decides on it, and the author will read it with your name."),
        render_kw={"rows": 5, "minlength": MIN_REVEAL_REASON, "maxlength": MAX_REVEAL_REASON,
                   "required": True})
    submit = SubmitField("Ask for the reveal")


class ConfirmForm(FlaskForm):
    """A button whose CSRF token is the point (approve, decline, unmute)."""
