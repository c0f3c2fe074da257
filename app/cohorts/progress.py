"""The learner's path: visits and "new since your last visit", activity, progress and
completion, "this week", and the cohort and module pages' data."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from itertools import groupby
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, delete, func, or_, select, update

from app.accounts.models import User
from app.cohorts.access import (
    OWNER,
    WITHOUT_CONTENT,
    CohortAccess,
    find_cohort_module,
    get_cohort_module,
    list_cohort_modules,
    list_my_cohorts,
    sees_module_content,
)
from app.cohorts.models import (
    Cohort,
    CohortModule,
    Membership,
    ModuleCompletion,
)
from app.cohorts.parts import (
    ModulePart,
    milestones,
    parts_of_cohort_modules,
    parts_of_cohorts,
)
from app.db import after_response, get_session, insert_for, transaction
from app.errors import NotAllowed, NotFound

#: How stale ``Membership.last_active_at`` may get before a request writes it again.
ACTIVITY_INTERVAL = timedelta(hours=1)
#: Page loads closer together than this are one sitting: "new" markers survive reloads.
SITTING = timedelta(minutes=30)
#: How stale ``Membership.last_visit_at`` may get before a page load writes it again: a
#: visit is bookkeeping written after the response, at most this often per member.
VISIT_INTERVAL = timedelta(minutes=5)
#: "This week" looks this far back (releases) and ahead (releases and due dates).
WEEK = timedelta(days=7)

# Pages and the API never commit these in the request: note_visit and note_activity hand
# the writes to app.db.after_response when they are due, and each is one conditional UPDATE
# (two requests at once may both send it; the second changes nothing).


def _stale(column, now: datetime, interval: timedelta):
    """SQL: the time in ``column`` is unset or at least ``interval`` old."""
    return or_(column.is_(None), column <= now - interval)


def touch_member_activity(user_id: int, cohort_id: int, now: datetime) -> None:
    """Record that a member used the cohort; written at most once per ACTIVITY_INTERVAL.

    One conditional UPDATE: no read first, and nothing happens for non-members.
    """
    with transaction() as session:
        session.execute(
            update(Membership)
            .where(Membership.cohort_id == cohort_id, Membership.user_id == user_id,
                   _stale(Membership.last_active_at, now, ACTIVITY_INTERVAL))
            .values(last_active_at=now)
            .execution_options(synchronize_session=False)
        )


def record_visit(user_id: int, cohort_id: int, now: datetime) -> None:
    """Note that a member opened the cohort's page; written at most once per VISIT_INTERVAL.

    A visit more than 30 minutes after the last one starts a new sitting: the last visit
    becomes the one "new since your last visit" compares with. Within a sitting only the
    last visit moves, so reloading the page keeps the markers. The visit also counts as
    activity (hourly, as :func:`touch_member_activity`). One conditional UPDATE (its SET
    reads the row as it was); nothing happens for non-members.
    """
    last = Membership.last_visit_at
    with transaction() as session:
        session.execute(
            update(Membership)
            .where(Membership.cohort_id == cohort_id, Membership.user_id == user_id,
                   _stale(last, now, VISIT_INTERVAL))
            .values(
                previous_visit_at=case((or_(last.is_(None), last < now - SITTING), last),
                                       else_=Membership.previous_visit_at),
                last_visit_at=now,
                last_active_at=case(
                    (_stale(Membership.last_active_at, now, ACTIVITY_INTERVAL), now),
                    else_=Membership.last_active_at))
            .execution_options(synchronize_session=False)
        )


def note_visit(access: CohortAccess, now: datetime) -> None:
    """A member opened the cohort's page: their visit is written after the response, and
    only when the one stored is VISIT_INTERVAL old (the program's owner has none)."""
    membership = access.membership
    if access.role == OWNER or membership is None:
        return
    if _due(membership.last_visit_at, now, VISIT_INTERVAL):
        after_response(partial(record_visit, membership.user_id, membership.cohort_id, now))


def note_activity(access: CohortAccess, now: datetime) -> None:
    """A member used the cohort (a module page, the API): written after the response, and
    only when the stored last-active time is ACTIVITY_INTERVAL old."""
    membership = access.membership
    if membership is not None and _due(membership.last_active_at, now, ACTIVITY_INTERVAL):
        after_response(partial(touch_member_activity, membership.user_id,
                               membership.cohort_id, now))


def _due(at: datetime | None, now: datetime, interval: timedelta) -> bool:
    """Whether a time written at most every ``interval`` is due again (as :func:`_stale`)."""
    return at is None or at <= now - interval


def previous_visit(membership: Membership | None, now: datetime) -> datetime | None:
    """The member's visit before the sitting that ``now`` belongs to.

    What :func:`record_visit` stores as ``previous_visit_at``, worked out from the row as
    it is: the page is shown before its own visit is written (and a reload within
    VISIT_INTERVAL writes none).
    """
    if membership is None:
        return None
    last = membership.last_visit_at
    if last is not None and now - last > SITTING:
        return last
    return membership.previous_visit_at


def new_module_ids(membership: Membership | None, modules: list[CohortModule],
                   now: datetime) -> set[int]:
    """Modules released since the member's visit before this sitting.

    On a first visit (no earlier visit recorded) nothing is marked: everything would be
    "new", which tells nobody anything.
    """
    since = previous_visit(membership, now)
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


def _week_order(item: WeekItem) -> tuple:
    """Date order; at the same moment, releases before what is due."""
    return (item.at, item.kind != "release", item.cohort.id, item.module.position, item.title)


def start_of_day(now: datetime, timezone: str) -> datetime:
    """Midnight at the start of ``now``'s day in the zone (an aware instant)."""
    local = now.astimezone(ZoneInfo(timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _week_items(cohort: Cohort, modules: list[CohortModule],
                parts: dict[int, list[ModulePart]], now: datetime,
                since: datetime) -> list[WeekItem]:
    """Releases from ``since`` (the start of the viewer's day) to 7 days ahead, and
    milestones from now to 7 days ahead: what is coming, not what is past.

    ``parts`` holds only what the viewer may see (a learner: parts of released modules).
    Both ends of each window are included.
    """
    items = []
    for module in modules:
        if since <= module.release_at <= now + WEEK:
            label = "Opened" if module.is_released(now) else "Opens"
            items.append(WeekItem(module.release_at, "release", label, cohort, module))
        for part in parts.get(module.id, ()):
            items.extend(WeekItem(at, "due", label, cohort, module, part)
                         for label, at in milestones(part) if now <= at <= now + WEEK)
    return items


@dataclass(frozen=True)
class WeekDay:
    """The items of "this week" that fall on one day of the viewer's calendar."""

    day: date
    #: "Today", "Tomorrow", or the weekday and date ("Friday 5 December").
    label: str
    items: list[WeekItem]


def by_day(items: list[WeekItem], now: datetime, timezone: str) -> list[WeekDay]:
    """Date-ordered items grouped by their day in the viewer's zone."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    days = []
    for day, group in groupby(items, key=lambda item: item.at.astimezone(zone).date()):
        if day == today:
            label = "Today"
        elif day == today + timedelta(days=1):
            label = "Tomorrow"
        else:
            label = f"{day:%A} {day.day} {day:%B}"
        days.append(WeekDay(day, label, list(group)))
    return days


@dataclass(frozen=True)
class UpNext:
    """The one thing a learner is asked to do next in a cohort.

    ``kind`` is "todo" (a part asks for something: ``action`` says what, ``part`` where),
    "continue" (the first released module not marked complete), "waiting" (everything open
    is done; ``module`` opens next, at ``module.release_at``) or "finished".
    """

    cohort: Cohort
    kind: str
    module: CohortModule | None = None
    part: ModulePart | None = None
    action: str = ""


def up_next(cohort: Cohort, modules: list[CohortModule], parts: dict[int, list[ModulePart]],
            completed_ids: set[int], now: datetime) -> UpNext:
    """The learner's next step, in module order: the first open module that still asks for
    something (a part's call to action first, else the module itself), then the next
    module to open."""
    for module in modules:
        if not module.is_released(now):
            return UpNext(cohort, "waiting", module)
        todo = next((part for part in parts.get(module.id, ()) if part.todo), None)
        if todo is not None:
            return UpNext(cohort, "todo", module, todo, todo.todo)
        if module.id not in completed_ids:
            return UpNext(cohort, "continue", module, action="Continue")
    return UpNext(cohort, "finished")


def list_modules_of(cohort_ids: list[int]) -> dict[int, list[CohortModule]]:
    """Every module of these cohorts in order, grouped per cohort (one query).

    Titles and schedules only: their content stays in the database.
    """
    grouped: dict[int, list[CohortModule]] = {cohort_id: [] for cohort_id in cohort_ids}
    if cohort_ids:
        for module in get_session().scalars(
                select(CohortModule).where(CohortModule.cohort_id.in_(cohort_ids))
                .options(*WITHOUT_CONTENT)
                .order_by(CohortModule.cohort_id, CohortModule.position)):
            grouped[module.cohort_id].append(module)
    return grouped


@dataclass
class HomePlan:
    """What the home page plans for one person: "this week" across their cohorts and each
    learner cohort's "Up next"."""

    this_week: list[WeekItem]
    up_next: dict[int, UpNext]


def plan_home(user: User, now: datetime,
              memberships: list[Membership] | None = None) -> HomePlan:
    """What opens and what is due around now in every cohort the user is a member of, and
    the next step in each cohort they learn in.

    ``memberships`` saves the query when the caller has them already (from
    :func:`list_my_cohorts`). A fixed number of queries however many cohorts (providers of
    module parts that answer for many cohorts at once keep it so).
    """
    if memberships is None:
        memberships = list_my_cohorts(user)
    modules = list_modules_of([m.cohort_id for m in memberships])
    parts = parts_of_cohorts([
        (CohortAccess(user=user, cohort=m.cohort, role=m.role),
         [module for module in modules[m.cohort_id] if sees_module_content(m.role, module, now)])
        for m in memberships])
    since = start_of_day(now, user.timezone)
    items = [item for m in memberships
             for item in _week_items(m.cohort, modules[m.cohort_id], parts, now, since)]
    learning = [m for m in memberships if m.role == "learner"]
    completed = _completed_ids(user, [module.id for m in learning
                                      for module in modules[m.cohort_id]])
    return HomePlan(
        this_week=sorted(items, key=_week_order),
        up_next={m.cohort_id: up_next(m.cohort, modules[m.cohort_id], parts, completed, now)
                 for m in learning})


def list_this_week(user: User, now: datetime,
                   memberships: list[Membership] | None = None) -> list[WeekItem]:
    """"This week" across the user's cohorts (see :func:`plan_home`)."""
    return plan_home(user, now, memberships).this_week


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


def get_learning_path(user: User, cohort_id: int, now: datetime, *,
                      content: bool = False) -> LearningPath:
    """The cohort's modules with parts, completion, new markers, progress and "this week".

    Content and parts of a module reach a learner only once it is released; the modules'
    content (``body_html``) is loaded only when ``content`` is asked for. A fixed number
    of queries however many modules.
    """
    access, modules = list_cohort_modules(user, cohort_id, content=content)
    visible = [m for m in modules if sees_module_content(access.role, m, now)]
    parts = parts_of_cohort_modules(access, visible)
    completed = _completed_ids(user, [m.id for m in modules])
    released = {m.id for m in modules if m.is_released(now)}
    return LearningPath(
        access=access, modules=modules, parts=parts, completed_ids=completed,
        new_ids=new_module_ids(access.membership, modules, now),
        progress=Progress(len(completed & released), len(modules)),
        this_week=sorted(_week_items(access.cohort, modules, parts, now,
                                     start_of_day(now, user.timezone)), key=_week_order))


@dataclass
class ModulePage:
    """One module as a member reads it: its parts and whether they marked it complete.

    ``upcoming`` is a module a learner may not read yet: the page then says when it opens
    and lists ``open_modules`` instead (no content, no parts).
    """

    access: CohortAccess
    module: CohortModule
    parts: list[ModulePart]
    completed: bool
    #: The module after this one (learners: where "Mark complete" leads), if any.
    next_module: CohortModule | None = None
    upcoming: bool = False
    #: The cohort's released modules, in order (only on an upcoming module's page).
    open_modules: list[CohortModule] = field(default_factory=list)

    @property
    def can_complete(self) -> bool:
        """Learners mark released modules complete (pages show the button only then)."""
        return self.access.role == "learner" and not self.upcoming


def get_module_page(user: User, cohort_id: int, cohort_module_id: int,
                    now: datetime) -> ModulePage:
    """A module with its threads and assignments; before its release a learner gets only
    when it opens and what is open now (outsiders: 404)."""
    access, module = find_cohort_module(user, cohort_id, cohort_module_id)
    if not sees_module_content(access.role, module, now):
        return ModulePage(access=access, module=module, parts=[], completed=False,
                          upcoming=True, open_modules=list_open_modules(cohort_id, now))
    parts = parts_of_cohort_modules(access, [module]).get(module.id, [])
    page = ModulePage(access=access, module=module, parts=parts,
                      completed=module.id in _completed_ids(user, [module.id]))
    if page.can_complete:
        page.next_module = get_session().scalars(
            select(CohortModule)
            .where(CohortModule.cohort_id == module.cohort_id,
                   CohortModule.position > module.position)
            .options(*WITHOUT_CONTENT).order_by(CohortModule.position).limit(1)).first()
    return page


def list_open_modules(cohort_id: int, now: datetime) -> list[CohortModule]:
    """The cohort's released modules in order, titles and schedules only (one query)."""
    return list(get_session().scalars(
        select(CohortModule)
        .where(CohortModule.cohort_id == cohort_id, CohortModule.release_at <= now)
        .options(*WITHOUT_CONTENT).order_by(CohortModule.position)
    ))
