"""The scheduler: who runs it, its construction, and the list of recurring jobs.

**One process owns the scheduler and its job store** (APScheduler 3 cannot share a job
store between schedulers):

- *Single-process mode* (``make run`` / ``python wsgi.py``): ``wsgi.serve()`` calls
  ``start_in_process(app)`` once, in the serving process. The server runs without the
  reloader, so there is no parent process to start a second one; importing ``wsgi`` (as
  gunicorn does) starts nothing, and neither does a test app or ``SCHEDULER_ENABLED=0``.
- *Production*: ``flask scheduler run`` runs a blocking scheduler as its own process and
  stops cleanly on SIGTERM or SIGINT (a running job finishes first); every web worker sets
  ``SCHEDULER_ENABLED=0``.

**Jobs.** Two recurring jobs (``RECURRING_JOBS``): the outbox delivery, and the release
reconcile job, which also runs as soon as the scheduler starts. The reconcile job processes
every release that is due and not yet done (catching up after downtime), then brings the
*date jobs* in line with the stored schedule: one job per upcoming release, id
``release:{cohort_module_id}``, firing at its ``release_at`` (UTC), for the releases of the
next ``RELEASE_HORIZON`` (``app.cohorts.jobs``); jobs of releases already done, moved out
of the horizon or deleted are removed. When the scheduler runs in this process, launching a
cohort or moving a release also updates the date jobs right after the commit
(``after_commit``); a separate scheduler process picks the change up on its next reconcile,
within a minute.

**The job store is a cache, not the source of truth.** Visibility comes from
``release_at <= now`` alone, and a release's side effects run exactly once through an
atomic claim that also requires ``release_at <= now``. So a stale date job (a release moved
later, or already done by hand) is a no-op, a duplicate firing does nothing, and a lost job
only delays an e-mail until the next reconcile. Jobs hold string function references and
integer ids, never objects, so they survive restarts; they use ``misfire_grace_time=None``
and ``coalesce=True``, so a job missed while the scheduler was down runs once when it is
back.
"""

import contextlib
import functools
import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.jobstores.base import BaseJobStore, JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.date import DateTrigger
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.db import get_database

log = logging.getLogger(__name__)

JOBS_TABLE = "apscheduler_jobs"
#: (job id, "module:function", seconds between runs); the ids never change, so a restart
#: replaces each job instead of adding a copy.
RECURRING_JOBS = [
    ("deliver-outbox", "app.notifications.jobs:deliver_outbox", 30),
    ("release-due-modules", "app.cohorts.jobs:reconcile_releases", 60),
]
#: Recurring jobs that also run as soon as the scheduler starts (catch-up after downtime).
RUN_AT_START = {"release-due-modules"}
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}

_PENDING = "scheduler_pending"
_app: Flask | None = None
_lock = threading.Lock()


def in_app_context(job):
    """Run a job function inside the scheduler's application context."""
    @functools.wraps(job)
    def run(*args, **kwargs):
        if _app is None:
            raise RuntimeError("the scheduler has not been started with an app")
        with _app.app_context():
            return job(*args, **kwargs)
    return run


def build_scheduler(app: Flask, *, blocking: bool = False,
                    jobstore: BaseJobStore | None = None) -> BaseScheduler:
    """Create a scheduler whose job store is the application's database (or ``jobstore``)."""
    store = jobstore or SQLAlchemyJobStore(engine=get_database(app).engine,
                                           tablename=JOBS_TABLE)
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(jobstores={"default": store}, job_defaults=JOB_DEFAULTS, timezone=UTC)
    now = datetime.now(UTC)
    for job_id, func, seconds in RECURRING_JOBS:
        first = {"next_run_time": now} if job_id in RUN_AT_START else {}
        scheduler.add_job(func, "interval", seconds=seconds, id=job_id,
                          replace_existing=True, **first)
    return scheduler


def get_scheduler(app: Flask | None = None) -> BaseScheduler | None:
    """The scheduler running in this process for the app, or None."""
    return (app or current_app).extensions.get("scheduler")


def start(app: Flask, scheduler: BaseScheduler, *, paused: bool = False) -> BaseScheduler:
    """Bind the jobs to the app and start the scheduler (a blocking one returns when stopped)."""
    global _app
    _app = app
    app.extensions["scheduler"] = scheduler
    scheduler.start(paused=paused)
    return scheduler


def stop(app: Flask) -> None:
    """Stop the app's scheduler, letting a running job finish, and unbind it."""
    global _app
    scheduler = app.extensions.pop("scheduler", None)
    if scheduler is not None and scheduler.running:
        scheduler.shutdown()
    with _lock:
        if _app is app:
            _app = None


def start_in_process(app: Flask) -> BaseScheduler | None:
    """Start the background scheduler in this process, once; None when disabled."""
    if not app.config.get("SCHEDULER_ENABLED") or app.config.get("TESTING"):
        return None
    with _lock:
        if _app is not None:
            return None
        scheduler = start(app, build_scheduler(app))
    log.info("scheduler started in this process")
    return scheduler


def run_blocking(app: Flask) -> None:
    """Run the scheduler in the foreground until SIGTERM or SIGINT (``flask scheduler run``)."""
    scheduler = build_scheduler(app, blocking=True)
    stopping = threading.Event()

    def stop_on_signal(signum, _frame):
        """Shut down from another thread: the main loop then returns from ``start``."""
        if not scheduler.running:
            raise SystemExit(0)  # not started yet: nothing to wait for
        if not stopping.is_set():
            stopping.set()
            log.info("scheduler stopping (signal %s)", signum)
            threading.Thread(target=scheduler.shutdown, name="scheduler-shutdown").start()

    previous = {number: signal.signal(number, stop_on_signal)
                for number in (signal.SIGTERM, signal.SIGINT)}
    log.info("scheduler running; stop with Ctrl+C or SIGTERM")
    try:
        start(app, scheduler)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        stop(app)
    log.info("scheduler stopped")


# --- keeping date jobs in line with the database ------------------------------------------------

def set_date_job(scheduler: BaseScheduler, job_id: str, func: str, run_at: datetime,
                 args: list[int]) -> None:
    """Add or replace a one-off job that runs ``func(*args)`` at ``run_at``, even if late."""
    scheduler.add_job(func, DateTrigger(run_date=run_at, timezone=UTC), args=args, id=job_id,
                      replace_existing=True, misfire_grace_time=None, coalesce=True)


def remove_job(scheduler: BaseScheduler, job_id: str) -> None:
    """Remove a job if it is still there (a date job that just ran removes itself)."""
    with contextlib.suppress(JobLookupError):
        scheduler.remove_job(job_id)


def sync_date_jobs(scheduler: BaseScheduler, prefix: str, func: str,
                   wanted: dict[int, datetime]) -> None:
    """Make the date jobs ``{prefix}{key}`` exactly ``wanted`` (key → run time).

    Jobs already at the right time are left alone; the rest are replaced, and jobs whose
    key is not wanted are removed.
    """
    existing = {job.id: job for job in scheduler.get_jobs() if job.id.startswith(prefix)}
    for key, run_at in wanted.items():
        job = existing.pop(f"{prefix}{key}", None)
        if job is None or getattr(job.trigger, "run_date", None) != run_at:
            set_date_job(scheduler, f"{prefix}{key}", func, run_at, [key])
    for job_id in existing:
        remove_job(scheduler, job_id)


def after_commit(session: Session, change: Callable[[BaseScheduler], None]) -> None:
    """Apply ``change`` to this process's scheduler once the session's transaction commits.

    The job store may be the same database: writing it inside the transaction would wait
    on the transaction's own lock (SQLite). A rolled-back transaction changes nothing.
    """
    session.info.setdefault(_PENDING, []).append(change)


@event.listens_for(Session, "after_commit")
def _apply_after_commit(session: Session) -> None:
    """Run the scheduler changes of the committed transaction."""
    if session.in_nested_transaction():
        return
    changes = session.info.pop(_PENDING, None)
    scheduler = get_scheduler() if changes else None
    if scheduler is None:
        return
    for change in changes:
        try:
            change(scheduler)
        except Exception:  # the next reconcile run repairs the jobs
            log.exception("updating a scheduled job failed")


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, previous) -> None:
    """Forget the scheduler changes of a transaction that was rolled back."""
    undone = previous
    while not undone.nested and undone.parent is not None:
        undone = undone.parent
    if not undone.nested:
        session.info.pop(_PENDING, None)
