"""Cohort pages: the home page of each role and a cohort's overview."""

from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from app.accounts.forms import apply_errors
from app.cohorts import forms
from app.cohorts import roster as roster_rules
from app.cohorts.access import (
    list_my_cohorts,
    list_owned_cohorts,
    list_owned_programs,
)
from app.cohorts.community import get_faces, get_featured_announcement
from app.cohorts.members import MEMBERS_PAGE_SIZE, SORTS, clean_listing, list_members
from app.cohorts.progress import (
    complete_module,
    get_learning_path,
    get_module_page,
    list_progress,
    note_activity,
    note_visit,
    plan_home,
    uncomplete_module,
)
from app.cohorts.releases import (
    check_can_schedule,
    get_module_to_release,
    move_release_local,
    reschedule_release,
)
from app.cohorts.roster import get_member_for_removal, member_counts
from app.cohorts.roster_csv import ImportRejected
from app.cohorts.welcome import dismiss_welcome, welcome_for
from app.db import parse_id, utcnow
from app.errors import Conflict, Invalid

bp = Blueprint("cohorts", __name__)


@bp.get("/")
def home():
    """The signed-in person's home: a section for each role they hold."""
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    user = current_user._get_current_object()
    memberships = list_my_cohorts(user)
    owned_cohorts = list_owned_cohorts(user)
    programs = list_owned_programs(user)
    counts = member_counts(
        sorted({m.cohort_id for m in memberships} | {c.id for c in owned_cohorts}))
    now = utcnow()
    plan = plan_home(user, now, memberships)
    return render_template(
        "cohorts/home.html",
        learning=[m for m in memberships if m.role == "learner"],
        facilitating=[m for m in memberships if m.role == "facilitator"],
        programs=programs, owned_cohorts=owned_cohorts, counts=counts,
        progress=list_progress(user, [m.cohort_id for m in memberships], now),
        this_week=plan.this_week, up_next=plan.up_next, now=now,
    )


@bp.get("/cohorts/<int:cohort_id>")
@login_required
def cohort(cohort_id: int):
    """A cohort's overview: its announcement, people and modules; staff also get the roster."""
    user = current_user._get_current_object()
    now = utcnow()
    path = get_learning_path(user, cohort_id, now)
    access = path.access
    faces = get_faces(access.cohort)
    note_visit(access, now)  # written after the response; the markers don't wait for it
    return render_template("cohorts/cohort.html", access=access, cohort=access.cohort,
                           counts=faces.counts, faces=faces.people, modules=path.modules,
                           path=path, now=now, welcome=welcome_for(access, now),
                           announcement=get_featured_announcement(cohort_id))


@bp.post("/cohorts/<int:cohort_id>/welcome")
@login_required
def dismiss_cohort_welcome(cohort_id: int):
    """"Got it": the first visit's welcome is not shown again."""
    dismiss_welcome(current_user._get_current_object(), cohort_id, utcnow())
    return redirect(url_for("cohorts.cohort", cohort_id=cohort_id))


@bp.get("/cohorts/<int:cohort_id>/modules/<int:module_id>")
@login_required
def module(cohort_id: int, module_id: int):
    """A released module's content, threads and assignments (staff may also look ahead)."""
    user = current_user._get_current_object()
    now = utcnow()
    page = get_module_page(user, cohort_id, module_id, now)
    note_activity(page.access, now)
    return _render_module(page, now)


def _render_module(page, now, move_form=None, status: int = 200):
    """The module page; its staff also get the form that moves the release."""
    if move_form is None and page.access.is_staff and page.module.released_at is None:
        move_form = forms.MoveReleaseForm(formdata=None, data=_local_release(page))
    return render_template("cohorts/module.html", access=page.access, cohort=page.access.cohort,
                           module=page.module, page=page, now=now,
                           move_form=move_form), status


def _local_release(page) -> dict:
    """The module's current release as the move form's local date and time."""
    local = page.module.release_at.astimezone(ZoneInfo(page.access.cohort.timezone))
    return {"on": local.date(), "at": local.time().replace(second=0, microsecond=0)}


@bp.post("/cohorts/<int:cohort_id>/modules/<int:module_id>/schedule")
@login_required
def move_release(cohort_id: int, module_id: int):
    """A facilitator moves a module's release to another local date and time."""
    user = current_user._get_current_object()
    now = utcnow()
    check_can_schedule(user, cohort_id, module_id)
    form = forms.MoveReleaseForm()
    if form.validate_on_submit():
        try:
            move_release_local(user, cohort_id, module_id, on=form.on.data,
                               at=form.at.data, now=now)
        except Invalid as error:
            apply_errors(form, error)
        except Conflict as error:
            flash(error.message, "info")
            return redirect(url_for("cohorts.module", cohort_id=cohort_id, module_id=module_id))
        else:
            flash("Opening moved. The timeline and the scheduler follow the new time.",
                  "success")
            return redirect(url_for("cohorts.module", cohort_id=cohort_id, module_id=module_id))
    page = get_module_page(user, cohort_id, module_id, now)
    return _render_module(page, now, move_form=form, status=422)


@bp.post("/cohorts/<int:cohort_id>/modules/<int:module_id>/completion")
@login_required
def set_completion(cohort_id: int, module_id: int):
    """A learner marks a module complete (``completed=yes``) or not complete."""
    user = current_user._get_current_object()
    if request.form.get("completed") == "yes":
        progress = complete_module(user, cohort_id, module_id, utcnow())
        flash(f"Marked complete: {progress.label}.", "success")
    else:
        progress = uncomplete_module(user, cohort_id, module_id, utcnow())
        flash(f"Marked not complete: {progress.label}.", "info")
    # Back to the same place on the page (the section takes focus), not the top.
    return redirect(url_for("cohorts.module", cohort_id=cohort_id, module_id=module_id,
                            _anchor="completion"))


@bp.get("/cohorts/<int:cohort_id>/modules/<int:module_id>/release")
@login_required
def confirm_release(cohort_id: int, module_id: int):
    """Ask before "Release now": it cannot be undone, and every member is notified."""
    module = get_module_to_release(current_user._get_current_object(), cohort_id, module_id)
    back = "module" if request.args.get("back") == "module" else "cohort"
    if module.released_at is not None:
        flash("This module is already open.", "info")
        return redirect(url_for("cohorts.module", cohort_id=cohort_id, module_id=module_id))
    counts = member_counts([cohort_id])[cohort_id]
    return render_template("cohorts/release_confirm.html", cohort=module.cohort, module=module,
                           counts=counts, members=sum(counts.values()), back=back,
                           now=utcnow())


@bp.post("/cohorts/<int:cohort_id>/modules/<int:module_id>/release")
@login_required
def release_now(cohort_id: int, module_id: int):
    """A facilitator releases a module now."""
    try:
        reschedule_release(current_user._get_current_object(), cohort_id, module_id,
                           release_at=None, now=utcnow())
    except Conflict as error:
        flash(error.message, "info")
    else:
        flash("Opened. Members are being notified.", "success")
    if request.form.get("back") == "module":
        return redirect(url_for("cohorts.module", cohort_id=cohort_id, module_id=module_id))
    return redirect(url_for("cohorts.cohort", cohort_id=cohort_id))


# --- enrolment and the roster ---------------------------------------------------------------------

#: The example offered for download beside the import form.
ROSTER_TEMPLATE_CSV = (
    "email,name,role\r\n"
    "ada@example.com,Ada Lovelace,learner\r\n"
    "grace@example.com,\"Hopper, Grace\",facilitator\r\n"
    "alan@example.com,,\r\n"
)


def _render_roster(cohort_id: int, *, add_form=None, import_form=None, report=None,
                   status: int = 200):
    """The Members view with its forms (and an import's report), sorted, filtered and paged
    as the query string asks (values that are not offered fall back to the defaults)."""
    user = current_user._get_current_object()
    sort, direction, inactive = clean_listing(request.args.get("sort"), request.args.get("dir"),
                                              request.args.get("inactive"))
    page_number = max(1, min(request.args.get("page", 1, type=parse_id) or 1, 10_000))
    listing = list_members(user, cohort_id, now=utcnow(), sort=sort, direction=direction,
                           inactive_days=inactive, offset=(page_number - 1) * MEMBERS_PAGE_SIZE)
    counts = member_counts([cohort_id])[cohort_id]
    page = render_template(
        "cohorts/roster.html", access=listing.access, cohort=listing.access.cohort,
        listing=listing, sorts=SORTS, page_number=page_number, counts=counts,
        add_form=add_form or forms.AddMemberForm(prefix="add"),
        import_form=import_form or forms.ImportMembersForm(prefix="import"),
        report=report)
    return page, status


@bp.get("/cohorts/<int:cohort_id>/members")
@login_required
def roster(cohort_id: int):
    """The Members view for the cohort's staff: role, joined, last active, progress and
    participation per member, sortable and filterable; nudge, add, import and remove."""
    return _render_roster(cohort_id)


@bp.post("/cohorts/<int:cohort_id>/members")
@login_required
def add_member(cohort_id: int):
    """Add one person by e-mail (invited when new)."""
    user = current_user._get_current_object()
    form = forms.AddMemberForm(prefix="add")
    if form.validate_on_submit():
        try:
            result = roster_rules.add_member(user, cohort_id, email=form.email.data,
                                             name=form.name.data, role=form.role.data,
                                             now=utcnow())
        except Invalid as error:
            apply_errors(form, error)
        except Conflict as error:
            form.email.errors.append(error.message)
        else:
            email = result.membership.user.email
            flash(f"{email} was invited and added to the cohort." if result.outcome == "invited"
                  else f"{email} was added to the cohort.", "success")
            return redirect(url_for("cohorts.roster", cohort_id=cohort_id))
    # The page is rendered for staff only: others get 404 or 403 here, not a form.
    return _render_roster(cohort_id, add_form=form, status=422)


@bp.post("/cohorts/<int:cohort_id>/members/import")
@login_required
def import_members(cohort_id: int):
    """Import a CSV file and show what happened, row by row."""
    user = current_user._get_current_object()
    form = forms.ImportMembersForm(prefix="import")
    if not form.validate_on_submit():
        return _render_roster(cohort_id, import_form=form, status=422)
    try:
        report = roster_rules.import_members(user, cohort_id, form.file.data.read(),
                                             only_valid=form.only_valid.data, now=utcnow())
    except ImportRejected as error:
        return _render_roster(cohort_id, import_form=form, report=error.report, status=422)
    return _render_roster(cohort_id, import_form=forms.ImportMembersForm(prefix="import",
                                                                         formdata=None),
                          report=report)


@bp.get("/cohorts/roster-template.csv")
@login_required
def roster_template():
    """An example import file to fill in."""
    return Response(ROSTER_TEMPLATE_CSV, mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=roster-template.csv"})


@bp.route("/cohorts/<int:cohort_id>/members/<int:user_id>/remove", methods=["GET", "POST"])
@login_required
def remove_member(cohort_id: int, user_id: int):
    """Confirm, then remove a member; what they wrote stays."""
    user = current_user._get_current_object()
    membership = get_member_for_removal(user, cohort_id, user_id)
    form = forms.RemoveMemberForm()
    if form.validate_on_submit():
        try:
            roster_rules.remove_member(user, cohort_id, user_id, now=utcnow())
        except Conflict as error:
            flash(error.message, "error")
        else:
            flash(f"{membership.user.email} was removed from the cohort.", "success")
        return redirect(url_for("cohorts.roster", cohort_id=cohort_id))
    return render_template("cohorts/remove_member.html", cohort=membership.cohort,
                           membership=membership, form=form)
