"""Practice assignment pages: the program owner adds, edits and deletes assignments.

The rubric builder works without JavaScript: its buttons post the form back with an
``action``, and the page returns with the change made and everything typed kept.
"""

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.errors import Invalid
from app.peer_review import services
from app.peer_review.forms import (
    STARTER_LEVELS,
    AssignmentForm,
    DeleteForm,
    change_rubric,
    rubric_formdata,
)

bp = Blueprint("peer_review", __name__)

_RUBRIC_KEY = re.compile(
    r"^rubric\.(\d+)\.(title|description|levels)(?:\.(\d+)\.(label|points))?$")


def _program_page(module):
    """Back to the module on its program's page."""
    return redirect(url_for("cohorts.program", program_id=module.program_id,
                            _anchor=f"module-{module.id}"))


def _show_errors(form: AssignmentForm, error: Invalid) -> dict[int, str]:
    """Put the service's field errors next to the matching inputs.

    Returns errors about a criterion as a whole (e.g. too few levels), by its index.
    """
    criterion_errors: dict[int, str] = {}
    for name, message in error.fields.items():
        match = _RUBRIC_KEY.match(name)
        field = None
        if match:
            c = int(match[1])
            if c < len(form.criteria.entries):
                criterion = form.criteria.entries[c].form
                if match[2] == "levels" and match[3] is None:
                    criterion_errors[c] = message
                    continue
                if match[3] is None:
                    field = criterion[match[2]]
                elif int(match[3]) < len(criterion.levels.entries):
                    field = criterion.levels.entries[int(match[3])].form[match[4]]
        elif name in form._fields and name != "criteria":
            field = form[name]
        if field is None:
            form.form_errors.append(message)
        else:
            field.errors = [*field.errors, message]
    return criterion_errors


def _rebuilt(form: AssignmentForm, action: str) -> tuple[AssignmentForm, str | None]:
    """The form again after a rubric builder button, with everything typed kept."""
    rubric, focus, message = change_rubric(form.typed_rubric(), action)
    data = rubric_formdata(rubric)
    for key, values in request.form.lists():
        if not key.startswith("criteria-") and key != "action":
            data.setlist(key, values)
    rebuilt = AssignmentForm(formdata=data)
    if message:
        rebuilt.form_errors.append(message)
    return rebuilt, focus


def _page(form: AssignmentForm, module, assignment=None, *, focus=None,
          criterion_errors=None, status=200):
    """Render the assignment form (422 after a failed save)."""
    return render_template("peer_review/assignment_form.html", form=form, module=module,
                           assignment=assignment, focus=focus,
                           criterion_errors=criterion_errors or {}), status


def _handle(form: AssignmentForm, module, assignment, save):
    """Run a builder button, or validate and save; return the page or a redirect."""
    action = request.form.get("action", "")
    if action and action != "save":
        form, focus = _rebuilt(form, action)
        return _page(form, module, assignment, focus=focus)
    if not form.validate_on_submit():
        return _page(form, module, assignment, status=422)
    try:
        save(**form.values())
    except Invalid as error:
        return _page(form, module, assignment, criterion_errors=_show_errors(form, error),
                     status=422)
    return None


@bp.route("/modules/<int:module_id>/assignments/new", methods=["GET", "POST"])
@login_required
def new_assignment(module_id: int):
    """Add a practice assignment (with its rubric) to a module."""
    user = current_user._get_current_object()
    module = services.get_authoring_module(user, module_id)
    if request.method == "GET":
        form = AssignmentForm(formdata=None, data={
            "criteria": [{"title": "", "description": "", "levels": STARTER_LEVELS}]})
        return _page(form, module)
    form = AssignmentForm()
    page = _handle(form, module, None,
                   lambda **values: services.add_assignment(user, module_id, **values))
    if page is not None:
        return page
    flash(f"Assignment “{form.title.data.strip()}” added.", "success")
    return _program_page(module)


@bp.route("/modules/<int:module_id>/assignments/<int:assignment_id>/edit",
          methods=["GET", "POST"])
@login_required
def edit_assignment(module_id: int, assignment_id: int):
    """Change a practice assignment and its rubric."""
    user = current_user._get_current_object()
    module = services.get_authoring_module(user, module_id)
    assignment = services.get_assignment_for(user, module_id, assignment_id)
    if request.method == "GET":
        form = AssignmentForm(formdata=None, obj=assignment, data={"criteria": [
            {"title": c.title, "description": c.description,
             "levels": [{"label": lv.label, "points": lv.points} for lv in c.levels]}
            for c in assignment.rubric.criteria]})
        return _page(form, module, assignment)
    form = AssignmentForm()
    page = _handle(form, module, assignment,
                   lambda **values: services.update_assignment(user, module_id,
                                                               assignment_id, **values))
    if page is not None:
        return page
    flash("Assignment saved. Running cohorts keep the version they were launched with.",
          "success")
    return _program_page(module)


@bp.route("/modules/<int:module_id>/assignments/<int:assignment_id>/delete",
          methods=["GET", "POST"])
@login_required
def delete_assignment(module_id: int, assignment_id: int):
    """Confirm, then delete a practice assignment and its rubric."""
    user = current_user._get_current_object()
    module = services.get_authoring_module(user, module_id)
    assignment = services.get_assignment_for(user, module_id, assignment_id)
    form = DeleteForm()
    if form.validate_on_submit():
        title = assignment.title
        services.delete_assignment(user, module_id, assignment_id)
        flash(f"Assignment “{title}” deleted. Running cohorts keep their copies.", "success")
        return _program_page(module)
    return render_template("peer_review/assignment_delete.html", form=form, module=module,
                           assignment=assignment)
