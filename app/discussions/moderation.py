"""Moderation: members' reports (flags), facilitators' actions on posts and threads, mutes
and the flag queue.

Writes lock the thread's row first, as posting does, so a flag that reaches the threshold
and a facilitator's restore of the same post queue up instead of crossing. Every action
of the cohort's staff goes to the audit log with its reason; entries name the post, never
its author, so the log cannot undo an anonymous post. Whoever is shown an author's name
(the flag queue, notices) is shown it through ``present_post``/``present_author``.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, func, literal, select, update

from app import audit
from app.accounts.models import User
from app.cohorts.access import CohortAccess, holds_program, require_staff, staff_recipients
from app.cohorts.models import Membership
from app.db import get_session, transaction
from app.discussions import live, stages
from app.discussions.models import CLOSED, Flag, Mute, Post, Thread
from app.discussions.posts import (
    PostView,
    author_name_of,
    get_post_for,
    get_post_in,
    present_post,
    stand_in,
)
from app.discussions.threads import ThreadAccess, get_thread_for
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.links import Target
from app.notifications.services import notify

#: Longest reason for a flag or a moderation action (the columns hold 500).
MAX_REASON = 500
#: What a post hidden by members' flags says to its author and the staff.
FLAG_HIDDEN_REASON = "Hidden after members' reports, until a facilitator reviews it"
POST_ACTIONS = ("hide", "restore", "pin", "unpin", "highlight", "unhighlight")
THREAD_ACTIONS = ("lock", "unlock", "advance_stage")
#: The longest mute.
MAX_MUTE = timedelta(days=365)
STAFF_ONLY = "Only the cohort's facilitators and the program's owner can moderate."


def _reason(reason: str | None, *, required: bool, message: str) -> str:
    """A reason, trimmed; Invalid when required and missing, or too long."""
    reason = (reason or "").strip()
    if required and not reason:
        raise Invalid(message, fields={"reason": message})
    if len(reason) > MAX_REASON:
        problem = f"Keep the reason under {MAX_REASON} characters."
        raise Invalid(problem, fields={"reason": problem})
    return reason


def _staff_post(user: User, post_id: int, now: datetime) -> tuple[ThreadAccess, Post]:
    """A post and its thread, locked for a write by the cohort's staff: NotFound for people
    outside the cohort, NotAllowed for its learners (before post first is asked)."""
    thread_id = get_session().scalar(select(Post.thread_id).where(Post.id == post_id))
    if thread_id is None:
        raise NotFound()
    access = get_thread_for(user, thread_id, now=now, for_update=True)
    if not access.is_staff:
        raise NotAllowed(STAFF_ONLY, code="not_staff")
    post = get_post_in(access, post_id)
    get_session().refresh(post)
    return access, post


def _queue_target(cohort_id: int) -> Target:
    """The cohort's flag queue."""
    return Target(f"/cohorts/{cohort_id}/flags", cohort_id)


# --- flags -------------------------------------------------------------------------------------

@dataclass
class FlagResult:
    """What a member's report did."""

    post_id: int
    #: The report brought the post to the cohort's threshold and it is hidden now.
    hidden: bool


def flag_post(user: User, post_id: int, reason: str, *, now: datetime) -> FlagResult:
    """Report a post with a reason; enough open reports hide it until a facilitator looks.

    A member reports what they can see (post first applies: NotFound before their
    reflection), once per post, never their own. At the cohort's ``flag_threshold`` open
    reports the post is hidden, its thread's audiences are told live, and the staff get a
    ``flags_waiting`` notice that names the author only as the staff see them.
    """
    reason = _reason(reason, required=True,
                     message="Say what is wrong with the post, so a facilitator can judge it.")
    with transaction() as session:
        access, post = get_post_for(user, post_id, now=now, for_update=True)
        if access.is_staff:
            raise NotAllowed("As a facilitator, hide the post yourself rather than report it.",
                             code="staff_moderate_directly")
        if post.author_id == user.id:
            raise NotAllowed("You cannot report your own post; edit or delete it instead.",
                             code="own_post")
        if post.deleted_at is not None or post.hidden_at is not None:
            raise Conflict("That post is no longer shown.", code="post_not_shown")
        if session.scalar(select(Flag.id).where(Flag.post_id == post.id,
                                                Flag.user_id == user.id)) is not None:
            raise Conflict("You have already reported this post; a facilitator will review it.",
                           code="already_flagged")
        flag = Flag(post_id=post.id, cohort_id=post.cohort_id, user_id=user.id, reason=reason,
                    created_at=now)
        session.add(flag)
        post.flag_count += 1
        session.flush()
        hidden = post.flag_count >= access.viewer.cohort.flag_threshold
        if hidden:
            _hide_by_flags(access, post, flag, now)
    return FlagResult(post_id=post_id, hidden=hidden)


def _hide_by_flags(access: ThreadAccess, post: Post, flag: Flag, now: datetime) -> None:
    """Hide a post that reached the threshold, and tell its thread and the staff."""
    session = get_session()
    post.hidden_at = now
    post.hidden_by_id = None
    post.hidden_reason = FLAG_HIDDEN_REASON
    # Nobody acted: the members' reports did. The flaggers stay out of the log.
    audit.record(session, None, "post.hidden_by_flags", cohort_id=post.cohort_id,
                 target_type="post", target_id=post.id, flags=post.flag_count)
    author_name = author_name_of(post)
    live.post_event("post_hidden", access, post, author_name)
    cohort = access.viewer.cohort
    author = present_post(post, author_name, stand_in(cohort, "facilitator")).author.label
    title = access.thread.title
    notify("flags_waiting", staff_recipients(cohort), dedupe_key=f"flags:{flag.id}",
           title=f"A post in “{title}” ({cohort.name}) was hidden after members' reports",
           body=(f"{post.flag_count} members reported a post by {author} in “{title}”. It "
                 "stays hidden until a facilitator restores it or confirms the hide in "
                 "the flag queue."),
           target=_queue_target(cohort.id), now=now)


def _resolve_flags(post: Post, resolution: str, now: datetime) -> int:
    """Close the post's open flags as ``resolution``; how many there were."""
    closed = get_session().execute(
        update(Flag).where(Flag.post_id == post.id, Flag.resolved_at.is_(None))
        .values(resolved_at=now, resolution=resolution)
        .execution_options(synchronize_session=False)).rowcount
    post.flag_count = 0
    return closed


# --- facilitators' actions on posts -------------------------------------------------------------

@dataclass
class _Change:
    """What a moderation action changed: the live event (None: nothing changed), the audit
    verb and details, and whether the author hears of it."""

    event: str | None
    verb: str
    details: dict
    tell_author: bool = False


#: What the author is told when a facilitator hides or restores their post.
_AUTHOR_NOTICES = {
    "post.hidden": "A facilitator hid your post in “{title}” ({cohort}): {reason}",
    "post.restored": "A facilitator restored your post in “{title}” ({cohort}): {reason}"}


def moderate_post(user: User, post_id: int, action: str, reason: str = "", *,
                  now: datetime) -> PostView:
    """Hide, restore, pin, unpin, highlight or unhighlight a post (the cohort's staff).

    Hide and restore need a reason, close the post's open flags and tell the author why.
    Restoring a post that is still shown dismisses its flags (the author is not told:
    nothing changed for them). Returns the post as the facilitator now sees it.
    """
    if action not in POST_ACTIONS:
        raise Invalid(fields={"action": f"Choose one of: {', '.join(POST_ACTIONS)}."})
    reason = _reason(reason, required=action in ("hide", "restore"),
                     message="Give a reason: the post's author will read it.")
    with transaction() as session:
        access, post = _staff_post(user, post_id, now)
        if post.deleted_at is not None:
            raise Conflict("That post was deleted.", code="post_deleted")
        author_name = author_name_of(post)
        change = _POST_CHANGES[action](post, user, reason, now)
        if change.event is not None:
            audit.record(session, user.id, change.verb, cohort_id=post.cohort_id,
                         target_type="post", target_id=post.id, reason=reason,
                         **change.details)
            live.post_event(change.event, access, post, author_name)
        if change.tell_author and post.author_id != user.id:
            _tell_author(access, post, change.verb, reason, now)
        return present_post(post, author_name, access.viewer)


def _tell_author(access: ThreadAccess, post: Post, verb: str, reason: str,
                 now: datetime) -> None:
    """The author hears what a facilitator did to their post, and why."""
    notify("post_moderated", select(literal(post.author_id, Integer).label("user_id")),
           dedupe_key=f"{verb}:{post.id}:{now.isoformat()}",
           title=_AUTHOR_NOTICES[verb].format(title=access.thread.title,
                                              cohort=access.viewer.cohort.name,
                                              reason=reason),
           body=f"Reason: {reason}", target=live.thread_target(access, post.id), now=now)


def _hide(post: Post, user: User, reason: str, now: datetime) -> _Change:
    """Hide a post (or confirm the hide of one that members' flags hid)."""
    if post.hidden_at is not None and post.hidden_by_id is not None:
        raise Conflict("A facilitator has already hidden this post.", code="already_hidden")
    was_shown = post.hidden_at is None
    post.hidden_at = post.hidden_at or now
    post.hidden_by_id = user.id
    post.hidden_reason = reason
    flags = _resolve_flags(post, "hidden", now)
    return _Change("post_hidden" if was_shown else "post_updated", "post.hidden",
                   {"flags": flags}, tell_author=True)


def _restore(post: Post, user: User, reason: str, now: datetime) -> _Change:
    """Show a hidden post again; for a post still shown, dismiss its open flags."""
    if post.hidden_at is None:
        if not post.flag_count:
            raise Conflict("This post is not hidden.", code="not_hidden")
        flags = _resolve_flags(post, "dismissed", now)
        return _Change("post_updated", "post.flags_dismissed", {"flags": flags})
    post.hidden_at = None
    post.hidden_by_id = None
    post.hidden_reason = ""
    flags = _resolve_flags(post, "restored", now)
    return _Change("post_updated", "post.restored", {"flags": flags}, tell_author=True)


def _mark(attribute: str, value: bool, verb: str, *, top_level: bool = False):
    """An action that sets a mark of the post (pinned, highlighted); a no-op when it is
    already so."""
    def change(post: Post, user: User, reason: str, now: datetime) -> _Change:
        if value and post.hidden_at is not None:
            raise Conflict("Restore the post before marking it.", code="post_not_shown")
        if top_level and post.parent_id is not None:
            raise Conflict("Only top-level posts can be pinned.", code="not_top_level")
        if getattr(post, attribute) == value:
            return _Change(None, verb, {})
        setattr(post, attribute, value)
        return _Change("post_updated", verb, {})
    return change


_POST_CHANGES = {
    "hide": _hide,
    "restore": _restore,
    "pin": _mark("pinned", True, "post.pinned", top_level=True),
    "unpin": _mark("pinned", False, "post.unpinned"),
    "highlight": _mark("highlighted", True, "post.highlighted"),
    "unhighlight": _mark("highlighted", False, "post.unhighlighted"),
}


# --- facilitators' actions on threads -----------------------------------------------------------

def moderate_thread(user: User, thread_id: int, action: str, reason: str = "", *,
                    now: datetime) -> ThreadAccess:
    """Lock or unlock a thread (learners read but cannot post), or move it to its next stage
    ahead of its date, announcing the stage to the members. The cohort's staff only.

    Locking needs a reason (learners see that the thread is locked). Returns the thread as
    the facilitator now meets it.
    """
    if action not in THREAD_ACTIONS:
        raise Invalid(fields={"action": f"Choose one of: {', '.join(THREAD_ACTIONS)}."})
    reason = _reason(reason, required=action == "lock",
                     message="Give a reason for locking the discussion.")
    with transaction() as session:
        access = get_thread_for(user, thread_id, now=now, for_update=True)
        if not access.is_staff:
            raise NotAllowed(STAFF_ONLY, code="not_staff")
        thread = access.thread
        details: dict = {"reason": reason}
        if action == "lock":
            if access.is_locked:
                raise Conflict("This discussion is already locked.", code="already_locked")
            thread.locked_at, thread.locked_reason = now, reason
            live.thread_lock_event(thread.id, True, reason)
            verb = "thread.locked"
        elif action == "unlock":
            if not access.is_locked:
                raise Conflict("This discussion is not locked.", code="not_locked")
            thread.locked_at, thread.locked_reason = None, None
            live.thread_lock_event(thread.id, False, None)
            verb = "thread.unlocked"
        else:
            _advance(access, now)
            verb, details["stage"] = "thread.stage_advanced", access.stage_name
        audit.record(session, user.id, verb, cohort_id=thread.cohort_id,
                     target_type="thread", target_id=thread.id, **details)
    return access


def _advance(access: ThreadAccess, now: datetime) -> None:
    """Move the thread one stage on and announce it (once: the stage job then skips it)."""
    if not access.is_open:
        raise Conflict("This discussion opens when its module opens.",
                       code="not_released")
    if access.stage == CLOSED:
        raise Conflict("This discussion has already closed.", code="already_closed")
    access.stage += 1
    access.thread.advanced_stage = access.stage
    get_session().flush()
    if stages.claim_stage(access.thread.id, access.stage):
        stages.announce_stage(access.thread, access.stage, now=now)


# --- mutes -------------------------------------------------------------------------------------

def _learner_of(access: CohortAccess, member_user_id: int) -> User:
    """A learner of the cohort (NotFound for anyone else; Conflict for its staff)."""
    session = get_session()
    role = session.scalar(select(Membership.role).where(
        Membership.cohort_id == access.cohort.id, Membership.user_id == member_user_id))
    member = session.get(User, member_user_id) if role is not None else None
    if member is None:
        raise NotFound()
    if role != "learner" or holds_program(member, access.cohort.program):
        raise Conflict("Only learners can be muted.", code="not_a_learner")
    return member


def mute_member(user: User, cohort_id: int, member_user_id: int, *, until: datetime,
                reason: str, now: datetime) -> Mute:
    """Mute a learner until a moment (at most a year ahead): they read but cannot post, edit
    or react. Muting someone already muted replaces the end and the reason."""
    reason = _reason(reason, required=True, message="Give a reason for the mute.")
    if until.tzinfo is None:
        raise Invalid(fields={"until": "Give the time with its UTC offset."})
    if until <= now:
        raise Invalid(fields={"until": "Choose a moment in the future."})
    if until > now + MAX_MUTE:
        raise Invalid(fields={"until": "Mute for a year at most."})
    with transaction() as session:
        access = require_staff(user, cohort_id, "Only the cohort's facilitators can mute "
                                                "members.")
        _learner_of(access, member_user_id)
        mute = session.scalar(select(Mute).where(Mute.cohort_id == cohort_id,
                                                 Mute.user_id == member_user_id))
        if mute is None:
            mute = Mute(cohort_id=cohort_id, user_id=member_user_id)
            session.add(mute)
        mute.until, mute.reason, mute.created_by_id, mute.created_at = until, reason, user.id, now
        audit.record(session, user.id, "member.muted", cohort_id=cohort_id, target_type="user",
                     target_id=member_user_id, until=until.isoformat(), reason=reason)
        # The learner is told why and until when, in their inbox (and by e-mail by default).
        notify("member_muted", select(literal(member_user_id, Integer).label("user_id")),
               dedupe_key=f"mute:{cohort_id}:{member_user_id}:{now.isoformat()}",
               title=f"Your posting in {access.cohort.name} is paused until "
                     f"{until:%d %b %Y, %H:%M} UTC",
               body=f"A facilitator paused your posting: {reason} You can still read "
                    "everything.",
               target=Target(f"/cohorts/{cohort_id}", cohort_id), now=now)
    return mute


def unmute_member(user: User, cohort_id: int, member_user_id: int, *, now: datetime) -> None:
    """End a learner's mute now."""
    with transaction() as session:
        access = require_staff(user, cohort_id, "Only the cohort's facilitators can unmute "
                                                "members.")
        mute = session.scalar(select(Mute).where(Mute.cohort_id == cohort_id,
                                                 Mute.user_id == member_user_id))
        if mute is None or mute.until <= now:
            raise Conflict("This member is not muted.", code="not_muted")
        session.delete(mute)
        audit.record(session, user.id, "member.unmuted", cohort_id=cohort_id,
                     target_type="user", target_id=member_user_id)
        notify("member_muted", select(literal(member_user_id, Integer).label("user_id")),
               dedupe_key=f"unmute:{cohort_id}:{member_user_id}:{now.isoformat()}",
               title=f"You can post again in {access.cohort.name}",
               body="A facilitator ended the pause on your posting.",
               target=Target(f"/cohorts/{cohort_id}", cohort_id), now=now)


@dataclass
class MemberMute:
    """A learner and their mute, if any, for the mute form."""

    access: CohortAccess
    member: User
    mute: Mute | None


def get_member_mute(user: User, cohort_id: int, member_user_id: int, *,
                    now: datetime) -> MemberMute:
    """A learner of the cohort and their current mute (the cohort's staff only)."""
    access = require_staff(user, cohort_id, "Only the cohort's facilitators can mute members.")
    member = _learner_of(access, member_user_id)
    mute = get_session().scalar(select(Mute).where(
        Mute.cohort_id == cohort_id, Mute.user_id == member_user_id, Mute.until > now))
    return MemberMute(access, member, mute)


def list_mutes(user: User, cohort_id: int, *, now: datetime) -> list[tuple[Mute, User]]:
    """The cohort's current mutes with the muted people, ending soonest first (staff)."""
    require_staff(user, cohort_id, STAFF_ONLY)
    return [tuple(row) for row in get_session().execute(
        select(Mute, User).join(User, User.id == Mute.user_id)
        .where(Mute.cohort_id == cohort_id, Mute.until > now)
        .order_by(Mute.until, Mute.id))]


# --- the flag queue ----------------------------------------------------------------------------

@dataclass
class FlaggedPost:
    """A post with open flags, as the staff review it: how many, and the reasons (the
    flaggers are never named)."""

    post: PostView
    thread_id: int
    thread_title: str
    flag_count: int
    reasons: list[str]
    first_flagged_at: datetime
    #: Where the queue's next page starts after this post.
    cursor: int


QUEUE_PAGE = 50


def list_flag_queue(user: User, cohort_id: int, *, after: int = 0,
                    limit: int = QUEUE_PAGE) -> tuple[CohortAccess, list[FlaggedPost]]:
    """Posts with open flags in the cohort, the longest waiting first (the cohort's staff).

    ``after`` is a cursor from an earlier page; ``limit + 1`` posts are returned at most, so
    the caller knows whether there is more. Four queries however long the page.
    """
    access = require_staff(user, cohort_id, "Only the cohort's facilitators and the "
                                            "program's owner can see the flag queue.")
    session = get_session()
    first_flag = func.min(Flag.id)
    groups = session.execute(
        select(Flag.post_id, first_flag.label("first_id"),
               func.min(Flag.created_at).label("first_at"), func.count().label("flags"))
        .join(Post, Post.id == Flag.post_id)
        .where(Flag.cohort_id == cohort_id, Flag.resolved_at.is_(None),
               Post.deleted_at.is_(None))
        .group_by(Flag.post_id).having(first_flag > after)
        .order_by(first_flag).limit(limit + 1)).all()
    post_ids = [group.post_id for group in groups]
    if not post_ids:
        return access, []
    reasons: dict[int, list[str]] = {}
    for post_id, reason in session.execute(
            select(Flag.post_id, Flag.reason)
            .where(Flag.post_id.in_(post_ids), Flag.resolved_at.is_(None)).order_by(Flag.id)):
        reasons.setdefault(post_id, []).append(reason)
    posts = {post.id: (post, name, title) for post, name, title in session.execute(
        select(Post, User.name, Thread.title).join(User, User.id == Post.author_id)
        .join(Thread, Thread.id == Post.thread_id).where(Post.id.in_(post_ids)))}
    queue = []
    for group in groups:
        post, name, title = posts[group.post_id]
        queue.append(FlaggedPost(
            post=present_post(post, name, access, may_write=False), thread_id=post.thread_id,
            thread_title=title, flag_count=group.flags, reasons=reasons.get(post.id, []),
            first_flagged_at=group.first_at, cursor=group.first_id))
    return access, queue


def locate_post(user: User, post_id: int, *, now: datetime) -> int:
    """The thread of a post the user may see (pages return there), else NotFound."""
    return get_post_for(user, post_id, now=now)[1].thread_id


def get_post_to_flag(user: User, post_id: int, *,
                     now: datetime) -> tuple[ThreadAccess, PostView]:
    """A post the user may report, as they see it (the report form shows it)."""
    access, post = get_post_for(user, post_id, now=now)
    if post.author_id == user.id:
        raise NotAllowed("You cannot report your own post; edit or delete it instead.",
                         code="own_post")
    return access, present_post(post, author_name_of(post), access.viewer, may_write=False)
