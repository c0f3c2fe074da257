"""Reading a thread's posts: what one viewer is shown, and how.

Every post reaches a page, the API or a live event through :func:`present_post`, which
decides the author's name with :func:`app.discussions.anonymity.present_author` and the
post's state (shown, hidden, deleted) for that viewer. Nothing is rendered here: posts
carry the HTML cleaned when they were written.
"""

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from types import SimpleNamespace

from sqlalchemy import bindparam, select

from app.accounts.models import User
from app.cohorts.access import CohortAccess
from app.db import get_session
from app.discussions.anonymity import AuthorView, present_author
from app.discussions.models import Post, PostRevision, Reaction
from app.discussions.threads import ThreadAccess, get_thread_for
from app.errors import NotFound

#: What peers see in place of a post that is not for them to read.
PLACEHOLDERS = {
    "deleted": "This post was deleted.",
    "hidden": "This post was hidden by a facilitator.",
    # Hidden by members' flags, before anyone has looked at it.
    "flagged": "This post is hidden while a facilitator reviews it.",
}


@dataclass
class PostView:
    """A post as one viewer is shown it."""

    id: int
    thread_id: int
    parent_id: int | None
    kind: str
    author: AuthorView
    #: "shown", "hidden" (by a facilitator or by flags) or "deleted".
    state: str
    #: The cleaned HTML; None when the viewer sees a placeholder instead.
    body_html: str | None
    #: When it was written; to viewers who may not know an anonymous author, only to the
    #: hour, so the moment cannot be matched with someone's other activity.
    created_at: datetime
    edited: bool
    version: int
    pinned: bool
    highlighted: bool
    reactions: dict[str, int]
    #: The viewer's own reactions.
    my_reactions: frozenset[str] = frozenset()
    #: Why it was hidden: for its author and the staff.
    hidden_reason: str | None = None
    #: Hidden by members' flags rather than by a facilitator.
    hidden_by_flags: bool = False
    #: Open flags: staff only.
    flag_count: int | None = None
    can_edit: bool = False
    can_delete: bool = False
    replies: list["PostView"] = field(default_factory=list)

    @property
    def placeholder(self) -> str | None:
        """The sentence shown instead of the post, if any."""
        if self.body_html is not None:
            return None
        return PLACEHOLDERS["flagged" if self.hidden_by_flags else self.state]


def stand_in(cohort, role: str, user_id: int = 0) -> CohortAccess:
    """A viewer who is not the one making the request: a whole audience (``user_id`` 0, so
    no post is "theirs") or one person a notice or live event is meant for."""
    return CohortAccess(user=SimpleNamespace(id=user_id), cohort=cohort, role=role)


def author_name_of(post: Post) -> str:
    """A post's author's name, for the presentation functions to show or keep back."""
    return get_session().scalar(select(User.name).where(User.id == post.author_id))


def _coarse(moment: datetime) -> datetime:
    """The moment to the hour."""
    return moment.replace(minute=0, second=0, microsecond=0)


def present_post(post: Post, author_name: str, viewer: CohortAccess, *,
                 my_reactions: frozenset[str] = frozenset(),
                 may_write: bool = True) -> PostView:
    """One post as ``viewer`` may see it (``may_write``: the viewer may still post in the
    thread, so their own posts offer edit and delete)."""
    author = present_author(post, viewer, author_name)
    staff = viewer.is_staff
    mine = author.is_you
    if post.deleted_at is not None:
        state = "deleted"
    elif post.hidden_at is not None:
        state = "hidden"
    else:
        state = "shown"
    # The author and the staff still read a hidden post (with its reason); nobody reads a
    # deleted one in the thread.
    readable = state == "shown" or (state == "hidden" and (mine or staff))
    unknown_author = post.is_anonymous and author.user_id is None
    return PostView(
        id=post.id, thread_id=post.thread_id, parent_id=post.parent_id, kind=post.kind,
        author=author if state != "deleted" or staff or mine else _nobody(author),
        state=state, body_html=post.body_html if readable else None,
        created_at=_coarse(post.created_at) if unknown_author else post.created_at,
        edited=post.edited_at is not None, version=post.version, pinned=post.pinned,
        highlighted=post.highlighted,
        reactions={"insightful": post.insightful_count, "thanks": post.thanks_count},
        my_reactions=my_reactions,
        hidden_reason=(post.hidden_reason or None) if state == "hidden" and (mine or staff)
        else None,
        hidden_by_flags=state == "hidden" and post.hidden_by_id is None,
        flag_count=post.flag_count if staff else None,
        can_edit=state != "deleted" and mine and may_write,
        can_delete=state != "deleted" and (mine or staff),
    )


def _nobody(author: AuthorView) -> AuthorView:
    """A deleted post's author, to those who may not know whose it was."""
    return AuthorView(label="Deleted", pseudonym=None, name=None, user_id=None,
                      is_you=False, anonymous=author.anonymous, is_staff=False)


@cache
def _posts_statement():
    """A thread's posts with their authors' names, oldest first (built once)."""
    return (select(Post, User.name).join(User, User.id == Post.author_id)
            .where(Post.thread_id == bindparam("thread_id")).order_by(Post.id))


@cache
def _my_reactions_statement():
    """The viewer's reactions in a thread (built once)."""
    return (select(Reaction.post_id, Reaction.kind).join(Post, Post.id == Reaction.post_id)
            .where(Post.thread_id == bindparam("thread_id"),
                   Reaction.user_id == bindparam("user_id")))


def list_posts(access: ThreadAccess) -> list[PostView]:
    """The thread's top-level posts with their replies, as the viewer is shown them:
    pinned first, then oldest first; replies oldest first. Nothing before a learner has
    posted their reflection (post first). Two queries however many posts."""
    if not access.can_see_posts:
        return []
    session = get_session()
    params = {"thread_id": access.thread.id, "user_id": access.viewer.user.id}
    mine: dict[int, set[str]] = {}
    for post_id, kind in session.execute(_my_reactions_statement(), params):
        mine.setdefault(post_id, set()).add(kind)
    may_write = access.can_reply or access.can_post_reflection or access.can_synthesize
    top: list[PostView] = []
    by_id: dict[int, PostView] = {}
    for post, name in session.execute(_posts_statement(), params):
        view = present_post(post, name, access.viewer, may_write=may_write,
                            my_reactions=frozenset(mine.get(post.id, ())))
        by_id[post.id] = view
        if post.parent_id is None:
            top.append(view)
        elif post.parent_id in by_id:
            by_id[post.parent_id].replies.append(view)
    # A deleted post without replies leaves nothing worth a placeholder.
    top = [view for view in top if view.state != "deleted" or view.replies]
    top.sort(key=lambda view: (not view.pinned, view.id))
    return top


def get_post_for(user: User, post_id: int, *, now: datetime, for_update: bool = False
                 ) -> tuple[ThreadAccess, Post]:
    """A post and its thread as the user may meet them (see :func:`get_thread_for`); the
    post only when the user may see the thread's posts, else NotFound. ``for_update``
    locks the thread first, for writes."""
    thread_id = get_session().scalar(select(Post.thread_id).where(Post.id == post_id))
    if thread_id is None:
        raise NotFound()
    access = get_thread_for(user, thread_id, now=now, for_update=for_update)
    post = get_post_in(access, post_id)
    if for_update:
        get_session().refresh(post)
    return access, post


def get_post_in(access: ThreadAccess, post_id: int) -> Post:
    """A post of the thread the viewer may see; NotFound otherwise."""
    post = get_session().get(Post, post_id)
    if post is None or post.thread_id != access.thread.id or not access.can_see_posts:
        raise NotFound()
    return post


def list_revisions(access: ThreadAccess, post: Post) -> list[PostRevision]:
    """Earlier texts of a post: for its author and the staff, newest first."""
    if post.author_id != access.viewer.user.id and not access.is_staff:
        raise NotFound()
    return list(get_session().scalars(
        select(PostRevision).where(PostRevision.post_id == post.id)
        .order_by(PostRevision.version.desc())))

