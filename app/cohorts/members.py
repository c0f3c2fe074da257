"""The staff's Members view: for each member of a cohort their role, when they joined, when
they were last active, the modules they completed, and what other features count for them
(reflections, replies, reviews owed), sorted, filtered and paged.

Discussions and peer review contribute their counts through :func:`register` (cohorts never
imports them): each provider gives one grouped subquery of ``user_id`` and its columns for a
cohort, and the list joins them all into one statement. A page therefore costs the same few
statements however many members, posts and reviews there are, and every column can be sorted
in the database before the page is cut.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Subquery, func, literal, or_, select
from sqlalchemy.orm import contains_eager

from app.accounts.models import User
from app.cohorts.access import CohortAccess, require_staff
from app.cohorts.models import Cohort, CohortModule, Membership, ModuleCompletion
from app.db import get_session

#: What the list can be sorted by (query values), and the default.
SORTS = ("name", "last_active", "modules_completed", "reflections", "replies", "reviews_owed")
DEFAULT_SORT = "name"
DIRECTIONS = ("asc", "desc")
#: Counts other features add to each member, zero where a feature is absent or silent.
FACT_COLUMNS = ("reflections", "replies", "reviews_owed")
MEMBERS_PAGE_SIZE = 100
#: The "inactive for N days" filter accepts 1 to this many days.
MAX_INACTIVE_DAYS = 365


class MemberFactsProvider(Protocol):
    """A feature that counts something per member of a cohort (in one grouped subquery)."""

    def member_facts(self, cohort: Cohort, now: datetime) -> Subquery:
        """A subquery of ``user_id`` and some of FACT_COLUMNS, one row per user at most."""


_providers: list[MemberFactsProvider] = []


def register(provider: MemberFactsProvider) -> None:
    """Add a provider (once per process; a second registration of the same one is ignored)."""
    if provider not in _providers:
        _providers.append(provider)


@dataclass(frozen=True)
class MemberRow:
    """One member as the staff see them on the Members view."""

    membership: Membership
    modules_completed: int
    reflections: int
    replies: int
    reviews_owed: int

    @property
    def user(self) -> User:
        """The member's account."""
        return self.membership.user


@dataclass
class MembersPage:
    """A page of members, with how it was asked for (sort, direction, filter, position)."""

    access: CohortAccess
    rows: list[MemberRow]
    #: Modules of the cohort released by now ("2 of 3" completed counts only these).
    modules_released: int
    sort: str
    direction: str
    inactive_days: int | None
    offset: int
    #: The offset of the next page, or None on the last one.
    next_offset: int | None


def clean_listing(sort: str | None, direction: str | None,
                  inactive_days: int | str | None) -> tuple[str, str, int | None]:
    """Sort, direction and filter from a page's query string: values that are not offered
    fall back to the defaults (the page never fails on a hand-edited address)."""
    sort = sort if sort in SORTS else DEFAULT_SORT
    direction = direction if direction in DIRECTIONS else "asc"
    try:
        days = int(inactive_days) if inactive_days not in (None, "") else None
    except (TypeError, ValueError):
        days = None
    if days is not None and not 1 <= days <= MAX_INACTIVE_DAYS:
        days = None
    return sort, direction, days


def inactive_since(now: datetime, days: int) -> datetime:
    """Members last active before this instant (or never) are inactive for ``days`` days."""
    return now - timedelta(days=days)


def _order(sort: str, direction: str, columns: dict) -> list:
    """ORDER BY for a sort: the column, then name and membership id so pages are stable.

    Never-active members count as the least recent: first when ascending, last descending,
    on both databases (which otherwise disagree about where NULL goes).
    """
    name = (func.lower(User.name), User.email)
    if sort == "name":
        keys = [key.desc() if direction == "desc" else key.asc() for key in name]
    else:
        column = Membership.last_active_at if sort == "last_active" else columns[sort]
        key = column.desc() if direction == "desc" else column.asc()
        if sort == "last_active":
            key = key.nulls_last() if direction == "desc" else key.nulls_first()
        keys = [key, *name]
    return [*keys, Membership.id]


def list_members(user: User, cohort_id: int, *, now: datetime, sort: str = DEFAULT_SORT,
                 direction: str = "asc", inactive_days: int | None = None, offset: int = 0,
                 limit: int = MEMBERS_PAGE_SIZE) -> MembersPage:
    """A page of the cohort's members with their progress and participation, for its staff
    (NotAllowed for learners, NotFound for outsiders).

    ``inactive_days`` keeps members whose last activity is older than that many days, or
    who were never active. Three statements (the access check, the released-module count
    and the page), however many members.
    """
    access = require_staff(user, cohort_id, "Only the cohort's facilitators see its members.")
    session = get_session()
    released = session.scalar(
        select(func.count()).select_from(CohortModule)
        .where(CohortModule.cohort_id == cohort_id, CohortModule.release_at <= now)) or 0
    done = (select(ModuleCompletion.user_id, func.count().label("modules_completed"))
            .join(CohortModule, CohortModule.id == ModuleCompletion.cohort_module_id)
            .where(CohortModule.cohort_id == cohort_id, CohortModule.release_at <= now)
            .group_by(ModuleCompletion.user_id).subquery())
    columns = {"modules_completed": func.coalesce(done.c.modules_completed, 0)}
    statement = (select(Membership).join(Membership.user)
                 .outerjoin(done, done.c.user_id == Membership.user_id))
    for provider in _providers:
        facts = provider.member_facts(access.cohort, now)
        statement = statement.outerjoin(facts, facts.c.user_id == Membership.user_id)
        columns.update({name: func.coalesce(facts.c[name], 0)
                        for name in FACT_COLUMNS if name in facts.c})
    for name in FACT_COLUMNS:
        columns.setdefault(name, literal(0))
    statement = statement.add_columns(*(columns[name].label(name)
                                        for name in ("modules_completed", *FACT_COLUMNS)))
    statement = statement.where(Membership.cohort_id == cohort_id)
    if inactive_days is not None:
        statement = statement.where(or_(
            Membership.last_active_at.is_(None),
            Membership.last_active_at < inactive_since(now, inactive_days)))
    rows = session.execute(
        statement.options(contains_eager(Membership.user))
        .order_by(*_order(sort, direction, columns)).offset(offset).limit(limit + 1)).all()
    more = len(rows) > limit
    return MembersPage(
        access=access, modules_released=released, sort=sort, direction=direction,
        inactive_days=inactive_days, offset=offset,
        next_offset=offset + limit if more else None,
        rows=[MemberRow(membership, *(int(n or 0) for n in counts))
              for membership, *counts in rows[:limit]])

