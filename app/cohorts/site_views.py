"""Site administration pages about the whole site: the overview of programs and cohorts, the
search across people, programs and cohorts, and the audit log. Site admins only; everyone
else gets the 404 the user admin pages give (one rule: ``accounts.views.require_admin``)."""

from flask import Blueprint, render_template, request
from flask_login import login_required

from app.accounts.forms import apply_errors
from app.accounts.views import require_admin
from app.cohorts import site
from app.cohorts.forms import AuditFilterForm
from app.db import parse_id, utcnow
from app.errors import Invalid

bp = Blueprint("site_admin", __name__)

OVERVIEW_PAGE_SIZE = 25
AUDIT_PAGE_SIZE = 50


@bp.get("/admin")
@login_required
def overview():
    """Programs and cohorts across the site, newest first, each list paged on its own."""
    actor = require_admin()
    programs_after = request.args.get("programs_after", 0, type=parse_id)
    cohorts_after = request.args.get("cohorts_after", 0, type=parse_id)
    programs = site.list_programs(actor, after_id=programs_after, limit=OVERVIEW_PAGE_SIZE + 1)
    cohorts = site.list_cohorts(actor, now=utcnow(), after_id=cohorts_after,
                                limit=OVERVIEW_PAGE_SIZE + 1)
    next_programs = (programs[OVERVIEW_PAGE_SIZE - 1].program.id
                     if len(programs) > OVERVIEW_PAGE_SIZE else None)
    next_cohorts = (cohorts[OVERVIEW_PAGE_SIZE - 1].cohort.id
                    if len(cohorts) > OVERVIEW_PAGE_SIZE else None)
    return render_template("cohorts/site_overview.html",
                           programs=programs[:OVERVIEW_PAGE_SIZE],
                           cohorts=cohorts[:OVERVIEW_PAGE_SIZE],
                           programs_after=programs_after, cohorts_after=cohorts_after,
                           next_programs=next_programs, next_cohorts=next_cohorts)


@bp.get("/admin/search")
@login_required
def search():
    """Users, programs and cohorts whose name (or e-mail, or title) holds the search."""
    actor = require_admin()
    raw = request.args.get("q", "")
    results, error = None, None
    try:
        if raw.strip():
            results = site.search_site(actor, raw)
    except Invalid as invalid:
        error = invalid.message
    # A refused search is not echoed back into the box (it may hold control characters).
    shown = raw.strip() if error is None else ""
    return render_template("cohorts/site_search.html", results=results, error=error,
                           search=shown), 422 if error else 200


@bp.get("/admin/audit")
@login_required
def audit_log():
    """The audit log, newest first, filtered by cohort, actor, action and days."""
    actor = require_admin()
    actions = site.list_audit_actions(actor)
    form = AuditFilterForm(formdata=request.args, actions=actions)
    after = request.args.get("after", 0, type=parse_id)
    page, status = None, 200
    if form.validate():
        filters = site.AuditFilters(
            cohort_id=form.cohort_id.data, actor=form.actor.data or "",
            action=form.action.data or "", date_from=form.date_from.data,
            date_to=form.date_to.data)
        try:
            page = site.list_audit_log(actor, filters, zone=actor.timezone, after_id=after,
                                       limit=AUDIT_PAGE_SIZE, actions=actions)
        except Invalid as error:
            apply_errors(form, error)
    if page is None:
        status = 422
        if not form.form_errors:
            form.form_errors.append("Check the filters marked below.")
    kept = {key: value for key, value in request.args.items()
            if key in ("cohort_id", "actor", "action", "date_from", "date_to") and value}
    return render_template("cohorts/site_audit.html", form=form, page=page, after=after,
                           filters=kept), status
