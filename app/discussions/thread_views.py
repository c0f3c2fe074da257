"""Thread pages: reading a staged discussion and writing in it through plain forms (they
work without JavaScript), and the post pages (reply, edit, delete, revisions). The page's
script saves drafts through the API (``PUT /api/v1/threads/{id}/draft``) and turns a
post's "Reply" link into a composer on the page.

The thread page renders every post of the thread, so what is the same for each post is
worked out once per page: the addresses (:func:`post_urls`), the form token, the viewer's
time zone; the reactions of all posts go through one form.

Every write redirects back to the thread at the post it touched. A refused write shows the
thread page again with the reason and with the text that was typed, never an error page
that loses it — the same for an expired form token and for the posting rate limit (see
:func:`_refused_before_the_view`).
"""

from dataclasses import dataclass
from functools import wraps

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError, generate_csrf

from app.accounts.forms import apply_errors
from app.db import MAX_ID, utcnow
from app.discussions import forms, posting, reading
from app.discussions.anonymity import AuthorView
from app.discussions.posts import PostView, list_revisions
from app.discussions.threads import STAGE_LABELS, STAGES
from app.errors import (
    CSRF_FAILED,
    Conflict,
    DomainError,
    Invalid,
    NotAllowed,
    NotFound,
    render_error,
)
from app.extensions import limiter
from app.security import per_person, posting_rate_limit

bp = Blueprint("threads", __name__)

#: The id the page's <template> of a post carries in its addresses and element ids;
#: the thread script puts a new post's id in its place.
TEMPLATE_POST_ID = MAX_ID

FORM_EXPIRED = "Your session's form token expired; your text is below — post again."
TOO_FAST = ("You are posting faster than the limit allows. Wait a minute, then post again; "
            "your text is below.")


#: New posts and edits share one budget per person with the API's.
posting_limit = limiter.shared_limit(posting_rate_limit, scope="posting",
                                     key_func=per_person, methods=["POST"])


def _user():
    """The signed-in user (not the proxy)."""
    return current_user._get_current_object()


#: The routes whose form carries a post's text.
COMPOSERS = ("threads.create_post", "threads.reply", "threads.edit_post")


def _signed_out_with_text():
    """A composer's text sent after the session ended: shown back with a way to sign in,
    rather than a sign-in redirect that would lose it (401)."""
    args = request.view_args or {}
    back_to = (url_for("threads.thread", thread_id=args["thread_id"]) if "thread_id" in args
               else url_for(f"threads.{request.endpoint.split('.')[1]}",
                            post_id=args["post_id"]))
    return render_template("discussions/signed_out.html", text=request.form.get("body", ""),
                           back_to=back_to), 401


def keeps_text_when_signed_out(view):
    """``login_required`` for composers: a POST from someone no longer signed in gets its
    text back (:func:`_signed_out_with_text`) instead of a redirect that drops it."""
    guarded = login_required(view)

    @wraps(view)
    def check(**kwargs):
        if request.method == "POST" and not current_user.is_authenticated:
            return _signed_out_with_text()
        return guarded(**kwargs)
    return check


@dataclass
class KeptText:
    """What someone typed into a composer that was not posted, shown again with why."""

    text: str
    #: The post the text replies to (None: the top-level composer).
    parent_id: int | None = None
    anonymous: bool = False
    message: str = ""
    #: A problem with the text itself (Invalid), shown under the textarea.
    field_error: str | None = None


#: The post pages a thread page links from every post, by name.
POST_PAGES = {"reply": "threads.reply", "edit": "threads.edit_post",
              "delete": "threads.delete_post", "revisions": "threads.revisions",
              "flag": "moderation.flag_post", "moderate": "moderation.moderate_post",
              "reveal": "moderation.request_reveal"}


def post_urls() -> dict[str, str]:
    """The post pages' addresses as ``%d`` patterns ("/posts/%d/edit"), built once for a
    page that links every post: ``url_for`` for each post was a fifth of the page's time."""
    marker = str(TEMPLATE_POST_ID)
    return {name: url_for(endpoint, post_id=TEMPLATE_POST_ID).replace("%", "%%")
            .replace(marker, "%d") for name, endpoint in POST_PAGES.items()}


def _render_thread(page: reading.ThreadPage, *, kept: KeptText | None = None,
                   message: str | None = None, status: int = 200):
    """The thread page; ``kept`` puts a refused text back where it was typed, ``message``
    says why something was refused."""
    access = page.access
    thread = access.thread
    stages = [(STAGE_LABELS[name], at) for name, at in zip(STAGES, access.opens, strict=True)]
    # Top-level posts that take replies (a new one arriving live too: the template's).
    reply_to = {view.id for view in page.posts if access.can_reply and view.state == "shown"}
    if access.can_reply:
        reply_to.add(TEMPLATE_POST_ID)
    kept_in = None
    if kept is not None:
        if kept.parent_id is None and page.composer:
            kept_in = 0
        elif kept.parent_id in reply_to:
            kept_in = kept.parent_id
    # A reply being written comes back open under its post, with its text: a draft, or
    # the text of a refused reply. Every other post offers a "Reply" link.
    replies_open = {parent_id: text for parent_id, text in page.drafts.items()
                    if parent_id in reply_to and text}
    if kept_in:
        replies_open[kept_in] = kept.text
    return render_template(
        "discussions/thread.html", page=page, access=access, thread=thread,
        cohort=access.viewer.cohort, module=access.module, stages=stages,
        kept=kept, kept_in=kept_in, reply_to=reply_to, replies_open=replies_open,
        message=message or (kept.message if kept else None),
        csrf=generate_csrf(), post_url=post_urls(), zone=access.viewer.user.timezone,
        can_react=access.can_react,
        template_post_id=TEMPLATE_POST_ID,
        template_posts={"top": _template_post(page, None),
                        "reply": _template_post(page, TEMPLATE_POST_ID)}), status


def _template_post(page: reading.ThreadPage, parent_id: int | None) -> PostView:
    """The blank post the page's <template> is rendered from (the thread script fills in
    a new post's author, time, text and counts)."""
    nobody = AuthorView(label="", pseudonym=None, name=None, user_id=None, is_you=False,
                        anonymous=False, is_staff=False)
    return PostView(id=TEMPLATE_POST_ID, thread_id=page.access.thread.id, parent_id=parent_id,
                    kind="reply" if parent_id else "reflection", author=nobody,
                    state="shown", body_html="", created_at=page.access.now, edited=False,
                    version=1, pinned=False, highlighted=False,
                    reactions={"insightful": 0, "thanks": 0},
                    can_delete=page.access.is_staff)


def _thread_again(thread_id: int, status: int, *, kept: KeptText | None = None,
                  message: str | None = None):
    """The thread page once more, with why something was refused and any text that was
    not posted."""
    page = reading.get_thread_page(_user(), thread_id, now=utcnow())
    return _render_thread(page, kept=kept, message=message, status=status)


def _at_post(thread_id: int, post_id: int):
    """Back to the thread, at a post."""
    return redirect(url_for("threads.thread", thread_id=thread_id, _anchor=f"post-{post_id}"))


@bp.get("/threads/<int:thread_id>")
@login_required
def thread(thread_id: int):
    """A thread: its prompt, stage and dates, what the viewer may do now, and the posts
    (once a learner has posted their own reflection)."""
    page = reading.get_thread_page(_user(), thread_id, now=utcnow())
    reading.note_seen(page)  # after the response, and only when it moved
    return _render_thread(page)


#: What the author is told once a post is up, by kind.
POSTED = {"reflection": "Your reflection is posted.", "reply": "Your reply is posted.",
          "synthesis": "Your synthesis is posted."}


@bp.post("/threads/<int:thread_id>/posts")
@keeps_text_when_signed_out
@posting_limit
def create_post(thread_id: int):
    """Post a reflection, synthesis or (with ``parent_id``) a reply."""
    form = forms.PostForm()
    kept = KeptText(text=form.body.data or "", parent_id=form.parent_id.data,
                    anonymous=bool(form.anonymous.data))
    if not form.validate():
        kept.message = "That reply went to a post this page does not show. Reload and try again."
        return _thread_again(thread_id, Invalid.status, kept=kept)
    try:
        view = posting.create_post(_user(), thread_id, body=kept.text,
                                   anonymous=kept.anonymous, parent_id=kept.parent_id,
                                   now=utcnow())
    except (NotAllowed, Conflict, Invalid) as error:
        kept.message = error.message
        kept.field_error = error.fields.get("body") or error.fields.get("anonymous")
        return _thread_again(thread_id, error.status, kept=kept)
    flash(POSTED[view.kind], "success")
    return _at_post(thread_id, view.id)


def _render_reply(page: reading.ReplyPage, *, kept: KeptText | None = None,
                  status: int = 200):
    """The reply page; ``kept``: a refused reply's text, with why."""
    access = page.access
    return render_template("discussions/post_reply.html", page=page, access=access,
                           target=page.target, kept=kept,
                           zone=access.viewer.user.timezone), status


@bp.route("/posts/<int:post_id>/reply", methods=["GET", "POST"])
@keeps_text_when_signed_out
@posting_limit
def reply(post_id: int):
    """Reply to a post on a page of its own (the thread page's "Reply" link without
    JavaScript); a refused reply comes back with its text."""
    user = _user()
    now = utcnow()
    page = reading.get_reply_page(user, post_id, now=now)
    if request.method == "GET":
        posting.check_can_reply(page.access, page.target.post)
        return _render_reply(page)
    form = forms.PostForm()
    kept = KeptText(text=form.body.data or "", parent_id=post_id,
                    anonymous=bool(form.anonymous.data))
    try:
        view = posting.create_post(user, page.access.thread.id, body=kept.text,
                                   anonymous=kept.anonymous, parent_id=post_id, now=now)
    except (NotAllowed, Conflict, Invalid) as error:
        kept.message = error.message
        kept.field_error = error.fields.get("body") or error.fields.get("anonymous")
        return _render_reply(page, kept=kept, status=error.status)
    flash(POSTED[view.kind], "success")
    return _at_post(view.thread_id, view.id)


def _render_edit(target: reading.PostInThread, form: forms.EditPostForm, *,
                 conflict: dict | None = None, status: int = 200):
    """The edit page (``conflict``: the version saved meanwhile, shown beside the text)."""
    return render_template("discussions/post_edit.html", form=form, target=target,
                           access=target.access, conflict=conflict), status


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
@keeps_text_when_signed_out
@posting_limit
def edit_post(post_id: int):
    """Change one's own post; a version saved meanwhile is shown beside the text typed."""
    user = _user()
    now = utcnow()
    target = reading.get_post_view(user, post_id, now=now)
    posting.check_can_edit(target.access, target.post)
    form = forms.EditPostForm()
    if request.method == "GET":
        form.body.data, form.version.data = target.post.body, target.post.version
        return _render_edit(target, form)
    try:
        posting.edit_post(user, post_id, body=form.body.data or "",
                          version=form.version.data or 0, now=now)
    except Conflict as error:
        if error.code != "stale_version":
            form.form_errors.append(error.message)
            return _render_edit(target, form, status=error.status)
        # The text typed stays; saving again from here replaces the version saved meanwhile.
        again = forms.EditPostForm(formdata=None, data={
            "body": error.details["your_body"], "version": error.details["current_version"]})
        again.form_errors.append(error.message)
        return _render_edit(target, again, conflict=error.details, status=error.status)
    except Invalid as error:
        apply_errors(form, error)
        return _render_edit(target, form, status=error.status)
    except NotAllowed as error:
        form.form_errors.append(error.message)
        return _render_edit(target, form, status=error.status)
    flash("Your changes are saved.", "success")
    return _at_post(target.access.thread.id, post_id)


@bp.route("/posts/<int:post_id>/delete", methods=["GET", "POST"])
@login_required
def delete_post(post_id: int):
    """Confirm, then delete a post (its author, or a facilitator)."""
    user = _user()
    now = utcnow()
    target = reading.get_post_view(user, post_id, now=now)
    if target.view.state == "deleted":
        flash("That post is already deleted.", "info")
        return redirect(url_for("threads.thread", thread_id=target.access.thread.id,
                                _anchor="posts"))
    if not target.view.can_delete:
        raise NotAllowed("Only the author or a facilitator can delete a post.",
                         code="not_author")
    form = forms.DeletePostForm()
    if form.validate_on_submit():
        posting.delete_post(user, post_id, now=now)
        flash("The post is deleted. Replies to it stay in the discussion.", "success")
        return redirect(url_for("threads.thread", thread_id=target.access.thread.id,
                                _anchor="posts"))
    return render_template("discussions/post_delete.html", form=form, target=target,
                           access=target.access)


@bp.get("/posts/<int:post_id>/revisions")
@login_required
def revisions(post_id: int):
    """Earlier texts of an edited post, for its author and the staff."""
    target = reading.get_post_view(_user(), post_id, now=utcnow())
    return render_template("discussions/post_revisions.html", target=target,
                           access=target.access,
                           revisions=list_revisions(target.access, target.post))


@bp.post("/threads/<int:thread_id>/reactions")
@login_required
def react(thread_id: int):
    """Add a reaction to a post of the thread or take it back: the page's reaction buttons
    share one form and each says which post, which reaction and which way."""
    user = _user()
    now = utcnow()
    reaction = forms.ReactionForm().parsed()
    if reaction is None:
        raise NotFound()
    post_id, kind, on = reaction
    target = reading.get_post_view(user, post_id, now=now)
    if target.access.thread.id != thread_id:
        raise NotFound()
    try:
        posting.react(user, post_id, kind, on=on, now=now)
    except (NotAllowed, Conflict, Invalid) as error:
        message = " ".join(error.fields.values()) if error.fields else error.message
        return _thread_again(thread_id, error.status, message=message)
    return _at_post(thread_id, post_id)


# --- refused before the view ran -----------------------------------------------------------

def _typed_text_again(message: str, status: int, headers: dict | None = None):
    """The composer's page again with the text that was sent, or None when the request was
    not a composer's (those get the usual error)."""
    if request.endpoint not in COMPOSERS or request.method != "POST":
        return None
    if not current_user.is_authenticated:  # the session ended, and its form token with it
        return _signed_out_with_text()
    args = request.view_args or {}
    text = request.form.get("body", "")
    anonymous = request.form.get("anonymous") == "y"
    try:
        if request.endpoint == "threads.create_post":
            parent_id = request.form.get("parent_id", type=int)
            body, status = _thread_again(args["thread_id"], status, kept=KeptText(
                text=text, parent_id=parent_id, message=message, anonymous=anonymous))
        elif request.endpoint == "threads.reply":
            page = reading.get_reply_page(_user(), args["post_id"], now=utcnow())
            body, status = _render_reply(page, status=status, kept=KeptText(
                text=text, parent_id=args["post_id"], message=message, anonymous=anonymous))
        else:
            target = reading.get_post_view(_user(), args["post_id"], now=utcnow())
            posting.check_can_edit(target.access, target.post)
            form = forms.EditPostForm(formdata=None, data={
                "body": text, "version": request.form.get("version", type=int)})
            form.form_errors.append(message)
            body, status = _render_edit(target, form, status=status)
    except DomainError:
        return None  # nothing to show it on (the thread is gone, say): the usual error
    return body, status, headers or {}


@bp.errorhandler(CSRFError)
def _refused_before_the_view(error: CSRFError):
    """An expired or missing form token: a composer's text comes back on its page."""
    return _typed_text_again(FORM_EXPIRED, 400) or render_error(400, "csrf_failed",
                                                                  CSRF_FAILED)


@bp.errorhandler(RateLimitExceeded)
def _posting_too_fast(error: RateLimitExceeded):
    """Over the posting limit: a composer's text comes back on its page, with when to
    try again; anything else gets the usual 429."""
    retry = {name: value for name, value in error.get_headers()
             if name.lower() == "retry-after"}
    return _typed_text_again(TOO_FAST, 429, retry) or render_error(
        429, "rate_limited", "Too many requests; wait a little and try again.", headers=retry)
