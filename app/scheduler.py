"""The scheduler: who runs it, its construction, and the list of recurring jobs.

**One process owns the scheduler and its job store** (APScheduler 3 cannot share a job
store between schedulers):

- *Single-process mode* (``make run`` / ``python wsgi.py``): ``wsgi.serve()`` calls
  ``start_in_process(app)`` once, in the serving process. The server runs without the
  reloader, so there is no parent process to start a second one; importing ``wsgi`` (as
  gunicorn does) starts nothing, and neither does a test app or ``SCHEDULER_ENABLED=0``.
- *Production*: ``flask scheduler run`` runs the scheduler in the foreground as its own
  process and stops cleanly (status 0) on SIGTERM or SIGINT, even while starting or in the
  middle of a job: a running job finishes first, for ``SCHEDULER_STOP_TIMEOUT`` seconds at
  most (then the process exits with status 1 without it); every web worker sets
  ``SCHEDULER_ENABLED=0``.

**Jobs.** Five recurring jobs (``RECURRING_JOBS``): the outbox delivery, the daily
digests (``app.notifications.digests``), the discussion stage announcements
(``app.discussions.jobs``: each stage's opening, told once), peer review's deadlines
(``app.peer_review.jobs``: expiry, reminders, the feedback-by promise), and the release reconcile
job, which also runs as soon as the scheduler starts. The reconcile job processes every
release that is due and not yet done (catching up after downtime), then brings the *date
jobs* in line with the stored schedule: one job per upcoming release, id
``release:{cohort_module_id}``, firing at its ``release_at`` (UTC), for the releases of
the next ``RELEASE_HORIZON`` (``app.cohorts.jobs``); jobs of releases already done, moved
out of the horizon or deleted are removed. When the scheduler runs in this process,
launching a cohort or moving a release also updates the date jobs right after the commit
(``change_after_commit``); a separate scheduler process picks the change up on its next
reconcile, within a minute.

**The job store is a cache, not the source of truth.** Visibility comes from
``release_at <= now`` alone, and a release's side effects run exactly once through an
atomic claim that also requires ``release_at <= now``. So a stale date job (a release moved
later, or already done by hand) is a no-op, a duplicate firing does nothing, and a lost job
only delays an e-mail until the next reconcile. Jobs hold string function references and
integer ids, never objects, so they survive restarts; they use ``misfire_grace_time=None``
and ``coalesce=True``, so a job missed while the scheduler was down runs once when it is
back.

**Stopping.** APScheduler's own ``shutdown`` waits for running jobs while holding its job
store lock, and the reconcile job needs that lock to read and replace date jobs, so a stop
during that job would wait forever. ``Scheduler`` waits for the jobs only once it holds no
lock, and starts no pass over the due jobs once the stop has begun.
"""

import concurrent.futures
import contextlib
import functools
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from apscheduler.executors.pool import BasePoolExecutor
from apscheduler.jobstores.base import BaseJobStore, JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.date import DateTrigger
from flask import Flask, current_app

from app.db import after_commit, get_database

log = logging.getLogger(__name__)

JOBS_TABLE = "apscheduler_jobs"
#: (job id, "module:function", seconds between runs); the ids never change, so a restart
#: replaces each job instead of adding a copy.
RECURRING_JOBS = [
    ("deliver-outbox", "app.notifications.jobs:deliver_outbox", 30),
    ("release-due-modules", "app.cohorts.jobs:reconcile_releases", 60),
    # Digests go out at the first run after each person's local hour: within 5 minutes.
    ("send-digests", "app.notifications.jobs:send_digests", 300),
    # Each thread's next stage is announced within a minute of its opening, exactly once.
    ("announce-stages", "app.discussions.jobs:announce_stages", 60),
    # Peer review: unfinished reviews expire, reminders a day before the review window
    # closes, and work short of reviews at its feedback-by date goes to the staff.
    ("review-deadlines", "app.peer_review.jobs:review_deadlines", 300),
]
#: Recurring jobs that also run as soon as the scheduler starts (catch-up after downtime).
RUN_AT_START = {"release-due-modules"}
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

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


class JobPool(BasePoolExecutor):
    """APScheduler's thread pool executor, except that its ``shutdown`` waits for nothing.

    The scheduler shuts its executors down while holding its job store lock, which a running
    job may need: waiting there can wait forever. ``finish`` waits instead, holding no lock.
    A job submitted after the shutdown (by a pass over the due jobs already under way) still
    runs, and ``finish`` waits for it too.
    """

    def __init__(self, max_workers: int = 10):
        """A pool of ``max_workers`` threads."""
        super().__init__(concurrent.futures.ThreadPoolExecutor(
            max_workers, thread_name_prefix="scheduler-job"))
        self._idle = threading.Condition()

    def shutdown(self, wait: bool = True) -> None:
        """Leave the jobs running: ``finish`` waits for them."""

    def running_jobs(self) -> list[str]:
        """The ids of the jobs submitted and not finished yet."""
        with self._lock:
            return sorted(job_id for job_id, count in self._instances.items() if count > 0)

    def finish(self, timeout: float | None = None) -> list[str]:
        """Wait for the submitted jobs, ``timeout`` seconds at most; the ids still running."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while running := self.running_jobs():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return running
                self._idle.wait(left)
        self._pool.shutdown(wait=True)  # every thread is idle: this only ends them
        return []

    def _run_job_success(self, job_id, events):
        """Count the job as finished, then wake ``finish``."""
        try:
            super()._run_job_success(job_id, events)
        finally:
            self._wake_finish()

    def _run_job_error(self, job_id, exc, traceback=None):
        """Count the job as finished, then wake ``finish``."""
        try:
            super()._run_job_error(job_id, exc, traceback)
        finally:
            self._wake_finish()

    def _wake_finish(self) -> None:
        """Let ``finish`` look at the running jobs again."""
        with self._idle:
            self._idle.notify_all()


class Scheduler(BackgroundScheduler):
    """APScheduler's background scheduler, with a stop that neither hangs nor races its loop."""

    def __init__(self, **options):
        """A scheduler whose jobs run on a ``JobPool``."""
        self._job_pool = JobPool()
        self._stopping = False
        super().__init__(executors={"default": self._job_pool}, **options)

    def shutdown(self, wait: bool = True, timeout: float | None = None) -> list[str]:
        """Stop, then let running jobs finish (``timeout`` seconds at most); the ids still running.

        The jobs are waited for after APScheduler's shutdown, which holds the job store lock.
        """
        # A pass over the due jobs holds this lock from start to end (``_process_jobs``), so
        # once it is released none is under way, and none starts after.
        with self._jobstores_lock:
            self._stopping = True
        super().shutdown(wait=False)
        return self._job_pool.finish(timeout) if wait else []

    def _process_jobs(self):
        """Submit the due jobs, unless the scheduler is stopping.

        APScheduler's loop makes one more pass after ``shutdown``, against stopped executors
        and job stores (a due date job then fails to be removed, and the loop thread dies).
        """
        with self._jobstores_lock:
            if self._stopping:
                return None
            return super()._process_jobs()


def build_scheduler(app: Flask, *, jobstore: BaseJobStore | None = None) -> Scheduler:
    """Create a scheduler whose job store is the application's database (or ``jobstore``)."""
    store = jobstore or SQLAlchemyJobStore(engine=get_database(app).engine,
                                           tablename=JOBS_TABLE)
    scheduler = Scheduler(jobstores={"default": store}, job_defaults=JOB_DEFAULTS, timezone=UTC)
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
    """Bind the jobs to the app and start the scheduler in the background."""
    global _app
    _app = app
    app.extensions["scheduler"] = scheduler
    scheduler.start(paused=paused)
    return scheduler


def stop(app: Flask, timeout: float | None = None) -> list[str]:
    """Stop the app's scheduler and unbind it; the ids of jobs still running.

    A running job is let finish, for ``timeout`` seconds at most (None: as long as it takes).
    """
    global _app
    scheduler = app.extensions.pop("scheduler", None)
    still_running = []
    if scheduler is not None and scheduler.running:
        still_running = scheduler.shutdown(timeout=timeout)
    with _lock:
        if _app is app:
            _app = None
    return still_running


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


@contextlib.contextmanager
def _stop_signals() -> Iterator[Callable[[], int]]:
    """Catch SIGTERM and SIGINT in the block; yields a function waiting for the first one.

    The handlers do nothing in Python: the interpreter's C handler writes each signal's
    number to a pipe (``set_wakeup_fd``), whichever thread the signal reached, and the
    waiting function reads it. So a signal that came before the wait (while starting) is not
    lost, and no code is interrupted half-way by an exception raised in a handler.
    """
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    previous_fd = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    previous = {number: signal.signal(number, lambda *_: None) for number in STOP_SIGNALS}

    def next_signal() -> int:
        """Wait for SIGTERM or SIGINT; its number."""
        while True:
            number = os.read(read_end, 1)[0]
            if number in STOP_SIGNALS:
                return number

    try:
        yield next_signal
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        signal.set_wakeup_fd(previous_fd)
        os.close(read_end)
        os.close(write_end)


def run_blocking(app: Flask) -> bool:
    """Run the scheduler in the foreground until SIGTERM or SIGINT (``flask scheduler run``).

    Returns False when a job was still running ``SCHEDULER_STOP_TIMEOUT`` seconds after the
    signal: the caller must then end the process without waiting for it.
    """
    timeout = app.config["SCHEDULER_STOP_TIMEOUT"]
    with _stop_signals() as next_signal:
        try:
            start(app, build_scheduler(app))
            log.info("scheduler running; stop with Ctrl+C or SIGTERM")
            number = next_signal()
            log.info("scheduler stopping (%s)", signal.Signals(number).name)
        finally:
            still_running = stop(app, timeout=timeout)
    if still_running:
        log.error("scheduler stopped %s s after the signal with jobs still running: %s",
                  timeout, ", ".join(still_running))
        return False
    log.info("scheduler stopped")
    return True


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


def change_after_commit(change: Callable[[BaseScheduler], None]) -> None:
    """Apply ``change`` to this process's scheduler once the current transaction commits.

    The job store may be the same database: writing it inside the transaction would wait
    on the transaction's own lock (SQLite). A rolled-back transaction changes nothing.
    """
    after_commit(functools.partial(_apply_change, change))


def _apply_change(change: Callable[[BaseScheduler], None]) -> None:
    """Apply one committed change, if the scheduler runs in this process."""
    scheduler = get_scheduler()
    if scheduler is None:
        return
    try:
        change(scheduler)
    except Exception:  # the next reconcile run repairs the jobs
        log.exception("updating a scheduled job failed")
