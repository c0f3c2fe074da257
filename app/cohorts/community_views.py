"""Community pages of a cohort: its announcements and its people."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.accounts.forms import apply_errors
from app.cohorts import community, forms
from app.cohorts.access import require_staff
from app.cohorts.progress import note_activity
from app.cohorts.views import bp
from app.db import parse_id, utcnow
from app.errors import Invalid


@bp.get("/cohorts/<int:cohort_id>/announcements")
@login_required
def announcements(cohort_id: int):
    """Every announcement of the cohort, newest first; staff can pin and delete them."""
    user = current_user._get_current_object()
    before = request.args.get("before", 0, type=parse_id)
    access, items = community.list_announcements(user, cohort_id, before_id=before)
    more = len(items) > community.ANNOUNCEMENTS_PAGE_SIZE
    items = items[:community.ANNOUNCEMENTS_PAGE_SIZE]
    note_activity(access, utcnow())
    return render_template("cohorts/announcements.html", access=access, cohort=access.cohort,
                           announcements=items, before=before,
                           next_before=items[-1].id if more else None,
                           pin_form=forms.PinAnnouncementForm())


@bp.route("/cohorts/<int:cohort_id>/announcements/new", methods=["GET", "POST"])
@login_required
def new_announcement(cohort_id: int):
    """The staff's form: a title and a body; members are notified once it is posted."""
    user = current_user._get_current_object()
    access = require_staff(user, cohort_id, community.STAFF_ONLY)
    form = forms.AnnouncementForm()
    status = 200
    if form.validate_on_submit():
        try:
            community.post_announcement(user, cohort_id, title=form.title.data,
                                        body=form.body.data, now=utcnow())
        except Invalid as error:
            apply_errors(form, error)
            status = 422
        else:
            flash("Announcement posted. Every member is being notified.", "success")
            return redirect(url_for("cohorts.announcements", cohort_id=cohort_id))
    elif form.is_submitted():
        status = 422
    return render_template("cohorts/announcement_new.html", access=access,
                           cohort=access.cohort, form=form), status


@bp.post("/cohorts/<int:cohort_id>/announcements/<int:announcement_id>/pin")
@login_required
def pin_announcement(cohort_id: int, announcement_id: int):
    """Pin an announcement to the top of the cohort's page, or unpin it."""
    user = current_user._get_current_object()
    require_staff(user, cohort_id, community.STAFF_ONLY)
    form = forms.PinAnnouncementForm()
    if not form.validate_on_submit():
        flash("The form expired; try again.", "error")
    else:
        pinned = form.pinned.data == "yes"
        announcement = community.set_announcement_pinned(user, cohort_id, announcement_id,
                                                         pinned=pinned)
        flash(f"“{announcement.title}” is {'pinned' if pinned else 'no longer pinned'}.",
              "success")
    return redirect(url_for("cohorts.announcements", cohort_id=cohort_id,
                            _anchor=f"announcement-{announcement_id}"))


@bp.route("/cohorts/<int:cohort_id>/announcements/<int:announcement_id>/delete",
          methods=["GET", "POST"])
@login_required
def delete_announcement(cohort_id: int, announcement_id: int):
    """Confirm, then delete an announcement."""
    user = current_user._get_current_object()
    access, announcement = community.get_announcement_for_staff(user, cohort_id,
                                                                announcement_id)
    form = forms.DeleteAnnouncementForm()
    if form.validate_on_submit():
        community.delete_announcement(user, cohort_id, announcement_id)
        flash(f"Announcement “{announcement.title}” deleted.", "success")
        return redirect(url_for("cohorts.announcements", cohort_id=cohort_id))
    return render_template("cohorts/announcement_delete.html", access=access,
                           cohort=access.cohort, announcement=announcement,
                           form=form), 422 if form.is_submitted() else 200


@bp.get("/cohorts/<int:cohort_id>/people")
@login_required
def people(cohort_id: int):
    """The cohort's people: the owner, facilitators, then learners, with their intros."""
    user = current_user._get_current_object()
    offset = request.args.get("from", 0, type=parse_id)
    access, items = community.list_people(user, cohort_id, offset=offset)
    more = len(items) > community.PEOPLE_PAGE_SIZE
    items = items[:community.PEOPLE_PAGE_SIZE]
    note_activity(access, utcnow())
    return render_template("cohorts/people.html", access=access, cohort=access.cohort,
                           people=items, offset=offset,
                           next_offset=offset + len(items) if more else None)
