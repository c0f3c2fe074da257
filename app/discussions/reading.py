"""A thread as one person reads it: what its page shows, a post with its thread for the
post pages (edit, delete, revisions, reply), and how far the person has read.

Reading writes nothing in the request (render on write, never write on read). The unread
marker, ``ThreadParticipant.last_seen_post_id``, is written after the response by
:func:`note_seen`, and only when the page showed a newer post than the one it holds.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import update

from app.accounts.models import User
from app.db import after_response, insert_for, transaction
from app.discussions.anonymity import who_sees_the_name
from app.discussions.models import Post, ThreadParticipant
from app.discussions.posting import anonymity_choice, list_drafts
from app.discussions.posts import (
    PostView,
    author_name_of,
    get_post_for,
    list_posts,
    present_post,
)
from app.discussions.threads import ThreadAccess, get_thread_for


@dataclass
class ThreadPage:
    """Everything the thread page shows one person."""

    access: ThreadAccess
    #: Top-level posts with their replies, pinned first ([] before a learner has posted).
    posts: list[PostView]
    #: The person's drafts by the post they reply to (0: a new top-level post).
    drafts: dict[int, str]
    #: The policy an anonymous post by this person would be written under; "off" when
    #: they cannot post anonymously here.
    anonymity: str
    #: What the composer tells the author about who will see their name, per choice
    #: ("named", and "anonymous" unless ``anonymity`` is "off").
    who_sees: dict[str, str]

    def _all_posts(self) -> list[PostView]:
        """Top-level posts and replies together."""
        return [view for top in self.posts for view in (top, *top.replies)]

    @property
    def newest_post_id(self) -> int:
        """The newest post on the page (0 when it shows none)."""
        return max((view.id for view in self._all_posts()), default=0)

    @property
    def post_count(self) -> int:
        """Posts and replies on the page that are not deleted."""
        return sum(1 for view in self._all_posts() if view.state != "deleted")

    @property
    def composer(self) -> str | None:
        """What the page's composer would post: "reflection" (a learner's one reflection,
        or a staff note before synthesis), "synthesis" (a synthesis, or a learner's one
        take-away), or None when the person cannot post a top-level post now."""
        access = self.access
        if access.can_post_reflection:
            return "reflection"
        if access.can_synthesize and (access.is_staff or not any(
                view.kind == "synthesis" and view.author.is_you and view.state != "deleted"
                for view in self.posts)):
            return "synthesis"
        return None


def get_thread_page(user: User, thread_id: int, *, now: datetime) -> ThreadPage:
    """The thread page's data for one person, in four queries at most however many posts:
    the thread with the person's place in it, their reactions and the posts (once they
    may see posts), and their drafts."""
    access = get_thread_for(user, thread_id, now=now)
    choice = anonymity_choice(access)
    return ThreadPage(access=access, posts=list_posts(access),
                      drafts=list_drafts(user, thread_id), anonymity=choice,
                      who_sees=who_sees_the_name(choice))


def note_seen(page: ThreadPage) -> None:
    """The person was shown the page's posts: move their unread marker to its newest post,
    after the response, when that is newer than the marker (a reload writes nothing)."""
    newest = page.newest_post_id
    participant = page.access.participant
    if newest == 0 or (participant is not None and participant.last_seen_post_id >= newest):
        return
    after_response(partial(mark_seen, page.access.thread.id, page.access.viewer.user.id,
                           newest))


def mark_seen(thread_id: int, user_id: int, post_id: int) -> None:
    """Move a person's unread marker in a thread forward to ``post_id`` (never back).

    One conditional UPDATE; staff who have not posted have no place in the thread yet, so
    theirs is made here (a concurrent page load that made it first wins, changing nothing).
    """
    with transaction() as session:
        moved = session.execute(
            update(ThreadParticipant)
            .where(ThreadParticipant.thread_id == thread_id,
                   ThreadParticipant.user_id == user_id,
                   ThreadParticipant.last_seen_post_id < post_id)
            .values(last_seen_post_id=post_id)
            .execution_options(synchronize_session=False))
        if moved.rowcount == 0:
            session.execute(
                insert_for(session)(ThreadParticipant)
                .values(thread_id=thread_id, user_id=user_id, replies_given=0,
                        last_seen_post_id=post_id)
                .on_conflict_do_nothing(index_elements=["thread_id", "user_id"]))


@dataclass
class PostInThread:
    """A post, its thread as the viewer meets it, and the post as the viewer is shown it."""

    access: ThreadAccess
    post: Post
    view: PostView


def get_post_view(user: User, post_id: int, *, now: datetime) -> PostInThread:
    """A post of a thread whose posts the user may see, presented for them (NotFound
    otherwise, and for learners before they have posted their reflection)."""
    access, post = get_post_for(user, post_id, now=now)
    author_name = author_name_of(post)
    return PostInThread(access=access, post=post,
                        view=present_post(post, author_name, access.viewer))


@dataclass
class ReplyPage:
    """A post to reply to, on its own page (the thread page's "Reply" without JavaScript)."""

    target: PostInThread
    #: The person's draft of a reply to it ("" when there is none).
    draft: str
    #: As on :class:`ThreadPage`: the anonymity policy a reply would be written under, and
    #: what the composer says about who will see the name.
    anonymity: str
    who_sees: dict[str, str]

    @property
    def access(self) -> ThreadAccess:
        """The thread as the person meets it."""
        return self.target.access


def get_reply_page(user: User, post_id: int, *, now: datetime) -> ReplyPage:
    """A post to reply to, with the user's draft of the reply (NotFound as for
    :func:`get_post_view`; whether a reply may be posted now is
    :func:`app.discussions.posting.check_can_reply`'s to say)."""
    target = get_post_view(user, post_id, now=now)
    choice = anonymity_choice(target.access)
    draft = list_drafts(user, target.access.thread.id).get(post_id, "")
    return ReplyPage(target=target, draft=draft, anonymity=choice,
                     who_sees=who_sees_the_name(choice))
