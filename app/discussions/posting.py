"""Writing in a thread: reflections, replies and syntheses, edits with an optimistic
version, soft deletes, reactions and drafts.

Every write locks the thread's row first (:func:`get_thread_for` with ``for_update``), so
two posts in one thread never both take the same pseudonym or both count as a learner's
one reflection. Live events and notices are queued in the same transaction and leave only
after it commits.
"""

from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, delete, func, select, update

from app import audit
from app.accounts.models import User
from app.db import get_session, transaction
from app.discussions import live
from app.discussions.anonymity import pseudonym_candidate
from app.discussions.models import (
    REACTIONS,
    Draft,
    Post,
    PostRevision,
    Reaction,
    ThreadParticipant,
)
from app.discussions.posts import PostView, author_name_of, get_post_for, present_post
from app.discussions.threads import ThreadAccess, get_thread_for
from app.errors import Conflict, Invalid, NotAllowed, NotFound

#: Longest post, in characters of Markdown.
MAX_POST = 20_000


def _clean_body(body: str | None) -> str:
    """The post's Markdown, or Invalid with a message that says what to do."""
    body = (body or "").strip()
    if not body:
        raise Invalid("Write something before posting.",
                      fields={"body": "Write something before posting."})
    if len(body) > MAX_POST:
        message = (f"Keep a post under {MAX_POST:,} characters (this one has "
                   f"{len(body):,}); split it into a post and a reply.")
        raise Invalid(message, fields={"body": message})
    return body


def _participant(access: ThreadAccess) -> ThreadParticipant:
    """The viewer's place in the thread, made on their first post."""
    if access.participant is None:
        access.participant = ThreadParticipant(
            thread_id=access.thread.id, user_id=access.viewer.user.id, replies_given=0,
            last_seen_post_id=0)
        get_session().add(access.participant)
    return access.participant


def _pseudonym(access: ThreadAccess) -> str:
    """The viewer's pseudonym in the thread: given on their first anonymous post, kept after.

    Candidates come from a keyed hash of thread and person; one already taken by someone
    else in the thread is skipped (the thread's row lock keeps this race-free).
    """
    participant = _participant(access)
    if participant.pseudonym:
        return participant.pseudonym
    taken = set(get_session().scalars(
        select(ThreadParticipant.pseudonym).where(
            ThreadParticipant.thread_id == access.thread.id,
            ThreadParticipant.pseudonym.is_not(None))))
    attempt = 0
    while (name := pseudonym_candidate(access.thread.id, access.viewer.user.id,
                                       attempt)) in taken:
        attempt += 1
    participant.pseudonym = name
    return name


def anonymity_choice(access: ThreadAccess) -> str:
    """The policy an anonymous post by this viewer would be written under, or "off" when
    they cannot post anonymously here (the cohort's policy, the prompt, or staff)."""
    if access.is_staff or not access.thread.anonymity_allowed:
        return "off"
    return access.viewer.cohort.anonymity


def _kind_and_parent(access: ThreadAccess, parent_id: int | None) -> tuple[str, Post | None]:
    """What a new post is (reflection, reply, synthesis) and what it replies to, or why
    the viewer cannot post it now (NotAllowed with the reason)."""
    if parent_id is not None:
        if not access.can_see_posts:
            raise NotFound()
        parent = get_session().get(Post, parent_id)
        if parent is None or parent.thread_id != access.thread.id:
            raise NotFound()
        return "reply", check_can_reply(access, parent)
    if access.can_post_reflection:
        return "reflection", None
    if access.can_synthesize:
        return "synthesis", None
    raise NotAllowed(access.what_now(), code="cannot_post")


def check_can_reply(access: ThreadAccess, post: Post) -> Post:
    """The post a reply to ``post`` goes under (replies are one level deep: a reply to a
    reply joins its conversation), or why the viewer cannot reply to it now."""
    parent = post if post.parent_id is None else get_session().get(Post, post.parent_id)
    if parent.deleted_at is not None or parent.hidden_at is not None:
        raise Conflict("That post is no longer shown, so it cannot be replied to.",
                       code="parent_not_shown")
    if not access.can_reply:
        raise NotAllowed(access.what_now(), code="cannot_reply")
    return parent


def create_post(user: User, thread_id: int, *, body: str, anonymous: bool = False,
                parent_id: int | None = None, now: datetime) -> PostView:
    """Post in a thread as the rules allow now; returns the post as its author sees it.

    With no ``parent_id`` a learner's first post is their reflection (post first), and
    their later top-level post is their synthesis once that is open to them; staff post
    notes before synthesis and syntheses after. Anonymous posts need a cohort policy
    other than ``off`` and a prompt that allows them; staff always post under their name.
    """
    body = _clean_body(body)
    with transaction() as session:
        access = get_thread_for(user, thread_id, now=now, for_update=True)
        kind, parent = _kind_and_parent(access, parent_id)
        policy = anonymity_choice(access)
        if anonymous and policy == "off":
            raise Invalid("Anonymous posting is not available in this discussion.",
                          fields={"anonymous": "Post under your name here."})
        if kind == "synthesis" and not access.is_staff and _has_synthesis(access):
            raise Conflict("You have already added your take-away; edit it instead.",
                           code="already_posted")
        participant = _participant(access)
        post = Post(thread_id=thread_id, cohort_id=access.thread.cohort_id,
                    author_id=user.id, parent_id=parent.id if parent else None, kind=kind,
                    body=body, anonymity=policy if anonymous else "off",
                    pseudonym=_pseudonym(access) if anonymous else "",
                    by_staff=access.is_staff, created_at=now)
        session.add(post)
        if kind == "reflection" and participant.posted_at is None:
            participant.posted_at = now
            if not access.is_staff:
                access.thread.reflection_count += 1
        if kind == "reply" and parent.author_id != user.id:
            participant.replies_given += 1
        session.execute(delete(Draft).where(
            Draft.thread_id == thread_id, Draft.user_id == user.id,
            Draft.parent_id == (parent.id if parent else 0)))
        session.flush()
        participant.last_seen_post_id = max(participant.last_seen_post_id, post.id)
        view = present_post(post, user.name, access.viewer)
        live.post_event("post_created", access, post, user.name)
        if parent is not None and parent.author_id != user.id:
            live.notify_reply(access, post, parent, user.name)
    return view


def _has_synthesis(access: ThreadAccess) -> bool:
    """The learner has a take-away in the thread already."""
    return bool(get_session().scalar(select(func.count(Post.id)).where(
        Post.thread_id == access.thread.id, Post.author_id == access.viewer.user.id,
        Post.kind == "synthesis", Post.deleted_at.is_(None))))


def _own_post(user: User, post_id: int, now: datetime) -> tuple[ThreadAccess, Post]:
    """A post with its thread locked, for a write by someone who can see it."""
    return get_post_for(user, post_id, now=now, for_update=True)


def check_can_edit(access: ThreadAccess, post: Post) -> None:
    """NotAllowed (with the reason) unless the viewer may edit this post now: their own,
    not deleted, in a thread they may still write in."""
    if post.author_id != access.viewer.user.id or post.deleted_at is not None:
        raise NotAllowed("Only the author can edit a post.", code="not_author")
    if access.is_muted or (access.is_locked and not access.is_staff) or (
            access.stage_name == "closed"):
        raise NotAllowed(access.what_now(), code="cannot_edit")


def edit_post(user: User, post_id: int, *, body: str, version: int,
              now: datetime) -> PostView:
    """Change the text of one's own post. ``version`` is the version the edit started
    from: if the post has changed since, nothing is saved and Conflict carries the
    current text and the one sent, so nothing typed is lost. The earlier text is kept."""
    body = _clean_body(body)
    with transaction() as session:
        access, post = _own_post(user, post_id, now)
        check_can_edit(access, post)
        if version != post.version:
            raise Conflict(
                "This post was changed somewhere else since you started editing. Your text "
                "is below: compare it with the current one and save again.",
                code="stale_version",
                details={"current_version": post.version, "current_body": post.body,
                         "your_body": body})
        if body == post.body:
            return present_post(post, user.name, access.viewer)
        session.add(PostRevision(post_id=post.id, version=post.version, body=post.body,
                                 body_html=post.body_html,
                                 written_at=post.edited_at or post.created_at))
        post.body = body
        post.version += 1
        post.edited_at = now
        session.flush()
        view = present_post(post, user.name, access.viewer)
        live.post_event("post_updated", access, post, user.name)
    return view


def delete_post(user: User, post_id: int, *, now: datetime) -> None:
    """Delete a post (its author, or a facilitator): it leaves the thread, its replies
    stay. A deleted reply no longer counts towards its author's replies given."""
    with transaction() as session:
        access, post = _own_post(user, post_id, now)
        mine = post.author_id == user.id
        if not mine and not access.is_staff:
            raise NotAllowed("Only the author or a facilitator can delete a post.",
                             code="not_author")
        if post.deleted_at is not None:
            return
        post.deleted_at = now
        if post.kind == "reply" and post.parent_id is not None:
            parent_author = session.scalar(select(Post.author_id).where(
                Post.id == post.parent_id))
            if parent_author != post.author_id:
                session.execute(
                    update(ThreadParticipant)
                    .where(ThreadParticipant.thread_id == post.thread_id,
                           ThreadParticipant.user_id == post.author_id,
                           ThreadParticipant.replies_given > 0)
                    .values(replies_given=ThreadParticipant.replies_given - 1))
        if not mine:
            audit.record(session, user.id, "post.deleted", cohort_id=post.cohort_id,
                         target_type="post", target_id=post.id)
        author_name = author_name_of(post)
        live.post_event("post_hidden", access, post, author_name)


def react(user: User, post_id: int, kind: str, *, on: bool, now: datetime) -> dict[str, int]:
    """Add (``on``) or take back one's reaction; returns the post's counts. Only counts are
    ever shown, so reacting to an anonymous post names nobody."""
    if kind not in REACTIONS:
        raise Invalid(fields={"kind": f"React with one of: {', '.join(REACTIONS)}."})
    with transaction() as session:
        access, post = _own_post(user, post_id, now)
        if not access.can_react:
            raise NotAllowed(access.what_now(), code="cannot_react")
        if post.deleted_at is not None or post.hidden_at is not None:
            raise Conflict("That post is no longer shown.", code="post_not_shown")
        existing = session.scalar(select(Reaction).where(
            Reaction.post_id == post.id, Reaction.user_id == user.id, Reaction.kind == kind))
        counter = f"{kind}_count"
        if on and existing is None:
            session.add(Reaction(post_id=post.id, user_id=user.id, kind=kind, created_at=now))
            setattr(post, counter, getattr(post, counter) + 1)
        elif not on and existing is not None:
            session.delete(existing)
            setattr(post, counter, max(0, getattr(post, counter) - 1))
        else:
            return {"insightful": post.insightful_count, "thanks": post.thanks_count}
        author_name = author_name_of(post)
        live.post_event("post_updated", access, post, author_name)
        return {"insightful": post.insightful_count, "thanks": post.thanks_count}


# --- drafts ------------------------------------------------------------------------------------

def _draft_parent(parent_id: int | None) -> int:
    """Drafts of a new top-level post are kept under parent 0."""
    return parent_id or 0


def save_draft(user: User, thread_id: int, *, body: str, parent_id: int | None = None,
               now: datetime) -> None:
    """Keep what the person is typing (an empty text removes the draft)."""
    body = body or ""
    if len(body) > MAX_POST:
        raise Invalid(fields={"body": f"Keep a post under {MAX_POST:,} characters."})
    with transaction() as session:
        get_thread_for(user, thread_id, now=now)
        parent = _draft_parent(parent_id)
        draft = session.scalar(select(Draft).where(
            Draft.thread_id == thread_id, Draft.user_id == user.id, Draft.parent_id == parent))
        if not body.strip():
            if draft is not None:
                session.delete(draft)
            return
        if draft is None:
            session.add(Draft(thread_id=thread_id, user_id=user.id, parent_id=parent,
                              body=body, updated_at=now))
        else:
            draft.body, draft.updated_at = body, now


def get_draft(user: User, thread_id: int, *, parent_id: int | None = None) -> str:
    """The person's saved draft in a thread ("" when none)."""
    return get_session().scalar(select(Draft.body).where(
        Draft.thread_id == thread_id, Draft.user_id == user.id,
        Draft.parent_id == _draft_parent(parent_id))) or ""


@cache
def _drafts_statement():
    """A person's drafts in a thread (built once: every thread page reads them)."""
    return select(Draft.parent_id, Draft.body).where(
        Draft.thread_id == bindparam("thread_id"), Draft.user_id == bindparam("user_id"))


def list_drafts(user: User, thread_id: int) -> dict[int, str]:
    """The person's drafts in a thread by the post they reply to (0: a new post); one query."""
    return dict(get_session().execute(
        _drafts_statement(), {"thread_id": thread_id, "user_id": user.id}).all())
