"""Enrolment and the roster: adding people one by one or from a CSV file, removing them, and
the staff's member lists.

Rules of the roster, shared by the add form, the CSV import and the API:
- Staff (the cohort's facilitators and its program's owner) enrol and remove people.
- An e-mail with an account that has a password is added at once; an unknown e-mail (or an
  invited account that never set a password) gets an invitation e-mail through the outbox
  and is a member from that moment.
- Someone already in the cohort keeps their membership and role: enrolment never changes
  a role, and never renames an existing account.
- A CSV import is checked whole before anything is written. By default one bad row means
  nothing is imported; with ``only_valid`` the good rows are imported and the bad ones
  reported. An empty role means learner.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app import audit, realtime
from app.accounts.models import User
from app.accounts.services import invite_user
from app.cohorts.access import CohortAccess, holds_program, require_staff
from app.cohorts.models import (
    ROLES,
    Cohort,
    Membership,
)
from app.cohorts.roster_csv import (
    ImportRejected,
    ImportReport,
    ImportRow,
    RowError,
    check_row,
    parse_import,
)
from app.cohorts.signals import (
    member_removed,
)
from app.db import get_session, lock_for_update, transaction
from app.errors import Conflict, Invalid, NotFound


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


ROSTER_PAGE_SIZE = 100


@dataclass
class AddResult:
    """The outcome of adding one person: ``added`` or ``invited``, and the membership."""

    membership: Membership
    outcome: str


def _plan_rows(cohort: Cohort, rows: list[ImportRow],
               report: ImportReport) -> list[tuple[ImportRow, User | None]]:
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


def _enrol(actor: User, cohort: Cohort, plan: list[tuple[ImportRow, User | None]], *,
           now: datetime, report: ImportReport) -> dict[str, Membership]:
    """Write the planned memberships in the caller's transaction; invite who needs it.

    Only the invitations of new people cost statements per row (account, link, e-mail).
    """
    session = get_session()
    context = f"You have been added to the cohort “{cohort.name}”."
    memberships: dict[str, Membership] = {}
    for row, user in plan:
        if user is None or not user.has_password:
            user, _ = invite_user(actor, row.email, now=now, context=context,
                                  cohort_name=cohort.name, timezone=cohort.timezone)
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
    access = require_staff(user, cohort_id, "Only the cohort's facilitators can enrol people.")
    rows, errors = parse_import(data)
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
    access = require_staff(user, cohort_id, "Only the cohort's facilitators can enrol people.")
    row, problem = check_row(0, email or "", name or "", role or "")
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
    access = require_staff(user, cohort_id, "Only the cohort's facilitators can remove members.")
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


def list_roster(user: User, cohort_id: int, *, after_id: int = 0,
                limit: int = ROSTER_PAGE_SIZE) -> tuple[CohortAccess, list[Membership]]:
    """A page of the roster for staff, in enrolment order: ``limit + 1`` rows (a next page?).

    Members come with their accounts; the cost is the same for any page size.
    """
    access = require_staff(user, cohort_id, "Only the cohort's facilitators see the roster.")
    members = list(get_session().scalars(
        select(Membership).where(Membership.cohort_id == cohort_id, Membership.id > after_id)
        .options(joinedload(Membership.user)).order_by(Membership.id).limit(limit + 1)
    ))
    return access, members


def get_member_for_removal(user: User, cohort_id: int, member_user_id: int) -> Membership:
    """A member of the cohort (with their account) for the staff's removal step."""
    require_staff(user, cohort_id, "Only the cohort's facilitators can remove members.")
    membership = get_session().scalar(
        select(Membership).where(Membership.cohort_id == cohort_id,
                                 Membership.user_id == member_user_id)
        .options(joinedload(Membership.user)))
    if membership is None:
        raise NotFound()
    return membership
