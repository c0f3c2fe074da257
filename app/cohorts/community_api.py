"""Community endpoints of the JSON API: a cohort's announcements and its people."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from app.api import (
    Page,
    PageQuery,
    ResponseSchema,
    Schema,
    check_limit,
    decode_cursor,
    encode_cursor,
    endpoint,
    page_of,
)
from app.cohorts import community
from app.cohorts.api import bp
from app.cohorts.progress import note_activity
from app.db import utcnow


class AnnouncementAuthorOut(ResponseSchema):
    """Who posted an announcement (announcements are never anonymous)."""

    user_id: int
    name: str


class AnnouncementOut(ResponseSchema):
    """An announcement: its title, its Markdown and the HTML cleaned from it when written."""

    id: int
    cohort_id: int
    title: str
    body: str
    body_html: str
    pinned: bool
    created_at: datetime
    author: AnnouncementAuthorOut


class AnnouncementRequest(Schema):
    """A one-line title and a Markdown body (cleaned into HTML as it is saved)."""

    title: str = Field(max_length=1000, description=(
        f"One line, at most {community.TITLE_MAX} characters once trimmed."))
    body: str = Field(max_length=100_000, description=(
        f"Markdown, at most {community.BODY_MAX:,} characters once trimmed."))


class PersonOut(ResponseSchema):
    """A person of the cohort as its members see them."""

    user_id: int
    name: str
    role: Literal["owner", "facilitator", "learner"]
    intro: str
    #: Letters for an avatar (no pictures are uploaded yet).
    initials: str


def _present_announcement(announcement) -> AnnouncementOut:
    """An announcement with its author's name."""
    return AnnouncementOut(
        id=announcement.id, cohort_id=announcement.cohort_id, title=announcement.title,
        body=announcement.body, body_html=announcement.body_html, pinned=announcement.pinned,
        created_at=announcement.created_at,
        author=AnnouncementAuthorOut(user_id=announcement.author_id,
                                     name=announcement.author.display_name))


@endpoint(bp, "/cohorts/<int:cohort_id>/announcements", "GET", query=PageQuery,
          response=Page[AnnouncementOut], errors=(403, 404),
          summary="The cohort's announcements, newest first (members)")
def list_announcements(user, cohort_id: int, query: PageQuery):
    """A page of announcements, paginated backwards in time."""
    limit = check_limit(query.limit)
    access, rows = community.list_announcements(
        user, cohort_id, before_id=decode_cursor(query.cursor), limit=limit)
    note_activity(access, utcnow())
    return page_of(rows, limit, _present_announcement)


@endpoint(bp, "/cohorts/<int:cohort_id>/announcements", "POST", body=AnnouncementRequest,
          response=AnnouncementOut, status=201, errors=(403, 404),
          summary="Post an announcement; every member is notified (facilitators, owner)")
def post_announcement(user, cohort_id: int, body: AnnouncementRequest):
    """Post an announcement under the caller's name; 422 with the fields that need work."""
    announcement = community.post_announcement(user, cohort_id, title=body.title,
                                               body=body.body, now=utcnow())
    return _present_announcement(announcement)


@endpoint(bp, "/cohorts/<int:cohort_id>/people", "GET", query=PageQuery,
          response=Page[PersonOut], errors=(403, 404),
          summary="The cohort's people: name, role, intro (members)")
def list_people(user, cohort_id: int, query: PageQuery):
    """The owner, facilitators, then learners, each by name."""
    limit = check_limit(query.limit)
    offset = decode_cursor(query.cursor)
    access, people = community.list_people(user, cohort_id, offset=offset, limit=limit)
    note_activity(access, utcnow())
    more = len(people) > limit
    people = people[:limit]
    return {"items": [PersonOut(user_id=p.user_id, name=p.name, role=p.role, intro=p.intro,
                                initials=p.initials) for p in people],
            "next_cursor": encode_cursor(offset + len(people)) if more else None}
