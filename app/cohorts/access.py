"""Who may see and do what in programs and cohorts: the one program-author rule, a user's
role in a cohort, and the cohort, program and module lookups that every entrypoint goes through."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select, union
from sqlalchemy.orm import defer, joinedload, selectinload

from app.accounts.models import User
from app.cohorts.models import (
    Cohort,
    CohortModule,
    Membership,
    Module,
    Program,
)
from app.db import get_session
from app.errors import NotAllowed, NotFound

OWNER = "owner"
#: Loader options for cohort modules listed without their content (timelines, schedules,
#: "this week"): a module's Markdown and HTML stay in the database.
WITHOUT_CONTENT = (defer(CohortModule.body), defer(CohortModule.body_html))


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


def staff_recipients(cohort: Cohort):
    """User ids of the cohort's staff as :func:`cohort_role` decides it: its facilitators
    and its program's owner while they hold the owner right (for notices to the staff)."""
    return union(
        select(Membership.user_id.label("user_id")).where(
            Membership.cohort_id == cohort.id, Membership.role == "facilitator"),
        select(User.id.label("user_id")).where(User.id == cohort.program.owner_id,
                                               User.can_own_programs))


@dataclass
class CohortAccess:
    """A cohort as one user may see it: the viewer, the cohort and the viewer's role."""

    user: User
    cohort: Cohort
    role: str
    #: The user's membership (visits, last active), if they have one.
    membership: Membership | None = None

    @property
    def is_staff(self) -> bool:
        """Facilitators and the program's owner run the cohort."""
        return self.role in ("facilitator", OWNER)


def get_cohort_for(user: User, cohort_id: int) -> CohortAccess:
    """The cohort and the user's role; NotFound when the user has no part in it.

    A former owner (right withdrawn) who is not a member is told why (NotAllowed). One
    query: the cohort, its program and the user's membership together (the roles are
    decided as in :func:`cohort_role`).
    """
    row = get_session().execute(
        select(Cohort, Membership)
        .outerjoin(Membership, and_(Membership.cohort_id == Cohort.id,
                                    Membership.user_id == user.id))
        .where(Cohort.id == cohort_id).options(joinedload(Cohort.program))
    ).first()
    cohort, membership = row if row is not None else (None, None)
    return access_of(user, cohort, membership)


def access_of(user: User, cohort: Cohort | None, membership: Membership | None
              ) -> CohortAccess:
    """The user's access to a cohort already loaded with its program and the user's
    membership (lookups that join more, like a thread's, end here), decided as in
    :func:`cohort_role`; NotFound or NotAllowed as in :func:`get_cohort_for`."""
    role = None
    if cohort is not None:
        role = OWNER if holds_program(user, cohort.program) else getattr(membership, "role",
                                                                         None)
    if role is None:
        if cohort is not None and cohort.program.owner_id == user.id:
            raise NotAllowed(RIGHT_WITHDRAWN, code="owner_right_withdrawn")
        raise NotFound()
    return CohortAccess(user=user, cohort=cohort, role=role, membership=membership)


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


def require_program_rights(user: User) -> None:
    """Only program owners create programs."""
    if not user.can_own_programs:
        raise NotAllowed("Only program owners can create programs.")


def list_cohort_modules(user: User, cohort_id: int, *, content: bool = False
                        ) -> tuple[CohortAccess, list[CohortModule]]:
    """The cohort's modules in order, for anyone who takes part in it.

    With ``content`` each module's stored HTML comes too; callers show it only when
    ``is_released(now)`` or to staff. The Markdown never comes: nobody reads it here.
    """
    access = get_cohort_for(user, cohort_id)
    options = (defer(CohortModule.body),) if content else WITHOUT_CONTENT
    modules = list(get_session().scalars(
        select(CohortModule).where(CohortModule.cohort_id == cohort_id)
        .options(*options).order_by(CohortModule.position)
    ))
    return access, modules


def find_cohort_module(user: User, cohort_id: int, cohort_module_id: int
                       ) -> tuple[CohortAccess, CohortModule]:
    """A module of a cohort the user takes part in, released or not (else 404).

    Only its title and schedule may be shown before :func:`sees_module_content` says so:
    a learner who follows a calendar link to a module not yet open learns when it opens.
    """
    access = get_cohort_for(user, cohort_id)
    # The page shows the stored HTML; the Markdown (as long as the HTML) stays behind.
    module = get_session().get(CohortModule, cohort_module_id,
                               options=[defer(CohortModule.body)])
    if module is None or module.cohort_id != cohort_id:
        raise NotFound()
    return access, module


def get_cohort_module(user: User, cohort_id: int, cohort_module_id: int, *,
                      now: datetime) -> tuple[CohortAccess, CohortModule]:
    """A module of the cohort: staff see every one, learners only released ones (else 404)."""
    access, module = find_cohort_module(user, cohort_id, cohort_module_id)
    if not sees_module_content(access.role, module, now):
        raise NotFound()
    return access, module


def check_can_create_programs(user: User) -> None:
    """Raise NotAllowed unless the user may create programs (pages ask before showing a form)."""
    require_program_rights(user)


def require_staff(user: User, cohort_id: int, message: str) -> CohortAccess:
    """The cohort for its staff; NotAllowed for its other members, NotFound for outsiders."""
    access = get_cohort_for(user, cohort_id)
    if not access.is_staff:
        raise NotAllowed(message)
    return access


def sees_module_content(role: str, module: CohortModule, now: datetime) -> bool:
    """Whether a role sees a module's content and parts: staff always, learners once released.

    Pages, the API, "this week" and the calendar feed all ask this.
    """
    return role != "learner" or module.is_released(now)
