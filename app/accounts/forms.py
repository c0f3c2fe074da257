"""Account forms (Flask-WTF: CSRF token on every one)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from app.accounts.services import timezone_names
from app.errors import Invalid


def apply_errors(form: FlaskForm, error: Invalid) -> None:
    """Show a service's field errors on a form, and its message when no field matches."""
    unplaced = []
    for name, message in error.fields.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message]
        else:
            unplaced.append(message)
    if unplaced or not error.fields:
        form.form_errors.extend(unplaced or [error.message])


#: Zones most people pick, offered first (west to east): the rest follow alphabetically.
COMMON_TIMEZONES = (
    "America/Los_Angeles", "America/Denver", "America/Chicago", "America/Mexico_City",
    "America/New_York", "America/Toronto", "America/Sao_Paulo", "UTC", "Europe/London",
    "Europe/Dublin", "Europe/Lisbon", "Africa/Lagos", "Europe/Paris", "Europe/Berlin",
    "Europe/Madrid", "Europe/Rome", "Europe/Amsterdam", "Europe/Stockholm", "Europe/Warsaw",
    "Africa/Johannesburg", "Europe/Athens", "Europe/Helsinki", "Europe/Istanbul",
    "Africa/Nairobi", "Asia/Dubai", "Asia/Kolkata", "Asia/Singapore", "Asia/Shanghai",
    "Asia/Tokyo", "Asia/Seoul", "Australia/Sydney", "Pacific/Auckland",
)


def timezone_choices() -> dict[str, list[tuple[str, str]]]:
    """IANA zones for select boxes: the common ones first, then every other one, sorted."""
    known = timezone_names()
    common = [zone for zone in COMMON_TIMEZONES if zone in known]
    rest = sorted(set(known) - set(common))
    return {"Common time zones": [(zone, zone.replace("_", " ")) for zone in common],
            "Every time zone": [(zone, zone.replace("_", " ")) for zone in rest]}


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField("Keep me signed in on this device for 14 days")
    submit = SubmitField("Sign in")


class ChoosePasswordForm(FlaskForm):
    """A new password, typed twice (password reset)."""

    password = PasswordField("New password", validators=[DataRequired()],
                             description="At least 8 characters. A short sentence works well.",
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Repeat the new password",
                            validators=[DataRequired(),
                                        EqualTo("password", "The two passwords differ.")],
                            render_kw={"autocomplete": "new-password"})
    submit = SubmitField("Save password")


class AcceptInvitationForm(ChoosePasswordForm):
    """The invitee's name, time zone and first password."""

    name = StringField("Your name", validators=[DataRequired(), Length(max=120)],
                       description="Shown to the people in your cohorts.",
                       render_kw={"autocomplete": "name"})
    timezone = SelectField("Your time zone",
                           description="Times, such as when modules open and when work is due, are "
                                       "shown in it. You can change it later in Settings.")
    submit = SubmitField("Create my account")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()


class RequestResetForm(FlaskForm):
    """The e-mail to send a reset link to."""

    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    submit = SubmitField("Send me a reset link")


class ProfileForm(FlaskForm):
    """Name, intro and time zone."""

    name = StringField("Name", validators=[DataRequired(), Length(max=120)],
                       render_kw={"autocomplete": "name"})
    intro = StringField("Intro (optional)", validators=[Length(max=160)],
                        description="One line about yourself that the people in your cohorts "
                                    "see beside your name, e.g. what you hope to learn.")
    timezone = SelectField("Time zone", description="Dates and times are shown in it.")
    submit = SubmitField("Save profile")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()


class ChangePasswordForm(FlaskForm):
    """Current and new password; signs out every other device."""

    current_password = PasswordField("Current password", validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField("New password", validators=[DataRequired()],
                                 description="At least 8 characters.",
                                 render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Repeat the new password",
                            validators=[DataRequired(),
                                        EqualTo("new_password", "The two passwords differ.")],
                            render_kw={"autocomplete": "new-password"})
    submit = SubmitField("Change password")


class NewTokenForm(FlaskForm):
    """A label for a new API token."""

    name = StringField("What is this token for?", validators=[DataRequired(), Length(max=80)],
                       description="For example: HR sync script.")
    submit = SubmitField("Create token")


class CreateUserForm(FlaskForm):
    """A site admin creates an account with a password."""

    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    password = PasswordField("Initial password", validators=[DataRequired()],
                             description="At least 8 characters; tell the person to change it.",
                             render_kw={"autocomplete": "new-password"})
    can_own_programs = BooleanField("Program owner (can create programs and launch cohorts)")
    is_admin = BooleanField("Site admin (manages users)")
    submit = SubmitField("Create user")


class InviteUserForm(FlaskForm):
    """A site admin invites someone by e-mail."""

    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    submit = SubmitField("Send invitation")


class SiteRolesForm(FlaskForm):
    """A site admin changes one user's site-wide rights.

    ``is_disabled`` counts only when posted: the users page disables through its own
    confirmation page (:class:`DisableUserForm`), so its rights form leaves it out.
    """

    can_own_programs = BooleanField("Program owner")
    is_admin = BooleanField("Site admin")
    is_disabled = BooleanField("Disabled")
    submit = SubmitField("Save")


class DisableUserForm(FlaskForm):
    """A site admin confirms disabling an account."""

    submit = SubmitField("Disable the account")
