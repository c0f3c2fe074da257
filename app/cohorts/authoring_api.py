"""Authoring endpoints of the JSON API: programs, their goals and modules, and launching a
cohort (program owners)."""

from datetime import date, datetime, time
from typing import Literal

from pydantic import Field

from app.api import (
    LocalTime,
    Page,
    PageQuery,
    ResponseSchema,
    Schema,
    check_limit,
    decode_cursor,
    endpoint,
    page_of,
)
from app.cohorts import authoring as authoring_rules
from app.cohorts.access import (
    check_can_create_programs,
    get_module_for,
    get_program_for,
    list_cohort_modules,
)
from app.cohorts.api import CohortOut, bp, present_cohort
from app.cohorts.authoring import list_my_programs
from app.cohorts.parts import parts_of_modules
from app.db import utcnow


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


@endpoint(bp, "/programs/<int:program_id>", "GET", response=ProgramOut, errors=(403, 404),
          summary="A program with its goals and modules (its owner)")
def get_program(user, program_id: int):
    """Read a program I own."""
    return _present_program(get_program_for(user, program_id))



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
    return present_cohort(*list_cohort_modules(user, cohort.id))
