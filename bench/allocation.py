"""Benchmark: on-demand review allocation at cohort scale, through the real services.

    .venv/bin/python bench/allocation.py [--submissions 10000] [--reviews 3] [--late 0.02]
                                         [--requests N] [--seed 1] [--database URL]
                                         [--analyze]

Without ``--database`` it uses a new SQLite file. For PostgreSQL pass a URL; the run uses a
schema of its own (``bench_allocation``) and drops it afterwards.

It seeds, with bulk inserts (seconds, not the services), one cohort of ``--submissions``
learners who have all submitted to one assignment that asks for ``--reviews`` reviews each
(a share ``--late`` of them after the due date). Then every learner asks for their reviews
in a random order (each learner ``--reviews`` times, shuffled with ``--seed``), each request
a ``request_review`` followed at once by ``save_review(..., submit=True)``, each in an app
context of its own as a web request would be. The clock moves one second per review, so
nothing expires. ``--requests N`` stops after the first N requests of that order: the cost
of an allocation at full scale, without the final spread (which needs every review).

It prints the median and 99th percentile of the time one ``request_review`` takes (the
allocation) and of one ``save_review``, the load average before and after, and the final
spread of completed reviews across on-time submissions (most minus fewest) with how many
submissions ended at each count.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from sqlalchemy import insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.accounts.models import User  # noqa: E402
from app.cohorts.models import Cohort, CohortModule, Membership, Program  # noqa: E402
from app.db import Model, get_database, get_session  # noqa: E402
from app.models import import_all_models  # noqa: E402
from app.peer_review.access import dates_of, feedback_by  # noqa: E402
from app.peer_review.models import (  # noqa: E402
    CohortAssignment,
    Rubric,
    RubricCriterion,
    RubricLevel,
)
from app.peer_review.reviewing import request_review, save_review  # noqa: E402
from app.peer_review.work_models import Submission  # noqa: E402

RELEASE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
COMMENT = "The example in your second paragraph made the point clear; a closing line would help."


def seed(app, learners: int, required: int, late_share: float, rng: random.Random) -> dict:
    """The cohort, its assignment and every learner's submission; the ids the run needs."""
    engine = get_database(app).engine
    with engine.begin() as connection:
        connection.execute(insert(User), [
            {"email": "owner@bench.test", "name": "Owner", "timezone": "UTC", "is_admin": False,
             "can_own_programs": True, "is_disabled": False, "created_at": RELEASE}])
        connection.execute(insert(Program), [{"owner_id": 1, "title": "Bench", "summary": "",
                                              "created_at": RELEASE, "updated_at": RELEASE}])
        connection.execute(insert(Cohort), [
            {"program_id": 1, "name": "Everyone", "starts_on": date(2026, 3, 2),
             "timezone": "UTC", "anonymity": "off", "launched_at": RELEASE}])
        connection.execute(insert(User), [
            {"email": f"l{n}@bench.test", "name": f"Learner {n}", "timezone": "UTC",
             "is_admin": False, "can_own_programs": False, "is_disabled": False,
             "created_at": RELEASE} for n in range(learners)])
        connection.execute(insert(Membership), [
            {"cohort_id": 1, "user_id": 2 + n, "role": "learner", "joined_at": RELEASE}
            for n in range(learners)])
        connection.execute(insert(CohortModule), [
            {"cohort_id": 1, "position": 0, "title": "Week 1", "body": "",
             "release_offset_days": 0, "release_time": clock_time(9, 0),
             "release_at": RELEASE, "released_at": RELEASE}])
    with app.app_context():
        session = get_session()
        rubric = Rubric()
        for position, (title, points) in enumerate((("Clarity", (0, 2, 4)),
                                                    ("Kindness", (0, 1)))):
            criterion = RubricCriterion(position=position, title=title, description="")
            criterion.levels = [RubricLevel(position=n, label=f"{p} points", points=p)
                                for n, p in enumerate(points)]
            rubric.criteria.append(criterion)
        assignment = CohortAssignment(
            cohort_id=1, cohort_module_id=1, position=0, title="Rewrite the message",
            instructions="Rewrite it.", rubric=rubric, reviews_required=required,
            submit_days=7, review_days=4, review_expiry_hours=48)
        session.add(assignment)
        session.commit()
        dates = dates_of(assignment, RELEASE, "UTC")
        scores = {c.id: max(level.points for level in c.levels) for c in rubric.criteria}
        assignment_id = assignment.id
    late = set(rng.sample(range(learners), int(learners * late_share)))
    window = (dates.due - RELEASE) / (learners + 1)
    rows = []
    for n in range(learners):
        is_late = n in late
        submitted = dates.due + timedelta(seconds=n + 1) if is_late else RELEASE + window * n
        rows.append({
            "cohort_assignment_id": assignment_id, "cohort_id": 1, "author_id": 2 + n,
            "body": "My rewrite.", "body_html": "<p>My rewrite.</p>", "version": 1,
            "submitted_at": submitted, "updated_at": submitted, "late": is_late,
            "feedback_by": feedback_by(dates, submitted, review_days=4, zone="UTC",
                                       late=is_late),
            "completed_reviews": 0, "active_reviews": 0, "review_load": 0})
    with engine.begin() as connection:
        connection.execute(insert(Submission), rows)
    return {"assignment_id": assignment_id, "scores": scores,
            "start": dates.due + timedelta(hours=1), "late": len(late)}


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(app, seeded: dict, required: int, rng: random.Random, requests: int | None
        ) -> tuple[list[float], list[float]]:
    """Every learner's reviews in a random order; the seconds each allocation and each
    submitted review took."""
    with app.app_context():
        users = {u.id: u for u in get_session().scalars(select(User).where(User.id > 1))}
    order = [uid for uid in users for _ in range(required)]
    rng.shuffle(order)
    order = order[:requests]
    aid, scores = seeded["assignment_id"], seeded["scores"]
    now = seeded["start"]
    allocating, saving = [], []
    for n, uid in enumerate(order):
        now += timedelta(seconds=1)
        user = users[uid]
        started = time.perf_counter()
        with app.app_context():
            review = request_review(user, aid, now=now)
        allocated = time.perf_counter()
        with app.app_context():
            outcome = save_review(user, review.id, scores=scores, comment=COMMENT,
                                  submit=True, now=now)
        saved = time.perf_counter()
        if outcome.status != "submitted":
            sys.exit(f"review {review.id} was {outcome.status}, not submitted")
        allocating.append(allocated - started)
        saving.append(saved - allocated)
        if (n + 1) % 5000 == 0:
            print(f"  {n + 1:,} reviews, median allocation so far "
                  f"{statistics.median(allocating) * 1000:.2f} ms", flush=True)
    return allocating, saving


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--reviews", type=int, default=3, help="reviews required of each")
    parser.add_argument("--late", type=float, default=0.02, help="share of late submissions")
    parser.add_argument("--requests", type=int, default=None,
                        help="stop after this many requests (default: every review)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (default: SQLite)")
    parser.add_argument("--analyze", action="store_true",
                        help="gather planner statistics after seeding, as autovacuum would")
    args = parser.parse_args()
    import_all_models()
    rng = random.Random(args.seed)
    schema = None
    config = {"SECRET_KEY": "bench", "TESTING": True, "LOG_LEVEL": "WARNING",
              "BASE_URL": "http://localhost", "SCHEDULER_ENABLED": False, "REDIS_URL": None,
              "MAIL_SERVER": None, "RATELIMIT_STORAGE_URI": "memory://"}
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/bench.db"
        if args.database:
            schema = "bench_allocation"
            base = create_app({**config, "DATABASE_URL": url})
            with get_database(base).engine.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                connection.execute(text(f"CREATE SCHEMA {schema}"))
            separator = "&" if "?" in url else "?"
            url = f"{url}{separator}options=-csearch_path%3D{schema}"
        app = create_app({**config, "DATABASE_URL": url, "UPLOAD_FOLDER": tmp})
        engine = get_database(app).engine
        try:
            Model.metadata.create_all(engine)
            started = time.perf_counter()
            seeded = seed(app, args.submissions, args.reviews, args.late, rng)
            if args.analyze:
                with engine.begin() as connection:
                    connection.execute(text("ANALYZE"))
            print(f"{engine.dialect.name}: seeded {args.submissions:,} submissions "
                  f"({seeded['late']} late) in {time.perf_counter() - started:.1f} s; "
                  f"load average {os.getloadavg()[0]:.1f}", flush=True)
            started = time.perf_counter()
            allocating, saving = run(app, seeded, args.reviews, rng, args.requests)
            elapsed = time.perf_counter() - started
            with app.app_context():
                counts = get_session().execute(
                    select(Submission.late, Submission.completed_reviews)
                    .where(Submission.cohort_assignment_id == seeded["assignment_id"])).all()
        finally:
            engine.dispose()
            if schema:
                with get_database(base).engine.begin() as connection:
                    connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    on_time = Counter(done for late, done in counts if not late)
    late = Counter(done for late, done in counts if late)
    ms = 1000
    print(f"{len(allocating):,} reviews in {elapsed:.0f} s; load average now "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"request_review: median {statistics.median(allocating) * ms:.2f} ms, "
          f"p99 {percentile(allocating, 0.99) * ms:.2f} ms, "
          f"max {max(allocating) * ms:.1f} ms")
    print(f"save_review:    median {statistics.median(saving) * ms:.2f} ms, "
          f"p99 {percentile(saving, 0.99) * ms:.2f} ms")
    if args.requests is not None:
        return
    print(f"completed reviews of on-time work: spread {max(on_time) - min(on_time)} "
          f"({', '.join(f'{n:,} with {k}' for k, n in sorted(on_time.items()))}); "
          f"late work: {', '.join(f'{n:,} with {k}' for k, n in sorted(late.items())) or '-'}")


if __name__ == "__main__":
    main()
