"""Cohort rules: who may see a program or cohort, and the first authoring steps."""

import csv
import io
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from app import audit, realtime
from app.accounts.models import User
from app.accounts.services import check_timezone, invite_user, normalize_email
from app.cohorts.models import (
    ANONYMITY_POLICIES,
    ROLES,
    Cohort,
    CohortModule,
    Membership,
    Module,
    ModuleCompletion,
    Program,
    ProgramGoal,
)
from app.cohorts.parts import (
    ModulePart,
    milestones,
    parts_of_cohort_modules,
    parts_of_cohorts,
)
from app.cohorts.schedule import SCHEDULE_SPAN, release_instant
from app.cohorts.signals import (
    cohort_launched,
    member_removed,
    module_released,
    releases_scheduled,
)
from app.db import get_session, insert_for, lock_for_update, transaction
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.text import as_one_line, fit, one_line_problem

log = logging.getLogger(__name__)

OWNER = "owner"


# --- access ------------------------------------------------------------------------------------

def list_my_cohorts(user: User) -> list[Membership]:
    """The user's memberships with their cohorts and programs (one query)."""
    return list(get_session().scalars(
        select(Membership)
        .where(Membership.user_id == user.id)
        .options(joinedload(Membership.cohort).joinedload(Cohort.program))
        .order_by(Membership.cohort_id)
    ))


def list_my_cohort_roles(user: User) -> list[tuple[Cohort, str]]:
    """Every cohort the user is a member of or owns, with their role, in id order.

    Two queries however many cohorts; ownership wins over a membership, as in
    :func:`cohort_role`.
    """
    roles = {m.cohort_id: (m.cohort, m.role) for m in list_my_cohorts(user)}
    for cohort in list_owned_cohorts(user):
        roles[cohort.id] = (cohort, OWNER)
    return [roles[cohort_id] for cohort_id in sorted(roles)]


def holds_program(user: User, program: Program) -> bool:
    """The one rule of program ownership: the program's owner, while they hold the right.

    Every authoring action (programs, modules, prompts, assignments, launch) and the
    owner's place in the program's cohorts follow from it. When a site admin withdraws
    the program-owner right, all of that ends at once; granting it again restores it.
    """
    return program.owner_id == user.id and user.can_own_programs


#: Why a former owner is refused their programs and cohorts (they know these exist).
RIGHT_WITHDRAWN = ("Your program-owner right has been withdrawn, so you can no longer open, "
                   "change or run your programs. A site admin can restore it.")


def list_owned_programs(user: User) -> list[Program]:
    """Programs the user owns, newest first (none once the owner right is withdrawn)."""
    if not user.can_own_programs:
        return []
    return list(get_session().scalars(
        select(Program).where(Program.owner_id == user.id).order_by(Program.id.desc())
    ))


def list_owned_cohorts(user: User) -> list[Cohort]:
    """Cohorts of the programs the user owns, with their programs (one query)."""
    if not user.can_own_programs:
        return []
    return list(get_session().scalars(
        select(Cohort).join(Program).where(Program.owner_id == user.id)
        .options(joinedload(Cohort.program)).order_by(Cohort.id.desc())
    ))


def member_counts(cohort_ids: list[int]) -> dict[int, dict[str, int]]:
    """Learner and facilitator counts per cohort (one query)."""
    counts: dict[int, dict[str, int]] = {cid: {role: 0 for role in ROLES} for cid in cohort_ids}
    if cohort_ids:
        rows = get_session().execute(
            select(Membership.cohort_id, Membership.role, func.count())
            .where(Membership.cohort_id.in_(cohort_ids))
            .group_by(Membership.cohort_id, Membership.role)
        )
        for cohort_id, role, count in rows:
            counts[cohort_id][role] = count
    return counts


def cohort_role(user: User, cohort: Cohort) -> str | None:
    """The user's role in the cohort: owner (of its program), learner, facilitator or None.

    Ownership wins over any membership, so nobody can demote the program's owner in their
    own cohort by enrolling them with another role.
    """
    if holds_program(user, cohort.program):
        return OWNER
    return get_session().scalar(
        select(Membership.role).where(Membership.cohort_id == cohort.id,
                                      Membership.user_id == user.id)
    )


@dataclass
class CohortAccess:
    """A cohort as one user may see it."""

    cohort: Cohort
    role: str

    @property
    def is_staff(self) -> bool:
        """Facilitators and the program's owner run the cohort."""
        return self.role in ("facilitator", OWNER)


def get_cohort_for(user: User, cohort_id: int) -> CohortAccess:
    """The cohort and the user's role; NotFound when the user has no part in it.

    A former owner (right withdrawn) who is not a member is told why (NotAllowed).
    """
    cohort = get_session().scalar(
        select(Cohort).where(Cohort.id == cohort_id).options(joinedload(Cohort.program))
    )
    role = cohort_role(user, cohort) if cohort is not None else None
    if role is None:
        if cohort is not None and cohort.program.owner_id == user.id:
            raise NotAllowed(RIGHT_WITHDRAWN, code="owner_right_withdrawn")
        raise NotFound()
    return CohortAccess(cohort=cohort, role=role)


def can_listen_to_cohort(user: User, cohort_id: int) -> bool:
    """Whether the user may receive the cohort's live events."""
    try:
        get_cohort_for(user, cohort_id)
    except (NotFound, NotAllowed):
        return False
    return True


def _check_holds(user: User, program: Program | None) -> Program:
    """The program when the user holds it; NotFound for others', NotAllowed for a former owner."""
    if program is None or program.owner_id != user.id:
        raise NotFound()
    if not holds_program(user, program):
        raise NotAllowed(RIGHT_WITHDRAWN, code="owner_right_withdrawn")
    return program


def get_program_for(user: User, program_id: int) -> Program:
    """A program (with goals and modules) to the owner who holds it (see holds_program)."""
    return _check_holds(user, get_session().scalar(
        select(Program).where(Program.id == program_id)
        .options(selectinload(Program.goals), selectinload(Program.modules))
    ))


def get_module_for(user: User, module_id: int) -> Module:
    """A program module (with its program) to the owner who holds the program.

    Prompts and assignments are authored through this too: someone else's module is
    NotFound, a former owner's is NotAllowed.
    """
    module = get_session().scalar(
        select(Module).where(Module.id == module_id).options(joinedload(Module.program))
    )
    _check_holds(user, module.program if module is not None else None)
    return module


# --- authoring and launch ---------------------------------------------------------------------

def _require_owner_rights(user: User) -> None:
    """Only program owners create programs."""
    if not user.can_own_programs:
        raise NotAllowed("Only program owners can create programs.")


def create_program(user: User, *, title: str, summary: str = "", goals: list[str] = (),
                   now: datetime) -> Program:
    """Create a program with its goals (the skills or values it aims to change)."""
    _require_owner_rights(user)
    title = (title or "").strip()
    clean_goals = [g.strip() for g in goals if g and g.strip()]
    errors = _program_errors(title, summary or "", clean_goals)
    if errors:
        raise Invalid(fields=errors)
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
    try:
        check_timezone(timezone)
    except Invalid as error:
        errors.update(error.fields)
    if anonymity not in ANONYMITY_POLICIES:
        errors["anonymity"] = "Choose off, peers or everyone."
    if abs(starts_on - now.date()) > SCHEDULE_SPAN:
        errors["starts_on"] = "Choose a start date within ten years of today."
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
            title=module.title, body=module.body,
            release_offset_days=module.release_offset_days, release_time=module.release_time,
            release_at=release_instant(cohort.starts_on, module.release_offset_days,
                                       module.release_time, cohort.timezone),
        )
    session.add_all(copies.values())
    session.flush()
    return {module_id: copy.id for module_id, copy in copies.items()}


# --- schedule and releases ----------------------------------------------------------------------

def list_cohort_modules(user: User, cohort_id: int) -> tuple[CohortAccess, list[CohortModule]]:
    """The cohort's modules in order, for anyone who takes part in it.

    Callers show a module's content only when ``is_released(now)`` or to staff.
    """
    access = get_cohort_for(user, cohort_id)
    modules = list(get_session().scalars(
        select(CohortModule).where(CohortModule.cohort_id == cohort_id)
        .order_by(CohortModule.position)
    ))
    return access, modules


def _staff_module(user: User, cohort_id: int, cohort_module_id: int) -> CohortModule:
    """A module of a cohort the user runs, or NotFound / NotAllowed."""
    access = get_cohort_for(user, cohort_id)
    module = get_session().get(CohortModule, cohort_module_id)
    if module is None or module.cohort_id != cohort_id:
        raise NotFound()
    if not access.is_staff:
        raise NotAllowed("Only the cohort's facilitators can change its schedule.")
    return module


PAST_RELEASE = ("That time has already passed: choose a later one, or release the module "
                "now.")


def reschedule_release(user: User, cohort_id: int, cohort_module_id: int, *,
                       release_at: datetime | None, now: datetime) -> CohortModule:
    """Release a module now (``release_at`` None) or move its release to a later time."""
    if release_at is not None and release_at.tzinfo is None:
        raise Invalid(fields={"release_at": "Give the time with its UTC offset."})
    return _reschedule(user, _staff_module(user, cohort_id, cohort_module_id),
                       release_at=release_at, now=now)


def _reschedule(user: User, module: CohortModule, *, release_at: datetime | None,
                now: datetime, field: str = "release_at") -> CohortModule:
    """Move or release a module the user runs (``release_at`` aware, or None for now).

    One transaction: the move, its audit entry and, for "release now", the release's side
    effects commit together or not at all. A new time must lie ahead (at most
    SCHEDULE_SPAN): "release now" is the one way to open a module at once, so no caller
    can store a made-up past instant that stages and due dates would be computed from.
    """
    if module.released_at is not None:
        raise Conflict("This module is already released; its release cannot move.",
                       code="already_released")
    if release_at is not None and release_at <= now:
        raise Invalid(fields={field: PAST_RELEASE})
    if release_at is not None and release_at > now + SCHEDULE_SPAN:
        raise Invalid(fields={field: "Choose a time within ten years from now."})
    if module.is_released(now):
        # Already open to learners (the scheduler has not caught up yet): keep the time they
        # saw it open, and never hide again what they may have read.
        if release_at is not None:
            raise Conflict("Learners can already see this module; its release cannot move "
                           "later.", code="already_released")
        release_module(module.id, now=now)
        return module
    new_at = now if release_at is None else release_at
    with transaction() as session:
        old_at = module.release_at
        module.release_at = new_at
        audit.record(session, user.id, "module.release_moved", cohort_id=module.cohort_id,
                     target_type="cohort_module", target_id=module.id,
                     old=old_at.isoformat(), new=new_at.isoformat())
        releases_scheduled.send(module.cohort, cohort_module_ids=[module.id], now=now)
        if release_at is None:
            session.flush()  # the claim reads the new time from the table
            release_module(module.id, now=now)
    return module


def check_can_schedule(user: User, cohort_id: int, cohort_module_id: int) -> None:
    """Raise NotFound / NotAllowed unless the user may change this module's release."""
    _staff_module(user, cohort_id, cohort_module_id)


def move_release_local(user: User, cohort_id: int, cohort_module_id: int, *, on: date,
                       at: time, now: datetime) -> CohortModule:
    """Move a module's release to a local date and time in the cohort's time zone.

    The same gap and fold rules as launch apply (``app.cohorts.schedule``), and the same
    rules as every move (:func:`_reschedule`): a time already past is refused.
    """
    module = _staff_module(user, cohort_id, cohort_module_id)
    if on < now.date() - timedelta(days=1):
        raise Invalid(fields={"on": PAST_RELEASE})
    if on > (now + SCHEDULE_SPAN).date():
        raise Invalid(fields={"on": "Choose a date within ten years from now."})
    release_at = release_instant(on, 0, at, module.cohort.timezone)
    return _reschedule(user, module, release_at=release_at, now=now, field="on")


def release_module(cohort_module_id: int, *, now: datetime) -> bool:
    """Run a due release's side effects exactly once; False when already done or not due.

    The claim is one conditional UPDATE, so two schedulers, a duplicate job or a
    facilitator's "release now" racing the job can never both win. Joins the caller's
    transaction when there is one ("release now" is one transaction with its move).
    """
    with transaction() as session:
        claimed = _claim_releases(session, CohortModule.id == cohort_module_id, now=now)
        return _announce_releases(session, claimed, now=now) == 1


#: A release whose side effects keep failing is tried this often, then left to its staff
#: ("Release now" on the module tries again). The waits double from the first.
RELEASE_ATTEMPTS = 8
RELEASE_RETRY_FIRST = timedelta(minutes=1)


def release_or_record_failure(cohort_module_id: int, *, now: datetime) -> bool:
    """The scheduler's release of one module: a failure is recorded and retried later.

    The release's transaction is rolled back (the module stays visible: visibility comes
    from ``release_at`` alone), the failure is logged as an error and recorded on the
    module, and the reconcile job tries again after a doubling wait: never without end.
    """
    try:
        return release_module(cohort_module_id, now=now)
    except Exception as error:
        record_release_failure(cohort_module_id, error, now=now)
        return False


def record_release_failure(cohort_module_id: int, error: Exception, *, now: datetime) -> None:
    """Count a failed release, schedule its next attempt (or give up) and alert in the log."""
    with transaction() as session:
        module = session.get(CohortModule, cohort_module_id, populate_existing=True)
        if module is None or module.released_at is not None:
            return
        module.release_failures += 1
        module.release_error = fit(f"{type(error).__name__}: {error}", 500)
        if module.release_failures >= RELEASE_ATTEMPTS:
            module.release_retry_at = None
            log.critical("the release of cohort module %s failed %s times; giving up until "
                         "staff release it again: %s", cohort_module_id,
                         module.release_failures, module.release_error)
        else:
            module.release_retry_at = now + RELEASE_RETRY_FIRST * 2 ** (module.release_failures - 1)
            log.error("the release of cohort module %s failed (attempt %s of %s, next at %s): "
                      "%s", cohort_module_id, module.release_failures, RELEASE_ATTEMPTS,
                      module.release_retry_at.isoformat(), module.release_error)


def _due_releases(now: datetime):
    """Releases that are due and not yet done, without a failure waiting for its retry."""
    return (select(CohortModule.id)
            .where(CohortModule.released_at.is_(None), CohortModule.release_at <= now,
                   CohortModule.release_failures < RELEASE_ATTEMPTS,
                   or_(CohortModule.release_retry_at.is_(None),
                       CohortModule.release_retry_at <= now))
            .order_by(CohortModule.release_at, CohortModule.id))


def release_due_modules(*, now: datetime, limit: int = 5000, batch: int = 50) -> int:
    """Process every release that is due and not yet done (the reconcile job).

    Releases are claimed ``batch`` at a time, each batch and its side effects in one
    transaction, so a burst of due releases costs a few statements per release and one
    commit per batch. A batch that fails is retried one release at a time, so one bad
    release cannot hold back the others; a release that fails alone is recorded and
    waits for its retry (see :func:`release_or_record_failure`).
    """
    released, skipped = 0, set()
    while released < limit:
        due = _due_releases(now).limit(min(batch, limit - released))
        if skipped:
            due = due.where(CohortModule.id.not_in(skipped))
        try:
            with transaction() as session:
                claimed = _claim_releases(session, CohortModule.id.in_(due.scalar_subquery()),
                                          now=now)
                count = _announce_releases(session, claimed, now=now)
        except Exception:
            log.exception("a batch of releases failed; releasing them one by one")
            module_ids = get_session().scalars(due).all()
            if not module_ids:
                break
            for module_id in module_ids:
                if release_or_record_failure(module_id, now=now):
                    released += 1
                else:
                    skipped.add(module_id)  # even if recording its failure failed too
            continue
        if not count:
            break
        released += count
    return released


def _claim_releases(session, which, *, now: datetime) -> list[int]:
    """Mark the due, unprocessed releases among ``which`` as processed; their ids."""
    return session.scalars(
        update(CohortModule)
        .where(which, CohortModule.released_at.is_(None), CohortModule.release_at <= now)
        .values(released_at=now, release_retry_at=None)
        .returning(CohortModule.id)
        .execution_options(synchronize_session=False)
    ).all()


def _announce_releases(session, module_ids: list[int], *, now: datetime) -> int:
    """Send each claimed release's signal and live event (in the claim's transaction)."""
    if not module_ids:
        return 0
    # populate_existing: an instance already in the session would still say unreleased.
    modules = session.scalars(
        select(CohortModule).where(CohortModule.id.in_(module_ids))
        .order_by(CohortModule.release_at, CohortModule.id)
        .execution_options(populate_existing=True)
    ).all()
    members = defaultdict(list)
    for cohort_id, user_id, email in session.execute(
            select(Membership.cohort_id, Membership.user_id, User.email).join(User)
            .where(Membership.cohort_id.in_({module.cohort_id for module in modules}))):
        members[cohort_id].append((user_id, email))
    for module in modules:
        module_released.send(module, members=members[module.cohort_id], now=now)
        realtime.notify("module_released", {
            "cohort_id": module.cohort_id, "module_id": module.id, "title": module.title,
            "release_at": module.release_at.isoformat(),
        }, f"cohort:{module.cohort_id}")
    return len(modules)


def list_upcoming_releases(*, now: datetime, until: datetime, limit: int = 5000,
                           cohort_module_ids: list[int] | None = None,
                           ) -> list[tuple[int, datetime]]:
    """``(cohort_module_id, release_at)`` of unprocessed releases after now, up to ``until``.

    Earliest first; ``cohort_module_ids`` narrows it to those modules.
    """
    query = (select(CohortModule.id, CohortModule.release_at)
             .where(CohortModule.released_at.is_(None), CohortModule.release_at > now,
                    CohortModule.release_at <= until)
             .order_by(CohortModule.release_at, CohortModule.id).limit(limit))
    if cohort_module_ids is not None:
        query = query.where(CohortModule.id.in_(cohort_module_ids))
    return [(module_id, release_at) for module_id, release_at in get_session().execute(query)]


def get_cohort_module(user: User, cohort_id: int, cohort_module_id: int, *,
                      now: datetime) -> tuple[CohortAccess, CohortModule]:
    """A module of the cohort: staff see every one, learners only released ones (else 404)."""
    access = get_cohort_for(user, cohort_id)
    module = get_session().get(CohortModule, cohort_module_id)
    if module is None or module.cohort_id != cohort_id:
        raise NotFound()
    if not module.is_released(now) and not access.is_staff:
        raise NotFound()
    return access, module


# --- program authoring: editing programs and their modules -------------------------------------

#: The longest module content accepted (Markdown characters).
MAX_MODULE_BODY = 100_000
#: The longest program summary accepted (the page's form says the same).
MAX_PROGRAM_SUMMARY = 5_000


def check_can_create_programs(user: User) -> None:
    """Raise NotAllowed unless the user may create programs (pages ask before showing a form)."""
    _require_owner_rights(user)


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
    title = (title or "").strip()
    clean_goals = [g.strip() for g in goals if g and g.strip()]
    errors = _program_errors(title, summary or "", clean_goals)
    if errors:
        raise Invalid(fields=errors)
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


# --- enrolment and the roster ---------------------------------------------------------------------
#
# Rules of the roster, shared by the add form, the CSV import and the API:
# - Staff (the cohort's facilitators and its program's owner) enrol and remove people.
# - An e-mail with an account that has a password is added at once; an unknown e-mail (or an
#   invited account that never set a password) gets an invitation e-mail through the outbox
#   and is a member from that moment.
# - Someone already in the cohort keeps their membership and role: enrolment never changes
#   a role, and never renames an existing account.
# - A CSV import is checked whole before anything is written. By default one bad row means
#   nothing is imported; with ``only_valid`` the good rows are imported and the bad ones
#   reported. An empty role means learner.

#: The CSV header, in this order.
IMPORT_COLUMNS = ("email", "name", "role")
IMPORT_MAX_BYTES = 1_000_000
IMPORT_MAX_ROWS = 5_000
#: As long as an account's name may be.
NAME_MAX = 120
#: How stale ``Membership.last_active_at`` may get before a request writes it again.
ACTIVITY_INTERVAL = timedelta(hours=1)
ROSTER_PAGE_SIZE = 100
UTF8_HINT = ("Save it as UTF-8 CSV (in Excel: File › Save As › “CSV UTF-8”; in Google Sheets: "
             "File › Download › CSV) and upload it again.")


@dataclass(frozen=True)
class RowError:
    """Why one line of an import was refused; ``line`` is None for the file as a whole."""

    line: int | None
    reason: str


@dataclass
class ImportReport:
    """What an import did (or, when refused, would have done), e-mails listed per outcome.

    ``added`` had accounts and are members now; ``invited`` are members too and were sent
    an invitation to set up their account; ``already_members`` were left as they were.
    """

    added: list[str] = field(default_factory=list)
    invited: list[str] = field(default_factory=list)
    already_members: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    #: Whether anything was written (False when the import was refused).
    imported: bool = False


class ImportRejected(Invalid):
    """A CSV import was refused: nothing was written. ``report`` lists every problem."""

    code = "csv_invalid"

    def __init__(self, report: ImportReport, message: str):
        fields = {("file" if e.line is None else f"line {e.line}"): e.reason
                  for e in report.errors}
        super().__init__(message, fields=fields)
        self.report = report


@dataclass(frozen=True)
class _Row:
    """A checked row of an import."""

    line: int
    email: str
    name: str
    role: str


@dataclass
class AddResult:
    """The outcome of adding one person: ``added`` or ``invited``, and the membership."""

    membership: Membership
    outcome: str


def _require_staff(user: User, cohort_id: int, message: str) -> CohortAccess:
    """The cohort for its staff; NotAllowed for its other members, NotFound for outsiders."""
    access = get_cohort_for(user, cohort_id)
    if not access.is_staff:
        raise NotAllowed(message)
    return access


def _check_row(line: int, email: str, name: str,
               role: str) -> tuple[_Row | None, dict[str, str]]:
    """Check one row's values: the clean row, or ``{field: reason}`` when refused."""
    # A spreadsheet cell may hold a line break (Alt+Enter); a name is one line.
    email, name, role = email.strip(), as_one_line(name), role.strip().lower() or "learner"
    if not email:
        return None, {"email": "The e-mail is missing."}
    try:
        clean_email = normalize_email(email)
    except Invalid:
        return None, {"email": f"“{email[:100]}” is not a valid e-mail address."}
    if role not in ROLES:
        return None, {"role": f"Unknown role “{role[:40]}”; use learner or facilitator "
                              "(an empty role means learner)."}
    if len(name) > NAME_MAX:
        return None, {"name": f"The name is {len(name)} characters long; keep it to "
                              f"{NAME_MAX}."}
    return _Row(line, clean_email, name, role), {}


def _refuse_file(reason: str) -> ImportRejected:
    """An import refused as a whole, for a reason about the file rather than a row."""
    return ImportRejected(ImportReport(errors=[RowError(None, reason)]), reason)


def _decode_csv(data: bytes) -> str:
    """The file as text, or ImportRejected with a file-level reason."""
    if len(data) > IMPORT_MAX_BYTES:
        raise _refuse_file(f"The file is larger than {IMPORT_MAX_BYTES // 1_000_000} MB; "
                           "split it into smaller files.")
    if not data.strip():
        raise _refuse_file("The file is empty. The first line must be the header email,name,role.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _refuse_file("This file is UTF-16 text. " + UTF8_HINT)
    if b"\x00" in data:
        raise _refuse_file("This is not a CSV text file (it contains binary data, or it is UTF-16 "
                           "text). " + UTF8_HINT)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise _refuse_file(f"The file is not UTF-8 text (line {line} has a character in another "
                           "encoding, such as Latin-1). " + UTF8_HINT) from None


def _parse_import(data: bytes) -> tuple[list[_Row], list[RowError]]:
    """Check every row of a CSV import; file-level problems raise ImportRejected."""
    text = _decode_csv(data)
    # strict: a stray or unclosed quote is an error, not a row that swallows the rest.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[_Row] = []
    errors: list[RowError] = []
    first_line_of: dict[str, int] = {}
    header_seen = False
    next_line = 1
    try:
        for cells in reader:
            # A quoted value may span lines: a row starts where the previous one ended.
            line, next_line = next_line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue  # blank lines (a trailing newline, a spacer row) mean nothing
            if not header_seen:
                header = [cell.strip().lower() for cell in cells]
                if tuple(header) != IMPORT_COLUMNS:
                    found = ",".join(cell.strip() for cell in cells)[:100]
                    hint = (" It looks like a data row: add the header line above it."
                            if "@" in found else "")
                    raise _refuse_file(f"Line {line} must be the header email,name,role "
                                       f"(found “{found}”).{hint}")
                header_seen = True
                continue
            if len(rows) + len(errors) >= IMPORT_MAX_ROWS:
                raise _refuse_file(f"The file has more than {IMPORT_MAX_ROWS:,} rows; split it "
                                   "into smaller files.")
            while len(cells) > len(IMPORT_COLUMNS) and not cells[-1].strip():
                cells.pop()  # spreadsheets sometimes add empty trailing cells
            if len(cells) != len(IMPORT_COLUMNS):
                much = "many" if len(cells) > len(IMPORT_COLUMNS) else "few"
                errors.append(RowError(line, f"Too {much} columns: {len(cells)} instead of 3 "
                                             "(email,name,role). Quote a name that has a "
                                             "comma, e.g. \"Lovelace, Ada\"."))
                continue
            row, problem = _check_row(line, *cells)
            if problem:
                errors.extend(RowError(line, reason) for reason in problem.values())
                continue
            if row.email in first_line_of:
                errors.append(RowError(line, f"Duplicate of line {first_line_of[row.email]} "
                                             f"({row.email})."))
                continue
            first_line_of[row.email] = line
            rows.append(row)
    except csv.Error as error:
        raise _refuse_file(f"Line {reader.line_num} cannot be read as CSV ({error}). Check its "
                           "quotes.") from None
    if not header_seen:
        raise _refuse_file("The file is empty. The first line must be the header email,name,role.")
    if not rows and not errors:
        raise _refuse_file("The file has a header but no rows under it.")
    return rows, errors


def _plan_rows(cohort: Cohort, rows: list[_Row],
               report: ImportReport) -> list[tuple[_Row, User | None]]:
    """Sort checked rows into members already, refusals and people to enrol (no writes).

    Accounts and memberships of every e-mail are loaded in one query each. Existing members
    go to ``report.already_members``, disabled accounts to ``report.errors``; the rest is
    returned with the account each e-mail has (None for a new person).
    """
    session = get_session()
    users = {u.email: u for u in session.scalars(
        select(User).where(User.email.in_([row.email for row in rows])))}
    member_ids = set(session.scalars(
        select(Membership.user_id).where(Membership.cohort_id == cohort.id,
                                         Membership.user_id.in_([u.id for u in users.values()]))))
    to_enrol = []
    for row in rows:
        user = users.get(row.email)
        if user is not None and (user.id in member_ids or holds_program(user, cohort.program)):
            # The program's owner runs its cohorts already; a membership would change nothing.
            report.already_members.append(row.email)
        elif user is not None and user.is_disabled:
            report.errors.append(RowError(row.line, f"The account of {row.email} is disabled; "
                                                    "a site admin can enable it."))
        else:
            to_enrol.append((row, user))
    report.errors.sort(key=lambda e: e.line or 0)
    return to_enrol


def _enrol(actor: User, cohort: Cohort, plan: list[tuple[_Row, User | None]], *,
           now: datetime, report: ImportReport) -> dict[str, Membership]:
    """Write the planned memberships in the caller's transaction; invite who needs it.

    Only the invitations of new people cost statements per row (account, link, e-mail).
    """
    session = get_session()
    context = f"You have been added to the cohort “{cohort.name}”."
    memberships: dict[str, Membership] = {}
    for row, user in plan:
        if user is None or not user.has_password:
            user, _ = invite_user(actor, row.email, now=now, context=context)
            if row.name and not user.name:
                user.name = row.name
            report.invited.append(row.email)
            how = "invited"
        else:
            report.added.append(row.email)
            how = "added"
        memberships[row.email] = Membership(cohort_id=cohort.id, user_id=user.id,
                                            role=row.role, joined_at=now)
        audit.record(session, actor.id, "member.enrolled", cohort_id=cohort.id,
                     target_type="user", target_id=user.id, role=row.role, how=how)
    session.add_all(memberships.values())
    session.flush()
    return memberships


def import_members(user: User, cohort_id: int, data: bytes, *, only_valid: bool,
                   now: datetime) -> ImportReport:
    """Enrol the people of a CSV file (``email,name,role``) in one transaction.

    Every row is checked before anything is written. With any bad row the import is
    refused (ImportRejected, nothing written) unless ``only_valid``, which imports the good
    rows and reports the bad ones. A file that cannot be read at all is always refused.
    """
    access = _require_staff(user, cohort_id, "Only the cohort's facilitators can enrol people.")
    rows, errors = _parse_import(data)
    report = ImportReport(errors=list(errors))
    with transaction() as session:
        # Who is a member already is read under the cohort's lock, so the same file
        # imported twice at once enrols each person once.
        lock_for_update(session, Cohort, cohort_id)
        plan = _plan_rows(access.cohort, rows, report)
        if report.errors and not only_valid:
            raise ImportRejected(ImportReport(errors=report.errors), _rejected_message(report))
        _enrol(user, access.cohort, plan, now=now, report=report)
        audit.record(session, user.id, "members.imported", cohort_id=cohort_id,
                     target_type="cohort", target_id=cohort_id, added=len(report.added),
                     invited=len(report.invited), skipped=len(report.errors))
    report.imported = True
    return report


def _rejected_message(report: ImportReport) -> str:
    """A sentence for a refused import."""
    bad = len(report.errors)
    return (f"Nothing was imported: {bad} {'row needs' if bad == 1 else 'rows need'} "
            "attention. Fix them and upload the file again, or import only the valid rows.")


def add_member(user: User, cohort_id: int, *, email: str, name: str = "", role: str,
               now: datetime) -> AddResult:
    """Enrol one person by e-mail (invited when they have no account yet).

    Conflict when they are already a member (their role stays as it is).
    """
    access = _require_staff(user, cohort_id, "Only the cohort's facilitators can enrol people.")
    row, problem = _check_row(0, email or "", name or "", role or "")
    if problem:
        raise Invalid(next(iter(problem.values())), fields=problem)
    report = ImportReport()
    with transaction() as session:
        lock_for_update(session, Cohort, cohort_id)  # as for imports: one enrolment wins
        plan = _plan_rows(access.cohort, [row], report)
        if report.already_members:
            owner = access.cohort.program.owner
            if owner.email == row.email and holds_program(owner, access.cohort.program):
                raise Conflict(f"{row.email} owns this cohort's program and runs the cohort "
                               "already; owners are not enrolled.", code="already_member")
            raise Conflict(f"{row.email} is already a member of this cohort.",
                           code="already_member")
        if report.errors:
            raise Invalid(report.errors[0].reason, code="account_disabled",
                          fields={"email": report.errors[0].reason})
        memberships = _enrol(user, access.cohort, plan, now=now, report=report)
    return AddResult(memberships[row.email], "invited" if report.invited else "added")


def remove_member(user: User, cohort_id: int, member_user_id: int, *, now: datetime) -> None:
    """Take a person out of a cohort; what they wrote stays, presented per the cohort's policy.

    Their live connections stop receiving the cohort's events once this commits. Staff
    cannot remove themselves (another facilitator or the owner can), so nobody locks
    themselves out by mistake.
    """
    access = _require_staff(user, cohort_id, "Only the cohort's facilitators can remove members.")
    membership = get_session().scalar(
        select(Membership).where(Membership.cohort_id == cohort_id,
                                 Membership.user_id == member_user_id))
    if membership is None:
        raise NotFound()
    if member_user_id == user.id:
        raise Conflict("You cannot remove yourself; ask another facilitator or the program's "
                       "owner.", code="cannot_remove_self")
    with transaction() as session:
        session.delete(membership)
        audit.record(session, user.id, "member.removed", cohort_id=cohort_id,
                     target_type="user", target_id=member_user_id, role=membership.role)
        member_removed.send(access.cohort, user_id=member_user_id, now=now)
        realtime.leave_room_after_commit(member_user_id, f"cohort:{cohort_id}")


def touch_member_activity(user: User, cohort_id: int, now: datetime) -> None:
    """Record that a member used the cohort; written at most once per ACTIVITY_INTERVAL.

    One conditional UPDATE: no read first, and nothing happens for non-members.
    """
    with transaction() as session:
        session.execute(
            update(Membership)
            .where(Membership.cohort_id == cohort_id, Membership.user_id == user.id,
                   or_(Membership.last_active_at.is_(None),
                       Membership.last_active_at <= now - ACTIVITY_INTERVAL))
            .values(last_active_at=now)
            .execution_options(synchronize_session=False)
        )


def list_roster(user: User, cohort_id: int, *, after_id: int = 0,
                limit: int = ROSTER_PAGE_SIZE) -> tuple[CohortAccess, list[Membership]]:
    """A page of the roster for staff, in enrolment order: ``limit + 1`` rows (a next page?).

    Members come with their accounts; the cost is the same for any page size.
    """
    access = _require_staff(user, cohort_id, "Only the cohort's facilitators see the roster.")
    members = list(get_session().scalars(
        select(Membership).where(Membership.cohort_id == cohort_id, Membership.id > after_id)
        .options(joinedload(Membership.user)).order_by(Membership.id).limit(limit + 1)
    ))
    return access, members


def get_member_for_removal(user: User, cohort_id: int, member_user_id: int) -> Membership:
    """A member of the cohort (with their account) for the staff's removal step."""
    _require_staff(user, cohort_id, "Only the cohort's facilitators can remove members.")
    membership = get_session().scalar(
        select(Membership).where(Membership.cohort_id == cohort_id,
                                 Membership.user_id == member_user_id)
        .options(joinedload(Membership.user)))
    if membership is None:
        raise NotFound()
    return membership


# --- the learner's path: visits, progress, "this week" -----------------------------------------

#: Page loads closer together than this are one sitting: "new" markers survive reloads.
SITTING = timedelta(minutes=30)
#: "This week" looks this far back (releases) and ahead (releases and due dates).
WEEK = timedelta(days=7)


def record_visit(user: User, cohort_id: int, now: datetime) -> Membership:
    """Note that a member opened the cohort's page (members only, else NotFound).

    A visit more than 30 minutes after the last one starts a new sitting: the last visit
    becomes the one "new since your last visit" compares with. Within a sitting only the
    last visit moves, so reloading the page keeps the markers. The visit also counts as
    activity (:func:`touch_member_activity`), in the same transaction.
    """
    with transaction() as session:
        membership = session.scalar(select(Membership).where(
            Membership.cohort_id == cohort_id, Membership.user_id == user.id))
        if membership is None:
            raise NotFound()
        last = membership.last_visit_at
        if last is None or now - last > SITTING:
            membership.previous_visit_at = last
        membership.last_visit_at = now
        active = membership.last_active_at
        if active is None or active <= now - ACTIVITY_INTERVAL:
            membership.last_active_at = now
    return membership


def new_module_ids(membership: Membership | None, modules: list[CohortModule],
                   now: datetime) -> set[int]:
    """Modules released since the member's visit before this sitting.

    On a first visit (no earlier visit recorded) nothing is marked: everything would be
    "new", which tells nobody anything.
    """
    since = membership.previous_visit_at if membership is not None else None
    if since is None:
        return set()
    return {m.id for m in modules if since < m.release_at <= now}


@dataclass(frozen=True)
class Progress:
    """A learner's self-paced progress through one cohort.

    ``completed`` counts released modules marked complete; ``total`` counts every module of
    the cohort, released or not, so the bar shows the way through the whole program.
    """

    completed: int
    total: int
    #: Modules released since the member last opened the cohort (home page only).
    new: int = 0

    @property
    def label(self) -> str:
        """E.g. "3 of 6 modules complete"."""
        noun = "module" if self.total == 1 else "modules"
        return f"{self.completed} of {self.total} {noun} complete"


def list_progress(user: User, cohort_ids: list[int], now: datetime) -> dict[int, Progress]:
    """Progress and new-module counts per cohort for the user (one query, any number).

    "New" here means released after the member last opened the cohort's page; cohorts the
    member never opened count none (the first-visit rule of :func:`new_module_ids`).
    """
    progress = {cohort_id: Progress(0, 0) for cohort_id in cohort_ids}
    if not cohort_ids:
        return progress
    released = CohortModule.release_at <= now
    done = and_(released, ModuleCompletion.id.is_not(None))
    new = and_(released, CohortModule.release_at > Membership.last_visit_at)
    rows = get_session().execute(
        select(CohortModule.cohort_id, func.count(CohortModule.id),
               func.sum(case((done, 1), else_=0)), func.sum(case((new, 1), else_=0)))
        .outerjoin(ModuleCompletion, and_(ModuleCompletion.cohort_module_id == CohortModule.id,
                                          ModuleCompletion.user_id == user.id))
        .outerjoin(Membership, and_(Membership.cohort_id == CohortModule.cohort_id,
                                    Membership.user_id == user.id))
        .where(CohortModule.cohort_id.in_(cohort_ids))
        .group_by(CohortModule.cohort_id)
    )
    for cohort_id, total, completed, new_count in rows:
        progress[cohort_id] = Progress(int(completed or 0), total, int(new_count or 0))
    return progress


def _completed_ids(user: User, module_ids: list[int]) -> set[int]:
    """Which of these modules the user marked complete (one query)."""
    if not module_ids:
        return set()
    return set(get_session().scalars(
        select(ModuleCompletion.cohort_module_id)
        .where(ModuleCompletion.user_id == user.id,
               ModuleCompletion.cohort_module_id.in_(module_ids))
    ))


def _learner_module(user: User, cohort_id: int, cohort_module_id: int, now: datetime
                    ) -> CohortModule:
    """A released module of a cohort the user learns in (unreleased or absent: NotFound)."""
    access, module = get_cohort_module(user, cohort_id, cohort_module_id, now=now)
    if access.role != "learner":
        raise NotAllowed("Only learners track their progress through modules.")
    if not module.is_released(now):
        raise NotFound()  # staff may look ahead, but nobody completes an unreleased module
    return module


def complete_module(user: User, cohort_id: int, cohort_module_id: int,
                    now: datetime) -> Progress:
    """A learner marks a released module complete; doing it twice changes nothing."""
    module = _learner_module(user, cohort_id, cohort_module_id, now)
    with transaction() as session:
        # The unique (module, user) pair makes a double click or a retried request a no-op.
        session.execute(
            insert_for(session)(ModuleCompletion)
            .values(cohort_module_id=module.id, user_id=user.id, completed_at=now)
            .on_conflict_do_nothing(index_elements=["cohort_module_id", "user_id"])
        )
    return list_progress(user, [cohort_id], now)[cohort_id]


def uncomplete_module(user: User, cohort_id: int, cohort_module_id: int,
                      now: datetime) -> Progress:
    """A learner marks a released module not complete again (idempotent)."""
    module = _learner_module(user, cohort_id, cohort_module_id, now)
    with transaction() as session:
        session.execute(
            delete(ModuleCompletion)
            .where(ModuleCompletion.cohort_module_id == module.id,
                   ModuleCompletion.user_id == user.id)
            .execution_options(synchronize_session=False)
        )
    return list_progress(user, [cohort_id], now)[cohort_id]


@dataclass(frozen=True)
class WeekItem:
    """One dated entry of "this week": a module's release or a part's due date."""

    at: datetime
    #: "release" or "due".
    kind: str
    #: "Opened", "Opens", or the milestone's name ("Submissions due").
    label: str
    cohort: Cohort
    module: CohortModule
    #: The thread or assignment that is due (None for releases).
    part: ModulePart | None = None

    @property
    def title(self) -> str:
        """What the entry is about: the part's title, or the module's."""
        return self.part.title if self.part is not None else self.module.title


def sees_module_content(role: str, module: CohortModule, now: datetime) -> bool:
    """Whether a role sees a module's content and parts: staff always, learners once released.

    Pages, the API, "this week" and the calendar feed all ask this.
    """
    return role != "learner" or module.is_released(now)


def _week_order(item: WeekItem) -> tuple:
    """Date order; at the same moment, releases before what is due."""
    return (item.at, item.kind != "release", item.cohort.id, item.module.position, item.title)


def _week_items(cohort: Cohort, modules: list[CohortModule],
                parts: dict[int, list[ModulePart]], now: datetime) -> list[WeekItem]:
    """Releases from 7 days ago to 7 days ahead, and milestones from now to 7 days ahead.

    ``parts`` holds only what the viewer may see (a learner: parts of released modules).
    Both ends of each window are included.
    """
    items = []
    for module in modules:
        if now - WEEK <= module.release_at <= now + WEEK:
            label = "Opened" if module.is_released(now) else "Opens"
            items.append(WeekItem(module.release_at, "release", label, cohort, module))
        for part in parts.get(module.id, ()):
            items.extend(WeekItem(at, "due", label, cohort, module, part)
                         for label, at in milestones(part) if now <= at <= now + WEEK)
    return items


def list_modules_of(cohort_ids: list[int]) -> dict[int, list[CohortModule]]:
    """Every module of these cohorts in order, grouped per cohort (one query)."""
    grouped: dict[int, list[CohortModule]] = {cohort_id: [] for cohort_id in cohort_ids}
    if cohort_ids:
        for module in get_session().scalars(
                select(CohortModule).where(CohortModule.cohort_id.in_(cohort_ids))
                .order_by(CohortModule.cohort_id, CohortModule.position)):
            grouped[module.cohort_id].append(module)
    return grouped


def list_this_week(user: User, now: datetime) -> list[WeekItem]:
    """What opens and what is due around now in every cohort the user is a member of.

    A fixed number of queries however many cohorts (providers of module parts that answer
    for many cohorts at once keep it so).
    """
    memberships = list_my_cohorts(user)
    modules = list_modules_of([m.cohort_id for m in memberships])
    parts = parts_of_cohorts([
        (m.cohort, [module for module in modules[m.cohort_id]
                    if sees_module_content(m.role, module, now)])
        for m in memberships])
    items = [item for m in memberships
             for item in _week_items(m.cohort, modules[m.cohort_id], parts, now)]
    return sorted(items, key=_week_order)


@dataclass
class LearningPath:
    """A cohort's modules as one person follows them: what is open, new, done and due."""

    access: CohortAccess
    modules: list[CohortModule]
    #: Parts (threads, assignments) of the modules this person may see, by module id.
    parts: dict[int, list[ModulePart]]
    completed_ids: set[int]
    new_ids: set[int]
    progress: Progress
    this_week: list[WeekItem] = field(default_factory=list)


def get_learning_path(user: User, cohort_id: int, now: datetime) -> LearningPath:
    """The cohort's modules with parts, completion, new markers, progress and "this week".

    Content and parts of a module reach a learner only once it is released. A fixed number
    of queries however many modules.
    """
    access, modules = list_cohort_modules(user, cohort_id)
    membership = get_session().scalar(select(Membership).where(
        Membership.cohort_id == cohort_id, Membership.user_id == user.id))
    visible = [m for m in modules if sees_module_content(access.role, m, now)]
    parts = parts_of_cohort_modules(access.cohort, visible)
    completed = _completed_ids(user, [m.id for m in modules])
    released = {m.id for m in modules if m.is_released(now)}
    return LearningPath(
        access=access, modules=modules, parts=parts, completed_ids=completed,
        new_ids=new_module_ids(membership, modules, now),
        progress=Progress(len(completed & released), len(modules)),
        this_week=sorted(_week_items(access.cohort, modules, parts, now), key=_week_order))


@dataclass
class ModulePage:
    """One module as a member reads it: its parts and whether they marked it complete."""

    access: CohortAccess
    module: CohortModule
    parts: list[ModulePart]
    completed: bool

    @property
    def can_complete(self) -> bool:
        """Learners mark released modules complete (pages show the button only then)."""
        return self.access.role == "learner"


def get_module_page(user: User, cohort_id: int, cohort_module_id: int,
                    now: datetime) -> ModulePage:
    """A module with its threads and assignments (learners: released modules only, else 404)."""
    access, module = get_cohort_module(user, cohort_id, cohort_module_id, now=now)
    parts = parts_of_cohort_modules(access.cohort, [module]).get(module.id, [])
    return ModulePage(access=access, module=module, parts=parts,
                      completed=module.id in _completed_ids(user, [module.id]))
