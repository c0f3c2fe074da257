"""Discussion prompt pages: the program owner adds, edits and deletes a module's prompts."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.accounts.forms import apply_errors
from app.discussions import services
from app.discussions.forms import DeleteForm, PromptForm
from app.errors import Invalid

bp = Blueprint("discussions", __name__)


def _program_page(module):
    """Back to the module on its program's page."""
    return redirect(url_for("cohorts.program", program_id=module.program_id,
                            _anchor=f"module-{module.id}"))


def _save(form: PromptForm, save) -> bool:
    """Validate and save a submitted form; False (with errors on the form) when it fails."""
    if not form.validate_on_submit():
        return False
    try:
        save(**form.values())
    except Invalid as error:
        apply_errors(form, error)
        return False
    return True


@bp.route("/modules/<int:module_id>/prompts/new", methods=["GET", "POST"])
@login_required
def new_prompt(module_id: int):
    """Add a discussion prompt to a module."""
    user = current_user._get_current_object()
    module = services.get_authoring_module(user, module_id)
    form = PromptForm()
    if _save(form, lambda **values: services.add_prompt(user, module_id, **values)):
        flash(f"Prompt “{form.title.data.strip()}” added.", "success")
        return _program_page(module)
    return render_template("discussions/prompt_form.html", form=form, module=module,
                           prompt=None), 422 if request.method == "POST" else 200


@bp.route("/modules/<int:module_id>/prompts/<int:prompt_id>/edit", methods=["GET", "POST"])
@login_required
def edit_prompt(module_id: int, prompt_id: int):
    """Change a discussion prompt."""
    user = current_user._get_current_object()
    prompt = services.get_prompt_for(user, module_id, prompt_id)
    module = services.get_authoring_module(user, module_id)
    form = PromptForm(obj=prompt)
    if _save(form, lambda **values: services.update_prompt(user, module_id, prompt_id,
                                                           **values)):
        flash("Prompt saved. Running cohorts keep the version they were launched with.",
              "success")
        return _program_page(module)
    return render_template("discussions/prompt_form.html", form=form, module=module,
                           prompt=prompt), 422 if request.method == "POST" else 200


@bp.route("/modules/<int:module_id>/prompts/<int:prompt_id>/delete", methods=["GET", "POST"])
@login_required
def delete_prompt(module_id: int, prompt_id: int):
    """Confirm, then delete a discussion prompt."""
    user = current_user._get_current_object()
    prompt = services.get_prompt_for(user, module_id, prompt_id)
    module = services.get_authoring_module(user, module_id)
    form = DeleteForm()
    if form.validate_on_submit():
        title = prompt.title
        services.delete_prompt(user, module_id, prompt_id)
        flash(f"Prompt “{title}” deleted. Running cohorts keep their discussions.", "success")
        return _program_page(module)
    return render_template("discussions/prompt_delete.html", form=form, module=module,
                           prompt=prompt)
