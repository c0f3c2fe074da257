"""What a site admin sees of the whole site: programs and cohorts at a glance, one search
across people, programs and cohorts, and the audit log with filters.

It lives with the cohorts (not the accounts) because it reads programs and cohorts, and
features depend one way: cohorts on accounts. Every function here starts with
:func:`app.accounts.services.check_admin`, the one rule of who is a site admin. Lists
cost a fixed number of statements: counts come from grouped subqueries joined to the
page's rows, never from a query per row.
"""

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased, contains_eager

from app import audit
from app.accounts.models import User
from app.accounts.services import check_admin, normalize_email
from app.cohorts.access import OWNER, holds_program
from app.cohorts.models import Cohort, CohortModule, Membership, Program
from app.db import MAX_ID, get_session
from app.errors import Invalid

#: The longest search the box takes (longer ones are refused, not cut silently).
SEARCH_MAX = 100
#: Results shown per kind; the count says how many matched in all.
SEARCH_LIMIT = 20

NOT_STARTED = "not started"
RUNNING = "running"
#: Every module has been released. The data has no end date, so "finished" is not claimed:
#: learners may still be working through the last module.
ALL_RELEASED = "all modules released"


# --- the overview -------------------------------------------------------------------------------

@dataclass
class ProgramRow:
    """A program with its owner and how many cohorts it has run."""

    program: Program
    owner: User
    cohort_count: int
    #: Whether the admin may open the program's page (they hold it themselves).
    can_open: bool


@dataclass
class CohortRow:
    """A cohort with its program, owner, head counts and where it stands."""

    cohort: Cohort
    program: Program
    owner: User
    learners: int
    facilitators: int
    module_count: int
    #: When the last module is (or was) released; None without modules.
    last_release_at: datetime | None
    status: str
    #: Whether the admin may open the cohort's page (they take part in it).
    can_open: bool


def cohort_status(starts_on: date, zone: str, last_release_at: datetime | None,
                  now: datetime) -> str:
    """Where a cohort stands: not started (before its start date in its own zone), running,
    or with every module released (the last release has passed)."""
    if now.astimezone(ZoneInfo(zone)).date() < starts_on:
        return NOT_STARTED
    if last_release_at is not None and last_release_at <= now:
        return ALL_RELEASED
    return RUNNING


def list_programs(actor: User, *, after_id: int = 0, limit: int = 25) -> list[ProgramRow]:
    """Programs newest first, after a cursor id (0: from the newest), with their owners and
    cohort counts. One query; ``limit`` rows at most."""
    check_admin(actor)
    cohorts = (select(Cohort.program_id, func.count().label("n"))
               .group_by(Cohort.program_id).subquery())
    query = (select(Program, User, func.coalesce(cohorts.c.n, 0))
             .join(User, User.id == Program.owner_id)
             .outerjoin(cohorts, cohorts.c.program_id == Program.id)
             .order_by(Program.id.desc()).limit(limit))
    if after_id:
        query = query.where(Program.id < after_id)
    return [ProgramRow(program, owner, count, holds_program(actor, program))
            for program, owner, count in get_session().execute(query)]


def list_cohorts(actor: User, *, now: datetime, after_id: int = 0,
                 limit: int = 25) -> list[CohortRow]:
    """Cohorts newest first, after a cursor id (0: from the newest), with program, owner,
    learners, facilitators and status. One query; ``limit`` rows at most."""
    check_admin(actor)
    session = get_session()
    members = (select(Membership.cohort_id,
                      func.sum(case((Membership.role == "learner", 1), else_=0))
                      .label("learners"),
                      func.sum(case((Membership.role == "facilitator", 1), else_=0))
                      .label("facilitators"))
               .group_by(Membership.cohort_id).subquery())
    modules = (select(CohortModule.cohort_id, func.count().label("n"),
                      func.max(CohortModule.release_at).label("last_release_at"))
               .group_by(CohortModule.cohort_id).subquery())
    mine = aliased(Membership)
    owner = aliased(User)
    query = (select(Cohort, owner, func.coalesce(members.c.learners, 0),
                    func.coalesce(members.c.facilitators, 0), func.coalesce(modules.c.n, 0),
                    modules.c.last_release_at, mine.role)
             .join(Cohort.program).join(owner, owner.id == Program.owner_id)
             .outerjoin(members, members.c.cohort_id == Cohort.id)
             .outerjoin(modules, modules.c.cohort_id == Cohort.id)
             .outerjoin(mine, (mine.cohort_id == Cohort.id) & (mine.user_id == actor.id))
             .options(contains_eager(Cohort.program))
             .order_by(Cohort.id.desc()).limit(limit))
    if after_id:
        query = query.where(Cohort.id < after_id)
    rows = []
    for cohort, owner_row, learners, facilitators, count, last, my_role in session.execute(query):
        last = _aware(last)
        # As in access.cohort_role: the program's owner, or a member in any role.
        role = OWNER if holds_program(actor, cohort.program) else my_role
        rows.append(CohortRow(
            cohort=cohort, program=cohort.program, owner=owner_row, learners=int(learners),
            facilitators=int(facilitators), module_count=count, last_release_at=last,
            status=cohort_status(cohort.starts_on, cohort.timezone, last, now),
            can_open=role is not None))
    return rows


def _aware(value) -> datetime | None:
    """A time read through an aggregate, as an aware UTC datetime (SQLite returns text)."""
    if value is None or isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# --- search -------------------------------------------------------------------------------------

@dataclass
class SearchResults:
    """What matched, by kind: at most SEARCH_LIMIT of each, and how many in all."""

    term: str
    users: list[User]
    user_count: int
    #: (program, its owner, whether the admin may open its page: they hold it).
    programs: list[tuple[Program, User, bool]]
    program_count: int
    #: Each cohort with its program.
    cohorts: list[Cohort]
    cohort_count: int


def clean_search_term(raw: str | None) -> str:
    """The search as typed, trimmed; Invalid when too long or holding control characters."""
    term = (raw or "").strip()
    if any(unicodedata.category(char) == "Cc" for char in term):
        raise Invalid("The search cannot contain control characters (such as tabs, line "
                      "breaks or NUL). Type plain text.", code="invalid_search",
                      fields={"q": "Remove the control characters."})
    if len(term) > SEARCH_MAX:
        raise Invalid(f"Search for at most {SEARCH_MAX} characters.", code="invalid_search",
                      fields={"q": f"Use at most {SEARCH_MAX} characters "
                                   f"(this has {len(term)})."})
    return term


def _matches(column, term: str):
    """Case-insensitive substring match; % and _ typed in the box match themselves."""
    return func.lower(column).contains(term.lower(), autoescape=True)


def search_site(actor: User, raw: str | None) -> SearchResults:
    """Users by name or e-mail, programs by title and cohorts by name (three queries)."""
    check_admin(actor)
    term = clean_search_term(raw)
    session = get_session()
    total = func.count().over()
    users = session.execute(
        select(User, total).where(_matches(User.name, term) | _matches(User.email, term))
        .order_by(User.name, User.id).limit(SEARCH_LIMIT)).all()
    programs = session.execute(
        select(Program, User, total).join(User, User.id == Program.owner_id)
        .where(_matches(Program.title, term))
        .order_by(Program.title, Program.id).limit(SEARCH_LIMIT)).all()
    cohorts = session.execute(
        select(Cohort, total).join(Cohort.program).where(_matches(Cohort.name, term))
        .options(contains_eager(Cohort.program))
        .order_by(Cohort.name, Cohort.id).limit(SEARCH_LIMIT)).all()
    return SearchResults(
        term=term,
        users=[row[0] for row in users], user_count=users[0][-1] if users else 0,
        programs=[(row[0], row[1], holds_program(actor, row[0])) for row in programs],
        program_count=programs[0][-1] if programs else 0,
        cohorts=[row[0] for row in cohorts], cohort_count=cohorts[0][-1] if cohorts else 0)


# --- the audit log ------------------------------------------------------------------------------

@dataclass
class AuditFilters:
    """What the log page asks for, as typed (dates are days in the viewer's zone)."""

    cohort_id: int | None = None
    #: An e-mail address or a user id.
    actor: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None


@dataclass
class AuditPage:
    """One page of entries, newest first, with the cohorts they name."""

    #: (entry, the actor's name or None) as :func:`app.audit.list_entries` gives them.
    entries: list
    cohort_names: dict[int, str]
    #: The cursor of the next page, or None on the last one.
    next_after: int | None


def _day_start(day: date, zone: str) -> datetime:
    """Midnight at the start of a local day, in UTC."""
    try:
        return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    except OverflowError as error:
        raise Invalid(fields={"date_from": "Choose a date between the years 2 and 9998."}
                      ) from error


def _resolve_actor(text: str) -> int | None:
    """The user id an actor filter names: a number, or an account's e-mail address."""
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        value = int(text)
        if not 1 <= value <= MAX_ID:
            raise Invalid(fields={"actor": "No account has that id."})
        return value
    if "@" not in text:
        raise Invalid(fields={"actor": "Enter an e-mail address or a user id."})
    email = normalize_email(text) if len(text) <= 254 else ""
    user_id = get_session().scalar(select(User.id).where(User.email == email)) if email else None
    if user_id is None:
        raise Invalid(fields={"actor": "No account has that e-mail address."})
    return user_id


def list_audit_actions(actor: User) -> list[str]:
    """The actions the log holds, for the action filter's choices."""
    check_admin(actor)
    return audit.list_actions()


def list_audit_log(actor: User, filters: AuditFilters, *, zone: str, after_id: int = 0,
                   limit: int = 50, actions: list[str] | None = None) -> AuditPage:
    """The audit log for a site admin, newest first, filtered by cohort, actor, action and
    a range of days in ``zone`` (both ends included). Invalid names the field at fault.

    ``actions``: the choices the page already read (:func:`list_audit_actions`), if any.
    """
    check_admin(actor)
    if filters.cohort_id is not None and not 1 <= filters.cohort_id <= MAX_ID:
        raise Invalid(fields={"cohort_id": "Enter a cohort's number."})
    try:
        actor_id = _resolve_actor(filters.actor)
    except Invalid as error:
        raise Invalid(fields={"actor": next(iter(error.fields.values()), error.message)}
                      ) from error
    action = filters.action or None
    if action is not None and action not in (actions if actions is not None
                                             else audit.list_actions()):
        raise Invalid(fields={"action": "Choose an action from the list."})
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise Invalid(fields={"date_to": "The end date comes before the start date."})
    since = _day_start(filters.date_from, zone) if filters.date_from else None
    until = None
    if filters.date_to:
        if filters.date_to >= date.max:
            raise Invalid(fields={"date_to": "Choose a date between the years 2 and 9998."})
        try:
            until = _day_start(filters.date_to + timedelta(days=1), zone)
        except Invalid as error:
            raise Invalid(fields={"date_to": "Choose a date between the years 2 and 9998."}
                          ) from error
    rows = audit.list_entries(actor, cohort_id=filters.cohort_id, after_id=after_id,
                              limit=limit, actor_id=actor_id, action=action, since=since,
                              until=until, newest_first=True)
    more = len(rows) > limit
    rows = rows[:limit]
    cohort_ids = {entry.cohort_id for entry, _ in rows if entry.cohort_id is not None}
    names = {}
    if cohort_ids:
        names = {cohort_id: name for cohort_id, name in get_session().execute(
            select(Cohort.id, Cohort.name).where(Cohort.id.in_(cohort_ids)))}
    return AuditPage(entries=rows, cohort_names=names,
                     next_after=rows[-1][0].id if more and rows else None)
