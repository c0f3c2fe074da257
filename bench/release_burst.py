"""Benchmark: a release burst — many cohorts whose modules all fall due in the same minute.

    .venv/bin/python bench/release_burst.py [--cohorts 1000] [--members 50] [--database URL]
                                            [--analyze]

Without ``--database`` it uses a new SQLite file. For PostgreSQL pass a URL; the run uses a
schema of its own and drops it afterwards. Prints the time to process every release and
checks that exactly cohorts × members notifications (and e-mails) exist, none duplicated.
"""

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.accounts.models import User  # noqa: E402
from app.cohorts import releases  # noqa: E402
from app.cohorts.models import Cohort, CohortModule, Membership, Program  # noqa: E402
from app.db import Model, get_database  # noqa: E402
from app.mail import OutboxEmail  # noqa: E402
from app.models import import_all_models  # noqa: E402
from app.notifications.models import Notification  # noqa: E402

NOW = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)


def build(engine, cohorts: int, members: int) -> None:
    """Insert users, cohorts, memberships and one due module per cohort, in batches."""
    with engine.begin() as connection:
        connection.execute(insert(User), [
            {"email": "owner@bench.test", "name": "Owner", "timezone": "UTC",
             "is_admin": False, "can_own_programs": True, "is_disabled": False,
             "created_at": NOW}])
        connection.execute(insert(Program), [{"owner_id": 1, "title": "Bench", "summary": "",
                                              "created_at": NOW, "updated_at": NOW}])
        connection.execute(insert(User), [
            {"email": f"m{n}@bench.test", "name": f"M{n}", "timezone": "UTC",
             "is_admin": False, "can_own_programs": False, "is_disabled": False,
             "created_at": NOW} for n in range(cohorts * members)])
        connection.execute(insert(Cohort), [
            {"program_id": 1, "name": f"C{c}", "starts_on": date(2026, 3, 2),
             "timezone": "UTC", "anonymity": "off", "launched_at": NOW}
            for c in range(cohorts)])
        connection.execute(insert(Membership), [
            {"cohort_id": c + 1, "user_id": 2 + c * members + m, "role": "learner",
             "joined_at": NOW} for c in range(cohorts) for m in range(members)])
        connection.execute(insert(CohortModule), [
            {"cohort_id": c + 1, "position": 0, "title": "Week 1", "body": "",
             "release_offset_days": 0, "release_time": datetime.min.time().replace(hour=9),
             "release_at": NOW - timedelta(seconds=30)} for c in range(cohorts)])


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohorts", type=int, default=1000)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (default: SQLite)")
    parser.add_argument("--analyze", action="store_true",
                        help="gather planner statistics after loading, as autovacuum would")
    args = parser.parse_args()
    import_all_models()
    schema = None
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/bench.db"
        if args.database:
            schema = "bench_release_burst"
            base = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
            with get_database(base).engine.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                connection.execute(text(f"CREATE SCHEMA {schema}"))
            separator = "&" if "?" in url else "?"
            url = f"{url}{separator}options=-csearch_path%3D{schema}"
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True,
                          "LOG_LEVEL": "WARNING", "BASE_URL": "http://localhost"})
        engine = get_database(app).engine
        Model.metadata.create_all(engine)
        build(engine, args.cohorts, args.members)
        if args.analyze:
            with engine.begin() as connection:
                connection.execute(text("ANALYZE"))
        with app.app_context():
            started = time.perf_counter()
            released = releases.release_due_modules(now=NOW)
            elapsed = time.perf_counter() - started
        with engine.connect() as connection:
            notes = connection.scalar(select(func.count()).select_from(Notification))
            distinct = connection.scalar(select(func.count()).select_from(
                select(Notification.user_id, Notification.dedupe_key).distinct().subquery()))
            emails = connection.scalar(select(func.count()).select_from(OutboxEmail))
        expected = args.cohorts * args.members
        backend = engine.dialect.name
        print(f"{backend}: {released} releases, {notes} notifications ({distinct} distinct), "
              f"{emails} e-mails in {elapsed:.2f} s")
        engine.dispose()
        if schema:
            with get_database(base).engine.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        if not (released == args.cohorts and notes == distinct == emails == expected):
            sys.exit(f"FAILED: expected {args.cohorts} releases and {expected} notifications")


if __name__ == "__main__":
    main()
