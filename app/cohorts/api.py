"""Cohort endpoints of the JSON API (this issue: reading; authoring follows)."""

from datetime import date, datetime, time

from flask import Blueprint
from pydantic import AwareDatetime

from app.api import ResponseSchema, Schema, endpoint
from app.cohorts import services
from app.db import utcnow
from app.sanitize import render_markdown

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


class ModuleOut(ResponseSchema):
    """A module of a program, as its owner sees it."""

    id: int
    position: int
    title: str
    body: str
    release_offset_days: int
    release_time: time


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


class CohortOut(ResponseSchema):
    """A cohort and the caller's role in it."""

    id: int
    name: str
    program_id: int
    program_title: str
    starts_on: date
    timezone: str
    anonymity: str
    my_role: str


@endpoint(bp, "/me", "GET", response=MeOut, summary="The signed-in user, their cohorts and roles")
def me(user):
    """Who am I, and where do I belong."""
    cohorts = [
        MembershipOut(cohort_id=cohort.id, cohort_name=cohort.name,
                      program_id=cohort.program.id, program_title=cohort.program.title,
                      role=role)
        for cohort, role in services.list_my_cohort_roles(user)
    ]
    return MeOut(id=user.id, email=user.email, name=user.name, timezone=user.timezone,
                 is_admin=user.is_admin, can_own_programs=user.can_own_programs,
                 cohorts=cohorts)


@endpoint(bp, "/programs/<int:program_id>", "GET", response=ProgramOut, errors=(404,),
          summary="A program with its goals and modules (its owner)")
def get_program(user, program_id: int):
    """Read a program I own."""
    return services.get_program_for(user, program_id)


@endpoint(bp, "/cohorts/<int:cohort_id>", "GET", response=CohortOut, errors=(404,),
          summary="A cohort and my role in it (members and the program's owner)")
def get_cohort(user, cohort_id: int):
    """Read a cohort I take part in."""
    access = services.get_cohort_for(user, cohort_id)
    cohort = access.cohort
    return CohortOut(id=cohort.id, name=cohort.name, program_id=cohort.program_id,
                     program_title=cohort.program.title, starts_on=cohort.starts_on,
                     timezone=cohort.timezone, anonymity=cohort.anonymity, my_role=access.role)


class CohortModuleOut(ResponseSchema):
    """A module of a cohort with its release state; content only once released (or staff)."""

    id: int
    position: int
    title: str
    release_at: datetime
    released: bool
    body_html: str | None


class CohortModuleList(ResponseSchema):
    """The cohort's modules in order."""

    items: list[CohortModuleOut]
    next_cursor: str | None = None


class ReleaseRequest(Schema):
    """Release now (no ``release_at``), or move the release to ``release_at``."""

    release_at: AwareDatetime | None = None


def _present_module(module, *, show_content: bool, now) -> CohortModuleOut:
    """A cohort module for the caller: content hidden until released, except for staff."""
    released = module.is_released(now)
    return CohortModuleOut(
        id=module.id, position=module.position, title=module.title,
        release_at=module.release_at, released=released,
        body_html=str(render_markdown(module.body)) if released or show_content else None)


@endpoint(bp, "/cohorts/<int:cohort_id>/modules", "GET", response=CohortModuleList,
          errors=(404,), summary="The cohort's modules with release state (members)")
def list_modules(user, cohort_id: int):
    """Modules in order; a learner sees content only once a module is released."""
    now = utcnow()
    access, modules = services.list_cohort_modules(user, cohort_id)
    return CohortModuleList(items=[_present_module(m, show_content=access.is_staff, now=now)
                                   for m in modules])


@endpoint(bp, "/cohorts/<int:cohort_id>/releases/<int:module_id>", "POST",
          body=ReleaseRequest, response=CohortModuleOut, errors=(403, 404, 409),
          summary="Release a module now, or move its release (facilitators)")
def release(user, cohort_id: int, module_id: int, body: ReleaseRequest):
    """Release now or reschedule; the module's id is the cohort module's id."""
    now = utcnow()
    module = services.reschedule_release(user, cohort_id, module_id,
                                         release_at=body.release_at, now=now)
    return _present_module(module, show_content=True, now=now)
