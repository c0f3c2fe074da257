"""Cohort endpoints of the JSON API (this issue: reading; authoring follows)."""

from datetime import UTC, date, datetime, time
from typing import Literal

from flask import Blueprint, request, url_for
from pydantic import AwareDatetime, Field

from app.api import (
    LocalTime,
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
from app.cohorts import authoring as authoring_rules
from app.cohorts import progress as progress_rules
from app.cohorts import roster as roster_rules
from app.cohorts.access import (
    check_can_create_programs,
    get_cohort_for,
    get_module_for,
    get_program_for,
    list_cohort_modules,
    list_my_cohort_roles,
)
from app.cohorts.authoring import list_my_programs
from app.cohorts.parts import parts_of_cohort_modules, parts_of_modules
from app.cohorts.progress import Progress, get_learning_path, note_activity
from app.cohorts.releases import reschedule_release
from app.cohorts.roster import list_roster
from app.db import utcnow
from app.errors import BadRequest

bp = Blueprint("cohorts_api", __name__, url_prefix="/api/v1")


class MembershipOut(ResponseSchema):
    """One of my cohorts and my role in it: learner, facilitator, or owner (of its program)."""

    cohort_id: int
    cohort_name: str
    program_id: int
    program_title: str
    role: str


class MeOut(ResponseSchema):
    """The signed-in user with their cohorts and roles."""

    id: int
    email: str
    name: str
    timezone: str
    is_admin: bool
    can_own_programs: bool
    cohorts: list[MembershipOut]


class PartOut(ResponseSchema):
    """Something another feature put into a module: a discussion prompt or an assignment."""

    kind: str
    id: int
    title: str
    facts: list[str]


class ModuleOut(ResponseSchema):
    """A module of a program, as its owner sees it, with its prompts and assignments."""

    id: int
    position: int
    title: str
    body: str
    release_offset_days: int
    release_time: LocalTime
    parts: list[PartOut] = []


class GoalOut(ResponseSchema):
    """A skill or value the program aims to change."""

    id: int
    text: str


class ProgramOut(ResponseSchema):
    """A program with its goals and modules."""

    id: int
    title: str
    summary: str
    goals: list[GoalOut]
    modules: list[ModuleOut]
    created_at: datetime
    updated_at: datetime


class ScheduledModuleOut(ResponseSchema):
    """A module in the cohort's schedule: its local release day and time, and the instant.

    Titles and times are what every member sees on the timeline; content comes with
    ``GET /api/v1/cohorts/{id}/modules``, and reaches learners only once released.
    """

    id: int
    module_id: int | None
    position: int
    title: str
    release_offset_days: int
    release_time: LocalTime
    release_at: datetime


class CohortOut(ResponseSchema):
    """A cohort, its release schedule (UTC, in module order) and the caller's role in it."""

    id: int
    name: str
    program_id: int
    program_title: str
    starts_on: date
    timezone: str
    anonymity: str
    my_role: str
    schedule: list[ScheduledModuleOut]


@endpoint(bp, "/me", "GET", response=MeOut, summary="The signed-in user, their cohorts and roles")
def me(user):
    """Who am I, and where do I belong."""
    cohorts = [
        MembershipOut(cohort_id=cohort.id, cohort_name=cohort.name,
                      program_id=cohort.program.id, program_title=cohort.program.title,
                      role=role)
        for cohort, role in list_my_cohort_roles(user)
    ]
    return MeOut(id=user.id, email=user.email, name=user.name, timezone=user.timezone,
                 is_admin=user.is_admin, can_own_programs=user.can_own_programs,
                 cohorts=cohorts)


@endpoint(bp, "/programs/<int:program_id>", "GET", response=ProgramOut, errors=(403, 404),
          summary="A program with its goals and modules (its owner)")
def get_program(user, program_id: int):
    """Read a program I own."""
    return _present_program(get_program_for(user, program_id))


@endpoint(bp, "/cohorts/<int:cohort_id>", "GET", response=CohortOut, errors=(403, 404),
          summary="A cohort and my role in it (members and the program's owner)")
def get_cohort(user, cohort_id: int):
    """Read a cohort I take part in, with its schedule."""
    access, modules = list_cohort_modules(user, cohort_id)
    note_activity(access, utcnow())
    return _present_cohort(access, modules)


def _present_cohort(access, modules) -> CohortOut:
    """A cohort with its schedule, as ``CohortOut`` shows it to the caller."""
    cohort = access.cohort
    return CohortOut(id=cohort.id, name=cohort.name, program_id=cohort.program_id,
                     program_title=cohort.program.title, starts_on=cohort.starts_on,
                     timezone=cohort.timezone, anonymity=cohort.anonymity,
                     my_role=access.role,
                     schedule=[ScheduledModuleOut.model_validate(m) for m in modules])


class PartDateOut(ResponseSchema):
    """A dated milestone of a thread or assignment, e.g. "Submissions due"."""

    label: str
    at: datetime


class CohortPartOut(ResponseSchema):
    """A discussion thread or practice assignment of a cohort module."""

    id: int
    title: str
    body_html: str
    url: str | None
    facts: list[str]
    dates: list[PartDateOut]
    due_at: datetime | None


class CohortModuleOut(ResponseSchema):
    """A module of a cohort with its release state; content only once released (or staff).

    ``body_html``, ``threads`` and ``assignments`` are null while the module is hidden from
    the caller (a learner, before release). ``completed`` is the caller's own mark.
    """

    id: int
    position: int
    title: str
    release_at: datetime
    released: bool
    body_html: str | None
    completed: bool = False
    threads: list[CohortPartOut] | None = None
    assignments: list[CohortPartOut] | None = None


class CohortModuleList(ResponseSchema):
    """The cohort's modules in order."""

    items: list[CohortModuleOut]
    next_cursor: str | None = None


class ReleaseRequest(Schema):
    """Release now (no ``release_at``), or move the release to ``release_at``."""

    release_at: AwareDatetime | None = None


def _present_part(part) -> CohortPartOut:
    """A thread or assignment with its dates in UTC."""
    return CohortPartOut(
        id=part.id, title=part.title, body_html=part.body_html,
        url=url_for(part.link.endpoint, **part.link.args) if part.link else None,
        facts=list(part.facts),
        dates=[PartDateOut(label=label, at=at.astimezone(UTC)) for label, at in part.dates],
        due_at=part.due_at.astimezone(UTC) if part.due_at else None)


def _present_module(module, *, show_content: bool, now, parts=None,
                    completed: bool = False) -> CohortModuleOut:
    """A cohort module for the caller: content and parts hidden until released, except for
    staff; ``parts`` are the module's parts the caller may see."""
    released = module.is_released(now)
    shown = released or show_content
    parts = parts or []
    return CohortModuleOut(
        id=module.id, position=module.position, title=module.title,
        release_at=module.release_at, released=released,
        body_html=module.body_html if shown else None,
        completed=completed,
        threads=[_present_part(p) for p in parts if p.kind == "thread"] if shown else None,
        assignments=([_present_part(p) for p in parts if p.kind == "assignment"]
                     if shown else None))


@endpoint(bp, "/cohorts/<int:cohort_id>/modules", "GET", query=PageQuery,
          response=CohortModuleList, errors=(403, 404),
          summary="The cohort's modules with release state, paginated in order (members)")
def list_modules(user, cohort_id: int, query: PageQuery):
    """Modules in order; a learner sees content only once a module is released.

    The cursor points at the next module's position (positions run 0, 1, 2… per cohort).
    """
    limit = check_limit(query.limit)
    start = decode_cursor(query.cursor)
    now = utcnow()
    path = get_learning_path(user, cohort_id, now, content=True)
    note_activity(path.access, now)
    rest = [m for m in path.modules if m.position >= start]
    page = rest[:limit]
    return CohortModuleList(
        items=[_present_module(m, show_content=path.access.is_staff, now=now,
                               parts=path.parts.get(m.id),
                               completed=m.id in path.completed_ids)
               for m in page],
        next_cursor=encode_cursor(page[-1].position + 1) if len(rest) > limit else None)


@endpoint(bp, "/cohorts/<int:cohort_id>/releases/<int:module_id>", "POST",
          body=ReleaseRequest, response=CohortModuleOut, errors=(403, 404, 409),
          summary="Release a module now, or move its release (facilitators)")
def release(user, cohort_id: int, module_id: int, body: ReleaseRequest):
    """Release now or reschedule; the module's id is the cohort module's id."""
    now = utcnow()
    module = reschedule_release(user, cohort_id, module_id,
                                release_at=body.release_at, now=now)
    parts = parts_of_cohort_modules(get_cohort_for(user, cohort_id), [module]).get(module.id)
    return _present_module(module, show_content=True, now=now, parts=parts)


# --- program authoring and launch -------------------------------------------------------------

def _present_modules(modules) -> list[ModuleOut]:
    """Program modules with their parts (one query per part provider, however many)."""
    parts = parts_of_modules(modules)
    return [
        ModuleOut(id=m.id, position=m.position, title=m.title, body=m.body,
                  release_offset_days=m.release_offset_days, release_time=m.release_time,
                  parts=[PartOut(kind=p.kind, id=p.id, title=p.title, facts=list(p.facts))
                         for p in parts.get(m.id, [])])
        for m in modules
    ]


def _present_program(program) -> ProgramOut:
    """A program with its goals, and its modules with their parts."""
    return ProgramOut(id=program.id, title=program.title, summary=program.summary,
                      goals=[GoalOut.model_validate(g) for g in program.goals],
                      modules=_present_modules(program.modules),
                      created_at=program.created_at, updated_at=program.updated_at)


class ProgramSummaryOut(ResponseSchema):
    """A program in a list (read one for its goals and modules)."""

    id: int
    title: str
    summary: str
    created_at: datetime
    updated_at: datetime


class ProgramRequest(Schema):
    """A new program: what it is and the skills or values it aims to change."""

    title: str
    summary: str = ""
    goals: list[str] = Field(default_factory=list, max_length=50)


class ProgramPatch(Schema):
    """Changes to a program; fields left out stay as they are. ``goals`` replaces the list."""

    title: str | None = None
    summary: str | None = None
    goals: list[str] | None = Field(default=None, max_length=50)


class ModuleRequest(Schema):
    """A new module, appended to the program."""

    title: str
    body: str = Field(default="", description="Markdown.")
    release_offset_days: int = Field(
        default=0, description="Days after the cohort's start date that it is released.")
    release_time: LocalTime = Field(default=time(9, 0),
                                    description="Local time of release in the cohort's time "
                                                "zone, e.g. 09:00.")


class ModulePatch(Schema):
    """Changes to a module; fields left out stay as they are.

    ``position`` (0 is first) moves the module; the others close up around it.
    """

    title: str | None = None
    body: str | None = None
    release_offset_days: int | None = None
    release_time: LocalTime | None = None
    position: int | None = None


class LaunchRequest(Schema):
    """A cohort to launch from the program as it is now."""

    name: str
    starts_on: date
    timezone: str = Field(description="IANA time zone, e.g. Europe/Berlin.")
    anonymity: Literal["off", "peers", "everyone"] = Field(
        description="off: names always shown; peers: learners may post anonymously, "
                    "facilitators see who wrote it; everyone: nobody sees the author.")


@endpoint(bp, "/programs", "GET", query=PageQuery, response=Page[ProgramSummaryOut],
          summary="My programs, paginated in id order")
def list_programs(user, query: PageQuery):
    """The programs I own."""
    limit = check_limit(query.limit)
    rows = list_my_programs(user, after_id=decode_cursor(query.cursor),
                            limit=limit + 1)
    return page_of(rows, limit, ProgramSummaryOut.model_validate)


@endpoint(bp, "/programs", "POST", body=ProgramRequest, response=ProgramOut, status=201,
          errors=(403,), guard=check_can_create_programs,
          summary="Create a program (program owners)")
def create_program(user, body: ProgramRequest):
    """Create a program with its goals."""
    program = authoring_rules.create_program(user, title=body.title, summary=body.summary,
                                             goals=body.goals, now=utcnow())
    return _present_program(program)


@endpoint(bp, "/programs/<int:program_id>", "PATCH", body=ProgramPatch, response=ProgramOut,
          errors=(403, 404), summary="Change a program's title, summary or goals (its owner)")
def update_program(user, program_id: int, body: ProgramPatch):
    """Edit a program; running cohorts keep the version they were launched with."""
    program = get_program_for(user, program_id)
    program = authoring_rules.update_program(
        user, program_id,
        title=program.title if body.title is None else body.title,
        summary=program.summary if body.summary is None else body.summary,
        goals=[g.text for g in program.goals] if body.goals is None else body.goals,
        now=utcnow())
    return _present_program(program)


@endpoint(bp, "/programs/<int:program_id>/modules", "POST", body=ModuleRequest,
          response=ModuleOut, status=201, errors=(403, 404),
          summary="Add a module at the end of a program (its owner)")
def add_module(user, program_id: int, body: ModuleRequest):
    """Append a module."""
    module = authoring_rules.add_module(user, program_id, title=body.title, body=body.body,
                                        release_offset_days=body.release_offset_days,
                                        release_time=body.release_time)
    return _present_modules([module])[0]


@endpoint(bp, "/modules/<int:module_id>", "PATCH", body=ModulePatch, response=ModuleOut,
          errors=(403, 404), summary="Change a module or move it (its program's owner)")
def update_module(user, module_id: int, body: ModulePatch):
    """Edit or reorder a module; running cohorts keep their copy."""
    module = get_module_for(user, module_id)

    def value(name: str):
        """The field as sent, or as it is now when left out."""
        sent = getattr(body, name)
        return getattr(module, name) if sent is None else sent

    module = authoring_rules.update_module(
        user, module_id, title=value("title"), body=value("body"),
        release_offset_days=value("release_offset_days"), release_time=value("release_time"),
        position=body.position)
    return _present_modules([module])[0]


@endpoint(bp, "/modules/<int:module_id>", "DELETE", status=204, errors=(403, 404),
          summary="Delete a module with its prompts and assignments (its program's owner)")
def delete_module(user, module_id: int):
    """Delete a module; running cohorts keep their copy."""
    authoring_rules.delete_module(user, module_id)


@endpoint(bp, "/programs/<int:program_id>/cohorts", "POST", body=LaunchRequest,
          response=CohortOut, status=201, errors=(403, 404),
          summary="Launch a cohort of a program, computing its release schedule (its owner)")
def launch_cohort(user, program_id: int, body: LaunchRequest):
    """Launch a cohort; its modules are a copy of the program's as they are now."""
    cohort = authoring_rules.launch_cohort(user, program_id, name=body.name,
                                           starts_on=body.starts_on, timezone=body.timezone,
                                           anonymity=body.anonymity, now=utcnow())
    return _present_cohort(*list_cohort_modules(user, cohort.id))


# --- enrolment and the roster ---------------------------------------------------------------------

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


@endpoint(bp, "/cohorts/<int:cohort_id>/members", "GET", query=PageQuery,
          response=Page[MemberOut], errors=(403, 404),
          summary="The roster with roles, joined and last-active times (facilitators, owner)")
def list_members(user, cohort_id: int, query: PageQuery):
    """A page of the roster in enrolment order."""
    limit = check_limit(query.limit)
    _, rows = list_roster(user, cohort_id, after_id=decode_cursor(query.cursor),
                          limit=limit)
    return page_of(rows, limit, _present_member)


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


# --- the learner's path: completion ------------------------------------------------------------

class ProgressOut(ResponseSchema):
    """A learner's progress through a cohort after marking a module.

    ``completed_modules`` counts released modules marked complete; ``total_modules`` counts
    every module of the cohort, released or not.
    """

    cohort_id: int
    module_id: int
    completed: bool
    completed_modules: int
    total_modules: int


def _present_progress(cohort_id: int, module_id: int, completed: bool,
                      progress: Progress) -> ProgressOut:
    """The progress answer of both completion calls."""
    return ProgressOut(cohort_id=cohort_id, module_id=module_id, completed=completed,
                       completed_modules=progress.completed, total_modules=progress.total)


@endpoint(bp, "/cohorts/<int:cohort_id>/modules/<int:module_id>/completion", "PUT",
          response=ProgressOut, errors=(403, 404),
          summary="Mark a released module complete (learners; idempotent)")
def complete_module(user, cohort_id: int, module_id: int):
    """Mark complete; the module's id is the cohort module's id."""
    progress = progress_rules.complete_module(user, cohort_id, module_id, utcnow())
    return _present_progress(cohort_id, module_id, True, progress)


@endpoint(bp, "/cohorts/<int:cohort_id>/modules/<int:module_id>/completion", "DELETE",
          response=ProgressOut, errors=(403, 404),
          summary="Mark a released module not complete (learners; idempotent)")
def uncomplete_module(user, cohort_id: int, module_id: int):
    """Remove my completion mark."""
    progress = progress_rules.uncomplete_module(user, cohort_id, module_id, utcnow())
    return _present_progress(cohort_id, module_id, False, progress)
