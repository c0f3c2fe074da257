"""Authoring programs and their modules, and launching cohorts from them (the snapshot rule)."""

from datetime import date, datetime, time

from sqlalchemy import select

from app import audit
from app.accounts.models import User
from app.accounts.services import check_timezone
from app.cohorts.access import get_module_for, get_program_for, require_program_rights
from app.cohorts.models import (
    ANONYMITY_POLICIES,
    Cohort,
    CohortModule,
    Module,
    Program,
    ProgramGoal,
)
from app.cohorts.release_plan import PlannedRelease, plan_releases
from app.cohorts.schedule import SCHEDULE_SPAN, release_instant
from app.cohorts.signals import (
    cohort_launched,
    releases_scheduled,
)
from app.db import get_session, lock_for_update, transaction
from app.errors import Invalid, NotFound
from app.text import one_line_problem


def create_program(user: User, *, title: str, summary: str = "", goals: list[str] = (),
                   now: datetime) -> Program:
    """Create a program with its goals (the skills or values it aims to change)."""
    require_program_rights(user)
    title, clean_goals = _clean_program(title, summary or "", goals)
    with transaction() as session:
        program = Program(owner_id=user.id, title=title, summary=summary or "",
                          created_at=now, updated_at=now)
        program.goals = [ProgramGoal(position=i, text=g) for i, g in enumerate(clean_goals)]
        session.add(program)
        session.flush()
        audit.record(session, user.id, "program.created", target_type="program",
                     target_id=program.id)
    return program


def add_module(user: User, program_id: int, *, title: str, body: str = "",
               release_offset_days: int = 0, release_time: time = time(9, 0)) -> Module:
    """Append a module to a program."""
    program = get_program_for(user, program_id)
    title = (title or "").strip()
    errors = _module_errors(title, body, release_offset_days)
    if errors:
        raise Invalid(fields=errors)
    with transaction() as session:
        modules = _locked_modules(session, program)
        position = max((m.position for m in modules), default=-1) + 1
        module = Module(position=position, title=title, body=body or "",
                        release_offset_days=release_offset_days, release_time=release_time)
        modules.append(module)
        session.flush()
    return module


def _locked_modules(session, program: Program) -> list[Module]:
    """Lock the program and return its modules as committed now, in order.

    Positions are unique per program: adding, moving and deleting modules read the order
    only under this lock, so sixteen concurrent additions get sixteen places instead of
    fourteen unique-constraint failures.
    """
    lock_for_update(session, Program, program.id)
    session.scalars(select(Module).where(Module.program_id == program.id)
                    .execution_options(populate_existing=True)).all()
    session.expire(program, ["modules"])
    return program.modules


def launch_cohort(user: User, program_id: int, *, name: str, starts_on: date, timezone: str,
                  anonymity: str, now: datetime) -> Cohort:
    """Launch a cohort of a program."""
    program = get_program_for(user, program_id)
    errors = {}
    name = (name or "").strip()
    if not name or len(name) > 200:
        errors["name"] = "Give the cohort a name of 1 to 200 characters."
    elif problem := one_line_problem(name):
        errors["name"] = problem
    errors.update(_start_errors(starts_on, timezone, now))
    if anonymity not in ANONYMITY_POLICIES:
        errors["anonymity"] = "Choose off, peers or everyone."
    if errors:
        raise Invalid(fields=errors)
    with transaction() as session:
        cohort = Cohort(program_id=program.id, name=name.strip(), starts_on=starts_on,
                        timezone=timezone, anonymity=anonymity, created_by_id=user.id,
                        launched_at=now)
        session.add(cohort)
        session.flush()
        copied = _snapshot_modules(session, cohort, program)
        cohort_launched.send(cohort, modules=copied, now=now)
        releases_scheduled.send(cohort, cohort_module_ids=list(copied.values()), now=now)
        audit.record(session, user.id, "cohort.launched", cohort_id=cohort.id,
                     target_type="cohort", target_id=cohort.id)
    return cohort


def _start_errors(starts_on: date | None, timezone: str, now: datetime) -> dict[str, str]:
    """Field errors of a cohort's start date and time zone (launching and previewing)."""
    errors = {}
    try:
        check_timezone(timezone)
    except Invalid as error:
        errors.update(error.fields)
    if starts_on is None:
        errors["starts_on"] = "Enter a start date such as 2026-03-02."
    elif abs(starts_on - now.date()) > SCHEDULE_SPAN:
        errors["starts_on"] = "Choose a start date within ten years of today."
    return errors


def get_release_plan(user: User, program_id: int, *, starts_on: date | None, timezone: str,
                     now: datetime) -> list[PlannedRelease]:
    """When each module of the program would be released for a cohort starting on
    ``starts_on`` in ``timezone`` (nothing is stored); Invalid for a bad date or zone."""
    program = get_program_for(user, program_id)
    if errors := _start_errors(starts_on, timezone, now):
        raise Invalid(fields=errors)
    return plan_releases(list(program.modules), starts_on, timezone)


def _snapshot_modules(session, cohort: Cohort, program: Program) -> dict[int, int]:
    """Copy the program's modules into the cohort and compute each release instant.

    The snapshot rule: a cohort runs the program as it was at launch. Later edits to the
    program change future cohorts only, never a running one. Returns
    ``{module_id: cohort_module_id}`` for the features that copy their own parts.
    """
    copies = {}
    for module in program.modules:
        copies[module.id] = CohortModule(
            cohort_id=cohort.id, module_id=module.id, position=module.position,
            title=module.title, body=module.body, body_html=module.body_html,
            release_offset_days=module.release_offset_days, release_time=module.release_time,
            release_at=release_instant(cohort.starts_on, module.release_offset_days,
                                       module.release_time, cohort.timezone),
        )
    session.add_all(copies.values())
    session.flush()
    return {module_id: copy.id for module_id, copy in copies.items()}


#: The longest module content accepted (Markdown characters).
MAX_MODULE_BODY = 100_000
#: The longest program summary accepted (the page's form says the same).
MAX_PROGRAM_SUMMARY = 5_000


def _clean_program(title: str, summary: str, goals: list[str]) -> tuple[str, list[str]]:
    """The trimmed title and the non-empty goals, trimmed; Invalid with every problem."""
    title = (title or "").strip()
    clean_goals = [g.strip() for g in goals if g and g.strip()]
    if errors := _program_errors(title, summary, clean_goals):
        raise Invalid(fields=errors)
    return title, clean_goals


def _program_errors(title: str, summary: str, goals: list[str]) -> dict[str, str]:
    """Field errors of a program's title, summary and goals (goals already trimmed)."""
    errors = {}
    if not title or len(title) > 200:
        errors["title"] = "Give the program a title of 1 to 200 characters."
    elif problem := one_line_problem(title):
        errors["title"] = problem
    if any(len(goal) > 200 for goal in goals):
        errors["goals"] = "Keep each goal under 200 characters."
    elif any(one_line_problem(goal) for goal in goals):
        errors["goals"] = "Write each goal on one line of its own."
    if len(summary) > MAX_PROGRAM_SUMMARY:
        errors["summary"] = f"Keep the summary under {MAX_PROGRAM_SUMMARY:,} characters."
    return errors


def _module_errors(title: str, body: str, release_offset_days: int) -> dict[str, str]:
    """Field errors of a module's title, content and release offset (title already trimmed)."""
    errors = {}
    if not title or len(title) > 200:
        errors["title"] = "Give the module a title of 1 to 200 characters."
    elif problem := one_line_problem(title):
        errors["title"] = problem
    if len(body or "") > MAX_MODULE_BODY:
        errors["body"] = "Keep the content under 100,000 characters."
    if not 0 <= release_offset_days <= 3650:
        errors["release_offset_days"] = "Use a number of days from 0 to 3650."
    return errors


def _renumber(session, rows: list) -> None:
    """Give ``rows`` the positions 0, 1, 2… in list order.

    Positions are unique per parent and checked row by row, so a swap done in place would
    collide half way: every row first moves to a negative position, then to its final one.
    """
    if all(row.position == index for index, row in enumerate(rows)):
        return
    for index, row in enumerate(rows):
        row.position = -index - 1
    session.flush()
    for index, row in enumerate(rows):
        row.position = index
    session.flush()


def list_my_programs(user: User, *, after_id: int = 0, limit: int = 50) -> list[Program]:
    """Programs the user holds in id order, after a cursor id (the API's pages)."""
    if not user.can_own_programs:
        return []
    return list(get_session().scalars(
        select(Program).where(Program.owner_id == user.id, Program.id > after_id)
        .order_by(Program.id).limit(limit)
    ))


def list_program_cohorts(program: Program) -> list[Cohort]:
    """Cohorts launched from a program (one from :func:`get_program_for`), newest first."""
    return list(get_session().scalars(
        select(Cohort).where(Cohort.program_id == program.id).order_by(Cohort.id.desc())
    ))


def update_program(user: User, program_id: int, *, title: str, summary: str,
                   goals: list[str], now: datetime) -> Program:
    """Change a program's title, summary and goals (the goals given replace the old list).

    A goal whose text is kept keeps its identity, whatever its new place in the list, so
    anything recorded against it (pre/post pulses) still refers to the same goal.
    """
    program = get_program_for(user, program_id)
    title, clean_goals = _clean_program(title, summary or "", goals)
    with transaction() as session:
        # Goal positions are unique per program: read the goals as committed, under the
        # program's lock, so two edits at once renumber one after the other.
        lock_for_update(session, Program, program.id)
        session.scalars(select(ProgramGoal).where(ProgramGoal.program_id == program.id)
                        .execution_options(populate_existing=True)).all()
        session.expire(program, ["goals"])
        program.title = title
        program.summary = summary or ""
        program.updated_at = now
        unused: dict[str, list[ProgramGoal]] = {}
        for goal in program.goals:
            unused.setdefault(goal.text, []).append(goal)
        goals = [unused[text].pop(0) if unused.get(text) else ProgramGoal(position=-1, text=text)
                 for text in clean_goals]
        for goal in [g for left in unused.values() for g in left]:
            program.goals.remove(goal)
        session.flush()  # the removed goals free their positions first
        program.goals = goals
        _renumber(session, goals)
        audit.record(session, user.id, "program.updated", target_type="program",
                     target_id=program.id)
    return program


def update_module(user: User, module_id: int, *, title: str, body: str,
                  release_offset_days: int, release_time: time,
                  position: int | None = None) -> Module:
    """Change a module's content and release offset, and optionally its place (see
    :func:`move_module`), in one transaction.

    Cohorts already launched keep their own copy: this changes future cohorts only.
    """
    module = get_module_for(user, module_id)
    title = (title or "").strip()
    errors = _module_errors(title, body, release_offset_days)
    errors.update(_position_errors(module.program.modules, position))
    if errors:
        raise Invalid(fields=errors)
    with transaction() as session:
        modules = _locked_modules(session, module.program)
        module.title = title
        module.body = body or ""
        module.release_offset_days = release_offset_days
        module.release_time = release_time
        if position is not None:
            _place(session, modules, module, position)
    return module


def _position_errors(modules: list[Module], position: int | None) -> dict[str, str]:
    """A field error unless ``position`` (if given) is a place among ``modules``."""
    if position is not None and not 0 <= position < len(modules):
        return {"position": f"Use a position from 0 to {len(modules) - 1}."}
    return {}


def _place(session, modules: list[Module], module: Module, position: int) -> None:
    """Move a module to ``position`` in its program's order and renumber the others.

    ``modules`` comes from :func:`_locked_modules`; a module deleted meanwhile is NotFound,
    and a position that no longer exists (modules deleted meanwhile) is a field error.
    """
    if module not in modules:
        raise NotFound()
    if errors := _position_errors(modules, position):
        raise Invalid(fields=errors)
    order = [m for m in modules if m is not module]
    order.insert(position, module)
    _renumber(session, order)
    modules.sort(key=lambda m: m.position)


def move_module(user: User, module_id: int, position: int) -> Module:
    """Put a module at ``position`` (0 is first) in its program; the others close up."""
    module = get_module_for(user, module_id)
    if errors := _position_errors(module.program.modules, position):
        raise Invalid(fields=errors)
    with transaction() as session:
        _place(session, _locked_modules(session, module.program), module, position)
    return module


def sort_modules_by_release(user: User, program_id: int) -> Program:
    """Put the program's modules in the order they are released: by day offset, then by
    time; modules released at the same moment keep their order."""
    program = get_program_for(user, program_id)
    with transaction() as session:
        modules = _locked_modules(session, program)
        order = sorted(modules, key=lambda m: (m.release_offset_days, m.release_time))
        _renumber(session, order)
        modules.sort(key=lambda m: m.position)
        audit.record(session, user.id, "program.modules_sorted", target_type="program",
                     target_id=program.id)
    return program


def delete_module(user: User, module_id: int) -> None:
    """Delete a module with its prompts and assignments; the modules after it move up.

    Running cohorts keep their copy of it (the snapshot rule).
    """
    module = get_module_for(user, module_id)
    program = module.program
    with transaction() as session:
        modules = _locked_modules(session, program)
        if module not in modules:
            raise NotFound()  # deleted by a request that got there first
        modules.remove(module)
        session.flush()
        _renumber(session, modules)
        audit.record(session, user.id, "module.deleted", target_type="module",
                     target_id=module_id, program_id=program.id, title=module.title)
