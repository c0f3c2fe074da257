"""Cohort endpoints of the JSON API: me, a cohort and its modules, releases, completion.

Authoring (programs, modules, launch) is in ``authoring_api``, enrolment and the roster in
``roster_api``; all three answer on this blueprint."""

from datetime import UTC, date, datetime

from flask import Blueprint, url_for
from pydantic import AwareDatetime, Field

from app import audit
from app.api import (
    Id,
    LocalTime,
    Page,
    PageQuery,
    ResponseSchema,
    Schema,
    check_limit,
    decode_cursor,
    encode_cursor,
    endpoint,
)
from app.cohorts import progress as progress_rules
from app.cohorts.access import (
    get_cohort_for,
    list_cohort_modules,
    list_my_cohort_roles,
)
from app.cohorts.parts import parts_of_cohort_modules
from app.cohorts.progress import Progress, get_learning_path, note_activity
from app.cohorts.releases import reschedule_release
from app.db import utcnow

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


@endpoint(bp, "/cohorts/<int:cohort_id>", "GET", response=CohortOut, errors=(403, 404),
          summary="A cohort and my role in it (members and the program's owner)")
def get_cohort(user, cohort_id: int):
    """Read a cohort I take part in, with its schedule."""
    access, modules = list_cohort_modules(user, cohort_id)
    note_activity(access, utcnow())
    return present_cohort(access, modules)


def present_cohort(access, modules) -> CohortOut:
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


class AuditQuery(PageQuery):
    """Which entries."""

    cohort_id: Id | None = Field(default=None, description="One cohort's entries (required "
                                                           "unless you are a site admin).")


class AuditActorOut(ResponseSchema):
    """Who acted."""

    id: int
    name: str | None


class AuditEntryOut(ResponseSchema):
    """One recorded action."""

    id: int
    at: datetime
    actor: AuditActorOut | None = Field(description="None for the system (scheduler, CLI).")
    action: str
    cohort_id: int | None
    target_type: str
    target_id: int | None
    details: dict


@endpoint(bp, "/audit", "GET", query=AuditQuery, response=Page[AuditEntryOut],
          errors=(403, 404), summary="The append-only audit log (program owners for their "
                                     "cohorts; site admins)")
def list_audit(user, query: AuditQuery):
    """Entries oldest first, a page at a time."""
    limit = check_limit(query.limit)
    rows = audit.list_entries(user, cohort_id=query.cohort_id,
                              after_id=decode_cursor(query.cursor), limit=limit)
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [AuditEntryOut(
                id=entry.id, at=entry.at, action=entry.action, cohort_id=entry.cohort_id,
                target_type=entry.target_type, target_id=entry.target_id,
                details=entry.details or {},
                actor=None if entry.actor_id is None else AuditActorOut(id=entry.actor_id,
                                                                        name=name))
                      for entry, name in rows],
            "next_cursor": encode_cursor(rows[-1][0].id) if more and rows else None}
