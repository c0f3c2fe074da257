"""Release jobs: one date job per upcoming release, the reconcile job, and who runs them."""

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.jobstores.memory import MemoryJobStore
from sqlalchemy import MetaData, Table, delete, func, select, update

from app import create_app
from app import scheduler as scheduling
from app.accounts.models import User
from app.cohorts import jobs
from app.cohorts.authoring import launch_cohort
from app.cohorts.models import Cohort, CohortModule
from app.cohorts.releases import (
    RELEASE_ATTEMPTS,
    release_due_modules,
    release_module,
    reschedule_release,
)
from app.cohorts.signals import module_released
from app.db import Model, get_database, get_session, transaction, utcnow
from app.mail import OutboxEmail
from app.notifications.models import Notification
from tests.conftest import test_config as config_for_tests
from tests.factories import add_member, create_module, create_program, create_user

ROOT = Path(__file__).resolve().parents[2]
START = date(2026, 3, 2)  # a Monday; New York changes to summer time on 8 March
#: Within a week of the first two releases (14:00Z on 2 March, 13:00Z on 9 March).
LAUNCHED = datetime(2026, 3, 2, 13, tzinfo=UTC)


def release_jobs(scheduler) -> dict[str, datetime]:
    """The scheduler's release date jobs: id → run time."""
    return {job.id: job.trigger.run_date for job in scheduler.get_jobs()
            if job.id.startswith("release:")}


def counts(app) -> tuple[int, int]:
    """How many notifications and e-mails exist."""
    with app.app_context():
        session = get_session()
        return (session.scalar(select(func.count()).select_from(Notification)),
                session.scalar(select(func.count()).select_from(OutboxEmail)))


def seed(app, *, members: int = 3, offsets=(0, 7, 14), now: datetime = LAUNCHED):
    """A New York cohort with a facilitator and learners; returns (cohort, its modules)."""
    with app.app_context():
        session = get_session()
        owner = create_user(session, can_own_programs=True)
        program = create_program(session, owner=owner)
        for offset in offsets:
            create_module(session, program, release_offset_days=offset)
        session.commit()
        cohort = launch_cohort(owner, program.id, name="Spring", starts_on=START,
                               timezone="America/New_York", anonymity="off",
                               now=now)
        add_member(session, cohort, role="facilitator")
        for _ in range(members - 1):
            add_member(session, cohort)
        modules = session.scalars(select(CohortModule).where(CohortModule.cohort_id == cohort.id)
                                  .order_by(CohortModule.position)).all()
        session.commit()
    return cohort, modules


def set_release_at(app, module_id: int, release_at: datetime) -> None:
    """Move a release in the database (as another process would)."""
    with app.app_context():
        get_session().get(CohortModule, module_id).release_at = release_at
        get_session().commit()


@pytest.fixture
def scheduler(app):
    """A started but paused scheduler bound to the test app: jobs are stored, none run."""
    started = scheduling.start(app, scheduling.build_scheduler(app, jobstore=MemoryJobStore()),
                               paused=True)
    yield started
    scheduling.stop(app)


# --- date jobs follow the stored schedule -------------------------------------------------------

def test_launch_adds_a_date_job_per_release_of_the_coming_week_at_its_utc_time(app, scheduler):
    _, modules = seed(app)
    assert release_jobs(scheduler) == {
        f"release:{modules[0].id}": datetime(2026, 3, 2, 14, tzinfo=UTC),  # 09:00 EST
        f"release:{modules[1].id}": datetime(2026, 3, 9, 13, tzinfo=UTC),  # 09:00 EDT
    }  # the third (16 March) is beyond the week; the reconcile job adds it later
    job = scheduler.get_job(f"release:{modules[0].id}")
    assert job.func_ref == "app.cohorts.jobs:release_one"
    assert job.args == (modules[0].id,)
    assert (job.misfire_grace_time, job.coalesce) == (None, True)
    assert job.next_run_time == datetime(2026, 3, 2, 14, tzinfo=UTC)
    with app.app_context():
        jobs.sync_release_jobs(scheduler, now=datetime(2026, 3, 10, tzinfo=UTC))
    assert release_jobs(scheduler) == {
        f"release:{modules[2].id}": datetime(2026, 3, 16, 13, tzinfo=UTC),
    }  # the first two fall before that "now": the reconcile job releases them instead


def test_moving_a_release_replaces_its_job(app, scheduler):
    cohort, modules = seed(app)
    job_id = f"release:{modules[1].id}"
    with app.app_context():
        owner = get_session().get(User, cohort.created_by_id)
        moved = datetime(2026, 3, 5, 17, 30, tzinfo=UTC)
        reschedule_release(owner, cohort.id, modules[1].id, release_at=moved,
                           now=LAUNCHED)
    assert release_jobs(scheduler)[job_id] == moved
    with app.app_context():
        owner = get_session().get(User, cohort.created_by_id)
        reschedule_release(owner, cohort.id, modules[1].id,
                           release_at=LAUNCHED + timedelta(days=20), now=LAUNCHED)
    assert job_id not in release_jobs(scheduler)  # out of the week: no job yet
    with app.app_context():
        jobs.sync_release_jobs(scheduler, now=LAUNCHED + timedelta(days=14))
    assert release_jobs(scheduler)[job_id] == LAUNCHED + timedelta(days=20)


def test_released_modules_lose_their_jobs(app, scheduler):
    cohort, modules = seed(app)
    first, second = (f"release:{m.id}" for m in modules[:2])
    with app.app_context():
        owner = get_session().get(User, cohort.created_by_id)
        reschedule_release(owner, cohort.id, modules[0].id, release_at=None,
                           now=LAUNCHED)  # "release now"
    assert first not in release_jobs(scheduler) and second in release_jobs(scheduler)
    # Released elsewhere (another process, no hook here): the next reconcile removes the job,
    # and a job left by a module that no longer exists.
    with app.app_context():
        assert release_module(modules[1].id, now=datetime(2026, 3, 9, 13, tzinfo=UTC))
    scheduling.set_date_job(scheduler, "release:999999", jobs.RELEASE_JOB,
                            LAUNCHED + timedelta(days=1), [999999])
    with app.app_context():
        jobs.sync_release_jobs(scheduler, now=LAUNCHED)
    assert release_jobs(scheduler) == {}


def test_a_rolled_back_move_leaves_the_job_alone(app, scheduler):
    cohort, modules = seed(app)
    before = release_jobs(scheduler)
    with app.app_context(), pytest.raises(RuntimeError), transaction():
        owner = get_session().get(User, cohort.created_by_id)
        reschedule_release(owner, cohort.id, modules[1].id,
                           release_at=LAUNCHED + timedelta(days=2), now=LAUNCHED)
        raise RuntimeError("the surrounding action failed")
    assert release_jobs(scheduler) == before


# --- firing: exactly once, and harmless when stale --------------------------------------------

def test_a_duplicate_firing_notifies_each_member_once(app, scheduler):
    _, modules = seed(app)
    set_release_at(app, modules[0].id, utcnow() - timedelta(minutes=1))
    assert jobs.release_one(modules[0].id) is True
    assert jobs.release_one(modules[0].id) is False
    assert counts(app) == (3, 3)


def test_a_stale_job_of_a_release_moved_later_does_nothing(app, scheduler):
    _, modules = seed(app)
    set_release_at(app, modules[0].id, utcnow() + timedelta(hours=2))
    assert jobs.release_one(modules[0].id) is False
    assert counts(app) == (0, 0)
    with app.app_context():
        assert get_session().get(CohortModule, modules[0].id).released_at is None


def test_two_firings_at_once_notify_each_member_once(own_database):
    app = own_database
    scheduling.start(app, scheduling.build_scheduler(app, jobstore=MemoryJobStore()),
                     paused=True)
    _, modules = seed(app, members=5)
    set_release_at(app, modules[0].id, utcnow() - timedelta(minutes=1))
    results, barrier = [], threading.Barrier(2)

    def fire():
        barrier.wait()
        results.append(jobs.release_one(modules[0].id))

    threads = [threading.Thread(target=fire) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]
    with app.app_context():
        users = get_session().scalars(select(Notification.user_id)).all()
    assert len(users) == len(set(users)) == 5
    assert counts(app) == (5, 5)


def test_one_failing_release_does_not_hold_back_the_others(app):
    _, modules = seed(app, offsets=(0, 7, 14))
    now = datetime(2026, 3, 20, tzinfo=UTC)  # all three are due
    broken = modules[1].id

    def fail_for_one(cohort_module, **_):
        if cohort_module.id == broken:
            raise RuntimeError("this release cannot be announced")

    module_released.connect(fail_for_one)
    try:
        with app.app_context():
            assert release_due_modules(now=now) == 2
    finally:
        module_released.disconnect(fail_for_one)
    assert counts(app) == (6, 6)
    with app.app_context():
        stuck = get_session().get(CohortModule, broken)
        assert stuck.released_at is None and stuck.release_stuck
        assert (stuck.release_failures, stuck.release_retry_at) == (1, now + timedelta(minutes=1))
        assert stuck.release_error == "RuntimeError: this release cannot be announced"
        # It waits for its retry rather than failing on every run...
        assert release_due_modules(now=now + timedelta(seconds=59)) == 0
        # ...and goes out once the cause is gone.
        assert release_due_modules(now=now + timedelta(minutes=1)) == 1
        released = get_session().get(CohortModule, broken)
        assert released.released_at is not None and not released.release_stuck
        assert released.release_retry_at is None
    assert counts(app) == (9, 9)


def test_a_release_that_keeps_failing_backs_off_and_then_waits_for_its_staff(app, caplog):
    """Never retried without end: doubling waits, an error per failure, then a halt."""
    _, modules = seed(app, offsets=(0,))
    broken = modules[0].id
    now = datetime(2026, 3, 20, tzinfo=UTC)

    def always_fail(cohort_module, **_):
        raise RuntimeError("mail table on fire")

    module_released.connect(always_fail)
    tries, waits = [], []
    try:
        with app.app_context():
            for _ in range(20):
                tries.append(now)
                release_due_modules(now=now)
                module = get_session().get(CohortModule, broken, populate_existing=True)
                if module.release_retry_at is None:
                    break
                waits.append(module.release_retry_at - now)
                now = module.release_retry_at
            # Given up: later runs leave it alone, whatever the time.
            assert release_due_modules(now=now + timedelta(days=30)) == 0
    finally:
        module_released.disconnect(always_fail)
    assert len(tries) == RELEASE_ATTEMPTS
    assert waits == [timedelta(minutes=2 ** n) for n in range(RELEASE_ATTEMPTS - 1)]
    assert [r.levelname for r in caplog.records if "cohort module" in r.getMessage()].count(
        "CRITICAL") == 1
    with app.app_context():
        module = get_session().get(CohortModule, broken)
        assert module.release_failures == RELEASE_ATTEMPTS and module.release_stuck
    assert counts(app) == (0, 0)
    # The module's staff send it by hand once the cause is fixed ("Release now").
    with app.app_context():
        cohort = get_session().get(Cohort, module.cohort_id)
        owner = get_session().get(User, cohort.program.owner_id)
        reschedule_release(owner, cohort.id, broken, release_at=None,
                           now=now + timedelta(days=31))
        assert not get_session().get(CohortModule, broken).release_stuck
    assert counts(app) == (3, 3)


# --- catching up when the scheduler starts ------------------------------------------------------

def start_and_reconcile(app):
    """Start a scheduler on the app's own job store and wait for its first reconcile run."""
    scheduler = scheduling.build_scheduler(app)
    done, errors = threading.Event(), []

    def listen(event):
        if event.job_id == "release-due-modules":
            if event.exception is not None:
                errors.append(event.exception)
            done.set()

    scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduling.start(app, scheduler)
    assert done.wait(20), "the reconcile job did not run at start"
    assert errors == []
    return scheduler


def test_a_release_missed_while_down_is_processed_once_at_start_and_not_again(own_database):
    app = own_database
    _, modules = seed(app)
    now = utcnow()
    set_release_at(app, modules[0].id, now - timedelta(hours=3))  # passed while down
    set_release_at(app, modules[1].id, now + timedelta(days=2))
    set_release_at(app, modules[2].id, now + timedelta(days=30))
    assert counts(app) == (0, 0)

    scheduler = start_and_reconcile(app)
    assert counts(app) == (3, 3)
    stored = release_jobs(scheduler)
    assert stored == {f"release:{modules[1].id}": now + timedelta(days=2)}
    all_jobs = len(scheduler.get_jobs())
    scheduling.stop(app)

    scheduler = start_and_reconcile(app)  # a restart: nothing more to send, no job copies
    assert counts(app) == (3, 3)
    assert release_jobs(scheduler) == stored
    assert len(scheduler.get_jobs()) == all_jobs
    scheduling.stop(app)


def test_jobs_lost_or_unreadable_in_the_store_are_rebuilt_from_the_schedule(own_database):
    app = own_database
    _, modules = seed(app)
    now = utcnow()
    set_release_at(app, modules[0].id, now + timedelta(days=1))
    set_release_at(app, modules[1].id, now + timedelta(days=2))
    set_release_at(app, modules[2].id, now + timedelta(days=30))
    scheduler = start_and_reconcile(app)
    expected = release_jobs(scheduler)
    assert set(expected) == {f"release:{modules[0].id}", f"release:{modules[1].id}"}
    scheduling.stop(app)

    # While the scheduler is down: one job row vanishes, the other can no longer be read
    # (as after a refactor renamed its function), and the first release falls due.
    engine = get_database(app).engine
    with engine.begin() as connection:
        stored_jobs = Table(scheduling.JOBS_TABLE, MetaData(), autoload_with=connection)
        connection.execute(delete(stored_jobs).where(
            stored_jobs.c.id == f"release:{modules[0].id}"))
        connection.execute(update(stored_jobs).where(
            stored_jobs.c.id == f"release:{modules[1].id}").values(job_state=b"not a job"))
    set_release_at(app, modules[0].id, now - timedelta(minutes=5))

    scheduler = start_and_reconcile(app)
    assert counts(app) == (3, 3)  # the due release went out once, without its job
    assert release_jobs(scheduler) == {f"release:{modules[1].id}": expected[
        f"release:{modules[1].id}"]}
    scheduling.stop(app)


def test_every_stored_job_names_its_function_as_text_and_takes_plain_ids(app, scheduler):
    _, modules = seed(app)
    stored = scheduler.get_jobs()
    assert {job.id for job in stored} >= {"deliver-outbox", "release-due-modules"}
    for job in stored:
        # A text reference survives a restart; a function object or lambda would not.
        assert isinstance(job.func_ref, str) and ":" in job.func_ref, job.id
        assert all(type(arg) is int for arg in job.args), job.id
        assert job.kwargs == {}, job.id


# --- who runs a scheduler -----------------------------------------------------------------------

def test_test_apps_and_disabled_apps_never_start_a_scheduler(app):
    assert scheduling.start_in_process(app) is None  # TESTING
    disabled = create_app(config_for_tests(TESTING=False, SCHEDULER_ENABLED=False))
    assert scheduling.start_in_process(disabled) is None
    assert "scheduler" not in disabled.extensions
    assert not any(t.name == "APScheduler" for t in threading.enumerate())


WSGI_CHECK = textwrap.dedent("""
    import threading
    import wsgi
    from app.scheduler import start_in_process

    def scheduler_threads():
        return [t.name for t in threading.enumerate() if t.name == "APScheduler"]

    imported = scheduler_threads()
    first = start_in_process(wsgi.app)
    second = start_in_process(wsgi.app)
    print("import:", len(imported), "first:", first is not None, "second:", second is not None,
          "threads:", len(scheduler_threads()))
    if first is not None:
        first.shutdown()
""")


def run_wsgi_check(tmp_path, enabled: str) -> str:
    """Import wsgi (as gunicorn does) and try to start the scheduler, in a new process."""
    env = {**os.environ, "SCHEDULER_ENABLED": enabled, "SECRET_KEY": "x" * 32,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'web.db'}", "APP_ENV": "development"}
    result = subprocess.run([sys.executable, "-c", WSGI_CHECK], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_web_workers_with_the_scheduler_disabled_never_start_one(tmp_path):
    assert run_wsgi_check(tmp_path, "0") == "import: 0 first: False second: False threads: 0"


def test_the_single_process_server_starts_exactly_one_scheduler(tmp_path):
    # Importing wsgi starts nothing; serve() starts one, and a second call does not.
    assert run_wsgi_check(tmp_path, "1") == "import: 0 first: True second: False threads: 1"


# --- flask scheduler run ---------------------------------------------------------------------

#: ``flask scheduler run``, with a SIGTERM the process sends itself at the exact moment
#: named by STOP_AT: ``starting`` (before the scheduler starts), ``started`` (as it has just
#: started, before its loop ran), ``mid-job`` (inside the reconcile job, after the due
#: release and before its date jobs are synced, which then happens while the stop is under
#: way) or ``stuck-job`` (inside a job that never ends).
SCHEDULER_RUN = textwrap.dedent('''
    import os
    import signal
    import sys
    import time

    from apscheduler.events import EVENT_SCHEDULER_STARTED
    from flask.cli import main

    from app import scheduler as scheduling
    from app.cohorts import jobs

    stop_at = os.environ.get("STOP_AT")

    def send_stop():
        """Send this process a SIGTERM."""
        os.kill(os.getpid(), signal.SIGTERM)

    if stop_at == "starting":
        start = scheduling.start

        def start_after_a_signal(app, scheduler, **options):
            """Start the scheduler with a signal already pending."""
            send_stop()
            return start(app, scheduler, **options)

        scheduling.start = start_after_a_signal
    elif stop_at == "started":
        build = scheduling.build_scheduler

        def build_with_a_signal_at_start(app, **options):
            """A scheduler that gets a signal as soon as it has started."""
            scheduler = build(app, **options)
            scheduler.add_listener(lambda event: send_stop(), EVENT_SCHEDULER_STARTED)
            return scheduler

        scheduling.build_scheduler = build_with_a_signal_at_start
    elif stop_at in ("mid-job", "stuck-job"):
        sync = jobs.sync_release_jobs

        def sync_once_the_stop_began(scheduler, **options):
            """Signal, then sync the date jobs (reading and changing jobs) during the stop."""
            send_stop()
            if stop_at == "stuck-job":
                time.sleep(3600)
            deadline = time.monotonic() + 5
            while scheduler.running and time.monotonic() < deadline:
                time.sleep(0.01)
            sync(scheduler, **options)

        jobs.sync_release_jobs = sync_once_the_stop_began

    sys.argv = ["flask", "--app", "wsgi", "scheduler", "run"]
    main()
''')


class SchedulerProcess:
    """``flask scheduler run`` in a process of its own, its output read line by line."""

    def __init__(self, database: str, **env: str):
        """Start the process on ``database``, with ``env`` added to its environment."""
        self.process = subprocess.Popen(
            [sys.executable, "-c", SCHEDULER_RUN], cwd=ROOT, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env={**os.environ, "DATABASE_URL": database, "SECRET_KEY": "x" * 32,
                 "SCHEDULER_ENABLED": "0", "APP_ENV": "development", **env})
        self.lines: list[str] = []
        self._unread: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        """Collect the output until the process closes it."""
        for line in self.process.stdout:
            self.lines.append(line)
            self._unread.put(line)
        self._unread.put(None)

    @property
    def output(self) -> str:
        """Everything the process has written so far."""
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 30) -> None:
        """Wait until the process writes a line containing ``text``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._unread.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                pytest.fail(f"no {text!r} within {timeout} s:\n{self.output}")
            if line is None:
                pytest.fail(f"the scheduler exited before {text!r}:\n{self.output}")
            if text in line:
                return

    def exit_code(self, timeout: float) -> int:
        """Wait for the process to end; its exit code."""
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {timeout} s later:\n{self.output}")
        self._reader.join(timeout=5)
        return code

    def end(self) -> None:
        """Kill the process if it is still running."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.process.stdout.close()


@pytest.fixture
def scheduler_run(tmp_path):
    """A SQLite database with one due release, and a way to run ``flask scheduler run`` on it.

    Yields (run, app): ``run(**env)`` starts a scheduler process; ``app`` reads the database.
    """
    database = f"sqlite:///{tmp_path / 'scheduler.db'}"
    app = create_app(config_for_tests(DATABASE_URL=database))
    Model.metadata.create_all(get_database(app).engine)
    _, modules = seed(app)
    set_release_at(app, modules[0].id, utcnow() - timedelta(minutes=5))
    for later in modules[1:]:
        set_release_at(app, later.id, utcnow() + timedelta(days=3))
    get_database(app).engine.dispose()
    processes: list[SchedulerProcess] = []

    def run(**env: str) -> SchedulerProcess:
        """Start ``flask scheduler run`` on the database."""
        processes.append(SchedulerProcess(database, **env))
        return processes[-1]

    yield run, app
    for process in processes:
        process.end()
    get_database(app).engine.dispose()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT],
                         ids=["SIGTERM", "SIGINT"])
def test_flask_scheduler_run_releases_what_is_due_and_stops_on_a_signal(scheduler_run,
                                                                        stop_signal):
    run, app = scheduler_run
    process = run()
    process.wait_for("releases reconciled")  # the catch-up at start has run
    process.process.send_signal(stop_signal)
    assert process.exit_code(timeout=10) == 0, process.output
    assert "Traceback" not in process.output, process.output
    assert "scheduler stopped" in process.output, process.output
    assert counts(app) == (3, 3)


@pytest.mark.parametrize("stop_at", ["starting", "started", "mid-job"])
def test_flask_scheduler_run_stops_cleanly_whenever_the_signal_comes(scheduler_run, stop_at):
    run, app = scheduler_run
    process = run(STOP_AT=stop_at)
    assert process.exit_code(timeout=30) == 0, process.output
    assert "Traceback" not in process.output, process.output
    assert "scheduler stopped" in process.output, process.output
    # A release is processed entirely or not at all.
    assert counts(app) in {(0, 0), (3, 3)}
    if stop_at == "mid-job":  # the job under way when the signal came was let finish
        assert "releases reconciled" in process.output.split("scheduler stopping")[1]
        assert counts(app) == (3, 3)


def test_flask_scheduler_run_does_not_wait_forever_for_a_stuck_job(scheduler_run):
    run, _ = scheduler_run
    process = run(STOP_AT="stuck-job", SCHEDULER_STOP_TIMEOUT="0.5")
    process.wait_for("scheduler stopping")
    assert process.exit_code(timeout=10) == 1, process.output
    assert "jobs still running: release-due-modules" in process.output, process.output
    assert "Traceback" not in process.output, process.output
