"""The scheduler: its construction and the list of recurring jobs.

One process runs it: the single-process server (``make run``/``python wsgi.py``) when
``SCHEDULER_ENABLED`` is on, or ``flask scheduler run`` in production, where web
workers set ``SCHEDULER_ENABLED=0``. Jobs live in a SQLAlchemy job store, so
one-off jobs survive restarts; every job is idempotent, so a duplicate firing does no harm.
"""

import functools
import logging
import threading

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from app.db import get_database

log = logging.getLogger(__name__)

JOBS_TABLE = "apscheduler_jobs"
#: (job id, "module:function", seconds between runs)
RECURRING_JOBS = [
    ("deliver-outbox", "app.notifications.jobs:deliver_outbox", 30),
    ("release-due-modules", "app.cohorts.jobs:release_due", 60),
]

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


def build_scheduler(app: Flask, *, blocking: bool = False):
    """Create a scheduler whose job store is the application's database."""
    store = SQLAlchemyJobStore(engine=get_database(app).engine, tablename=JOBS_TABLE)
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(
        jobstores={"default": store},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone="UTC",
    )
    for job_id, func, seconds in RECURRING_JOBS:
        scheduler.add_job(func, "interval", seconds=seconds, id=job_id, replace_existing=True)
    return scheduler


def start_in_process(app: Flask):
    """Start the background scheduler in this process, once; None when disabled."""
    global _app
    if not app.config.get("SCHEDULER_ENABLED") or app.config.get("TESTING"):
        return None
    with _lock:
        if _app is not None:
            return None
        _app = app
    scheduler = build_scheduler(app)
    scheduler.start()
    log.info("scheduler started in this process")
    return scheduler


def run_blocking(app: Flask) -> None:
    """Run the scheduler in the foreground (``flask scheduler run``)."""
    global _app
    _app = app
    scheduler = build_scheduler(app, blocking=True)
    log.info("scheduler running; stop with Ctrl+C")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")
