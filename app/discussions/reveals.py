"""Break-glass reveals: learning who wrote a post shown under the ``everyone`` policy.

Nobody in the app sees the author of such a post. The program's owner or a site admin may
ask, with a written reason; a *second* owner or admin decides. An approval is audited
(who asked, who approved, why), the author is told who asked and why, and the name is
shown to the person who asked and to nobody else: not to the approver, not in the audit
log (which names the post, never its author), not in any notice but the author's own.

Site admins are not cohort members: they reach a post or a request by its id. Members
of the cohort other than its owner are refused (403); anyone else finds nothing (404).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, literal, select, union
from sqlalchemy.orm import joinedload

from app import audit
from app.accounts.models import User
from app.cohorts.access import holds_program
from app.cohorts.models import Cohort, Membership
from app.db import get_session, lock_for_update, transaction
from app.discussions.anonymity import shown_policy
from app.discussions.models import Post, RevealRequest, Thread
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.links import Target
from app.notifications.services import notify

MIN_REASON = 20
MAX_REASON = 1000
OWNER_OR_ADMIN = ("Only the program's owner or a site admin can ask for or decide on a "
                  "reveal.")


@dataclass
class RevealView:
    """A reveal request as one owner or admin sees it."""

    id: int
    post_id: int
    thread_id: int
    thread_title: str
    cohort_id: int
    #: The post's pseudonym and text, for whoever decides.
    pseudonym: str
    post_html: str
    status: str
    reason: str
    requested_by: str
    decided_by: str | None
    created_at: datetime
    decided_at: datetime | None
    #: The viewer asked for this reveal (only they can see the name once approved).
    is_requester: bool
    #: The author's name: for the requester, once approved; None for everyone else.
    author_name: str | None


def _check_rights(user: User, cohort: Cohort) -> None:
    """Owner (holding the program) or site admin; NotAllowed for the cohort's other members,
    NotFound for everyone else."""
    if user.is_admin or holds_program(user, cohort.program):
        return
    member = get_session().scalar(select(Membership.id).where(
        Membership.cohort_id == cohort.id, Membership.user_id == user.id))
    if member is not None or cohort.program.owner_id == user.id:
        raise NotAllowed(OWNER_OR_ADMIN, code="owner_or_admin_only")
    raise NotFound()


def _post_and_cohort(post_id: int) -> tuple[Post, Thread, Cohort]:
    """A post with its thread and cohort (and the cohort's program), else NotFound."""
    row = get_session().execute(
        select(Post, Thread, Cohort).join(Thread, Thread.id == Post.thread_id)
        .join(Cohort, Cohort.id == Post.cohort_id).where(Post.id == post_id)
        .options(joinedload(Cohort.program))).first()
    if row is None:
        raise NotFound()
    return tuple(row)


def _deciders(cohort: Cohort, *, besides: int):
    """User ids of those who may decide: site admins and the program's owner, but one."""
    return union(
        select(User.id.label("user_id")).where(User.is_admin, User.is_disabled.is_(False),
                                               User.id != besides),
        select(User.id.label("user_id")).where(User.id == cohort.program.owner_id,
                                               User.can_own_programs, User.id != besides))


def _reveal_target(reveal_id: int, cohort_id: int) -> Target:
    """The request's page."""
    return Target(f"/reveals/{reveal_id}", cohort_id)


def _one(user_id: int):
    """A recipient list of one person."""
    return select(literal(user_id, Integer).label("user_id"))


def get_revealable_post(user: User, post_id: int) -> tuple[Post, Thread, Cohort]:
    """A post whose author the user may ask to learn (the request form shows it): shown
    under ``everyone``, to its owner or a site admin. Conflict for a named post or one shown
    under ``peers`` (the staff see its author already)."""
    post, thread, cohort = _post_and_cohort(post_id)
    _check_rights(user, cohort)
    if not post.is_anonymous:
        raise Conflict("This post carries its author's name: there is nothing to reveal.",
                       code="not_anonymous")
    if shown_policy(post, cohort.anonymity) != "everyone":
        raise Conflict("Under this cohort's policy its facilitators and the program's owner "
                       "already see who wrote this post: no reveal is needed.",
                       code="reveal_not_needed")
    return post, thread, cohort


def request_reveal(user: User, post_id: int, reason: str, *, now: datetime) -> RevealView:
    """Ask to learn who wrote a post shown under ``everyone`` (the owner or a site admin).

    The reason (at least MIN_REASON characters) is what the second person decides on and
    what the author will read. Under ``peers`` the staff see the name already, and a named
    post has nothing to reveal: both are Conflict. One request per post waits at a time.
    """
    reason = (reason or "").strip()
    if not MIN_REASON <= len(reason) <= MAX_REASON:
        message = (f"Explain why in {MIN_REASON} to {MAX_REASON} characters: the person who "
                   "decides reads it, and so will the author.")
        raise Invalid(message, fields={"reason": message})
    with transaction() as session:
        lock_for_update(session, Post, post_id)  # one pending request per post
        post, thread, cohort = get_revealable_post(user, post_id)
        pending = session.scalar(select(RevealRequest.id).where(
            RevealRequest.post_id == post.id, RevealRequest.status == "pending"))
        if pending is not None:
            raise Conflict("A reveal of this post is already waiting for a decision.",
                           code="reveal_pending", details={"reveal_id": pending})
        reveal = RevealRequest(post_id=post.id, cohort_id=cohort.id, requested_by_id=user.id,
                               reason=reason, created_at=now)
        session.add(reveal)
        session.flush()
        audit.record(session, user.id, "identity.reveal_requested", cohort_id=cohort.id,
                     target_type="post", target_id=post.id, reveal_id=reveal.id,
                     reason=reason)
        notify("reveal_requested", _deciders(cohort, besides=user.id),
               dedupe_key=f"reveal-requested:{reveal.id}",
               title=(f"{user.display_name} asks to reveal who wrote a post in “{thread.title}” "
                      f"({cohort.name})"),
               body=f"Their reason: {reason}\n\nA second owner or admin decides.",
               target=_reveal_target(reveal.id, cohort.id), now=now)
        return _present(user, reveal, post, thread)


def _decide(user: User, reveal_id: int, status: str, *, now: datetime) -> RevealView:
    """Approve or decline a pending request: someone other than who asked."""
    with transaction() as session:
        lock_for_update(session, RevealRequest, reveal_id)
        reveal = session.get(RevealRequest, reveal_id, populate_existing=True)
        if reveal is None:
            raise NotFound()
        post, thread, cohort = _post_and_cohort(reveal.post_id)
        _check_rights(user, cohort)
        if reveal.requested_by_id == user.id:
            raise NotAllowed("A second person must decide: another owner or a site admin.",
                             code="second_person_required")
        if reveal.status != "pending":
            raise Conflict(f"This request was already {reveal.status}.", code="already_decided")
        reveal.status, reveal.decided_by_id, reveal.decided_at = status, user.id, now
        requester = session.get(User, reveal.requested_by_id)
        details = {"reveal_id": reveal.id, "requested_by_id": requester.id,
                   "decided_by_id": user.id, "reason": reveal.reason}
        if status == "approved":
            audit.record(session, user.id, "identity.revealed", cohort_id=cohort.id,
                         target_type="post", target_id=post.id, **details)
            _tell_author(post, thread, reveal, requester, user, now)
        else:
            audit.record(session, user.id, "identity.reveal_declined", cohort_id=cohort.id,
                         target_type="post", target_id=post.id, **details)
        notify("reveal_decided", _one(requester.id), dedupe_key=f"reveal-decided:{reveal.id}",
               title=(f"{user.display_name} {status} your reveal request in “{thread.title}” "
                      f"({cohort.name})"),
               target=_reveal_target(reveal.id, cohort.id), now=now)
        return _present(user, reveal, post, thread)


def _tell_author(post: Post, thread: Thread, reveal: RevealRequest, requester: User,
                 approver: User, now: datetime) -> None:
    """The author hears who asked for their name, why, and who approved it."""
    notify("identity_revealed", _one(post.author_id), dedupe_key=f"revealed:{reveal.id}",
           title=f"{requester.display_name} was shown that you wrote your anonymous post in "
                 f"“{thread.title}” ({thread.cohort.name})",
           body=(f"{requester.display_name} asked to know who wrote your post, giving this "
                 f"reason: “{reveal.reason}”. {approver.display_name} approved the request. "
                 f"Only {requester.display_name} sees your name; everyone else still sees "
                 f"{post.pseudonym}."),
           target=Target(f"/threads/{thread.id}#post-{post.id}", thread.cohort_id), now=now)


def approve_reveal(user: User, reveal_id: int, *, now: datetime) -> RevealView:
    """Approve a request (a second owner or admin): the requester is shown the author's
    name, the approval is audited and the author told who asked and why."""
    return _decide(user, reveal_id, "approved", now=now)


def decline_reveal(user: User, reveal_id: int, *, now: datetime) -> RevealView:
    """Decline a request (a second owner or admin); the requester is told."""
    return _decide(user, reveal_id, "declined", now=now)


def get_reveal(user: User, reveal_id: int) -> RevealView:
    """A request as the owner or an admin sees it; the author's name only for the person
    who asked, once it is approved."""
    reveal = get_session().get(RevealRequest, reveal_id)
    if reveal is None:
        raise NotFound()
    post, thread, cohort = _post_and_cohort(reveal.post_id)
    _check_rights(user, cohort)
    return _present(user, reveal, post, thread)


def _present(viewer: User, reveal: RevealRequest, post: Post, thread: Thread) -> RevealView:
    """The request for ``viewer``: the name is theirs to see only if they asked."""
    session = get_session()
    names = {person.id: person.display_name for person in session.scalars(select(User).where(
        User.id.in_({reveal.requested_by_id, reveal.decided_by_id or 0, post.author_id})))}
    mine = reveal.requested_by_id == viewer.id
    return RevealView(
        id=reveal.id, post_id=post.id, thread_id=thread.id, thread_title=thread.title,
        cohort_id=reveal.cohort_id, pseudonym=post.pseudonym, post_html=post.body_html,
        status=reveal.status, reason=reveal.reason,
        requested_by=names.get(reveal.requested_by_id, ""),
        decided_by=names.get(reveal.decided_by_id) if reveal.decided_by_id else None,
        created_at=reveal.created_at, decided_at=reveal.decided_at, is_requester=mine,
        author_name=names.get(post.author_id) if mine and reveal.status == "approved"
        else None)

