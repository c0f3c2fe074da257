"""Cohort pages: the home page of each role and a cohort's overview."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.cohorts import services
from app.db import utcnow
from app.errors import Conflict

bp = Blueprint("cohorts", __name__)


@bp.get("/")
def home():
    """The signed-in person's home: a section for each role they hold."""
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    user = current_user._get_current_object()
    memberships = services.list_my_cohorts(user)
    owned_cohorts = services.list_owned_cohorts(user) if user.can_own_programs else []
    programs = services.list_owned_programs(user) if user.can_own_programs else []
    counts = services.member_counts(
        sorted({m.cohort_id for m in memberships} | {c.id for c in owned_cohorts}))
    return render_template(
        "cohorts/home.html",
        learning=[m for m in memberships if m.role == "learner"],
        facilitating=[m for m in memberships if m.role == "facilitator"],
        programs=programs, owned_cohorts=owned_cohorts, counts=counts,
    )


@bp.get("/cohorts/<int:cohort_id>")
@login_required
def cohort(cohort_id: int):
    """A cohort's overview; its staff also see the roster."""
    user = current_user._get_current_object()
    access = services.get_cohort_for(user, cohort_id)
    members = services.list_members(user, cohort_id) if access.is_staff else []
    counts = services.member_counts([cohort_id])[cohort_id]
    _, modules = services.list_cohort_modules(user, cohort_id)
    return render_template("cohorts/cohort.html", access=access, cohort=access.cohort,
                           members=members, counts=counts, modules=modules, now=utcnow())


@bp.get("/cohorts/<int:cohort_id>/modules/<int:module_id>")
@login_required
def module(cohort_id: int, module_id: int):
    """A released module's content (staff may also look ahead)."""
    access, cohort_module = services.get_cohort_module(
        current_user._get_current_object(), cohort_id, module_id, now=utcnow())
    return render_template("cohorts/module.html", access=access, cohort=access.cohort,
                           module=cohort_module, now=utcnow())


@bp.post("/cohorts/<int:cohort_id>/modules/<int:module_id>/release")
@login_required
def release_now(cohort_id: int, module_id: int):
    """A facilitator releases a module now."""
    try:
        services.reschedule_release(current_user._get_current_object(), cohort_id, module_id,
                                    release_at=None, now=utcnow())
    except Conflict as error:
        flash(error.message, "info")
    else:
        flash("Released. Members are being notified.", "success")
    return redirect(url_for("cohorts.cohort", cohort_id=cohort_id))
