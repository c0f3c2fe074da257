"""Scheduled jobs of cohorts (thin: each calls a service with now=utcnow()).

Each upcoming release has a date job ``release:{cohort_module_id}`` that runs
``release_one`` at its time; the reconcile job catches up on anything due and keeps the
date jobs in line with the stored schedule (see ``app.scheduler``).
"""

import logging
from datetime import datetime, timedelta

from app.cohorts.releases import (
    list_upcoming_releases,
    release_due_modules,
    release_or_record_failure,
)
from app.db import utcnow
from app.scheduler import (
    change_after_commit,
    get_scheduler,
    in_app_context,
    remove_job,
    set_date_job,
    sync_date_jobs,
)

log = logging.getLogger(__name__)

RELEASE_JOB = "app.cohorts.jobs:release_one"
RELEASE_JOB_PREFIX = "release:"
#: Date jobs exist for the releases of the next week; later ones are added by the
#: reconcile job as they come closer, so the job store stays small.
RELEASE_HORIZON = timedelta(days=7)
#: At most this many date jobs; releases beyond it are still done by the reconcile job.
RELEASE_JOB_LIMIT = 2000


def release_job_id(cohort_module_id: int) -> str:
    """The id of a release's date job."""
    return f"{RELEASE_JOB_PREFIX}{cohort_module_id}"


@in_app_context
def release_one(cohort_module_id: int) -> bool:
    """Process one release at its time; a no-op when already done or moved later.

    A failure is recorded and retried by the reconcile job with back-off.
    """
    return release_or_record_failure(cohort_module_id, now=utcnow())


@in_app_context
def reconcile_releases() -> int:
    """Catch up on every due release, then match the date jobs to the stored schedule."""
    now = utcnow()
    released = release_due_modules(now=now)
    scheduler = get_scheduler()
    if scheduler is not None:
        sync_release_jobs(scheduler, now=now)
    log.info("releases reconciled: %d released", released)
    return released


def sync_release_jobs(scheduler, *, now: datetime) -> None:
    """Give each release of the coming ``RELEASE_HORIZON`` its date job, and no one else."""
    upcoming = list_upcoming_releases(now=now, until=now + RELEASE_HORIZON,
                                      limit=RELEASE_JOB_LIMIT)
    sync_date_jobs(scheduler, RELEASE_JOB_PREFIX, RELEASE_JOB, dict(upcoming))


def on_releases_scheduled(_cohort, *, cohort_module_ids: list[int], now: datetime,
                          **_) -> None:
    """Update the date jobs of launched or moved releases after the commit.

    Only when the scheduler runs in this process; otherwise its next reconcile does it.
    """
    if get_scheduler() is None or not cohort_module_ids:
        return
    upcoming = dict(list_upcoming_releases(now=now, until=now + RELEASE_HORIZON,
                                           cohort_module_ids=cohort_module_ids))

    def update(scheduler) -> None:
        for module_id in cohort_module_ids:
            if module_id in upcoming:
                set_date_job(scheduler, release_job_id(module_id), RELEASE_JOB,
                             upcoming[module_id], [module_id])
            else:
                remove_job(scheduler, release_job_id(module_id))

    change_after_commit(update)
