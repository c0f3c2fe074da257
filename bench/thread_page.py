"""Benchmark: a signed-in learner's thread of 50 posts, beside the ceiling of such a page.

    .venv/bin/python bench/thread_page.py [--rounds 3] [--duration 5] [--connections 4]
                                          [--workers 2] [--page-path /threads/{thread}]
    .venv/bin/python bench/thread_page.py --profile 200

Needs ``wrk`` (Debian: ``apt-get install -y wrk``) and gunicorn (pinned in the lock file).

It seeds a SQLite file through the services: an owner's program with one module and its
discussion prompt, a cohort launched so that the real clock is in the thread's respond
stage, a facilitator and 30 learners, the module released, then 50 posts written at
moments their stage allowed (30 reflections, a third of them anonymous, then 20 replies,
a quarter anonymous) of about 600 characters of Markdown each, and a few reactions. The
reading learner has posted their reflection, so they see the posts.

It serves the app with gunicorn (``-w 2``, sync workers, ``SCHEDULER_ENABLED=0``) and,
with the same settings, the ceiling app (``bench/thread_ceiling.py``: the same 50 posts,
cleaned once at start-up, through a minimal Jinja template with no database, and a bare
hello world), and runs wrk (``--latency``) against each in turn, round after round, so the
machine's load falls on all of them alike:

- the thread page, as the learner (session cookie): ``--page-path`` (``{thread}`` is the
  thread's id); skipped, with a message, while it answers 404;
- ``GET /api/v1/threads/{id}/posts``, as the learner (bearer token);
- the ceiling and hello world.

It prints requests per second (the median of the rounds), p50 and p99 latency (the median
of the rounds' wrk percentiles), the ratio to the minimal-template ceiling, the load
average and the workers' peak RSS. It also prints the workers' CPU time per request (from
``/proc``, over each wrk run) and the ceiling's as a share of it: on a machine that other
work keeps busy, throughput swings with the load, CPU time per request much less.

``--profile N`` instead serves N requests of each target in-process (Flask's test client,
no server) under cProfile, and prints where the time goes: by package, then the functions
with the most time of their own.
"""

import argparse
import os
import statistics
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    PASSWORD,
    ROOT,
    USER_AGENT,
    Server,
    check,
    sign_in,
    wrk_run,
)

READER = "reader@bench.test"
LEARNERS = 30
REPLIES = 20
CEILING = "ceiling (Jinja, 50 posts, no database)"
ZONE = "Europe/London"


@dataclass(frozen=True)
class PlannedPost:
    """One post of the seeded thread."""

    #: The learner who writes it (0 is the reader).
    author: int
    anonymous: bool
    #: The planned post it replies to (an index into the plan), or None.
    parent: int | None
    body: str


def post_markdown(n: int) -> str:
    """About 600 characters of the Markdown learners write: emphasis, a list, a link."""
    return (
        f"**What changed for me ({n}).** Last week a colleague told me that my summary of "
        "the options *before* the vote let the two new people join in. I had not noticed "
        "I did it; hearing it made me do it on purpose.\n\n"
        "What made the feedback land:\n\n"
        "- it named one moment, not my character;\n"
        "- it came the same day, in private;\n"
        f"- it said what it did for others (see https://example.com/notes/{n}).\n\n"
        "What I will try next: ask one specific question after each review, and write "
        "down the answer so I can look back at the end of the module. `situation -> "
        f"behaviour -> impact` helps me keep it short. Thanks to everyone in post {n % 7}.")


def thread_plan() -> list[PlannedPost]:
    """The 50 posts: 30 reflections (one per learner), then 20 replies to them."""
    plan = [PlannedPost(author=n, anonymous=n % 3 == 1, parent=None, body=post_markdown(n))
            for n in range(LEARNERS)]
    for k in range(REPLIES):
        parent = (k * 11) % LEARNERS
        author = (k * 7 + 3) % LEARNERS
        if author == parent:
            author = (author + 1) % LEARNERS
        plan.append(PlannedPost(author=author, anonymous=k % 4 == 0, parent=parent,
                                body=post_markdown(LEARNERS + k)))
    return plan


#: A few reactions: (learner, planned post, kind); the reader's own among them.
REACTIONS = [(0, 4, "insightful"), (0, 9, "thanks"), (2, 0, "insightful"),
             (5, 0, "thanks"), (7, 12, "insightful"), (11, 31, "thanks"),
             (13, 4, "insightful"), (17, 40, "insightful")]


def seed(url: str) -> dict:
    """Migrate and fill the database through the services; return the thread's id."""
    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from app import create_app
    from app.accounts.models import User
    from app.cohorts.authoring import add_module, create_program, launch_cohort
    from app.cohorts.releases import release_due_modules
    from app.cohorts.roster import add_member
    from app.db import transaction, utcnow
    from app.discussions import posting
    from app.discussions import services as discussions
    from app.discussions.models import Thread
    from app.discussions.threads import get_thread_for
    from app.migrate import upgrade

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "SCHEDULER_ENABLED": False})
    upgrade(app)
    now = utcnow()
    with app.app_context():
        with transaction() as session:
            owner = User(email="owner@bench.test", name="Owner", timezone=ZONE,
                         can_own_programs=True)
            facilitator = User(email="facilitator@bench.test", name="Facilitator",
                               timezone=ZONE)
            learners = [User(email=READER if n == 0 else f"learner{n}@bench.test",
                             name=f"Learner {n}", timezone=ZONE,
                             password_hash=generate_password_hash(PASSWORD) if n == 0
                             else None)
                        for n in range(LEARNERS)]
            session.add_all([owner, facilitator, *learners])
            session.flush()
        program = create_program(owner, title="Feedback that helps", summary="Six weeks.",
                                 goals=["Ask for feedback"], now=now)
        module = add_module(owner, program.id, title="Week 1", body="Read, then reflect.")
        discussions.add_prompt(owner, module.id, title="What feedback changed how you work?",
                               body="Think of one piece of feedback that changed how you "
                                    "work. What was said, and *why did it land*?")
        # Released three days ago at 09:00 local: replies opened a day ago (after 2 days),
        # synthesis opens in two (after 5), so the real clock is in the respond stage.
        cohort = launch_cohort(owner, program.id, name="Autumn cohort",
                               starts_on=date.today() - timedelta(days=3), timezone=ZONE,
                               anonymity="peers", now=now)
        add_member(owner, cohort.id, email=facilitator.email, role="facilitator", now=now)
        for learner in learners:
            add_member(owner, cohort.id, email=learner.email, role="learner", now=now)
        release_due_modules(now=now)
        with transaction() as session:
            thread_id = session.scalar(select(Thread.id).where(Thread.cohort_id == cohort.id))
        opens = get_thread_for(owner, thread_id, now=now).opens
        post_ids: list[int] = []
        for index, planned in enumerate(thread_plan()):
            # Each post at a moment its stage allowed: reflections in the reflect stage,
            # replies once the respond stage had opened.
            written = (opens[0] if planned.parent is None else opens[1]) + timedelta(
                hours=1, minutes=index)
            view = posting.create_post(
                learners[planned.author], thread_id, body=planned.body,
                anonymous=planned.anonymous,
                parent_id=None if planned.parent is None else post_ids[planned.parent],
                now=written)
            post_ids.append(view.id)
        for n, (learner, planned, kind) in enumerate(REACTIONS):
            posting.react(learners[learner], post_ids[planned], kind, on=True,
                          now=opens[1] + timedelta(hours=3, minutes=n))
        access = get_thread_for(learners[0], thread_id, now=utcnow())
        assert access.stage_name == "respond" and access.can_see_posts, access.stage_name
        return {"thread": thread_id, "posts": len(post_ids)}


def _targets(app_base: str, ceiling_base: str, ids: dict, page_path: str, cookie: str,
             bearer: str) -> dict[str, tuple[str, str | None]]:
    """The measured targets: name → (URL, header); the page only if it is there."""
    targets = {}
    page = app_base + page_path.format(thread=ids["thread"])
    header = f"Cookie: {cookie}"
    request = urllib.request.Request(page, headers={"User-Agent": USER_AGENT,
                                                    "Cookie": cookie})
    try:
        body = urllib.request.urlopen(request).read().decode()
    except urllib.error.HTTPError as error:
        if error.code != 404:
            raise
        print(f"\nthread page skipped: GET {page_path.format(thread=ids['thread'])} answered "
              "404 (the web thread page is not on this branch yet; --page-path names "
              "another address)\n")
    else:
        if "What changed for me (49)" not in body:
            raise SystemExit(f"{page}: the page does not show the thread's posts")
        targets["thread page (learner, cookie)"] = (page, header)
    targets["posts API (bearer)"] = (
        f"{app_base}/api/v1/threads/{ids['thread']}/posts", f"Authorization: Bearer {bearer}")
    targets[CEILING] = (ceiling_base + "/", None)
    targets["hello world"] = (ceiling_base + "/hello", None)
    return targets


def _check_api(url: str, header: str, expected: int) -> None:
    """The API answers with every post (top-level ones and their replies)."""
    import json

    name, value = header.split(": ", 1)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, name: value})
    items = json.loads(urllib.request.urlopen(request).read())["items"]
    got = len(items) + sum(len(item["replies"]) for item in items)
    if got != expected:
        raise SystemExit(f"{url}: {got} posts, expected {expected}")


def main() -> None:
    """Seed, serve, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--page-path", default="/threads/{thread}",
                        help="the thread page's address ({thread}: the thread's id)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="profile N in-process requests of each target instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        ids = seed(url)
        if args.profile:
            profile(url, ids, args.page_path, args.profile)
            return
        env = {"DATABASE_URL": url, "SECRET_KEY": "bench", "SCHEDULER_ENABLED": "0",
               "APP_ENV": "development", "LOGIN_RATE_LIMIT": "1000 per minute"}
        app = Server("wsgi:app", env, args.workers, ROOT)
        ceiling = Server("thread_ceiling:app", {}, args.workers, ROOT / "bench")
        try:
            cookie, bearer = sign_in(app.base, READER)
            targets = _targets(app.base, ceiling.base, ids, args.page_path, cookie, bearer)
            _check_api(*targets["posts API (bearer)"], ids["posts"])
            sizes = {name: check(target, header) for name, (target, header) in targets.items()}
            for target, header in targets.values():  # warm up: imports, caches, templates
                wrk_run(target, header, 2, args.connections)
            runs = {name: [] for name in targets}
            cpu = {name: [] for name in targets}
            loads = [os.getloadavg()[0]]
            for _ in range(args.rounds):
                for name, (target, header) in targets.items():
                    server = app if target.startswith(app.base) else ceiling
                    before = server.cpu_seconds()
                    run = wrk_run(target, header, args.duration, args.connections, sizes[name])
                    cpu[name].append((server.cpu_seconds() - before) * 1000 / run.requests)
                    runs[name].append(run)
                loads.append(os.getloadavg()[0])
            rss = {"app": app.peak_rss_mb(), "ceiling": ceiling.peak_rss_mb()}
        finally:
            app.stop()
            ceiling.stop()
    top = statistics.median(run.requests_per_s for run in runs[CEILING])
    top_cpu = statistics.median(cpu[CEILING])
    print(f"\n{args.rounds} rounds × {args.duration} s, {args.connections} connections, "
          f"gunicorn -w {args.workers} (sync), SQLite; load average during the run "
          f"{min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} cores\n")
    print("| target | bytes | req/s (median) | runs | p50 ms | p99 ms | ratio to ceiling "
          "| CPU ms/request | ceiling's CPU ÷ this |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, measured in runs.items():
        rate = statistics.median(run.requests_per_s for run in measured)
        each = ", ".join(f"{run.requests_per_s:.0f}" for run in measured)
        p50 = statistics.median(run.p50_ms for run in measured)
        p99 = statistics.median(run.p99_ms for run in measured)
        per_request = statistics.median(cpu[name])
        print(f"| {name} | {sizes[name]:,} | {rate:,.0f} | {each} | {p50:.1f} | {p99:.1f} "
              f"| {rate / top:.2f} | {per_request:.2f} | {top_cpu / per_request:.2f} |")
    print(f"\npeak RSS per worker after the run: app {rss['app']:.0f} MB, "
          f"ceiling {rss['ceiling']:.0f} MB")


def profile(url: str, ids: dict, page_path: str, requests: int) -> None:
    """Serve ``requests`` requests of each target in-process under cProfile; print where
    the time goes, by package and by function."""
    import cProfile
    import pstats
    import re
    import time

    from app import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "SCHEDULER_ENABLED": False,
                      "LOGIN_RATE_LIMIT": "1000 per minute"})
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    form = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    client.post("/login", data={"csrf_token": csrf, "email": READER, "password": PASSWORD})
    token = client.post("/api/v1/tokens", json={"email": READER, "password": PASSWORD,
                                                "name": "bench"}).get_json()["token"]
    targets = {"posts API": (f"/api/v1/threads/{ids['thread']}/posts",
                             {"Authorization": f"Bearer {token}"})}
    page = page_path.format(thread=ids["thread"])
    if client.get(page).status_code == 404:
        print(f"thread page skipped: GET {page} answered 404")
    else:
        targets = {"thread page": (page, {}), **targets}
    for name, (path, headers) in targets.items():
        for _ in range(20):  # warm up
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.status_code)
        started = time.perf_counter()
        for _ in range(requests):
            client.get(path, headers=headers).close()
        plain = time.perf_counter() - started
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for _ in range(requests):
            client.get(path, headers=headers).close()
        profiler.disable()
        elapsed = time.perf_counter() - started
        stats = pstats.Stats(profiler)
        print(f"\n## {name}: {requests} requests in-process, {plain * 1000 / requests:.2f} ms "
              f"each ({elapsed * 1000 / requests:.2f} ms under the profiler)\n")
        print("time of their own, by package:")
        for package, seconds in _by_package(stats):
            print(f"  {package:<34} {seconds * 1000 / requests:6.2f} ms/request "
                  f"{seconds / stats.total_tt:6.1%}")
        print("\nfunctions with the most time of their own:")
        stats.sort_stats("tottime").print_stats(15)
        print("cumulative, our code only:")
        stats.sort_stats("cumulative").print_stats(r"/app/", 15)


def _by_package(stats) -> list[tuple[str, float]]:
    """Own time summed by where each function lives: our feature packages, installed
    packages by name, the standard library by module, built-ins by kind."""
    totals: dict[str, float] = {}
    app_dir = str(ROOT / "app") + os.sep
    for (filename, _line, function), (_cc, _nc, own, _cum, _callers) in stats.stats.items():
        parts = Path(filename).parts
        if filename.startswith(app_dir):
            package = "app." + filename[len(app_dir):].split(os.sep)[0].removesuffix(".py")
        elif filename == "~":
            package = "built-in: " + ("sqlite3" if "sqlite3" in function else "other")
        elif "site-packages" in parts:
            package = parts[parts.index("site-packages") + 1].removesuffix(".py")
        elif filename.startswith("<"):
            package = "generated (dataclass __init__ …)"
        else:
            package = "stdlib: " + Path(filename).stem
        totals[package] = totals.get(package, 0.0) + own
    return sorted(totals.items(), key=lambda item: -item[1])[:16]


if __name__ == "__main__":
    main()
