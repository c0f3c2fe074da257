"""Thread and post endpoints of the JSON API: read a thread as the caller may, post,
edit with a version, delete, react, drafts and revisions.

Every post in a response went through ``present_post`` for the caller, as pages and live
events do: anonymous authors are shown as the caller may see them, and a learner who has
not posted their reflection gets no posts at all.
"""

from datetime import datetime
from typing import Literal

from flask import Blueprint, Response
from pydantic import Field

from app.api import (
    Id,
    Page,
    PageQuery,
    ResponseSchema,
    Schema,
    decode_cursor,
    encode_cursor,
    endpoint,
)
from app.db import utcnow
from app.discussions import posting
from app.discussions.anonymity import who_sees_the_name
from app.discussions.exports import export_posts_csv
from app.discussions.live import post_payload
from app.discussions.posts import get_post_for, list_posts, list_revisions
from app.discussions.settings import change_discussion_settings, get_discussion_settings
from app.discussions.threads import get_thread_for
from app.extensions import limiter
from app.peer_review.exports import export_reviews_csv
from app.security import per_person, posting_rate_limit

bp = Blueprint("posts_api", __name__, url_prefix="/api/v1")


class StageDates(ResponseSchema):
    """When each stage opens (UTC)."""

    reflect: datetime
    respond: datetime
    synthesize: datetime
    closed: datetime


class AnonymityOut(ResponseSchema):
    """Whether the caller may post anonymously here, and who would see their name."""

    policy: str = Field(description="off, peers or everyone: what an anonymous post by the "
                                    "caller would be written under (off: not available).")
    who_sees_the_name: dict[str, str] = Field(
        description="What the composer says: 'named' for a named post, 'anonymous' for an "
                    "anonymous one.")


class ThreadOut(ResponseSchema):
    """A thread as the caller meets it: the prompt, the stage and what they may do now."""

    id: int
    cohort_id: int
    module_id: int
    title: str
    body_html: str
    stage: str = Field(description="reflect, respond, synthesize or closed.")
    stage_label: str = Field(description="The stage as people read it.")
    stages: StageDates
    what_now: str
    can_see_posts: bool
    can_post: bool = Field(description="May post their reflection (staff: a note) now.")
    can_reply: bool
    can_synthesize: bool
    can_react: bool
    peers_posted: str = Field(description="How many learners have posted, in words; below "
                                          "5 it says 'a few'.")
    min_replies: int
    replies_given: int
    replies_needed: int
    locked: bool
    muted_until: datetime | None
    anonymity: AnonymityOut


class AuthorOut(ResponseSchema):
    """A post's author as the caller may see them."""

    label: str
    pseudonym: str | None
    name: str | None = Field(description="Only when the caller may know who wrote it.")
    user_id: int | None = Field(description="Only when the caller may know who wrote it.")
    is_you: bool
    anonymous: bool
    is_staff: bool


class PostOut(ResponseSchema):
    """A post as the caller may see it (live events carry the same shape)."""

    id: int
    thread_id: int
    parent_id: int | None
    kind: str = Field(description="reflection, reply or synthesis.")
    author: AuthorOut
    state: str = Field(description="shown, hidden or deleted.")
    body_html: str | None = Field(description="Cleaned HTML; null with a placeholder.")
    placeholder: str | None
    created_at: datetime = Field(description="For anonymous posts whose author the caller "
                                             "may not know: to the hour.")
    edited: bool
    version: int
    pinned: bool
    highlighted: bool
    reactions: dict[str, int]
    my_reactions: list[str]
    hidden_reason: str | None
    hidden_by_flags: bool = Field(description="Hidden by members' flags, pending review.")
    flag_count: int | None = Field(description="Staff only.")
    can_edit: bool
    can_delete: bool
    replies: list["PostOut"]


class ThreadPostsQuery(PageQuery):
    """Pages of top-level posts, each with its replies."""


class PostIn(Schema):
    """A new post: a reflection, a reply (``parent_id``) or a synthesis, as the stage allows."""

    body: str = Field(description="Markdown, 1 to 20,000 characters.")
    anonymous: bool = Field(default=False, description="Post under a pseudonym where allowed.")
    parent_id: Id | None = Field(default=None, description="The post replied to.")


class PostEditIn(Schema):
    """A new text for one's own post."""

    body: str = Field(description="Markdown, 1 to 20,000 characters.")
    version: int = Field(description="The version the edit started from; a stale one is "
                                     "refused with 409 and both texts in error.details.")


class ReactionsOut(ResponseSchema):
    """A post's reaction counts."""

    insightful: int
    thanks: int


class RevisionOut(ResponseSchema):
    """An earlier text of a post."""

    version: int
    body: str
    body_html: str
    written_at: datetime


class DraftIn(Schema):
    """What the caller is typing."""

    body: str = Field(description="Up to 20,000 characters; empty removes the draft.")
    parent_id: Id | None = Field(default=None, description="The post it replies to.")


class DraftOut(ResponseSchema):
    """The caller's saved draft."""

    body: str


class DraftQuery(Schema):
    """Which draft."""

    parent_id: Id | None = None


def _thread_out(access) -> ThreadOut:
    """The thread in its API shape."""
    opens = access.opens
    return ThreadOut(
        id=access.thread.id, cohort_id=access.thread.cohort_id,
        module_id=access.thread.cohort_module_id, title=access.thread.title,
        body_html=access.thread.body_html, stage=access.stage_name,
        stage_label=access.stage_label,
        stages=StageDates(reflect=opens[0], respond=opens[1], synthesize=opens[2],
                          closed=opens[3]),
        what_now=access.what_now(), can_see_posts=access.can_see_posts,
        can_post=access.can_post_reflection, can_reply=access.can_reply,
        can_synthesize=access.can_synthesize, can_react=access.can_react,
        peers_posted=access.peers_posted, min_replies=access.thread.min_replies,
        replies_given=access.replies_given, replies_needed=access.replies_needed,
        locked=access.is_locked, muted_until=access.muted_until if access.is_muted else None,
        anonymity=AnonymityOut(policy=(policy := posting.anonymity_choice(access)),
                               who_sees_the_name=who_sees_the_name(policy)))


@endpoint(bp, "/threads/<int:thread_id>", "GET", response=ThreadOut, errors=(404,),
          summary="A thread: prompt, stage, dates and what I may do now")
def get_thread(user, thread_id: int):
    """The thread as the caller meets it."""
    return _thread_out(get_thread_for(user, thread_id, now=utcnow()))


@endpoint(bp, "/threads/<int:thread_id>/posts", "GET", query=ThreadPostsQuery,
          response=Page[PostOut], errors=(404,),
          summary="The posts I may see, authors presented for me (none before I have "
                  "posted my reflection)")
def get_posts(user, thread_id: int, query: ThreadPostsQuery):
    """Top-level posts (pinned first, then oldest first) with their replies, a page at a
    time. The cursor holds the position of the page's end in that order (pinned posts come
    first, so ids are not in order), so a page never starts over when a post it ended at
    is deleted or moderated meanwhile."""
    limit = query.limit
    start = decode_cursor(query.cursor)
    posts = list_posts(get_thread_for(user, thread_id, now=utcnow()))
    page = posts[start:start + limit]
    more = start + limit < len(posts)
    return {"items": [post_payload(view) for view in page],
            "next_cursor": encode_cursor(start + limit) if more else None}


@endpoint(bp, "/threads/<int:thread_id>/posts", "POST", body=PostIn, response=PostOut,
          status=201, errors=(403, 404, 409, 429),
          summary="Post a reflection, reply or synthesis (Markdown in, cleaned HTML out)")
@limiter.shared_limit(posting_rate_limit, scope="posting", key_func=per_person)
def create_post(user, thread_id: int, body: PostIn):
    """Post in the thread as the stage and my gates allow; 403 says what I may do now."""
    view = posting.create_post(user, thread_id, body=body.body, anonymous=body.anonymous,
                               parent_id=body.parent_id, now=utcnow())
    return post_payload(view)


@endpoint(bp, "/posts/<int:post_id>", "PATCH", body=PostEditIn, response=PostOut,
          errors=(403, 404, 409, 429), summary="Edit my post (409 on a stale version; revisions "
                                          "are kept)")
@limiter.shared_limit(posting_rate_limit, scope="posting", key_func=per_person)
def edit_post(user, post_id: int, body: PostEditIn):
    """Change my post's text."""
    return post_payload(posting.edit_post(user, post_id, body=body.body, version=body.version,
                                          now=utcnow()))


@endpoint(bp, "/posts/<int:post_id>", "DELETE", status=204, errors=(403, 404),
          summary="Delete a post (its author or a facilitator); replies stay")
def delete_post(user, post_id: int):
    """Soft-delete a post."""
    posting.delete_post(user, post_id, now=utcnow())


@endpoint(bp, "/posts/<int:post_id>/reactions/<kind>", "PUT", response=ReactionsOut,
          errors=(403, 404, 409, 422), summary="React to a post (insightful or thanks)")
def add_reaction(user, post_id: int, kind: str):
    """Add my reaction; only counts are ever shown."""
    return posting.react(user, post_id, kind, on=True, now=utcnow())


@endpoint(bp, "/posts/<int:post_id>/reactions/<kind>", "DELETE", response=ReactionsOut,
          errors=(403, 404, 409, 422), summary="Take back my reaction")
def remove_reaction(user, post_id: int, kind: str):
    """Remove my reaction."""
    return posting.react(user, post_id, kind, on=False, now=utcnow())


@endpoint(bp, "/posts/<int:post_id>/revisions", "GET", response=Page[RevisionOut],
          errors=(404,), summary="Earlier texts of a post (its author and facilitators)")
def get_revisions(user, post_id: int):
    """Every earlier text, newest first (one page)."""
    access, post = get_post_for(user, post_id, now=utcnow())
    return {"items": list_revisions(access, post), "next_cursor": None}


@endpoint(bp, "/threads/<int:thread_id>/draft", "GET", query=DraftQuery, response=DraftOut,
          errors=(404,), summary="My saved draft in a thread")
def get_draft(user, thread_id: int, query: DraftQuery):
    """The draft I was typing (empty when none)."""
    get_thread_for(user, thread_id, now=utcnow())
    return {"body": posting.get_draft(user, thread_id, parent_id=query.parent_id)}


@endpoint(bp, "/threads/<int:thread_id>/draft", "PUT", body=DraftIn, response=DraftOut,
          errors=(404,), summary="Save what I am typing (empty removes it)")
def put_draft(user, thread_id: int, body: DraftIn):
    """Keep my draft so another tab or a later visit can restore it."""
    posting.save_draft(user, thread_id, body=body.body, parent_id=body.parent_id,
                       now=utcnow())
    return {"body": body.body}


class ExportQuery(Schema):
    """What to export."""

    what: Literal["posts", "reviews"] = Field(
        default="posts", description="posts, or reviews (participation comes with "
                                     "analytics).")


#: What each export is made by.
EXPORTS = {"posts": export_posts_csv, "reviews": export_reviews_csv}


@endpoint(bp, "/cohorts/<int:cohort_id>/export.csv", "GET", query=ExportQuery,
          content_type="text/csv", errors=(403, 404),
          summary="Export the cohort's posts or peer reviews as CSV (staff; anonymous "
                  "authors stay anonymous per policy)")
def export_csv(user, cohort_id: int, query: ExportQuery):
    """Every post or review, with its authors as I may see them."""
    return Response(EXPORTS[query.what](user, cohort_id), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=cohort-{cohort_id}-{query.what}.csv"})


class DiscussionSettingsIn(Schema):
    """Settings to change; leave a field out to keep it."""

    anonymity: Literal["off", "peers", "everyone"] | None = Field(
        default=None, description="The policy for new posts; posts already written keep "
                                  "the stronger of theirs and this one.")
    flag_threshold: int | None = Field(
        default=None, description="Distinct members' flags that hide a post (1–50).")
    kindness_hold: bool | None = Field(
        default=None, description="Peer reviews submitted unchanged after the kindness "
                                  "nudge wait for a facilitator before their author reads "
                                  "them (on by default).")


class DiscussionSettingsOut(ResponseSchema):
    """A cohort's discussion settings."""

    anonymity: str
    flag_threshold: int
    kindness_hold: bool
    note: str = Field(description="What a change means for posts already written.")


@endpoint(bp, "/cohorts/<int:cohort_id>/discussion-settings", "GET",
          response=DiscussionSettingsOut, errors=(403, 404),
          summary="The cohort's anonymity policy, flag threshold and kindness hold (staff)")
def get_settings(user, cohort_id: int):
    """The settings as they are."""
    return get_discussion_settings(user, cohort_id)


@endpoint(bp, "/cohorts/<int:cohort_id>/discussion-settings", "PATCH",
          body=DiscussionSettingsIn, response=DiscussionSettingsOut, errors=(403, 404),
          summary="Change the anonymity policy, the flag threshold or the kindness hold "
                  "(staff; audited)")
def change_settings(user, cohort_id: int, body: DiscussionSettingsIn):
    """Make the policy stronger or weaker (for new posts), or change the threshold."""
    return change_discussion_settings(user, cohort_id, anonymity=body.anonymity,
                                      flag_threshold=body.flag_threshold,
                                      kindness_hold=body.kindness_hold, now=utcnow())
