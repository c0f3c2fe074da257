"""Peer review work pages: an assignment as its viewer meets it (submit, ask for a peer's
work, what they gave and got), the rubric review, the author's results with ratings and
flags, the attachment download, and the facilitators' review board with its actions.

Every page works without JavaScript; the board's script only fetches the page again when
a review changes. Every write redirects (post/redirect/get); a refused write shows its page
again with the reason next to the field and everything typed kept, never an error page
that loses it.
"""

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError

from app.accounts.forms import apply_errors
from app.db import utcnow
from app.errors import CSRF_FAILED, Conflict, Invalid, NotAllowed, NotFound, render_error
from app.peer_review import attachments, board, overview, results, reviewing, submitting
from app.peer_review.submitting import Upload
from app.peer_review.work_forms import (
    AssignForm,
    FlagReviewForm,
    HideReviewForm,
    RatingForm,
    RequestReviewForm,
    ReviewForm,
    SubmitWorkForm,
)

bp = Blueprint("peer_work", __name__)

#: The submit form's request may carry a 10 MB file and its text: a little over, so a
#: larger file reaches the service, which says how large it may be, instead of a bare 413.
SUBMIT_REQUEST_LIMIT = 11 * 1024 * 1024
FORM_EXPIRED = "Your session's form token expired; your text is below — send it again."


def _user():
    """The signed-in user (not the proxy)."""
    return current_user._get_current_object()


@bp.url_value_preprocessor
def _room_for_an_attachment(endpoint: str | None, values: dict | None) -> None:
    """Raise the request size limit for the submit form only. This runs before every
    ``before_request`` function (the NUL check and the CSRF check read the form first)."""
    if endpoint == "peer_work.submit_work" and request.method == "POST":
        request.max_content_length = SUBMIT_REQUEST_LIMIT


# --- the assignment -----------------------------------------------------------------------------

def _render_assignment(view: overview.Overview, *, form: SubmitWorkForm | None = None,
                       message: str | None = None, status: int = 200):
    """The assignment page; ``form``: a refused submission with its text and errors,
    ``message``: why asking for a peer's work was refused."""
    access = view.access
    submission = view.submission
    if form is None:
        form = SubmitWorkForm(formdata=None, data={"body": submission.body if submission
                                                   else ""})
    if submission is not None:
        form.body.label.text = "A new version of your work"
    versions = (submitting.list_versions(access.viewer.user, submission.id, now=access.now)
                if submission is not None else [])
    return render_template(
        "peer_review/assignment.html", view=view, access=access,
        assignment=access.assignment, cohort=access.cohort, module=access.module,
        submission=submission, versions=versions, form=form, message=message,
        attachment_name=(submitting.attachment_name_for(submission, access)
                         if submission is not None and submission.attachment_key else ""),
        ask_form=RequestReviewForm()), status


def _assignment_again(assignment_id: int, status: int, **kwargs):
    """The assignment page once more, after a refused write."""
    view = overview.get_overview(_user(), assignment_id, now=utcnow())
    return _render_assignment(view, status=status, **kwargs)


@bp.get("/assignments/<int:assignment_id>")
@login_required
def assignment(assignment_id: int):
    """The assignment: instructions, dates, rubric, and what the viewer does now."""
    return _render_assignment(overview.get_overview(_user(), assignment_id, now=utcnow()))


@bp.post("/assignments/<int:assignment_id>/submission")
@login_required
def submit_work(assignment_id: int):
    """Submit or re-submit the learner's work (text and an optional file)."""
    form = SubmitWorkForm()
    upload = form.upload()
    try:
        submitting.submit_work(
            _user(), assignment_id, body=form.body.data or "",
            upload=Upload(*upload) if upload else None,
            keep_attachment=not form.remove_attachment.data, now=utcnow())
    except (Invalid, Conflict, NotAllowed) as error:
        apply_errors(form, error)
        return _assignment_again(assignment_id, error.status, form=form)
    flash("Your work is submitted.", "success")
    return redirect(url_for(".assignment", assignment_id=assignment_id, _anchor="your-work"))


@bp.post("/assignments/<int:assignment_id>/reviews")
@login_required
def request_review(assignment_id: int):
    """Give the learner a peer's work to review (or back the one they are reviewing)."""
    form = RequestReviewForm()
    try:
        review = reviewing.request_review(_user(), assignment_id, now=utcnow(),
                                          only_short=bool(form.only_short.data))
    except (Conflict, NotAllowed) as error:
        return _assignment_again(assignment_id, error.status, message=error.message)
    return redirect(url_for(".review", review_id=review.id))


# --- the review form ----------------------------------------------------------------------------

def _values_of(ra: reviewing.ReviewAccess) -> tuple[dict, dict, str]:
    """The review's saved levels (points) and comments by criterion id, and its overall
    comment."""
    points = {lv.id: lv.points for c in ra.rubric.criteria for lv in c.levels}
    scores = {s.criterion_id: points.get(s.level_id) for s in ra.review.scores}
    comments = {s.criterion_id: s.comment for s in ra.review.scores}
    return scores, comments, ra.review.comment


def _render_review(ra: reviewing.ReviewAccess, form: ReviewForm | None = None, *,
                   typed: tuple[dict, dict] | None = None, errors: dict | None = None,
                   findings=(), message: str | None = None, status: int = 200):
    """The review page; ``typed``: the levels and comments sent (kept after a refusal),
    ``errors``: the service's field errors, ``findings``: the kindness check's."""
    scores, comments, comment = _values_of(ra)
    if typed is not None:
        scores, comments = typed
    if form is None:
        form = ReviewForm(formdata=None, data={"comment": comment})
    submission = ra.submission
    viewer = ra.access.viewer
    view = None
    if not (ra.is_reviewer and ra.is_open):
        view = results.review_view(ra.review, ra.rubric, viewer, "",
                                   double_blind=ra.access.assignment.double_blind)
    return render_template(
        "peer_review/review.html", ra=ra, access=ra.access, assignment=ra.access.assignment,
        cohort=ra.access.cohort, review=ra.review, submission=submission, rubric=ra.rubric,
        form=form, scores=scores, comments=comments, errors=errors or {},
        findings=findings, message=message, view=view,
        author=results.work_author(ra), reviewer=results.reviewer_of(ra),
        attachment_name=(submitting.attachment_name_for(submission, ra.access)
                         if submission.attachment_key else "")), status


@bp.route("/reviews/<int:review_id>", methods=["GET", "POST"])
@login_required
def review(review_id: int):
    """A peer's work and the rubric: save a draft, submit, or submit after the kindness
    nudge; a submitted review shows read-only."""
    user, now = _user(), utcnow()
    ra = reviewing.get_review_for(user, review_id, now=now)
    if request.method == "GET":
        return _render_review(ra)
    form = ReviewForm()
    typed = form.rubric_values(c.id for c in ra.rubric.criteria)
    anyway = bool(form.submit_anyway.data)
    try:
        outcome = reviewing.save_review(
            user, review_id, scores=typed[0], comments=typed[1],
            comment=form.comment.data or "", submit=anyway or bool(form.submit.data),
            submit_anyway=anyway, now=now)
    except Invalid as error:
        apply_errors(form, error)
        return _render_review(ra, form, typed=typed, errors=error.fields,
                              message=error.message, status=error.status)
    except (Conflict, NotAllowed) as error:
        return _render_review(ra, form, typed=typed, message=error.message,
                              status=error.status)
    if outcome.status == "nudged":
        return _render_review(ra, form, typed=typed, findings=outcome.findings)
    if outcome.status == "saved":
        flash("Your draft is saved. Come back to it before it expires.", "success")
        return redirect(url_for(".review", review_id=review_id))
    if outcome.status == "held":
        flash("Your review is submitted. A facilitator will read it before the author does.",
              "success")
    else:
        flash("Your review is submitted. Thank you: the author reads it once their results "
              "open.", "success")
    return redirect(url_for(".assignment", assignment_id=ra.access.assignment.id))


# --- the author's results -----------------------------------------------------------------------

def _render_results(view: results.SubmissionView, *, refused: tuple[int, object] | None = None,
                    status: int = 200):
    """The results page; ``refused``: (review id, the rating or flag form sent, with its
    errors and text)."""
    rating_forms, flag_forms = {}, {}
    author = not view.access.viewer.is_staff
    for r in view.reviews if author else ():
        rating_forms[r.id] = RatingForm(formdata=None, prefix=f"rate-{r.id}", data={
            "helpfulness": str(r.helpfulness) if r.helpfulness else None,
            "comment": r.helpfulness_comment})
        flag_forms[r.id] = FlagReviewForm(formdata=None, prefix=f"flag-{r.id}")
    if refused is not None:
        review_id, form = refused
        (flag_forms if isinstance(form, FlagReviewForm) else rating_forms)[review_id] = form
    access = view.access
    submission = view.submission
    return render_template(
        "peer_review/results.html", view=view, access=access, assignment=access.assignment,
        cohort=access.cohort, submission=submission, rating_forms=rating_forms,
        flag_forms=flag_forms,
        attachment_name=(submitting.attachment_name_for(submission, access)
                         if submission.attachment_key else "")), status


@bp.get("/submissions/<int:submission_id>")
@login_required
def submission(submission_id: int):
    """The author's work with the reviews they may read now (the staff: all, with names)."""
    return _render_results(results.get_submission_view(_user(), submission_id, now=utcnow()))


@bp.post("/reviews/<int:review_id>/rating")
@login_required
def rate_review(review_id: int):
    """The author rates a review's helpfulness, or flags it as harmful."""
    user, now = _user(), utcnow()
    flagging = any(key.startswith(f"flag-{review_id}-") for key in request.form)
    form = (FlagReviewForm(prefix=f"flag-{review_id}") if flagging
            else RatingForm(prefix=f"rate-{review_id}"))
    try:
        if flagging:
            rated = results.rate_review(user, review_id, helpfulness=None,
                                        flag_reason=form.flag_reason.data or "", now=now)
        else:
            rated = results.rate_review(user, review_id, helpfulness=form.rating(),
                                        comment=form.comment.data or "", now=now)
    except (Invalid, Conflict) as error:
        apply_errors(form, error)
        view = results.get_submission_view(user, results.submission_id_of(review_id),
                                           now=now)
        return _render_results(view, refused=(review_id, form), status=error.status)
    flash("Thank you: a facilitator will look at this review." if flagging
          else "Thank you for rating this review.", "success")
    return redirect(url_for(".submission", submission_id=rated.submission_id,
                            _anchor=f"review-{review_id}"))


@bp.get("/submissions/<int:submission_id>/attachment")
@login_required
def attachment(submission_id: int):
    """The submission's file, for its author, the staff and its reviewers (404 for anyone
    else), always downloaded rather than shown, never cached."""
    path, name, media_type = submitting.get_attachment_for(_user(), submission_id,
                                                           now=utcnow())
    if not path.is_file():
        raise NotFound()
    response: Response = send_file(path, mimetype=media_type, as_attachment=True,
                                   download_name=name, conditional=False, etag=False)
    response.headers["Content-Disposition"] = attachments.content_disposition(name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the review board ---------------------------------------------------------------------------

def _render_board(view: board.Board, *, hide_errors: dict | None = None,
                  assign_errors: dict | None = None, status: int = 200):
    """The board; ``hide_errors``: review id -> (message, the reason typed),
    ``assign_errors``: submission id -> message."""
    access = view.access
    return render_template(
        "peer_review/board.html", board=view, access=access, assignment=access.assignment,
        cohort=access.cohort, module=access.module, now=access.now,
        hide_errors=hide_errors or {}, assign_errors=assign_errors or {}), status


def _back_to_board(assignment_id: int):
    """Back to the board."""
    return redirect(url_for(".board_page", assignment_id=assignment_id))


@bp.get("/assignments/<int:assignment_id>/board")
@login_required
def board_page(assignment_id: int):
    """The facilitators' review board (learners: 403, outsiders: 404)."""
    return _render_board(board.get_board(_user(), assignment_id, now=utcnow()))


@bp.post("/assignments/<int:assignment_id>/board/assign")
@login_required
def assign_review(assignment_id: int):
    """"Review it myself" (no learner chosen) or "assign to" a learner."""
    user, now = _user(), utcnow()
    form = AssignForm()
    submission_id, reviewer_id = form.ids()
    try:
        review = reviewing.assign_review(user, submission_id, reviewer_id=reviewer_id,
                                         assignment_id=assignment_id, now=now)
    except (Invalid, Conflict) as error:
        message = error.fields.get("reviewer_id", error.message) if error.fields \
            else error.message
        return _render_board(board.get_board(user, assignment_id, now=now),
                             assign_errors={submission_id: message}, status=error.status)
    if reviewer_id is None:
        return redirect(url_for(".review", review_id=review.id))
    flash("The work is assigned; the learner finds it on the assignment's page.", "success")
    return _back_to_board(assignment_id)


@bp.post("/reviews/<int:review_id>/reassign")
@login_required
def reassign_review(review_id: int):
    """End an unfinished review now, so its work goes back to the pool."""
    return _board_action(review_id, lambda user, now: reviewing.release_allocation(
        user, review_id, now=now), "The review is ended; the work goes to the next reviewer "
                                   "who asks.")


@bp.post("/reviews/<int:review_id>/release")
@login_required
def release_review(review_id: int):
    """Pass a held or flagged review on to its author."""
    return _board_action(review_id, lambda user, now: board.release_review(
        user, review_id, now=now), "The review is passed on to its author.")


@bp.post("/reviews/<int:review_id>/hide")
@login_required
def hide_review(review_id: int):
    """Hide a review from its author, with a reason its reviewer reads."""
    user, now = _user(), utcnow()
    form = HideReviewForm()
    reason = form.reason.data or ""
    try:
        hidden = board.hide_review(user, review_id, reason=reason, now=now)
    except Invalid as error:
        assignment_id = reviewing.get_review_for(user, review_id, now=now
                                                 ).access.assignment.id
        return _render_board(board.get_board(user, assignment_id, now=now),
                             hide_errors={review_id: (error.message, reason)},
                             status=error.status)
    except Conflict as error:
        flash(error.message, "error")
        return _back_to_board(reviewing.get_review_for(user, review_id, now=now)
                              .access.assignment.id)
    flash("The review is hidden; its reviewer is told why.", "success")
    return _back_to_board(hidden.cohort_assignment_id)


def _board_action(review_id: int, act, done: str):
    """Run a board button's service call; back to the board with what happened."""
    user, now = _user(), utcnow()
    try:
        changed = act(user, now)
    except Conflict as error:
        flash(error.message, "error")
        return _back_to_board(reviewing.get_review_for(user, review_id, now=now)
                              .access.assignment.id)
    flash(done, "success")
    return _back_to_board(changed.cohort_assignment_id)


# --- refused before the view ran ----------------------------------------------------------------

@bp.errorhandler(CSRFError)
def _form_expired(error: CSRFError):
    """An expired form token: the work or the review typed comes back on its page (when
    the session is still there to show the page to)."""
    args = request.view_args or {}
    if not current_user.is_authenticated:
        return render_error(400, "csrf_failed", CSRF_FAILED)
    if request.endpoint == "peer_work.submit_work":
        form = SubmitWorkForm(formdata=None, data={"body": request.form.get("body", "")})
        form.form_errors.append(FORM_EXPIRED)
        return _assignment_again(args["assignment_id"], 400, form=form)
    if request.endpoint == "peer_work.review" and request.method == "POST":
        ra = reviewing.get_review_for(_user(), args["review_id"], now=utcnow())
        form = ReviewForm(formdata=None, data={"comment": request.form.get("comment", "")})
        typed = ReviewForm.rubric_values(c.id for c in ra.rubric.criteria)
        return _render_review(ra, form, typed=typed, message=FORM_EXPIRED, status=400)
    return render_error(400, "csrf_failed", CSRF_FAILED)
