"""Cohort rules: who may see a program or cohort, and the first authoring steps."""

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

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
    Program,
    ProgramGoal,
)
from app.cohorts.schedule import release_instant
from app.cohorts.signals import cohort_launched, module_released
from app.db import get_session, transaction
from app.errors import Conflict, Invalid, NotAllowed, NotFound

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

    Two queries however many cohorts; a membership role wins over ownership, as in
    :func:`cohort_role`.
    """
    roles = {m.cohort_id: (m.cohort, m.role) for m in list_my_cohorts(user)}
    for cohort in list_owned_cohorts(user):
        roles.setdefault(cohort.id, (cohort, OWNER))
    return [roles[cohort_id] for cohort_id in sorted(roles)]


def list_owned_programs(user: User) -> list[Program]:
    """Programs the user owns, newest first."""
    return list(get_session().scalars(
        select(Program).where(Program.owner_id == user.id).order_by(Program.id.desc())
    ))


def list_owned_cohorts(user: User) -> list[Cohort]:
    """Cohorts of the programs the user owns, with their programs (one query)."""
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
    """The user's role in the cohort: learner, facilitator, owner (of its program) or None."""
    membership = get_session().scalar(
        select(Membership.role).where(Membership.cohort_id == cohort.id,
                                      Membership.user_id == user.id)
    )
    if membership is not None:
        return membership
    if cohort.program.owner_id == user.id:
        return OWNER
    return None


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
    """Return the cohort and the user's role, or NotFound when the user has no part in it."""
    cohort = get_session().scalar(
        select(Cohort).where(Cohort.id == cohort_id).options(joinedload(Cohort.program))
    )
    role = cohort_role(user, cohort) if cohort is not None else None
    if role is None:
        raise NotFound()
    return CohortAccess(cohort=cohort, role=role)


def can_listen_to_cohort(user: User, cohort_id: int) -> bool:
    """Whether the user may receive the cohort's live events."""
    try:
        get_cohort_for(user, cohort_id)
    except NotFound:
        return False
    return True


def get_program_for(user: User, program_id: int) -> Program:
    """Return a program to its owner (with goals and modules), else NotFound."""
    program = get_session().scalar(
        select(Program).where(Program.id == program_id)
        .options(joinedload(Program.goals), joinedload(Program.modules))
    )
    if program is None or program.owner_id != user.id:
        raise NotFound()
    return program


def get_module_for(user: User, module_id: int) -> Module:
    """Return a program module to its program's owner (with its program), else NotFound."""
    module = get_session().scalar(
        select(Module).where(Module.id == module_id).options(joinedload(Module.program))
    )
    if module is None or module.program.owner_id != user.id:
        raise NotFound()
    return module


def list_members(user: User, cohort_id: int) -> list[Membership]:
    """The roster, for the cohort's staff."""
    access = get_cohort_for(user, cohort_id)
    if not access.is_staff:
        raise NotAllowed()
    return list(get_session().scalars(
        select(Membership).where(Membership.cohort_id == cohort_id)
        .options(joinedload(Membership.user)).order_by(Membership.role, Membership.id)
    ))


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
    if not title or len(title) > 200:
        raise Invalid(fields={"title": "Give the program a title of 1 to 200 characters."})
    clean_goals = [g.strip() for g in goals if g and g.strip()]
    if any(len(g) > 200 for g in clean_goals):
        raise Invalid(fields={"goals": "Keep each goal under 200 characters."})
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
    errors = {}
    if not (title or "").strip() or len(title) > 200:
        errors["title"] = "Give the module a title of 1 to 200 characters."
    if not 0 <= release_offset_days <= 3650:
        errors["release_offset_days"] = "Use a number of days from 0 to 3650."
    if errors:
        raise Invalid(fields=errors)
    with transaction() as session:
        position = max((m.position for m in program.modules), default=-1) + 1
        module = Module(position=position, title=title.strip(), body=body or "",
                        release_offset_days=release_offset_days, release_time=release_time)
        program.modules.append(module)
        session.flush()
    return module


def launch_cohort(user: User, program_id: int, *, name: str, starts_on: date, timezone: str,
                  anonymity: str, now: datetime) -> Cohort:
    """Launch a cohort of a program."""
    program = get_program_for(user, program_id)
    errors = {}
    if not (name or "").strip() or len(name) > 200:
        errors["name"] = "Give the cohort a name of 1 to 200 characters."
    try:
        check_timezone(timezone)
    except Invalid as error:
        errors.update(error.fields)
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


def enroll_member(user: User, cohort_id: int, *, email: str, role: str,
                  now: datetime) -> Membership:
    """Add a person to a cohort; an unknown e-mail gets an invitation."""
    access = get_cohort_for(user, cohort_id)
    if not access.is_staff:
        raise NotAllowed()
    if role not in ROLES:
        raise Invalid(fields={"role": "Choose learner or facilitator."})
    email = normalize_email(email)
    with transaction() as session:
        cohort = access.cohort
        member, _ = invite_user(user, email, now=now,
                                context=f"You have been added to the cohort “{cohort.name}”.")
        existing = session.scalar(select(Membership).where(
            Membership.cohort_id == cohort.id, Membership.user_id == member.id))
        if existing is not None:
            if existing.role != role:
                audit.record(session, user.id, "member.role_changed", cohort_id=cohort.id,
                             target_type="user", target_id=member.id,
                             old=existing.role, new=role)
                existing.role = role
            return existing
        membership = Membership(cohort_id=cohort.id, user_id=member.id, role=role,
                                joined_at=now)
        session.add(membership)
        session.flush()
        audit.record(session, user.id, "member.enrolled", cohort_id=cohort.id,
                     target_type="user", target_id=member.id, role=role)
    return membership


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


def reschedule_release(user: User, cohort_id: int, cohort_module_id: int, *,
                       release_at: datetime | None, now: datetime) -> CohortModule:
    """Release a module now (``release_at`` None) or move its release to another time."""
    module = _staff_module(user, cohort_id, cohort_module_id)
    if module.released_at is not None:
        raise Conflict("This module is already released; its release cannot move.",
                       code="already_released")
    new_at = now if release_at is None else release_at
    if new_at.tzinfo is None:
        raise Invalid(fields={"release_at": "Give the time with its UTC offset."})
    with transaction() as session:
        old_at = module.release_at
        module.release_at = new_at
        audit.record(session, user.id, "module.release_moved", cohort_id=cohort_id,
                     target_type="cohort_module", target_id=module.id,
                     old=old_at.isoformat(), new=new_at.isoformat())
    if new_at <= now:
        release_module(module.id, now=now)
    return module


def release_module(cohort_module_id: int, *, now: datetime) -> bool:
    """Run a due release's side effects exactly once; False when already done or not due.

    The claim is one conditional UPDATE, so two schedulers, a duplicate job or a
    facilitator's "release now" racing the job can never both win.
    """
    with transaction() as session:
        claimed = session.execute(
            update(CohortModule)
            .where(CohortModule.id == cohort_module_id, CohortModule.released_at.is_(None),
                   CohortModule.release_at <= now)
            .values(released_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            return False
        # populate_existing: an instance already in the session would still say unreleased.
        module = session.get(CohortModule, cohort_module_id, populate_existing=True)
        members = session.execute(
            select(Membership.user_id, User.email).join(User)
            .where(Membership.cohort_id == module.cohort_id)
        ).all()
        module_released.send(module, members=members, now=now)
        realtime.notify("module_released", {
            "cohort_id": module.cohort_id, "module_id": module.id, "title": module.title,
            "release_at": module.release_at.isoformat(),
        }, f"cohort:{module.cohort_id}")
    return True


def release_due_modules(*, now: datetime, limit: int = 5000) -> int:
    """Process every release that is due and not yet done (the reconcile job)."""
    due = get_session().scalars(
        select(CohortModule.id)
        .where(CohortModule.released_at.is_(None), CohortModule.release_at <= now)
        .order_by(CohortModule.release_at, CohortModule.id).limit(limit)
    ).all()
    get_session().commit()  # end the read; each release is its own transaction
    return sum(release_module(module_id, now=now) for module_id in due)


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
