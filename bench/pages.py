"""Benchmark: what the main pages cost, beside the ceiling of a page on this machine.

    .venv/bin/python bench/pages.py [--rounds 3] [--duration 5] [--connections 4]
                                    [--workers 2] [--database URL] [--no-rss]
                                    [--compare CHECKOUT]

Needs ``wrk`` (Debian: ``apt-get install -y wrk``) and gunicorn (pinned in the lock file).

It seeds a database (a new SQLite file unless ``--database`` names a PostgreSQL one, whose
schema ``bench_pages`` is dropped and re-made): a program of six modules, the released
third one holding 50 KB of Markdown plus a discussion prompt and a practice assignment, a
cohort launched two weeks ago and a learner in it. Then it serves the app with gunicorn
(``-w 2``, sync workers, ``SCHEDULER_ENABLED=0``) and, with the same settings, the ceiling
app (``bench/pages_ceiling.py``: Flask + Jinja rendering 50 posts from memory, and a bare
hello world), and runs wrk against every page in turn, round after round (A, B, C, A, B,
C …), so that changes in the machine's load fall on all of them alike. Pages are fetched
as the signed-in learner (a session cookie; a bearer token for the API).

It prints requests per second per page (the median of the rounds), the ratio to the Jinja
ceiling, the load average, and — unless ``--no-rss`` — each page's peak RSS per worker:
a fresh server per page, the page requested for a few seconds, then the workers' VmHWM.

``--compare CHECKOUT`` serves a second checkout beside (``git worktree add /tmp/before
<commit>``; it needs this script, so any commit from the one that added it), seeded by its
own code into a database of its own, in the same interleaved run: before and after under
the same load.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PASSWORD, ROOT, Server, check, sign_in, wrk  # noqa: E402

LEARNER = "learner@bench.test"


def fifty_kb_of_markdown() -> str:
    """About 50,000 characters of the Markdown authors write: headings, lists, links, tables."""
    sections = []
    n = 0
    while sum(map(len, sections)) < 50_000:
        n += 1
        sections.append(
            f"## Part {n}: giving feedback that helps\n\n"
            f"Feedback is how we find out what our work does to other people. In part {n} we "
            "look at **what makes feedback land** and what makes it *sting*, with examples "
            "from teams like yours. See https://example.com/feedback/" + str(n) + " and "
            "[the research notes](https://example.org/notes) for more.\n\n"
            "- feedback about *behaviour* can be used; feedback about *character* only hurts;\n"
            "- specific beats general: \"the second slide lost me\" beats \"it was confusing\";\n"
            "- timing matters: soon after the moment, in private, when the other can listen.\n\n"
            "> In Tuesday's planning meeting you summarised each option before we voted, so "
            "the new people could follow and join in.\n\n"
            "| situation | behaviour | impact |\n|---|---|---|\n"
            "| planning | summarised options | newcomers joined in |\n"
            "| review | asked one question | the author relaxed |\n\n"
            "```\nsituation -> behaviour -> impact\n```\n\n"
            "1. Pick one thing you did this week that others saw.\n"
            "2. Write the question you would ask about it.\n"
            "3. Ask it, and notice how it feels.\n\n")
    return "".join(sections)


def seed(url: str) -> dict:
    """Migrate and fill the database; return the ids the page addresses need."""
    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from app import create_app
    from app.accounts.models import User
    from app.cohorts.authoring import add_module, create_program, launch_cohort
    from app.cohorts.models import CohortModule
    from app.cohorts.releases import release_due_modules
    from app.cohorts.roster import add_member
    from app.db import get_session, transaction, utcnow
    from app.discussions import services as discussions
    from app.migrate import upgrade
    from app.peer_review import services as peer_review

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "SCHEDULER_ENABLED": False})
    upgrade(app)
    now = utcnow()
    with app.app_context():
        with transaction() as session:
            owner = User(email="owner@bench.test", name="Owner", timezone="Europe/London",
                         can_own_programs=True,
                         password_hash=generate_password_hash(PASSWORD))
            learner = User(email=LEARNER, name="Learner", timezone="Europe/London",
                           password_hash=generate_password_hash(PASSWORD))
            session.add_all([owner, learner])
            session.flush()
            program = create_program(owner, title="Feedback that helps", summary="Six weeks.",
                                     goals=["Ask for feedback", "Give kind feedback"], now=now)
            small = ("Feedback is how we find out what our work does to other people. "
                     "Read the notes, then **share one piece of feedback** that changed how "
                     "you work.\n\n- behaviour, not character\n- specific beats general\n")
            for position in range(6):
                body = fifty_kb_of_markdown() if position == 2 else small * 8
                module = add_module(owner, program.id, title=f"Week {position + 1}", body=body,
                                    release_offset_days=7 * position)
                discussions.add_prompt(
                    owner, module.id, title=f"Reflect on week {position + 1}",
                    body="Think of one piece of feedback that changed how you work. What was "
                         "said, by whom, and *why did it land*? https://example.com/why")
                peer_review.add_assignment(
                    owner, module.id, title=f"Practice {position + 1}",
                    instructions="Write the message you will send to a colleague to ask for "
                                 "feedback on **one specific piece** of your recent work.",
                    rubric=[{"title": "Specific", "description": "One piece, one question.",
                             "levels": [{"label": "Vague", "points": 0},
                                        {"label": "Specific", "points": 2}]}],
                    reviews_required=2)
            cohort = launch_cohort(owner, program.id, name="Autumn cohort",
                                   starts_on=(now - timedelta(days=15)).date(),
                                   timezone="Europe/London", anonymity="peers", now=now)
            add_member(owner, cohort.id, email=LEARNER, role="learner", now=now)
        release_due_modules(now=now)
        big = get_session().scalar(select(CohortModule.id).where(
            CohortModule.cohort_id == cohort.id, CohortModule.position == 2))
        small_module = get_session().scalar(select(CohortModule.id).where(
            CohortModule.cohort_id == cohort.id, CohortModule.position == 0))
        return {"cohort": cohort.id, "big": big, "small": small_module}


def _pages(ids: dict) -> dict[str, tuple[str, str]]:
    """The measured pages: name → (path, how the learner signs the request)."""
    return {
        "home": ("/", "cookie"),
        "cohort": (f"/cohorts/{ids['cohort']}", "cookie"),
        "module (small)": (f"/cohorts/{ids['cohort']}/modules/{ids['small']}", "cookie"),
        "module (50 KB)": (f"/cohorts/{ids['cohort']}/modules/{ids['big']}", "cookie"),
        "modules API": (f"/api/v1/cohorts/{ids['cohort']}/modules", "bearer"),
    }


def _seed_elsewhere(checkout: Path, url: str) -> dict:
    """Seed a database with another checkout's code (its own migrations and models)."""
    script = ("import json, sys; sys.path[:0] = [sys.argv[1], sys.argv[1] + '/bench'];"
              "import logging; logging.disable(logging.INFO); import pages;"
              "print(json.dumps(pages.seed(sys.argv[2])))")
    out = subprocess.run([sys.executable, "-c", script, str(checkout), url], cwd=checkout,
                         capture_output=True, text=True, check=True).stdout
    return __import__("json").loads(out.strip().splitlines()[-1])


def main() -> None:
    """Seed, serve, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (default: SQLite)")
    parser.add_argument("--no-rss", action="store_true", help="skip the peak-RSS pass")
    parser.add_argument("--compare", type=Path, default=None, metavar="CHECKOUT",
                        help="also serve another checkout of the app (e.g. a git worktree of "
                             "the code before a change), with a database of its own, in the "
                             "same interleaved run: its pages are the rows marked 'before'")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/bench.db"
        if args.database:
            url = _fresh_schema(url)
        ids = seed(url)
        env = {"DATABASE_URL": url, "SECRET_KEY": "bench", "SCHEDULER_ENABLED": "0",
               "APP_ENV": "development", "LOGIN_RATE_LIMIT": "1000 per minute"}
        pages = _pages(ids)
        servers = [Server("wsgi:app", env, args.workers, ROOT)]
        apps = [(servers[0], pages, "", env, ROOT)]
        if args.compare:
            before_env = {**env, "DATABASE_URL": f"sqlite:///{tmp}/before.db"}
            before_ids = _seed_elsewhere(args.compare.resolve(), before_env["DATABASE_URL"])
            before = Server("wsgi:app", before_env, args.workers, args.compare.resolve())
            servers.append(before)
            apps.append((before, _pages(before_ids), "before: ", before_env,
                         args.compare.resolve()))
        ceiling = Server("pages_ceiling:app", {}, args.workers, ROOT / "bench")
        servers.append(ceiling)
        try:
            targets = {}
            signed = []
            for server, its_pages, label, its_env, checkout in apps:
                cookie, bearer = sign_in(server.base, LEARNER)
                kinds = {"cookie": f"Cookie: {cookie}", "bearer": f"Authorization: Bearer {bearer}"}
                signed.append((label, its_pages, its_env, checkout, kinds))
                targets.update({label + name: (server.base + path, kinds[kind])
                                for name, (path, kind) in its_pages.items()})
            targets["ceiling (Jinja, 50 posts)"] = (ceiling.base + "/", None)
            targets["hello world"] = (ceiling.base + "/hello", None)
            sizes = {name: check(target, header)
                     for name, (target, header) in targets.items()}
            for target, header in targets.values():  # warm up: imports, caches, templates
                wrk(target, header, 2, args.connections)
            results: dict[str, list[float]] = {name: [] for name in targets}
            loads = [os.getloadavg()[0]]
            for _ in range(args.rounds):
                for name, (target, header) in targets.items():
                    results[name].append(wrk(target, header, args.duration, args.connections,
                                             sizes[name]))
                loads.append(os.getloadavg()[0])
        finally:
            for server in servers:
                server.stop()
        rss = {} if args.no_rss else _peak_rss(signed, sizes, args)
        top = statistics.median(results["ceiling (Jinja, 50 posts)"])
        print(f"\n{args.rounds} rounds × {args.duration} s, {args.connections} connections, "
              f"gunicorn -w {args.workers} (sync); load average during the run "
              f"{min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} cores\n")
        print("| page | bytes | req/s (median) | runs | ratio to ceiling | peak RSS/worker |")
        print("|---|---|---|---|---|---|")
        for name, values in results.items():
            median = statistics.median(values)
            runs = ", ".join(f"{v:.0f}" for v in values)
            peak = f"{rss[name]:.0f} MB" if name in rss else ""
            print(f"| {name} | {sizes[name]:,} | {median:.0f} | {runs} | "
                  f"{median / top:.2f} | {peak} |")


def _peak_rss(signed: list, sizes: dict, args) -> dict[str, float]:
    """Each page's peak RSS per worker: a fresh server, the page for 3 s, the workers' VmHWM.

    The sign-in happened on the first servers (the cookie and token stay valid: same
    database and key), so checking a password is not part of any page's figure.
    """
    rss = {}
    ceiling = Server("pages_ceiling:app", {}, args.workers, ROOT / "bench")
    try:
        rss["idle (ceiling app)"] = ceiling.peak_rss_mb()
        wrk(ceiling.base + "/", None, 3, args.connections, sizes["ceiling (Jinja, 50 posts)"])
        rss["ceiling (Jinja, 50 posts)"] = ceiling.peak_rss_mb()
    finally:
        ceiling.stop()
    for label, pages, env, checkout, headers in signed:
        for name, (path, kind) in pages.items():
            server = Server("wsgi:app", env, args.workers, checkout)
            try:
                rss.setdefault(f"idle ({label.rstrip(': ') or 'app'})", server.peak_rss_mb())
                wrk(server.base + path, headers[kind], 3, args.connections, sizes[label + name])
                rss[label + name] = server.peak_rss_mb()
            finally:
                server.stop()
    for name in sorted(n for n in rss if n.startswith("idle")):
        print(f"{name}: peak RSS per worker {rss[name]:.0f} MB")
    return rss


def _fresh_schema(url: str) -> str:
    """A PostgreSQL URL whose search path is a new, empty schema ``bench_pages``."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS bench_pages CASCADE"))
        connection.execute(text("CREATE SCHEMA bench_pages"))
    engine.dispose()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3Dbench_pages"


if __name__ == "__main__":
    main()
