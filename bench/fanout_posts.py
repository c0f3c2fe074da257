"""Benchmark: a new post reaching N viewers of one thread, beside a bare Flask-SocketIO broadcast.

    .venv/bin/python bench/fanout_posts.py [--sizes 500 1000] [--rounds 5] [--app-dir DIR]

The clients, the bare server and the way both servers alternate are ``bench/fanout.py``'s.
For each size, both servers run side by side, each with its own N clients:

- *bare*: one HTTP request makes a Flask-SocketIO server (threading mode, nothing else)
  emit one event, padded to the size of the app's post event, to the N sockets of a room;
- *app*: the real server (``python wsgi.py``, scheduler off) on a SQLite file seeded with
  one cohort (anonymity "peers") whose module was released three days ago, so its thread
  is in the respond stage. The N viewers join ``thread:ID`` with their API token and are
  put in its audiences: 1 facilitator (``thread:ID:staff``), 80 % learners who have posted
  their reflection (``readers``) and the rest learners who have not (``waiting``). Each
  round, a learner who is not watching posts their reflection (``POST
  /api/v1/threads/ID/posts``, about 600 characters of Markdown), anonymously every other
  round.

Latency runs from sending the trigger request to each client reading its event:
``post_created`` for staff and readers, ``thread_activity`` (the count of peers who have
posted) for the waiting learners. After each round every client's event is checked: staff
see the author's name on named and anonymous posts alike, readers see it only on named
posts (a pseudonym otherwise, and no user id), and no waiting learner receives a post.
It exits non-zero if any client missed its event, got another audience's event or a
wrong presentation.
"""

import argparse
import asyncio
import json
import os
import resource
import secrets
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench.fanout as fanout  # noqa: E402
from bench.fanout import Side, measure, percentile, rss_mb, start_server  # noqa: E402
from bench.thread_page import post_markdown  # noqa: E402

#: The share of viewers who have posted their reflection (the rest are waiting); one more
#: viewer is the cohort's facilitator.
READERS_SHARE = 0.8
AUDIENCES = ("staff", "readers", "waiting")
#: Each audience's event.
EVENT = {"staff": "post_created", "readers": "post_created", "waiting": "thread_activity"}
#: After every client has its event, how long to wait for events that should not come.
GRACE = 0.3


def seed(database_url: str, viewers: int, rounds: int) -> dict:
    """A cohort and its thread in the respond stage; tokens for the viewers and posters."""
    from sqlalchemy import insert

    from app import create_app
    from app.accounts.models import ApiToken, User
    from app.accounts.services import hash_secret
    from app.accounts.tokens import TOKEN_PREFIX
    from app.cohorts.models import Cohort, CohortModule, Membership, Program
    from app.db import Model, get_database
    from app.discussions.models import Post, Thread, ThreadParticipant
    from app.models import import_all_models

    import_all_models()
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench", "TESTING": True,
                      "LOG_LEVEL": "WARNING"})
    engine = get_database(app).engine
    Model.metadata.create_all(engine)
    now = datetime.now(UTC)
    released = now - timedelta(days=3)
    readers = round((viewers - 1) * READERS_SHARE)
    waiting = viewers - 1 - readers
    posters = rounds + 1  # one for the warm-up
    # Users: 1 the owner, 2 the facilitator, then readers, waiting learners, posters.
    audience = ["staff"] + ["readers"] * readers + ["waiting"] * waiting
    people = 1 + viewers + posters
    tokens = [TOKEN_PREFIX + secrets.token_urlsafe(32) for _ in range(people)]
    learner_ids = range(3, people + 1)
    with engine.begin() as connection:
        connection.execute(insert(User), [
            {"email": f"u{n}@bench.test", "name": f"Person {n}", "timezone": "UTC",
             "is_admin": False, "can_own_programs": n == 1, "is_disabled": False,
             "created_at": now} for n in range(1, people + 1)])
        connection.execute(insert(ApiToken), [
            {"user_id": n + 1, "name": "bench", "token_hash": hash_secret(token),
             "prefix": token[:10], "created_at": now, "last_used_at": now}
            for n, token in enumerate(tokens)])
        connection.execute(insert(Program), [{"owner_id": 1, "title": "Bench", "summary": "",
                                              "created_at": now, "updated_at": now}])
        connection.execute(insert(Cohort), [{"program_id": 1, "name": "Bench cohort",
                                             "starts_on": released.date(), "timezone": "UTC",
                                             "anonymity": "peers", "launched_at": now}])
        connection.execute(insert(Membership), [
            {"cohort_id": 1, "user_id": 2, "role": "facilitator", "joined_at": now},
            *({"cohort_id": 1, "user_id": n, "role": "learner", "joined_at": now}
              for n in learner_ids)])
        connection.execute(insert(CohortModule), [
            {"cohort_id": 1, "position": 0, "title": "Week 1", "body": "",
             "release_offset_days": 0, "release_time": clock_time(released.hour),
             "release_at": released, "released_at": released}])
        connection.execute(insert(Thread), [
            {"cohort_id": 1, "cohort_module_id": 1, "position": 0,
             "title": "What feedback changed how you work?", "body": "Why did it land?",
             "body_html": "<p>Why did it land?</p>", "created_at": now,
             "reflection_count": readers}])
        reader_ids = range(3, 3 + readers)
        connection.execute(insert(ThreadParticipant), [
            {"thread_id": 1, "user_id": n, "posted_at": released + timedelta(hours=1),
             "replies_given": 0, "last_seen_post_id": 0} for n in reader_ids])
        connection.execute(insert(Post), [
            {"thread_id": 1, "cohort_id": 1, "author_id": n, "kind": "reflection",
             "body": f"Reflection {n}", "body_html": f"<p>Reflection {n}</p>",
             "created_at": released + timedelta(hours=1)} for n in reader_ids])
    engine.dispose()
    return {"thread_id": 1, "tokens": tokens[1:1 + viewers], "audience": audience,
            "posters": [{"token": tokens[1 + viewers + k], "id": 2 + viewers + k,
                         "name": f"Person {2 + viewers + k}"} for k in range(posters)]}


def post_json(url: str, token: str, data: dict) -> tuple[int, dict]:
    """POST a JSON body with a bearer token; the status and the answer."""
    request = urllib.request.Request(url, data=json.dumps(data).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=fanout.TIMEOUT) as response:
        return response.status, json.loads(response.read())


class PostSide(Side):
    """The app: N viewers of a thread in three audiences; each round, a new post."""

    def __init__(self, port: int, pid: int, plan: dict):
        """The app on ``port`` (process ``pid``) with the viewers of ``plan``."""
        super().__init__("app", port, pid, len(plan["tokens"]), plan)
        self.room = f"thread:{plan['thread_id']}"
        self.audience = plan["audience"]
        self.latencies = {audience: [] for audience in AUDIENCES}
        self.missed = {audience: 0 for audience in AUDIENCES}
        self.wrong: list[str] = []
        self.payload_size = 0
        self.posted: dict[int, dict] = {}

    def trigger(self, number: int) -> int:
        """A learner who is not watching posts their reflection (anonymously every other
        round); the HTTP status."""
        poster = self.plan["posters"][number + 1]
        anonymous = number % 2 == 0
        status, view = post_json(
            f"http://127.0.0.1:{self.port}/api/v1/threads/{self.plan['thread_id']}/posts",
            poster["token"], {"body": post_markdown(100 + number), "anonymous": anonymous})
        self.posted[number] = {**poster, "anonymous": anonymous, "view": view}
        # The author's own view has the shape (and about the size) of the audiences' events.
        self.payload_size = len(json.dumps({"thread_id": 1, "post": view}))
        return status

    async def round(self, number: int) -> None:
        """One post, waiting until every viewer has its audience's event."""
        loop = asyncio.get_running_loop()
        for client in self.clients:
            client.arrivals.clear()
            client.payloads.clear()
        started = time.monotonic()
        status = await loop.run_in_executor(None, self.trigger, number)
        assert status == 201, status
        expected = [EVENT[audience] for audience in self.audience]
        deadline = time.monotonic() + fanout.TIMEOUT
        while time.monotonic() < deadline and not all(
                event in client.arrivals for client, event in zip(self.clients, expected,
                                                                   strict=True)):
            await asyncio.sleep(0.01)
        await asyncio.sleep(GRACE)
        this_round = []
        for client, audience in zip(self.clients, self.audience, strict=True):
            event = EVENT[audience]
            if event not in client.arrivals:
                self.missed[audience] += 1
                continue
            latency = client.arrivals[event] - started
            self.latencies[audience].append(latency)
            this_round.append(latency)
            if problem := self.check(audience, client, number):
                self.wrong.append(f"round {number}, {audience}: {problem}")
        self.rounds.append(percentile(this_round, 95))

    def check(self, audience: str, client, number: int) -> str | None:
        """What is wrong with the events one viewer received, if anything."""
        posted = self.posted[number]
        others = set(client.arrivals) - {EVENT[audience]}
        if others:
            return f"also received {sorted(others)}"
        data = client.payloads[EVENT[audience]]
        if audience == "waiting":
            return None if set(data) == {"thread_id", "peers_posted"} else f"got {data}"
        post = data["post"]
        if post["id"] != posted["view"]["id"]:
            return f"post {post['id']}, expected {posted['view']['id']}"
        author = post["author"]
        if audience == "staff":
            if author["name"] != posted["name"] or author["user_id"] != posted["id"]:
                return f"staff shown {author}"
            if post["flag_count"] != 0:
                return "staff not shown the flag count"
        elif posted["anonymous"]:
            if author["name"] is not None or author["user_id"] is not None \
                    or not author["label"].startswith("Anonymous "):
                return f"a reader shown the anonymous author {author}"
        elif author["name"] != posted["name"]:
            return f"a reader shown {author} for a named post"
        if audience == "readers" and post["flag_count"] is not None:
            return "a reader shown the flag count"
        return None


class BareSide(Side):
    """The bare server, its event padded to the size of the app's post event."""

    def __init__(self, port: int, pid: int, n: int, app: PostSide):
        """The bare server on ``port`` with n clients; ``app`` tells the event's size."""
        super().__init__("bare", port, pid, n, None)
        self.app = app

    def trigger(self, number: int) -> int:
        """Broadcast one event as large as the app's last post event."""
        self.pad = max(0, self.app.payload_size - 60)
        return super().trigger(number)


def run_size(n: int, rounds: int, tmp: str) -> dict:
    """Both servers at one size, side by side; what they measured."""
    database_url = f"sqlite:///{tmp}/fanout-posts-{n}.db"
    plan = seed(database_url, n, rounds)
    servers = {}
    try:
        for kind in ("app", "bare"):
            port = fanout.free_port()
            servers[kind] = (start_server(kind, port, database_url), port)
        time.sleep(1.0)
        idle = {kind: rss_mb(server.pid) for kind, (server, _) in servers.items()}
        app = PostSide(servers["app"][1], servers["app"][0].pid, plan)
        bare = BareSide(servers["bare"][1], servers["bare"][0].pid, n, app)
        # As in fanout.py, the bare server first; its warm-up goes out unpadded, and from
        # the app's warm-up post on its event is as large as the app's.
        asyncio.run(measure([bare, app], rounds))
        connected = {kind: rss_mb(server.pid) for kind, (server, _) in servers.items()}
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait(10)
    return {"n": n, "app": app, "bare": bare, "idle": idle, "connected": connected,
            "split": {a: plan["audience"].count(a) for a in AUDIENCES}}


def _row(n, server, what, values, missed, side, idle, connected, rounds="") -> str:
    """One line of the table."""
    p50 = statistics.median(values) if values else float("nan")
    return (f"| {n} | {server} | {what} | {len(values)} | {p50:.3f} "
            f"| {percentile(values, 95):.3f} | {max(values, default=float('nan')):.3f} "
            f"| {missed} | {side.connect_ms:.2f} | {side.join_ms:.2f} | {idle:.0f} "
            f"| {connected:.0f} | {rounds} |")


def main() -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--app-dir", type=Path, default=fanout.ROOT,
                        help="serve the app from this checkout (e.g. an export of main)")
    args = parser.parse_args()
    fanout.APP_DIR = args.app_dir.resolve()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 4 * max(args.sizes) + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    print(f"load average before: {os.getloadavg()}; open files limit {wanted}")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            results.append(run_size(n, args.rounds, tmp))
    print(f"load average after: {os.getloadavg()}\n")
    print("| viewers | server | event (audience) | samples | p50 s | p95 s | max s | missed "
          "| connect CPU ms | join CPU ms | idle RSS MB | RSS connected MB | p95 per round s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    failed = False
    for result in results:
        n, app, bare = result["n"], result["app"], result["bare"]
        idle, connected = result["idle"], result["connected"]
        per_round = " ".join(f"{v:.3f}" for v in bare.rounds)
        print(_row(n, "bare", f"one event to all ({bare.pad + 60:,} bytes)",
                   bare.latencies["module_released"], bare.missed["module_released"], bare,
                   idle["bare"], connected["bare"], per_round))
        for audience in AUDIENCES:
            print(_row(n, "app", f"{EVENT[audience]} ({audience}: "
                                 f"{result['split'][audience]})",
                       app.latencies[audience], app.missed[audience], app, idle["app"],
                       connected["app"]))
        everyone = [v for audience in AUDIENCES for v in app.latencies[audience]]
        print(_row(n, "app", "all audiences", everyone, sum(app.missed.values()), app,
                   idle["app"], connected["app"], " ".join(f"{v:.3f}" for v in app.rounds)))
        bare_values = bare.latencies["module_released"]
        typical = statistics.median(app.rounds) / statistics.median(bare.rounds)
        p50 = statistics.median(everyone) / statistics.median(bare_values)
        p95 = percentile(everyone, 95) / percentile(bare_values, 95)
        result["summary"] = (
            f"{n} viewers: post p50 {p50:.2f}× and p95 {p95:.2f}× the bare broadcast "
            f"(median round's p95: {typical:.2f}×); missed "
            f"{sum(app.missed.values())} (bare {bare.missed['module_released']}); refused "
            f"joins {app.refused}; wrong presentations {len(app.wrong)}")
        failed |= bool(sum(app.missed.values()) or bare.missed["module_released"]
                       or app.refused or bare.refused or app.wrong)
    print()
    for result in results:
        print(result["summary"])
        for problem in result["app"].wrong[:10]:
            print("  ", problem)
    if failed:
        sys.exit("FAILED: some clients missed an event, were refused or were shown the "
                 "wrong presentation")


if __name__ == "__main__":
    main()
