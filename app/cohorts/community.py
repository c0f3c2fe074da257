"""The cohort as a community: announcements from its staff, and its people.

Rules, shared by the pages, the API and the live events:
- A cohort's staff (its facilitators and its program's owner, as
  :func:`app.cohorts.access.get_cohort_for` decides) post, pin and delete announcements;
  every member reads them. An announcement always shows its author's name.
- Posting one tells every member but its author, once (the ``announcement_posted``
  signal), and its cohort's open pages get it live after the commit.
- Every member sees the cohort's people: name, role and intro. Anonymity belongs to posts,
  not to membership, so listing who is in the cohort reveals no author.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, literal, select, union_all
from sqlalchemy.orm import joinedload

from app import audit, realtime
from app.accounts.models import User
from app.cohorts.access import OWNER, CohortAccess, get_cohort_for, require_staff
from app.cohorts.models import Announcement, Cohort, Membership
from app.cohorts.signals import announcement_posted
from app.db import get_session, transaction
from app.errors import Invalid, NotFound
from app.text import one_line_problem

#: Longest announcement title (it becomes a notice's title and an e-mail's subject).
TITLE_MAX = 120
#: Longest announcement, in characters of Markdown.
BODY_MAX = 10_000
#: Announcements per page of the list.
ANNOUNCEMENTS_PAGE_SIZE = 20
#: People per page of the list.
PEOPLE_PAGE_SIZE = 100
#: Faces shown on the cohort's page beside the count.
FACES = 6
#: The live event an open cohort page hears when an announcement is posted.
POSTED_EVENT = "announcement_posted"

STAFF_ONLY = "Only the cohort's facilitators and its program's owner post announcements."


# --- announcements ------------------------------------------------------------------------------

def check_announcement(title: str | None, body: str | None) -> tuple[str, str]:
    """The trimmed title and body, or Invalid with a message per field."""
    title, body = (title or "").strip(), (body or "").strip()
    errors = {}
    if not title:
        errors["title"] = "Give the announcement a title."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"Keep the title to {TITLE_MAX} characters (this one has {len(title)})."
    elif problem := one_line_problem(title):
        errors["title"] = problem
    if not body:
        errors["body"] = "Write what you want to tell the cohort."
    elif len(body) > BODY_MAX:
        errors["body"] = (f"Keep an announcement under {BODY_MAX:,} characters (this one has "
                          f"{len(body):,}).")
    if errors:
        raise Invalid(fields=errors)
    return title, body


def post_announcement(user: User, cohort_id: int, *, title: str, body: str,
                      now: datetime) -> Announcement:
    """Post an announcement to the cohort (its staff only); members are told once.

    The notices and the live event leave only once the announcement is committed.
    """
    with transaction() as session:
        access = require_staff(user, cohort_id, STAFF_ONLY)
        title, body = check_announcement(title, body)
        announcement = Announcement(cohort_id=cohort_id, author_id=user.id, title=title,
                                    body=body, created_at=now)
        session.add(announcement)
        session.flush()
        # How many will be told (everyone but the author), not who: the notices are
        # written with INSERT … SELECT from the memberships.
        others = session.scalar(select(func.count()).select_from(Membership).where(
            Membership.cohort_id == cohort_id, Membership.user_id != user.id))
        announcement_posted.send(announcement, cohort=access.cohort,
                                 author_name=user.display_name,
                                 author_is_member=access.membership is not None,
                                 member_count=others, now=now)
        realtime.notify(POSTED_EVENT, announcement_payload(announcement, user.display_name),
                        f"cohort:{cohort_id}")
    return announcement


def announcement_payload(announcement: Announcement, author_name: str) -> dict:
    """An announcement as the cohort room hears it (members and the owner may read it)."""
    return {"cohort_id": announcement.cohort_id, "id": announcement.id,
            "title": announcement.title, "body_html": announcement.body_html,
            "author_name": author_name, "pinned": announcement.pinned,
            "created_at": announcement.created_at.isoformat()}


def list_announcements(user: User, cohort_id: int, *, before_id: int = 0,
                       limit: int = ANNOUNCEMENTS_PAGE_SIZE
                       ) -> tuple[CohortAccess, list[Announcement]]:
    """Up to ``limit + 1`` announcements older than ``before_id`` (0: the newest), newest
    first, with their authors (two queries: the access check and the page)."""
    access = get_cohort_for(user, cohort_id)
    query = (select(Announcement).where(Announcement.cohort_id == cohort_id)
             .options(joinedload(Announcement.author))
             .order_by(Announcement.id.desc()).limit(limit + 1))
    if before_id:
        query = query.where(Announcement.id < before_id)
    return access, list(get_session().scalars(query))


def get_featured_announcement(cohort_id: int) -> Announcement | None:
    """What the cohort's page shows first: the newest pinned announcement, else the newest
    (one query)."""
    return get_session().scalar(
        select(Announcement).where(Announcement.cohort_id == cohort_id)
        .options(joinedload(Announcement.author))
        .order_by(Announcement.pinned.desc(), Announcement.id.desc()).limit(1))


def get_announcement_for_staff(user: User, cohort_id: int, announcement_id: int
                               ) -> tuple[CohortAccess, Announcement]:
    """An announcement of the cohort, for its staff (others: as :func:`require_staff`)."""
    access = require_staff(user, cohort_id, STAFF_ONLY)
    announcement = get_session().get(Announcement, announcement_id,
                                     options=[joinedload(Announcement.author)])
    if announcement is None or announcement.cohort_id != cohort_id:
        raise NotFound()
    return access, announcement


def set_announcement_pinned(user: User, cohort_id: int, announcement_id: int, *,
                            pinned: bool) -> Announcement:
    """Pin an announcement (it comes first on the cohort's page) or unpin it."""
    with transaction():
        _, announcement = get_announcement_for_staff(user, cohort_id, announcement_id)
        announcement.pinned = pinned
    return announcement


def delete_announcement(user: User, cohort_id: int, announcement_id: int) -> None:
    """Delete an announcement (notices already sent stay in people's inboxes)."""
    with transaction() as session:
        _, announcement = get_announcement_for_staff(user, cohort_id, announcement_id)
        audit.record(session, user.id, "announcement.deleted", cohort_id=cohort_id,
                     target_type="announcement", target_id=announcement.id,
                     title=announcement.title)
        session.delete(announcement)


# --- people -------------------------------------------------------------------------------------

#: How people are ordered: the program's owner, facilitators, then learners.
ROLE_RANK = {OWNER: 0, "facilitator": 1, "learner": 2}


@dataclass(frozen=True)
class Person:
    """A member as the cohort's members see them (never their e-mail)."""

    user_id: int
    name: str
    role: str
    intro: str

    @property
    def initials(self) -> str:
        """Up to two letters for the avatar: the first and last words' first letters."""
        words = [word for word in self.name.split() if word[:1].isalnum()]
        if not words:
            return "?"
        letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
        return letters.upper()

    @property
    def shade(self) -> int:
        """One of six avatar colours, stable per person."""
        return self.user_id % 6

    @property
    def role_label(self) -> str:
        """The role as the people list says it."""
        return "Program owner" if self.role == OWNER else self.role.capitalize()


def _people(cohort: Cohort):
    """Everyone in the cohort with their role, as one subquery: the program's owner while
    they hold the right (ownership wins over a membership, as in ``cohort_role``), then
    the members."""
    owner_holds = and_(User.id == cohort.program.owner_id, User.can_own_programs)
    owner = select(User.id.label("user_id"), literal(OWNER).label("role")).where(owner_holds)
    members = select(Membership.user_id, Membership.role).where(
        Membership.cohort_id == cohort.id,
        Membership.user_id.not_in(select(User.id).where(owner_holds)))
    return union_all(owner, members).subquery("people")


def _rank(role_column):
    """SQL: the role's place in ROLE_RANK."""
    return case(*((role_column == role, rank) for role, rank in ROLE_RANK.items()), else_=3)


def _person(user_id: int, name: str, email: str, intro: str, role: str) -> Person:
    """A row of the people queries as a Person (an unnamed account by its e-mail's name)."""
    return Person(user_id=user_id, name=name or email.split("@", 1)[0], role=role,
                  intro=intro or "")


def list_people(user: User, cohort_id: int, *, offset: int = 0,
                limit: int = PEOPLE_PAGE_SIZE) -> tuple[CohortAccess, list[Person]]:
    """Up to ``limit + 1`` of the cohort's people from ``offset``: the owner, facilitators,
    then learners, each by name (two queries, for any member)."""
    access = get_cohort_for(user, cohort_id)
    people = _people(access.cohort)
    rows = get_session().execute(
        select(User.id, User.name, User.email, User.intro, people.c.role)
        .join(people, people.c.user_id == User.id)
        .order_by(_rank(people.c.role), func.lower(User.name), User.id)
        .offset(offset).limit(limit + 1))
    return access, [_person(*row) for row in rows]


@dataclass(frozen=True)
class Faces:
    """The first few of the cohort's people, and how many members it has by role."""

    people: list[Person]
    counts: dict[str, int]


def get_faces(cohort: Cohort, limit: int = FACES) -> Faces:
    """The first people of the list (as :func:`list_people`) and the member counts by role,
    in one query however many members there are."""
    people = _people(cohort)
    facilitators = func.sum(case((people.c.role == "facilitator", 1), else_=0)).over()
    learners = func.sum(case((people.c.role == "learner", 1), else_=0)).over()
    rows = get_session().execute(
        select(User.id, User.name, User.email, User.intro, people.c.role, facilitators,
               learners)
        .join(people, people.c.user_id == User.id)
        .order_by(_rank(people.c.role), func.lower(User.name), User.id).limit(limit)).all()
    counts = {"learner": 0, "facilitator": 0}
    if rows:
        counts = {"facilitator": int(rows[0][5] or 0), "learner": int(rows[0][6] or 0)}
    return Faces(people=[_person(*row[:5]) for row in rows], counts=counts)
