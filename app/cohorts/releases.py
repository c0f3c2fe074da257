"""A cohort's release schedule: moving a release, "release now", and the scheduler's
exactly-once release of due modules (with recorded, backed-off failures)."""

import logging
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select, update

from app import audit, realtime
from app.accounts.models import User
from app.cohorts.access import get_cohort_for
from app.cohorts.models import (
    CohortModule,
    Membership,
)
from app.cohorts.schedule import SCHEDULE_SPAN, release_instant
from app.cohorts.signals import (
    module_released,
    releases_scheduled,
)
from app.db import get_session, transaction
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.text import fit

log = logging.getLogger(__name__)


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
        raise Conflict("This module is already open; its opening cannot move.",
                       code="already_released")
    if release_at is not None and release_at <= now:
        raise Invalid(fields={field: PAST_RELEASE})
    if release_at is not None and release_at > now + SCHEDULE_SPAN:
        raise Invalid(fields={field: "Choose a time within ten years from now."})
    if module.is_released(now):
        # Already open to learners (the scheduler has not caught up yet): keep the time they
        # saw it open, and never hide again what they may have read.
        if release_at is not None:
            raise Conflict("Learners can already see this module; it cannot open later.",
                           code="already_released")
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


def get_module_to_release(user: User, cohort_id: int, cohort_module_id: int) -> CohortModule:
    """A module of a cohort the user runs, for the page that confirms "Release now"."""
    return _staff_module(user, cohort_id, cohort_module_id)


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
    # How many members each cohort has, not who: listeners write per-member rows with
    # INSERT … SELECT from the memberships, and a list of 1,000 members would be read into
    # Python on every release for nothing.
    member_counts = defaultdict(int, session.execute(
        select(Membership.cohort_id, func.count())
        .where(Membership.cohort_id.in_({module.cohort_id for module in modules}))
        .group_by(Membership.cohort_id)).all())
    for module in modules:
        module_released.send(module, member_count=member_counts[module.cohort_id], now=now)
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
