"""Live events of threads, one presentation per audience, and the notices posts send.

A socket that asks to join ``thread:ID`` is put in one of three audience rooms, decided
by the same rules as the pages (:func:`app.discussions.threads.get_thread_for`):

- ``thread:ID:staff`` — facilitators and the program's owner: every post, with the author
  as staff may see them;
- ``thread:ID:readers`` — learners who have posted their reflection: posts as peers see
  them (pseudonyms only);
- ``thread:ID:waiting`` — learners who have not posted yet: only how many peers have
  posted, never a post.

Each event is presented once per audience, when it is queued (inside the transaction),
and emitted after the commit through the one after-commit hook, off the request thread.
A learner who posts their reflection has their sockets moved from ``waiting`` to
``readers`` before the event of their own post goes out.
"""

from dataclasses import fields

from sqlalchemy import Integer, literal, select

from app.cohorts.access import cohort_role
from app.discussions.anonymity import AuthorView
from app.discussions.models import STAGES, Post
from app.discussions.posts import PostView, present_post, stand_in
from app.discussions.threads import STAGE_LABELS, ThreadAccess, get_thread_for
from app.errors import NotAllowed, NotFound
from app.links import Target
from app.realtime import move_user_after_commit, notify, room_kind

#: The audiences of a thread, as suffixes of ``thread:ID``.
STAFF, READERS, WAITING = "staff", "readers", "waiting"


def audience_room(thread_id: int, audience: str) -> str:
    """``thread:ID:AUDIENCE``."""
    return f"thread:{thread_id}:{audience}"


def audience_of(access: ThreadAccess) -> str:
    """Which audience room a viewer's sockets belong in."""
    if access.is_staff:
        return STAFF
    return READERS if access.has_posted else WAITING


@room_kind("thread")
def authorise_thread(user, thread_id: int) -> str | bool:
    """Join a thread's live events: the audience room for this user, or refuse (404)."""
    from app.db import utcnow

    try:
        access = get_thread_for(user, thread_id, now=utcnow())
    except (NotFound, NotAllowed):
        return False
    return audience_room(thread_id, audience_of(access))


#: The fields of a post view and of its author, in the order the payload keeps.
_POST_FIELDS = tuple(f.name for f in fields(PostView))
_AUTHOR_FIELDS = tuple(f.name for f in fields(AuthorView))


def post_payload(view: PostView) -> dict:
    """A post view as JSON (the API's ``PostOut`` shape; live events send the same).

    Built field by field: ``dataclasses.asdict`` deep-copied every value and converted
    each reply twice, which was half the time of a 50-post thread through the API.
    """
    data = {name: getattr(view, name) for name in _POST_FIELDS}
    data["author"] = {name: getattr(view.author, name) for name in _AUTHOR_FIELDS}
    data["created_at"] = view.created_at.isoformat()
    data["reactions"] = dict(view.reactions)
    data["my_reactions"] = sorted(view.my_reactions)
    data["placeholder"] = view.placeholder
    data["replies"] = [post_payload(reply) for reply in view.replies]
    return data



def post_event(event: str, access: ThreadAccess, post: Post, author_name: str) -> None:
    """Queue ``post_created``, ``post_updated`` or ``post_hidden`` for every audience,
    each with its own presentation; the waiting audience gets only the count, and the
    author's own sockets also get the post as theirs."""
    thread_id = access.thread.id
    if event == "post_created" and not access.is_staff and post.kind == "reflection":
        move_user_after_commit(access.viewer.user.id, audience_room(thread_id, WAITING),
                               audience_room(thread_id, READERS))
    for audience, role in ((STAFF, "facilitator"), (READERS, "learner")):
        view = present_post(post, author_name, stand_in(access.viewer.cohort, role),
                            may_write=False)
        notify(event, {"thread_id": thread_id, "post": post_payload(view)},
               audience_room(thread_id, audience))
    if event == "post_created" and post.kind == "reflection":
        notify("thread_activity", {"thread_id": thread_id,
                                   "peers_posted": access.peers_posted},
               audience_room(thread_id, WAITING))
    # The author's own tabs: after their audience's view, the post as theirs ("(you)"),
    # to their user room only.
    author = stand_in(access.viewer.cohort, "facilitator" if post.by_staff else "learner",
                      post.author_id)
    own = present_post(post, author_name, author, may_write=False)
    notify(event, {"thread_id": thread_id, "post": post_payload(own)}, f"user:{post.author_id}")


def stage_event(access: ThreadAccess) -> None:
    """Queue ``thread_stage_changed`` for every audience (the same for all)."""
    thread_stage_event(access.thread.id, access.stage)


def thread_stage_event(thread_id: int, stage: int) -> None:
    """``thread_stage_changed`` for a thread that moved to ``stage`` (an index of STAGES),
    for callers without a viewer, such as the stage job."""
    name = STAGES[stage]
    payload = {"thread_id": thread_id, "stage": name, "stage_label": STAGE_LABELS[name]}
    for audience in (STAFF, READERS, WAITING):
        notify("thread_stage_changed", payload, audience_room(thread_id, audience))


def thread_lock_event(thread_id: int, locked: bool, reason: str | None) -> None:
    """``thread_locked`` (the same for every audience): open pages say that posting has
    paused or resumed, without a reload."""
    payload = {"thread_id": thread_id, "locked": locked, "reason": reason or ""}
    for audience in (STAFF, READERS, WAITING):
        notify("thread_locked", payload, audience_room(thread_id, audience))


def thread_target(access: ThreadAccess, post_id: int | None = None) -> Target:
    """The thread's page (at a post)."""
    anchor = f"#post-{post_id}" if post_id else ""
    return Target(f"/threads/{access.thread.id}{anchor}", access.thread.cohort_id)


def notify_reply(access: ThreadAccess, reply: Post, parent: Post, author_name: str) -> None:
    """Tell a post's author that someone replied, naming the replier as the author of the
    post may see them."""
    from app.accounts.models import User
    from app.db import get_session
    from app.notifications.services import notify as send

    # Their role now (not when they wrote): it decides which names they may see.
    role = cohort_role(get_session().get(User, parent.author_id), access.viewer.cohort)
    if role is None:  # no longer in the cohort: nothing to tell them
        return
    recipient = stand_in(access.viewer.cohort, role, parent.author_id)
    replier = present_post(reply, author_name, recipient).author.label
    send("post_reply", select(literal(parent.author_id, Integer).label("user_id")),
         dedupe_key=f"reply:{reply.id}",
         title=f"{replier} replied to your post in “{access.thread.title}”",
         target=thread_target(access, reply.id), now=reply.created_at)
