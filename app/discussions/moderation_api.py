"""Moderation endpoints of the JSON API: members' reports, facilitators' actions on posts
and threads, the flag queue, mutes, and break-glass reveals.

Posts in responses went through ``present_post`` for the caller, as pages and live events
do: a facilitator under the ``everyone`` policy gets a pseudonym, never a name.
"""

from datetime import datetime
from typing import Literal

from flask import Blueprint
from pydantic import Field

from app.api import Page, PageQuery, ResponseSchema, Schema, decode_cursor, encode_cursor, endpoint
from app.db import utcnow
from app.discussions import moderation, reveals
from app.discussions.posts import PostView
from app.extensions import limiter
from app.security import flag_rate_limit, per_person

bp = Blueprint("moderation_api", __name__, url_prefix="/api/v1")


class ReasonIn(Schema):
    """A reason, as the people it concerns will read it."""

    reason: str = Field(description="1 to 500 characters.")


class PostModerationIn(Schema):
    """A facilitator's action on a post."""

    action: Literal[moderation.POST_ACTIONS] = Field(
        description="hide and restore need a reason, which the post's author reads; restore "
                    "on a post still shown dismisses its open flags.")
    reason: str = Field(default="", description="Up to 500 characters.")


class ThreadModerationIn(Schema):
    """A facilitator's action on a thread."""

    action: Literal[moderation.THREAD_ACTIONS] = Field(
        description="lock (learners read but cannot post; needs a reason), unlock, or "
                    "advance_stage (the next stage opens now and members are told).")
    reason: str = Field(default="", description="Up to 500 characters.")


class MuteIn(Schema):
    """Mute a learner of the cohort until a moment."""

    until: datetime = Field(description="With its UTC offset; in the future, a year ahead "
                                        "at most.")
    reason: str = Field(description="1 to 500 characters.")


class RevealIn(Schema):
    """Why the author of an anonymous post must be known."""

    reason: str = Field(description=f"{reveals.MIN_REASON} to {reveals.MAX_REASON} "
                                    "characters; the second person and the author read it.")


class FlagOut(ResponseSchema):
    """A report taken."""

    post_id: int
    hidden: bool = Field(description="The report brought the post to the cohort's threshold: "
                                     "it is hidden until a facilitator reviews it.")


class ModeratedAuthorOut(ResponseSchema):
    """A post's author as the caller may see them."""

    label: str
    pseudonym: str | None
    name: str | None = Field(description="Only when the caller may see who wrote the post.")
    user_id: int | None
    anonymous: bool


class ModeratedPostOut(ResponseSchema):
    """A post as the caller sees it after a moderation action."""

    id: int
    thread_id: int
    parent_id: int | None
    kind: str
    author: ModeratedAuthorOut
    state: Literal["shown", "hidden", "deleted"]
    body_html: str | None
    created_at: datetime
    pinned: bool
    highlighted: bool
    hidden_reason: str | None
    flag_count: int | None = Field(description="Open flags (staff only).")


class ThreadStateOut(ResponseSchema):
    """A thread's stage and lock after a moderation action."""

    id: int
    stage: str
    stage_label: str
    locked: bool
    locked_reason: str | None


class FlaggedPostOut(ResponseSchema):
    """A post in the flag queue: its open flags' reasons (flaggers are never named)."""

    post: ModeratedPostOut
    thread_id: int
    thread_title: str
    flag_count: int
    reasons: list[str]
    first_flagged_at: datetime


class MuteOut(ResponseSchema):
    """A learner's mute in a cohort."""

    cohort_id: int
    user_id: int
    until: datetime
    reason: str


class RevealOut(ResponseSchema):
    """A break-glass reveal request."""

    id: int
    post_id: int
    thread_id: int
    cohort_id: int
    pseudonym: str
    status: Literal["pending", "approved", "declined"]
    reason: str
    requested_by: str
    decided_by: str | None
    created_at: datetime
    decided_at: datetime | None
    author_name: str | None = Field(
        description="Who wrote the post: only for the person who asked, once approved.")


def _post(view: PostView) -> ModeratedPostOut:
    """A post view in its API shape."""
    author = view.author
    return ModeratedPostOut(
        id=view.id, thread_id=view.thread_id, parent_id=view.parent_id, kind=view.kind,
        author=ModeratedAuthorOut(label=author.label, pseudonym=author.pseudonym,
                                  name=author.name, user_id=author.user_id,
                                  anonymous=author.anonymous),
        state=view.state, body_html=view.body_html, created_at=view.created_at,
        pinned=view.pinned, highlighted=view.highlighted, hidden_reason=view.hidden_reason,
        flag_count=view.flag_count)


@endpoint(bp, "/posts/<int:post_id>/flags", "POST", body=ReasonIn, response=FlagOut,
          status=201, errors=(403, 404, 429),
          summary="Report a post with a reason (members who can see it; once each)")
@limiter.limit(flag_rate_limit, key_func=per_person)
def flag_post(user, post_id: int, body: ReasonIn):
    """Report a post; enough reports hide it until a facilitator reviews it."""
    return moderation.flag_post(user, post_id, body.reason, now=utcnow())


@endpoint(bp, "/posts/<int:post_id>/moderation", "POST", body=PostModerationIn,
          response=ModeratedPostOut, errors=(403, 404),
          summary="Hide, restore, pin, unpin, highlight or unhighlight a post (facilitators)")
def moderate_post(user, post_id: int, body: PostModerationIn):
    """Moderate a post; hide and restore tell its author why."""
    return _post(moderation.moderate_post(user, post_id, body.action, body.reason,
                                          now=utcnow()))


@endpoint(bp, "/threads/<int:thread_id>/moderation", "POST", body=ThreadModerationIn,
          response=ThreadStateOut, errors=(403, 404),
          summary="Lock, unlock or advance the stage of a thread (facilitators)")
def moderate_thread(user, thread_id: int, body: ThreadModerationIn):
    """Moderate a thread."""
    access = moderation.moderate_thread(user, thread_id, body.action, body.reason,
                                        now=utcnow())
    return ThreadStateOut(id=access.thread.id, stage=access.stage_name,
                          stage_label=access.stage_label, locked=access.is_locked,
                          locked_reason=access.thread.locked_reason)


@endpoint(bp, "/cohorts/<int:cohort_id>/flags", "GET", query=PageQuery,
          response=Page[FlaggedPostOut], errors=(403, 404),
          summary="The flag queue: posts with open flags, longest waiting first (staff)")
def flag_queue(user, cohort_id: int, query: PageQuery):
    """Posts members reported, with the reasons, as the caller may see them."""
    _, queue = moderation.list_flag_queue(user, cohort_id, after=decode_cursor(query.cursor),
                                          limit=query.limit)
    more = len(queue) > query.limit
    queue = queue[:query.limit]
    return {"items": [FlaggedPostOut(post=_post(item.post), thread_id=item.thread_id,
                                     thread_title=item.thread_title,
                                     flag_count=item.flag_count, reasons=item.reasons,
                                     first_flagged_at=item.first_flagged_at)
                      for item in queue],
            "next_cursor": encode_cursor(queue[-1].cursor) if more else None}


@endpoint(bp, "/cohorts/<int:cohort_id>/members/<int:user_id>/mute", "POST", body=MuteIn,
          response=MuteOut, errors=(403, 404),
          summary="Mute a learner until a moment: they read but cannot post or react (staff)")
def mute_member(user, cohort_id: int, user_id: int, body: MuteIn):
    """Mute a learner (or change their mute's end and reason)."""
    return moderation.mute_member(user, cohort_id, user_id, until=body.until,
                                  reason=body.reason, now=utcnow())


@endpoint(bp, "/cohorts/<int:cohort_id>/members/<int:user_id>/mute", "DELETE", status=204,
          errors=(403, 404), summary="End a learner's mute now (staff)")
def unmute_member(user, cohort_id: int, user_id: int):
    """Unmute a learner."""
    moderation.unmute_member(user, cohort_id, user_id, now=utcnow())


@endpoint(bp, "/posts/<int:post_id>/reveal", "POST", body=RevealIn, response=RevealOut,
          status=201, errors=(403, 404),
          summary="Ask who wrote a post under the 'everyone' policy (owner, site admin)")
def request_reveal(user, post_id: int, body: RevealIn):
    """Request a break-glass reveal; a second owner or admin decides."""
    return reveals.request_reveal(user, post_id, body.reason, now=utcnow())


@endpoint(bp, "/reveals/<int:reveal_id>", "GET", response=RevealOut, errors=(403, 404),
          summary="A reveal request (owner, site admins); the name only for its requester")
def get_reveal(user, reveal_id: int):
    """Read a reveal request."""
    return reveals.get_reveal(user, reveal_id)


@endpoint(bp, "/reveals/<int:reveal_id>/approve", "POST", response=RevealOut,
          errors=(403, 404),
          summary="Approve a reveal (a second owner or admin): audited, the author told")
def approve_reveal(user, reveal_id: int):
    """Approve a pending reveal request."""
    return reveals.approve_reveal(user, reveal_id, now=utcnow())


@endpoint(bp, "/reveals/<int:reveal_id>/decline", "POST", response=RevealOut,
          errors=(403, 404), summary="Decline a reveal (a second owner or admin)")
def decline_reveal(user, reveal_id: int):
    """Decline a pending reveal request."""
    return reveals.decline_reveal(user, reveal_id, now=utcnow())
