"""Cohort forms (Flask-WTF: CSRF token on every one)."""

from datetime import time

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from app.accounts.forms import timezone_choices

ROLE_CHOICES = [SelectChoice("learner", "Learner"), SelectChoice("facilitator", "Facilitator")]


class AddMemberForm(FlaskForm):
    """One person by e-mail, with a role; people without an account are invited."""

    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "off"})
    name = StringField("Name (optional)", validators=[Length(max=120)],
                       description="Used in the invitation of someone new; people who already "
                                   "have an account keep their own name.",
                       render_kw={"autocomplete": "off"})
    role = SelectField("Role", choices=ROLE_CHOICES, default="learner")
    submit = SubmitField("Add to the cohort")


class ImportMembersForm(FlaskForm):
    """A CSV file of people to enrol."""

    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file to upload.")],
                     render_kw={"accept": ".csv,text/csv"})
    only_valid = BooleanField("Import the valid rows and skip the others")
    submit = SubmitField("Import")


class RemoveMemberForm(FlaskForm):
    """Confirms a removal (the CSRF token is the point)."""

    submit = SubmitField("Remove from the cohort")


# --- program authoring and launch -------------------------------------------------------------

#: The anonymity policies, as a launch form offers them.
ANONYMITY_CHOICES = [
    SelectChoice("off", "Off"),
    SelectChoice("peers", "Anonymous to peers"),
    SelectChoice("everyone", "Anonymous to everyone"),
]
#: What each policy means for the people in the cohort, in plain words.
ANONYMITY_EXPLANATIONS = {
    "off": "Names are always shown. Nobody can post anonymously.",
    "peers": "Learners may post anonymously: other learners see a pseudonym, while "
             "facilitators can still see who wrote it, so they can look after people.",
    "everyone": "Learners may post anonymously and nobody sees the author in the app — not "
                "facilitators, not you. Only a written reveal request that a second owner or "
                "admin approves can show it, and the author is told.",
}


def goals_from_text(text: str | None) -> list[str]:
    """Goals typed one per line."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ProgramForm(FlaskForm):
    """A program's title, summary and goals."""

    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    summary = TextAreaField("Summary", validators=[Length(max=5000)],
                            description="A few sentences on who it is for and what it covers.",
                            render_kw={"rows": 3})
    goals = TextAreaField("Goals", validators=[Length(max=10000)],
                          description="The skills or values the program aims to change, one "
                                      "per line.",
                          render_kw={"rows": 5})
    submit = SubmitField("Save program")


class ModuleForm(FlaskForm):
    """A module's title, content and release offset."""

    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    body = TextAreaField("Content", validators=[Length(max=100_000)],
                         description="Markdown: **bold**, _italic_, lists, links, headings.",
                         render_kw={"rows": 10})
    release_offset_days = IntegerField(
        "Opens after (days from the cohort's start)", default=0,
        validators=[InputRequired("Enter a number of days."), NumberRange(0, 3650)],
        description="0 opens it on the cohort's first day; 7 a week later.",
        render_kw={"min": 0, "max": 3650})
    release_time = TimeField("Opening time (cohort time)", default=time(9, 0),
                             validators=[InputRequired("Enter a time such as 09:00.")],
                             description="Each cohort opens it at this time in its own time "
                                         "zone.")
    submit = SubmitField("Save module")
    #: Shows the content as learners will see it; nothing is saved.
    preview = SubmitField("Preview")


class MoveModuleForm(FlaskForm):
    """Move a module one place up or down."""

    direction = HiddenField(validators=[AnyOf(["up", "down"])])


class SortModulesForm(FlaskForm):
    """Put the modules in release order (the CSRF token is the point)."""

    submit = SubmitField("Fix the order")


class DeleteModuleForm(FlaskForm):
    """Confirm deleting a module."""

    submit = SubmitField("Delete module")


class MoveReleaseForm(FlaskForm):
    """A new local date and time for a module's release, in the cohort's time zone."""

    on = DateField("New opening date", validators=[InputRequired("Enter a date.")])
    at = TimeField("Time (cohort time)", default=time(9, 0),
                   validators=[InputRequired("Enter a time such as 09:00.")])
    submit = SubmitField("Move the opening")


class LaunchForm(FlaskForm):
    """A cohort's name, start date, time zone and anonymity policy."""

    name = StringField("Cohort name", validators=[DataRequired(), Length(max=200)],
                       description="For example: Leadership, spring 2026, Berlin office.")
    starts_on = DateField("Start date", validators=[InputRequired("Enter a start date.")],
                          description="Modules with offset 0 open on this day.")
    timezone = SelectField("Time zone",
                           description="Modules open at their local time in this zone.")
    anonymity = RadioField("Anonymous posting", choices=ANONYMITY_CHOICES, default="peers",
                           validators=[InputRequired("Choose who may see authors' names.")])
    submit = SubmitField("Launch cohort")
    #: Shows each module's release for the typed start date and zone; nothing is created.
    preview = SubmitField("Preview dates")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()


class AnnouncementForm(FlaskForm):
    """A one-line title and a Markdown body, for every member of the cohort."""

    title = StringField("Title", validators=[DataRequired("Give the announcement a title."),
                                             Length(max=120)],
                        description="One line, at most 120 characters: it is also the "
                                    "notification's title and the e-mail's subject.",
                        render_kw={"maxlength": 120, "autocomplete": "off"})
    body = TextAreaField("Announcement",
                         validators=[DataRequired("Write what you want to tell the cohort."),
                                     Length(max=10_000)],
                         description="Markdown: **bold**, _italic_, lists, links. Every "
                                     "member is notified, and your name is shown with it.",
                         render_kw={"rows": 8})
    submit = SubmitField("Post the announcement")


class PinAnnouncementForm(FlaskForm):
    """Pin or unpin an announcement (``pinned`` is "yes" or "no")."""

    pinned = HiddenField(validators=[AnyOf(["yes", "no"])])


class DeleteAnnouncementForm(FlaskForm):
    """Confirm deleting an announcement."""

    submit = SubmitField("Delete the announcement")


class AuditFilterForm(FlaskForm):
    """The audit log's filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    cohort_id = IntegerField("Cohort number", validators=[Optional()],
                             description="As shown on the site overview.")
    actor = StringField("Actor", validators=[Optional(), Length(max=254)],
                        description="An e-mail address or a user id.")
    action = SelectField("Action", validate_choice=False)
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To (included)", validators=[Optional()])
    submit = SubmitField("Filter")

    def __init__(self, *args, actions: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.action.choices = [SelectChoice("", "Any action"),
                               *(SelectChoice(name, name) for name in actions)]
