"""Roster endpoints of the JSON API: enrolling people (one by one or from a CSV file),
listing members with their progress and participation, and removing them (the cohort's
staff)."""

from datetime import datetime
from typing import Literal

from flask import request
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
)
from app.cohorts import members as member_rules
from app.cohorts import roster as roster_rules
from app.cohorts.api import bp
from app.db import utcnow
from app.errors import BadRequest

#: Media types the import accepts: the CSV as the body, or a form upload in the field ``file``.
CSV_BODY = {
    "text/csv": {"type": "string",
                 "description": "UTF-8 CSV with the header email,name,role (name and role "
                                "may be empty; an empty role means learner)."},
    "multipart/form-data": {"type": "object", "required": ["file"],
                            "properties": {"file": {"type": "string",
                                                    "contentMediaType": "text/csv"}}},
}


class MemberOut(ResponseSchema):
    """A member of a cohort as its staff see them on the roster."""

    user_id: int
    email: str
    name: str
    role: str
    #: True while the person has not yet accepted their invitation.
    invited: bool
    joined_at: datetime
    last_active_at: datetime | None


class MemberProgressOut(MemberOut):
    """A member on the staff's Members view: the roster entry with progress and
    participation. Counts are zero where a feature has nothing for the member."""

    modules_completed: int = Field(description="Released modules the member marked complete.")
    modules_released: int = Field(description="The cohort's modules released so far.")
    reflections: int = Field(description=(
        "Reflections posted (not deleted; posts under the `everyone` anonymity policy are "
        "not counted, since a count would point at their author)."))
    replies: int = Field(description="Replies given to peers' posts (same rules).")
    reviews_owed: int = Field(description=(
        "Learners: required peer reviews not yet submitted, over the assignments of "
        "released modules. Always 0 for facilitators."))


class MembersQuery(PageQuery):
    """How to sort and filter the members list (the cursor keeps its place in that order)."""

    sort: Literal[member_rules.SORTS] = Field(
        default=member_rules.DEFAULT_SORT,
        description="Sort by name, last_active, modules_completed, reflections, replies or "
                    "reviews_owed; ties in name order.")
    dir: Literal["asc", "desc"] = Field(default="asc", description="Sort direction.")
    inactive_days: int | None = Field(
        default=None, ge=1, le=member_rules.MAX_INACTIVE_DAYS,
        description="Only members last active more than this many days ago, or never.")


class MemberAddedOut(MemberOut):
    """A new member: ``added`` (had an account) or ``invited`` (sent an invitation e-mail)."""

    outcome: Literal["added", "invited"]


class MemberRequest(Schema):
    """Enrol someone by e-mail; people without an account are invited."""

    email: str = Field(max_length=254)
    role: Literal["learner", "facilitator"]
    name: str = Field(default="", max_length=1000,
                      description="Used for a new account only; existing names stay.")


class ImportQuery(Schema):
    """How strict an import is."""

    only_valid: bool = Field(default=False, description=(
        "Import the valid rows and report the others; by default one bad row means nothing "
        "is imported (422 csv_invalid, the reasons in error.fields by line)."))


class RowErrorOut(ResponseSchema):
    """A refused row: its line in the file (null for the file as a whole) and why."""

    line: int | None
    reason: str


class ImportReportOut(ResponseSchema):
    """What an import did, listing e-mails by outcome, and the rows it skipped."""

    added: list[str]
    invited: list[str]
    already_members: list[str]
    errors: list[RowErrorOut]


def _present_member(membership) -> MemberOut:
    """A roster entry."""
    return MemberOut(user_id=membership.user_id, email=membership.user.email,
                     name=membership.user.name, role=membership.role,
                     invited=not membership.user.has_password,
                     joined_at=membership.joined_at, last_active_at=membership.last_active_at)


def _uploaded_csv() -> bytes:
    """The CSV of an import request: the raw body or the form field ``file``."""
    if request.mimetype in ("text/csv", "application/csv"):
        return request.get_data()
    upload = request.files.get("file") if request.mimetype == "multipart/form-data" else None
    if upload is None:
        raise BadRequest("Send the CSV as the body with Content-Type: text/csv, or as the "
                         "form field “file” of a multipart/form-data upload.",
                         code="csv_missing")
    return upload.read()


@endpoint(bp, "/cohorts/<int:cohort_id>/members", "GET", query=MembersQuery,
          response=Page[MemberProgressOut], errors=(403, 404),
          summary="Members with role, joined and last-active times, modules completed, "
                  "reflections, replies and reviews owed (facilitators, owner)")
def list_members(user, cohort_id: int, query: MembersQuery):
    """A page of the members, sorted and filtered as asked (by name by default)."""
    limit = check_limit(query.limit)
    page = member_rules.list_members(
        user, cohort_id, now=utcnow(), sort=query.sort, direction=query.dir,
        inactive_days=query.inactive_days, offset=decode_cursor(query.cursor), limit=limit)
    return {
        "items": [MemberProgressOut(
            **_present_member(row.membership).model_dump(),
            modules_completed=row.modules_completed, modules_released=page.modules_released,
            reflections=row.reflections, replies=row.replies, reviews_owed=row.reviews_owed)
            for row in page.rows],
        # The cursor holds the position in the sorted list.
        "next_cursor": encode_cursor(page.next_offset) if page.next_offset else None,
    }


@endpoint(bp, "/cohorts/<int:cohort_id>/members", "POST", body=MemberRequest,
          response=MemberAddedOut, status=201, errors=(403, 404, 409),
          summary="Enrol someone by e-mail; unknown e-mails get an invitation (staff)")
def add_member(user, cohort_id: int, body: MemberRequest):
    """Enrol one person; 409 already_member when they are in the cohort."""
    result = roster_rules.add_member(user, cohort_id, email=body.email, name=body.name,
                                     role=body.role, now=utcnow())
    return MemberAddedOut(**_present_member(result.membership).model_dump(),
                          outcome=result.outcome)


@endpoint(bp, "/cohorts/<int:cohort_id>/members/import", "POST", query=ImportQuery,
          response=ImportReportOut, raw_body=CSV_BODY, errors=(403, 404),
          summary="Enrol people from a CSV file email,name,role (staff)")
def import_members(user, cohort_id: int, query: ImportQuery):
    """Check every row, then import all of them, or with only_valid=true the good ones."""
    report = roster_rules.import_members(user, cohort_id, _uploaded_csv(),
                                         only_valid=query.only_valid, now=utcnow())
    return ImportReportOut(
        added=report.added, invited=report.invited, already_members=report.already_members,
        errors=[RowErrorOut(line=e.line, reason=e.reason) for e in report.errors])


@endpoint(bp, "/cohorts/<int:cohort_id>/members/<int:user_id>", "DELETE", status=204,
          errors=(403, 404, 409),
          summary="Remove a member; what they wrote stays (staff)")
def remove_member(user, cohort_id: int, user_id: int):
    """Remove someone from the cohort; their live connection stops getting its events."""
    roster_rules.remove_member(user, cohort_id, user_id, now=utcnow())
