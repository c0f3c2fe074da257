"""Moderation pages: a member's report form, facilitators' actions on posts and threads
(from the thread page and the flag queue), the flag queue, mutes, and break-glass reveals.
"""

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.accounts.forms import apply_errors
from app.db import parse_id, utcnow
from app.discussions import moderation, reveals
from app.discussions.moderation_forms import (
    MUTE_DAYS,
    ConfirmForm,
    FlagForm,
    ModerationForm,
    MuteForm,
    RevealRequestForm,
)
from app.errors import Conflict, DomainError, Invalid
from app.extensions import limiter
from app.security import flag_rate_limit, is_local_path, per_person

bp = Blueprint("moderation", __name__)

#: What a facilitator is told once an action is done.
DONE = {
    "hide": "The post is hidden; its author has been told why.",
    "restore": "The post is shown and its reports are closed.",
    "pin": "The post is pinned to the top of the discussion.",
    "unpin": "The post is no longer pinned.",
    "highlight": "The post is highlighted.",
    "unhighlight": "The post is no longer highlighted.",
    "lock": "The discussion is locked: learners can read but not post.",
    "unlock": "The discussion is open for posting again.",
    "advance_stage": "The discussion has moved to its next stage; members have been told.",
}


def thread_page(thread_id: int, post_id: int | None = None) -> str:
    """The thread's page, at a post (by path until the thread page's endpoint lands)."""
    return f"/threads/{thread_id}" + (f"#post-{post_id}" if post_id else "")


def _back(target: str | None, fallback: str):
    """Redirect to ``target`` when it is a path on this site, else to ``fallback``."""
    return redirect(target if is_local_path(target) else fallback)


def _problem(error: DomainError) -> str:
    """An error as one sentence for a flash message."""
    return " ".join(error.fields.values()) or error.message


def _user():
    """The signed-in user (not the proxy)."""
    return current_user._get_current_object()


# --- a member's report --------------------------------------------------------------------------

@bp.route("/posts/<int:post_id>/flag", methods=["GET", "POST"])
@login_required
@limiter.limit(flag_rate_limit, key_func=per_person, methods=["POST"])
def flag_post(post_id: int):
    """Report a post to the facilitators, with a reason."""
    user, now = _user(), utcnow()
    access, post = moderation.get_post_to_flag(user, post_id, now=now)
    form = FlagForm()
    if form.validate_on_submit():
        try:
            moderation.flag_post(user, post_id, form.reason.data, now=now)
        except Invalid as error:
            apply_errors(form, error)
        except Conflict as error:
            flash(error.message, "info")
            return redirect(thread_page(post.thread_id, post.id))
        else:
            flash("Thank you for telling us. A facilitator will look at the post.", "success")
            return redirect(thread_page(post.thread_id, post.id))
    status = 422 if request.method == "POST" else 200
    return render_template("discussions/flag_form.html", form=form, post=post,
                           access=access, back=thread_page(post.thread_id, post.id)), status


# --- facilitators' actions ----------------------------------------------------------------------

@bp.post("/posts/<int:post_id>/moderate")
@login_required
def moderate_post(post_id: int):
    """Hide, restore, pin or highlight a post, then return to the thread (or the queue)."""
    user, now = _user(), utcnow()
    form = ModerationForm()
    try:
        view = moderation.moderate_post(user, post_id, form.action.data or "",
                                        form.reason.data or "", now=now)
    except (Invalid, Conflict) as error:
        flash(_problem(error), "error")
        fallback = thread_page(moderation.locate_post(user, post_id, now=now), post_id)
        return _back(form.next.data, fallback)
    flash(DONE[form.action.data], "success")
    return _back(form.next.data, thread_page(view.thread_id, view.id))


@bp.post("/threads/<int:thread_id>/moderate")
@login_required
def moderate_thread(thread_id: int):
    """Lock, unlock or advance a thread, then return to it."""
    form = ModerationForm()
    try:
        moderation.moderate_thread(_user(), thread_id, form.action.data or "",
                                   form.reason.data or "", now=utcnow())
    except (Invalid, Conflict) as error:
        flash(_problem(error), "error")
    else:
        flash(DONE[form.action.data], "success")
    return _back(form.next.data, thread_page(thread_id))


# --- the flag queue and mutes -------------------------------------------------------------------

@bp.get("/cohorts/<int:cohort_id>/flags")
@login_required
def flag_queue(cohort_id: int):
    """Posts members reported, longest waiting first, and the learners muted now (staff)."""
    user, now = _user(), utcnow()
    after = request.args.get("after", 0, type=parse_id)
    access, queue = moderation.list_flag_queue(user, cohort_id, after=after)
    more = len(queue) > moderation.QUEUE_PAGE
    queue = queue[:moderation.QUEUE_PAGE]
    return render_template(
        "discussions/flag_queue.html", access=access, cohort=access.cohort, queue=queue,
        mutes=moderation.list_mutes(user, cohort_id, now=now), after=after,
        next_after=queue[-1].cursor if more else None, thread_page=thread_page,
        here=url_for("moderation.flag_queue", cohort_id=cohort_id))


@bp.route("/cohorts/<int:cohort_id>/members/<int:user_id>/mute", methods=["GET", "POST"])
@login_required
def mute_member(cohort_id: int, user_id: int):
    """Mute a learner for a while (or change a mute), with a reason."""
    user, now = _user(), utcnow()
    current = moderation.get_member_mute(user, cohort_id, user_id, now=now)
    form = MuteForm()
    if form.validate_on_submit():
        try:
            moderation.mute_member(user, cohort_id, user_id,
                                   until=now + timedelta(days=int(form.days.data)),
                                   reason=form.reason.data, now=now)
        except Invalid as error:
            apply_errors(form, error)
        else:
            flash(f"{current.member.display_name} is muted for "
                  f"{MUTE_DAYS[form.days.data]}.", "success")
            return redirect(url_for("moderation.flag_queue", cohort_id=cohort_id))
    status = 422 if request.method == "POST" else 200
    return render_template("discussions/mute_form.html", form=form, current=current,
                           cohort=current.access.cohort, unmute_form=ConfirmForm()), status


@bp.post("/cohorts/<int:cohort_id>/members/<int:user_id>/unmute")
@login_required
def unmute_member(cohort_id: int, user_id: int):
    """End a learner's mute now."""
    try:
        moderation.unmute_member(_user(), cohort_id, user_id, now=utcnow())
    except Conflict as error:
        flash(error.message, "info")
    else:
        flash("The mute has ended.", "success")
    return redirect(url_for("moderation.flag_queue", cohort_id=cohort_id))


# --- break-glass reveals ------------------------------------------------------------------------

@bp.route("/posts/<int:post_id>/reveal", methods=["GET", "POST"])
@login_required
def request_reveal(post_id: int):
    """Ask who wrote a post under the "everyone" policy (the owner or a site admin)."""
    user = _user()
    post, thread, _cohort = reveals.get_revealable_post(user, post_id)
    form = RevealRequestForm()
    if form.validate_on_submit():
        try:
            reveal = reveals.request_reveal(user, post_id, form.reason.data, now=utcnow())
        except Invalid as error:
            apply_errors(form, error)
        except Conflict as error:
            flash(error.message, "info")
            if reveal_id := error.details.get("reveal_id"):
                return redirect(url_for("moderation.reveal", reveal_id=reveal_id))
        else:
            flash("Your request is waiting for a second owner or admin to decide.", "success")
            return redirect(url_for("moderation.reveal", reveal_id=reveal.id))
    status = 422 if request.method == "POST" else 200
    return render_template("discussions/reveal_form.html", form=form, post=post,
                           thread=thread), status


@bp.get("/reveals/<int:reveal_id>")
@login_required
def reveal(reveal_id: int):
    """A reveal request: its reason and state, a decision for a second person, and the
    author's name for the person who asked, once approved."""
    view = reveals.get_reveal(_user(), reveal_id)
    return render_template("discussions/reveal.html", reveal=view, form=ConfirmForm())


def _decide(reveal_id: int, decide, done: str):
    """Approve or decline, then show the request."""
    try:
        decide(_user(), reveal_id, now=utcnow())
    except Conflict as error:
        flash(error.message, "info")
    else:
        flash(done, "success")
    return redirect(url_for("moderation.reveal", reveal_id=reveal_id))


@bp.post("/reveals/<int:reveal_id>/approve")
@login_required
def approve_reveal(reveal_id: int):
    """Approve a reveal (a second owner or admin)."""
    return _decide(reveal_id, reveals.approve_reveal,
                   "Approved. The person who asked can now see the name; the author has been "
                   "told.")


@bp.post("/reveals/<int:reveal_id>/decline")
@login_required
def decline_reveal(reveal_id: int):
    """Decline a reveal (a second owner or admin)."""
    return _decide(reveal_id, reveals.decline_reveal,
                   "Declined. The person who asked has been told.")
