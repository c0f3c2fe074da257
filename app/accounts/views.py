"""Account pages: sign in and out, invitations, password reset, settings, user admin."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from app.accounts import forms, services
from app.accounts import tokens as api_tokens
from app.db import parse_id, utcnow
from app.errors import Invalid, NotAllowed, NotFound
from app.extensions import limiter
from app.security import is_local_path, login_rate_limit

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    """Only follow ``next`` to a path on this site."""
    return target if is_local_path(target) else url_for("cohorts.home")


def _session_lifetime(remember: bool):
    """How long a login session lives: the remember-me duration or one working day."""
    config = current_app.config
    return config["REMEMBER_COOKIE_DURATION"] if remember else config["PERMANENT_SESSION_LIFETIME"]


def _start_browser_session(start: services.SessionStart, remember: bool) -> None:
    """Put a new login session in a fresh cookie (no pre-login session data survives)."""
    session.clear()
    start.user.session_key = start.session_key
    login_user(start.user, remember=remember, duration=_session_lifetime(remember))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
def login():
    """Sign in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(url_for("cohorts.home"))
    form = forms.LoginForm()
    status = 200
    if form.validate_on_submit():
        remember = form.remember.data
        try:
            start = services.sign_in(form.email.data, form.password.data,
                                     user_agent=request.user_agent.string, now=utcnow(),
                                     lifetime=_session_lifetime(remember))
        except Invalid as error:
            form.form_errors.append(error.message)
            status = 401
        except NotAllowed as error:  # the right password to a disabled account
            form.form_errors.append(error.message)
            status = 403
        else:
            _start_browser_session(start, remember)
            return redirect(_safe_next(request.args.get("next")))
    elif form.is_submitted():
        status = 422
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    """Sign out: this browser's session ends on the server too."""
    services.end_login_session(current_user.session_key, utcnow())
    # Clear first: logout_user() then marks the remember cookie for deletion.
    session.clear()
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.login"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """An invited person chooses their name and password."""
    link = services.get_usable_link(token, "invite", utcnow())
    # Pre-filled with the name the inviter typed and the zone the invitation started with.
    form = forms.AcceptInvitationForm(data={"name": link.user.name,
                                            "timezone": link.user.timezone})
    status = 200
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(token, name=form.name.data,
                                              password=form.password.data,
                                              timezone=form.timezone.data, now=utcnow())
        except Invalid as error:
            forms.apply_errors(form, error)
            status = 422
        else:
            lifetime = _session_lifetime(False)
            start = services.start_login_session(user, user_agent=request.user_agent.string,
                                                 now=utcnow(), lifetime=lifetime)
            _start_browser_session(start, remember=False)
            flash(f"Welcome, {user.display_name}. Your account is ready.", "success")
            return redirect(url_for("cohorts.home"))
    elif form.is_submitted():
        status = 422
    return render_template("accounts/accept_invitation.html", form=form,
                           email=link.user.email, chosen=form.is_submitted()), status


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
def request_reset():
    """Ask for a password reset link."""
    form = forms.RequestResetForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data, now=utcnow())
        flash("If an account exists for that e-mail, a reset link is on its way. "
              "It works once, for two hours.", "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/request_reset.html", form=form), \
        422 if form.is_submitted() else 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from a reset link."""
    services.get_usable_link(token, "reset", utcnow())
    form = forms.ChoosePasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.reset_password(token, password=form.password.data, now=utcnow())
        except Invalid as error:
            forms.apply_errors(form, error)
            status = 422
        else:
            flash("Your password is changed, every device was signed out and your API tokens "
                  "were revoked. Sign in with the new password.", "success")
            return redirect(url_for("accounts.login"))
    elif form.is_submitted():
        status = 422
    return render_template("accounts/reset_password.html", form=form), status


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    """Name, intro, time zone and password."""
    user = current_user._get_current_object()
    profile = forms.ProfileForm(prefix="profile", obj=user)
    password = forms.ChangePasswordForm(prefix="password")
    status = 200
    if profile.submit.data and profile.validate_on_submit():
        try:
            services.update_profile(user, name=profile.name.data, timezone=profile.timezone.data,
                                    intro=profile.intro.data)
        except Invalid as error:
            forms.apply_errors(profile, error)
            status = 422
        else:
            flash("Profile saved.", "success")
            return redirect(url_for("accounts.settings"))
    elif password.submit.data and password.validate_on_submit():
        try:
            start = services.change_password(
                user, current_password=password.current_password.data,
                new_password=password.new_password.data, user_agent=request.user_agent.string,
                now=utcnow(), lifetime=_session_lifetime(False))
        except Invalid as error:
            forms.apply_errors(password, error)
            status = 422
        else:
            _start_browser_session(start, remember=False)
            flash("Password changed. Every other device has been signed out and your API "
                  "tokens were revoked; create new ones where you need them.", "success")
            return redirect(url_for("accounts.settings"))
    elif request.method == "POST":
        status = 422
    return render_template("accounts/settings.html", profile=profile, password=password), status


@bp.route("/settings/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """Personal API tokens: create (shown once), list, revoke."""
    user = current_user._get_current_object()
    form = forms.NewTokenForm()
    new_secret = None
    if form.validate_on_submit():
        _, new_secret = api_tokens.issue_api_token(user, name=form.name.data, now=utcnow())
        form = forms.NewTokenForm(formdata=None)
    return render_template("accounts/tokens.html", form=form, new_secret=new_secret,
                           tokens=api_tokens.list_api_tokens(user), now=utcnow())


@bp.post("/settings/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke one of my tokens."""
    api_tokens.revoke_api_token(current_user._get_current_object(), token_id, now=utcnow())
    flash("Token revoked. Anything using it stops working now.", "success")
    return redirect(url_for("accounts.tokens"))


# --- site administration ------------------------------------------------------------------------

ADMIN_PAGE_SIZE = 50


def require_admin():
    """Hide the admin pages from everyone but site admins."""
    if not current_user.is_admin:
        abort(404)
    return current_user._get_current_object()


@bp.route("/admin/users", methods=["GET", "POST"])
@login_required
def admin_users():
    """List, search and create users."""
    actor = require_admin()
    create = forms.CreateUserForm(prefix="create")
    invite = forms.InviteUserForm(prefix="invite")
    status = 200
    if create.submit.data and create.validate_on_submit():
        try:
            user = services.create_user(
                actor, email=create.email.data, name=create.name.data,
                password=create.password.data, is_admin=create.is_admin.data,
                can_own_programs=create.can_own_programs.data, now=utcnow())
        except Invalid as error:
            forms.apply_errors(create, error)
            status = 422
        else:
            flash(f"Created {user.email}.", "success")
            return redirect(url_for("accounts.admin_users"))
    elif invite.submit.data and invite.validate_on_submit():
        try:
            user, sent = services.invite_user(actor, invite.email.data, now=utcnow())
        except Invalid as error:
            forms.apply_errors(invite, error)
            status = 422
        else:
            flash(f"Invitation sent to {user.email}." if sent
                  else f"{user.email} already has an account.", "success" if sent else "info")
            return redirect(url_for("accounts.admin_users"))
    elif request.method == "POST":
        status = 422
    search = request.args.get("q", "").strip()[:100]
    after = request.args.get("after", 0, type=parse_id)
    users = services.list_users(actor, after_id=after, limit=ADMIN_PAGE_SIZE + 1, search=search)
    next_after = users[ADMIN_PAGE_SIZE - 1].id if len(users) > ADMIN_PAGE_SIZE else None
    return render_template("accounts/admin_users.html", users=users[:ADMIN_PAGE_SIZE],
                           create=create, invite=invite, search=search, after=after,
                           next_after=next_after), status


@bp.post("/admin/users/<int:user_id>/roles")
@login_required
def admin_set_roles(user_id: int):
    """Grant or withdraw program owner and admin rights, or disable an account."""
    actor = require_admin()
    form = forms.SiteRolesForm()
    if not form.validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect(url_for("accounts.admin_users"))
    try:
        user = services.set_site_roles(
            actor, user_id, is_admin=form.is_admin.data,
            can_own_programs=form.can_own_programs.data,
            is_disabled=form.is_disabled.data if "is_disabled" in request.form else None,
            now=utcnow())
    except Invalid as error:
        flash(error.message, "error")
    except NotFound:
        abort(404)
    else:
        flash(f"Saved rights of {user.email}.", "success")
    return redirect(url_for("accounts.admin_users", q=request.args.get("q", "")))


@bp.route("/admin/users/<int:user_id>/disable", methods=["GET", "POST"])
@login_required
def admin_disable_user(user_id: int):
    """Say what disabling an account does, then disable it (a site admin confirms)."""
    actor = require_admin()
    user = services.get_user(user_id)
    form = forms.DisableUserForm()
    back = url_for("accounts.admin_users", q=request.args.get("q", ""))
    if form.validate_on_submit():
        try:
            services.set_site_roles(actor, user_id, is_disabled=True, now=utcnow())
        except Invalid as error:
            flash(error.message, "error")
        else:
            flash(f"Disabled {user.email}. They are signed out everywhere.", "success")
        return redirect(back)
    return render_template("accounts/disable_user.html", user=user, form=form, back=back,
                           is_self=user.id == actor.id), 422 if form.is_submitted() else 200


@bp.post("/admin/users/<int:user_id>/enable")
@login_required
def admin_enable_user(user_id: int):
    """Enable a disabled account again (nothing to confirm: it can be undone)."""
    actor = require_admin()
    if not forms.DisableUserForm().validate_on_submit():
        flash("The form expired; try again.", "error")
    else:
        user = services.set_site_roles(actor, user_id, is_disabled=False, now=utcnow())
        flash(f"Enabled {user.email}. They can sign in again.", "success")
    return redirect(url_for("accounts.admin_users", q=request.args.get("q", "")))
