"""Program authoring pages: the program's overview, its forms (one page each) and launching.

Every form is its own page with post/redirect/get; the overview only links to them. The
example dates on the overview and the launch form's preview come from the release schedule
code that launched cohorts use.
"""

from datetime import date

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.accounts.forms import apply_errors
from app.cohorts import authoring as authoring_rules
from app.cohorts import forms
from app.cohorts.access import check_can_create_programs, get_module_for, get_program_for
from app.cohorts.authoring import (
    add_module,
    create_program,
    get_release_plan,
    launch_cohort,
    list_program_cohorts,
    sort_modules_by_release,
    update_module,
    update_program,
)
from app.cohorts.parts import parts_of_modules
from app.cohorts.release_plan import example_start, out_of_order, plan_releases
from app.cohorts.views import bp
from app.db import utcnow
from app.errors import Invalid, NotFound
from app.sanitize import render_markdown

#: Pages of other features that add a part to a module: (link text, endpoint).
PART_PAGES = (("Add a discussion prompt", "discussions.new_prompt"),
              ("Add a practice assignment", "peer_review.new_assignment"))


def _module_of(user, program_id: int, module_id: int):
    """A module of the program, for the program's owner; else NotFound."""
    module = get_module_for(user, module_id)
    if module.program_id != program_id:
        raise NotFound()
    return module


@bp.route("/programs/new", methods=["GET", "POST"])
@login_required
def new_program():
    """A program owner starts a program: title, summary and goals."""
    user = current_user._get_current_object()
    check_can_create_programs(user)
    form = forms.ProgramForm()
    status = 200
    if form.validate_on_submit():
        try:
            program = create_program(
                user, title=form.title.data, summary=form.summary.data,
                goals=forms.goals_from_text(form.goals.data), now=utcnow())
        except Invalid as error:
            apply_errors(form, error)
            status = 422
        else:
            flash("Program created. Now add its modules.", "success")
            return redirect(url_for("cohorts.program", program_id=program.id))
    elif form.is_submitted():
        status = 422
    return render_template("cohorts/program_new.html", form=form), status


@bp.get("/programs/<int:program_id>")
@login_required
def program(program_id: int):
    """The program's overview: goals, modules in order with example release dates, their
    prompts and assignments, and the cohorts launched from it. The forms are on their own
    pages."""
    user = current_user._get_current_object()
    program = get_program_for(user, program_id)
    modules = list(program.modules)
    zone = user.timezone or "UTC"
    start = example_start(utcnow(), zone)
    return render_template(
        "cohorts/program.html", program=program, modules=modules,
        plan={planned.module.id: planned for planned in plan_releases(modules, start, zone)},
        example_start=start, example_zone=zone, out_of_order=out_of_order(modules),
        parts=parts_of_modules(modules), cohorts=list_program_cohorts(program),
        part_pages=PART_PAGES)


@bp.route("/programs/<int:program_id>/edit", methods=["GET", "POST"])
@login_required
def edit_program(program_id: int):
    """Change the program's title, summary and goals."""
    user = current_user._get_current_object()
    program = get_program_for(user, program_id)
    form = forms.ProgramForm(data={"title": program.title, "summary": program.summary,
                                   "goals": "\n".join(goal.text for goal in program.goals)})
    status = 200
    if form.validate_on_submit():
        try:
            update_program(user, program_id, title=form.title.data, summary=form.summary.data,
                           goals=forms.goals_from_text(form.goals.data), now=utcnow())
        except Invalid as error:
            apply_errors(form, error)
            status = 422
        else:
            flash("Program saved. Running cohorts keep the version they were launched with.",
                  "success")
            return redirect(url_for("cohorts.program", program_id=program_id))
    elif form.is_submitted():
        status = 422
    return render_template("cohorts/program_edit.html", program=program, form=form), status


def _body_preview(form):
    """The typed content as learners will see it, or None when it is too long to render
    (the form then says so)."""
    if not form.body.validate(form):
        return None
    return render_markdown(form.body.data or "")


@bp.route("/programs/<int:program_id>/modules/new", methods=["GET", "POST"])
@login_required
def new_module(program_id: int):
    """Add a module at the end of the program ("Preview" shows its content first)."""
    user = current_user._get_current_object()
    program = get_program_for(user, program_id)
    form = forms.ModuleForm()
    status, preview = 200, None
    if form.is_submitted() and form.preview.data:
        preview = _body_preview(form)
        status = 200 if preview is not None else 422
    elif form.validate_on_submit():
        try:
            module = add_module(user, program_id, title=form.title.data, body=form.body.data,
                                release_offset_days=form.release_offset_days.data,
                                release_time=form.release_time.data)
        except Invalid as error:
            apply_errors(form, error)
            status = 422
        else:
            flash(f"Module “{module.title}” added.", "success")
            return redirect(url_for("cohorts.program", program_id=program_id,
                                    _anchor=f"module-{module.id}"))
    elif form.is_submitted():
        status = 422
    return render_template("cohorts/module_edit.html", program=program, module=None,
                           form=form, preview=preview), status


@bp.route("/programs/<int:program_id>/modules/<int:module_id>/edit", methods=["GET", "POST"])
@login_required
def edit_module(program_id: int, module_id: int):
    """Change a module's title, content and release offset ("Preview" saves nothing)."""
    user = current_user._get_current_object()
    module = _module_of(user, program_id, module_id)
    form = forms.ModuleForm(obj=module)
    status, preview = 200, None
    if form.is_submitted() and form.preview.data:
        preview = _body_preview(form)
        status = 200 if preview is not None else 422
    elif form.validate_on_submit():
        try:
            update_module(user, module_id, title=form.title.data, body=form.body.data,
                          release_offset_days=form.release_offset_days.data,
                          release_time=form.release_time.data)
        except Invalid as error:
            apply_errors(form, error)
            status = 422
        else:
            flash("Module saved. Running cohorts keep the version they were launched with.",
                  "success")
            return redirect(url_for("cohorts.program", program_id=program_id,
                                    _anchor=f"module-{module_id}"))
    elif form.is_submitted():
        status = 422
    return render_template("cohorts/module_edit.html", program=module.program, module=module,
                           form=form, preview=preview), status


@bp.get("/programs/<int:program_id>/modules/<int:module_id>/preview")
@login_required
def preview_module(program_id: int, module_id: int):
    """A module exactly as a learner will see it once released."""
    module = _module_of(current_user._get_current_object(), program_id, module_id)
    return render_template("cohorts/module_preview.html", program=module.program,
                           module=module, parts=parts_of_modules([module]).get(module.id, []))


@bp.post("/programs/<int:program_id>/modules/<int:module_id>/move")
@login_required
def move_module(program_id: int, module_id: int):
    """Move a module one place up or down."""
    user = current_user._get_current_object()
    module = _module_of(user, program_id, module_id)
    form = forms.MoveModuleForm()
    if not form.validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect(url_for("cohorts.program", program_id=program_id))
    index = module.program.modules.index(module)
    target = index - 1 if form.direction.data == "up" else index + 1
    if 0 <= target < len(module.program.modules):
        authoring_rules.move_module(user, module_id, target)
        flash(f"Moved “{module.title}” {form.direction.data}.", "success")
    return redirect(url_for("cohorts.program", program_id=program_id,
                            _anchor=f"module-{module_id}"))


@bp.route("/programs/<int:program_id>/modules/<int:module_id>/delete", methods=["GET", "POST"])
@login_required
def delete_module(program_id: int, module_id: int):
    """Confirm, then delete a module with its prompts and assignments."""
    user = current_user._get_current_object()
    module = _module_of(user, program_id, module_id)
    form = forms.DeleteModuleForm()
    if form.validate_on_submit():
        authoring_rules.delete_module(user, module_id)
        flash(f"Module “{module.title}” deleted. Running cohorts keep their copy.", "success")
        return redirect(url_for("cohorts.program", program_id=program_id))
    return render_template("cohorts/module_delete.html", program=module.program, module=module,
                           parts=parts_of_modules([module]).get(module.id, []), form=form), \
        422 if form.is_submitted() else 200


@bp.post("/programs/<int:program_id>/modules/sort")
@login_required
def sort_modules(program_id: int):
    """"Fix the order": put the modules in the order they are released."""
    user = current_user._get_current_object()
    get_program_for(user, program_id)
    if not forms.SortModulesForm().validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect(url_for("cohorts.program", program_id=program_id))
    sort_modules_by_release(user, program_id)
    flash("Modules sorted by the day they open: learners get them in this order.", "success")
    return redirect(url_for("cohorts.program", program_id=program_id, _anchor="modules-heading"))


def _parse_day(text: str | None) -> date | None:
    """An ISO date (YYYY-MM-DD), or None when it is missing or not a date."""
    try:
        return date.fromisoformat((text or "")[:10]) if len(text or "") == 10 else None
    except ValueError:
        return None


@bp.get("/programs/<int:program_id>/release-dates")
@login_required
def release_dates(program_id: int):
    """Each module's release for ``?starts_on=YYYY-MM-DD&timezone=Zone`` as JSON (the launch
    form's live preview); the rows come as HTML made by the same template as the page's."""
    user = current_user._get_current_object()
    starts_on = _parse_day(request.args.get("starts_on"))
    zone = request.args.get("timezone", "")
    plan = get_release_plan(user, program_id, starts_on=starts_on, timezone=zone,
                            now=utcnow())
    return jsonify(
        starts_on=starts_on.isoformat(), timezone=zone,
        releases=[{"module_id": p.module.id, "title": p.module.title,
                   "release_at": p.release_at.isoformat(), "local": p.local.isoformat(),
                   "shifted": p.shifted} for p in plan],
        html=render_template("cohorts/_release_rows.html", plan=plan, zone=zone))


@bp.route("/programs/<int:program_id>/launch", methods=["GET", "POST"])
@login_required
def launch(program_id: int):
    """Launch a cohort of the program: name, start date, time zone, anonymity policy.
    "Preview dates" shows each module's release for the typed date and zone and creates
    nothing."""
    user = current_user._get_current_object()
    program = get_program_for(user, program_id)
    form = forms.LaunchForm(data={"timezone": user.timezone})
    status, plan = 200, None
    if form.is_submitted() and form.preview.data:
        form.validate()
        # Only the date and the zone matter for a preview: a name can come later.
        form.name.errors, form.anonymity.errors = [], []
        if form.csrf_token.errors or form.starts_on.errors or form.timezone.errors:
            status = 422
        else:
            try:
                plan = get_release_plan(user, program_id, starts_on=form.starts_on.data,
                                        timezone=form.timezone.data, now=utcnow())
            except Invalid as error:
                apply_errors(form, error)
                status = 422
    elif form.validate_on_submit():
        try:
            cohort = launch_cohort(
                user, program_id, name=form.name.data, starts_on=form.starts_on.data,
                timezone=form.timezone.data, anonymity=form.anonymity.data, now=utcnow())
        except Invalid as error:
            apply_errors(form, error)
            status = 422
        else:
            flash(f"Cohort “{cohort.name}” launched. Next: add its people.", "success")
            return redirect(url_for("cohorts.cohort", cohort_id=cohort.id))
    elif form.is_submitted():
        status = 422
    return render_template("cohorts/launch.html", program=program, form=form, plan=plan,
                           explanations=forms.ANONYMITY_EXPLANATIONS), status
