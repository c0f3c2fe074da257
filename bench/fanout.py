"""Benchmark: a release reaching N connected learners, beside a bare Flask-SocketIO broadcast.

    .venv/bin/python bench/fanout.py [--sizes 500 1000] [--rounds 3] [--app-dir DIR]

For each size, both servers run side by side, each with its own N clients, and their
broadcasts alternate round by round (so a busy machine weighs on both alike):

- *bare*: a Flask-SocketIO server with nothing else (threading mode, like ``python wsgi.py``)
  accepts N sockets that join one room, and one HTTP request broadcasts one event to it;
- *app*: the real server (``python wsgi.py``, scheduler off, a SQLite file seeded with a
  cohort of N learners, each with an API token) accepts N sockets that authenticate with
  their token and join ``cohort:ID``; the owner's "release now" (``POST
  /api/v1/cohorts/ID/releases/MODULE``) releases a module.

Latency is measured from the moment the trigger request is sent to the moment each client
has read the event (``module_released``; for the app also ``notification``), on one
machine-wide monotonic clock. The clients are one asyncio process speaking Engine.IO 4 /
Socket.IO 5 over raw WebSockets (wsproto), so the client side costs little next to the
servers. Also reported: the servers' idle RSS, and their CPU time per socket connect and
per room join (from /proc). Each size gets a fresh pair of servers.
"""

import argparse
import asyncio
import contextlib
import json
import os
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: Where ``wsgi.py`` is run from (``--app-dir`` compares another version of the app).
APP_DIR = ROOT
CONNECT_CONCURRENCY = 50
TIMEOUT = 60.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- the bare server -------------------------------------------------------------------------

def serve_bare(port: int) -> None:
    """A bare Flask-SocketIO server: sockets join a room, ``POST /broadcast`` emits to it."""
    from flask import Flask, request
    from flask_socketio import SocketIO, join_room

    app = Flask(__name__)
    app.config["SECRET_KEY"] = "bench"  # noqa: S105 (a local benchmark)
    socketio = SocketIO(app, async_mode="threading", logger=False, engineio_logger=False)

    @socketio.on("join")
    def join(data):
        join_room(data["room"])
        return {"ok": True, "room": data["room"]}

    @app.post("/broadcast")
    def broadcast():
        payload = {"cohort_id": 1, "module_id": 1, "title": "Week 2"}
        if request.args.get("pad"):  # as large as the app's event (bench/fanout_posts.py)
            payload["padding"] = "x" * int(request.args["pad"])
        socketio.emit("module_released", payload, to=request.args["room"])
        return "", 204

    @app.get("/")
    def index():
        return "ok"

    socketio.run(app, host="127.0.0.1", port=port, allow_unsafe_werkzeug=True,
                 use_reloader=False, log_output=False)


# --- the app's database ----------------------------------------------------------------------

def seed(database_url: str, learners: int, rounds: int) -> dict:
    """A cohort of ``learners`` with ``rounds`` unreleased modules; tokens for everyone."""
    from sqlalchemy import insert

    from app import create_app
    from app.accounts.models import ApiToken, User
    from app.accounts.services import hash_secret
    from app.accounts.tokens import TOKEN_PREFIX
    from app.cohorts.models import Cohort, CohortModule, Membership, Program
    from app.db import Model, get_database
    from app.models import import_all_models

    import_all_models()
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench", "TESTING": True,
                      "LOG_LEVEL": "WARNING"})
    engine = get_database(app).engine
    Model.metadata.create_all(engine)
    now = datetime.now(UTC)
    tokens = [TOKEN_PREFIX + secrets.token_urlsafe(32) for _ in range(learners + 1)]
    with engine.begin() as connection:
        connection.execute(insert(User), [
            {"email": f"u{n}@bench.test", "name": f"U{n}", "timezone": "UTC",
             "is_admin": False, "can_own_programs": n == 0, "is_disabled": False,
             "created_at": now} for n in range(learners + 1)])
        connection.execute(insert(ApiToken), [
            {"user_id": n + 1, "name": "bench", "token_hash": hash_secret(token),
             "prefix": token[:10], "created_at": now, "last_used_at": now}
            for n, token in enumerate(tokens)])
        connection.execute(insert(Program), [{"owner_id": 1, "title": "Bench", "summary": "",
                                              "created_at": now, "updated_at": now}])
        connection.execute(insert(Cohort), [{"program_id": 1, "name": "Bench cohort",
                                             "starts_on": date.today(), "timezone": "UTC",
                                             "anonymity": "off", "launched_at": now}])
        connection.execute(insert(Membership), [
            {"cohort_id": 1, "user_id": n + 2, "role": "learner", "joined_at": now}
            for n in range(learners)])
        connection.execute(insert(CohortModule), [
            {"cohort_id": 1, "position": r, "title": f"Week {r + 1}", "body": "",
             "release_offset_days": 7 * (r + 1), "release_time": clock_time(9),
             "release_at": now + timedelta(days=7 * (r + 1))} for r in range(rounds + 1)])
    engine.dispose()
    # The last module is released once before the clients connect (see ``measure``).
    return {"owner_token": tokens[0], "tokens": tokens[1:], "cohort_id": 1,
            "module_ids": list(range(1, rounds + 2))}


# --- servers ---------------------------------------------------------------------------------

def free_port() -> int:
    """A TCP port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(kind: str, port: int, database_url: str | None) -> subprocess.Popen:
    """Start the bare server or ``python wsgi.py`` and wait until it answers."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if kind == "bare":
        command = [sys.executable, str(Path(__file__).resolve()), "--bare-server", str(port)]
        probe = f"http://127.0.0.1:{port}/"
    else:
        env.update(DATABASE_URL=database_url, SCHEDULER_ENABLED="0", PORT=str(port),
                   HOST="127.0.0.1", SECRET_KEY="bench",  # noqa: S106 (a local benchmark)
                   LOG_LEVEL="WARNING",
                   BASE_URL=f"http://127.0.0.1:{port}")
        command = [sys.executable, "wsgi.py"]
        probe = f"http://127.0.0.1:{port}/login"
    process = subprocess.Popen(command, cwd=APP_DIR, env=env,  # noqa: S603 (our own scripts)
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(probe, timeout=2).read()  # noqa: S310 (http://127.0.0.1)
            return process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the {kind} server did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- the clients -----------------------------------------------------------------------------

class Client:
    """One Socket.IO client over a raw WebSocket; records when each event first arrives."""

    def __init__(self, port: int, auth: dict | None):
        """A client that will connect to 127.0.0.1:port with Socket.IO ``auth``."""
        self.port, self.auth = port, auth
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.arrivals: dict[str, float] = {}
        #: The data of each event's first arrival.
        self.payloads: dict[str, object] = {}
        self.acks: dict[int, asyncio.Future] = {}
        self.connected = asyncio.get_running_loop().create_future()
        self.next_ack = 0
        self.reader = self.writer = None
        self.buffer = ""

    async def connect(self) -> None:
        """Open the WebSocket and the Socket.IO session (raises if refused)."""
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(self.ws.send(Request(
            host=f"127.0.0.1:{self.port}", target="/socket.io/?EIO=4&transport=websocket")))
        self.task = asyncio.create_task(self.read())
        await asyncio.wait_for(self.connected, TIMEOUT)

    def send(self, text: str) -> None:
        """Send one text frame."""
        self.writer.write(self.ws.send(TextMessage(data=text)))

    async def call(self, event: str, data) -> object:
        """Emit an event with an acknowledgement and wait for the answer."""
        self.next_ack += 1
        future = asyncio.get_running_loop().create_future()
        self.acks[self.next_ack] = future
        self.send(f"42{self.next_ack}" + json.dumps([event, data]))
        return await asyncio.wait_for(future, TIMEOUT)

    async def read(self) -> None:
        """Read frames until the connection closes, answering pings."""
        while True:
            data = await self.reader.read(65536)
            if not data:
                break
            self.ws.receive_data(data)
            for event in self.ws.events():
                if isinstance(event, TextMessage):
                    self.buffer += event.data
                    if event.message_finished:
                        self.packet(self.buffer, time.monotonic())
                        self.buffer = ""
                elif isinstance(event, Ping):
                    self.writer.write(self.ws.send(event.response()))
                elif isinstance(event, AcceptConnection):
                    pass
                elif isinstance(event, RejectConnection | CloseConnection):
                    if not self.connected.done():
                        self.connected.set_exception(ConnectionError("refused"))
                    return

    def packet(self, text: str, at: float) -> None:
        """Handle one Engine.IO packet."""
        if text.startswith("0"):  # Engine.IO open: now open the Socket.IO namespace
            self.send("40" + (json.dumps(self.auth) if self.auth else ""))
        elif text == "2":
            self.send("3")
        elif text.startswith("40"):
            self.connected.set_result(True)
        elif text.startswith("44"):
            self.connected.set_exception(ConnectionError(text))
        elif text.startswith("42"):
            message = json.loads(text[2:])
            if message[0] not in self.arrivals:
                self.arrivals[message[0]] = at
                self.payloads[message[0]] = message[1] if len(message) > 1 else None
        elif text.startswith("43"):
            body = text[2:]
            split = body.index("[")
            future = self.acks.pop(int(body[:split]), None)
            if future is not None:
                future.set_result(json.loads(body[split:])[0])

    async def close(self) -> None:
        """Close the connection."""
        with contextlib.suppress(Exception):
            self.writer.close()
        self.task.cancel()


async def gather_limited(coroutines, limit: int = CONNECT_CONCURRENCY) -> list:
    """Run coroutines with at most ``limit`` at a time."""
    gate = asyncio.Semaphore(limit)

    async def run(coroutine):
        async with gate:
            return await coroutine
    return await asyncio.gather(*(run(c) for c in coroutines))


def post(url: str, token: str | None) -> int:
    """POST an empty JSON object; the status."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=b"{}", headers=headers,  # noqa: S310
                                     method="POST")
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
        return response.status


class Side:
    """One server of a run and its clients."""

    #: The room every client joins.
    room = "cohort:1"
    #: Characters of padding in the bare server's event (0: none).
    pad = 0

    def __init__(self, kind: str, port: int, pid: int, n: int, plan: dict | None):
        """The server ``kind`` on ``port`` (process ``pid``) with n clients to connect."""
        self.kind, self.port, self.pid, self.plan = kind, port, pid, plan
        self.tokens = plan["tokens"] if plan else [None] * n
        self.clients: list[Client] = []
        self.events = ["module_released"] + (["notification"] if kind == "app" else [])
        self.latencies = {event: [] for event in self.events}
        self.missed = {event: 0 for event in self.events}
        self.rounds: list[float] = []

    def trigger(self, number: int) -> int:
        """Broadcast (bare) or release a module (app); the HTTP status."""
        if self.kind == "bare":
            pad = f"&pad={self.pad}" if self.pad else ""
            return post(f"http://127.0.0.1:{self.port}/broadcast?room={self.room}{pad}", None)
        return post(f"http://127.0.0.1:{self.port}/api/v1/cohorts/1/releases/"
                    f"{self.plan['module_ids'][number]}", self.plan["owner_token"])

    async def connect(self) -> None:
        """Connect and join every client, measuring the server's CPU per socket."""
        self.clients = [Client(self.port, {"token": token} if token else None)
                        for token in self.tokens]
        n = len(self.clients)
        cpu_0 = cpu_seconds(self.pid)
        await gather_limited(c.connect() for c in self.clients)
        cpu_1 = cpu_seconds(self.pid)
        answers = await gather_limited(c.call("join", {"room": self.room})
                                       for c in self.clients)
        cpu_2 = cpu_seconds(self.pid)
        self.connect_ms, self.join_ms = (cpu_1 - cpu_0) * 1000 / n, (cpu_2 - cpu_1) * 1000 / n
        self.refused = sum(1 for a in answers if not (isinstance(a, dict) and a["ok"]))

    async def round(self, number: int) -> None:
        """One broadcast or release, waiting until every client has its events."""
        loop = asyncio.get_running_loop()
        for client in self.clients:
            client.arrivals.clear()
            client.payloads.clear()
        started = time.monotonic()
        status = await loop.run_in_executor(None, self.trigger, number)
        assert status in (200, 204), status
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and not all(
                all(e in c.arrivals for e in self.events) for c in self.clients):
            await asyncio.sleep(0.01)
        for event in self.events:
            got = [c.arrivals[event] - started for c in self.clients if event in c.arrivals]
            self.latencies[event].extend(got)
            self.missed[event] += len(self.clients) - len(got)
        got = [c.arrivals["module_released"] - started for c in self.clients
               if "module_released" in c.arrivals]
        self.rounds.append(percentile(got, 95))


async def measure(sides: list[Side], rounds: int) -> None:
    """Connect both sides' clients, then alternate their broadcasts round by round.

    Alternating puts both servers under the same background load (the machine may be busy),
    so their ratio means something even when the absolute figures drift.
    """
    loop = asyncio.get_running_loop()
    for side in sides:
        # A warm-up with nobody listening: first-call costs (SQL compilation caches, lazy
        # imports) are not what a release costs on a server that has been running.
        await loop.run_in_executor(None, side.trigger, -1)
        await side.connect()
    for number in range(rounds):
        for side in sides:
            await asyncio.sleep(0.5)
            await side.round(number)
    for side in sides:
        await gather_limited(c.close() for c in side.clients)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def run_size(n: int, rounds: int, tmp: str) -> list[dict]:
    """Both servers at one size, side by side; their rows of the report."""
    database_url = f"sqlite:///{tmp}/fanout-{n}.db"
    plan = seed(database_url, n, rounds)
    servers = {}
    try:
        for kind in ("bare", "app"):
            port = free_port()
            servers[kind] = (start_server(kind, port, database_url), port)
        time.sleep(1.0)
        sides, idle = [], {}
        for kind, (server, port) in servers.items():
            idle[kind] = rss_mb(server.pid)
            sides.append(Side(kind, port, server.pid, n, plan if kind == "app" else None))
        asyncio.run(measure(sides, rounds))
        connected = {kind: rss_mb(server.pid) for kind, (server, _) in servers.items()}
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait(10)
    rows = []
    for side in sides:
        for event, values in side.latencies.items():
            rows.append({"n": n, "server": side.kind, "event": event,
                         "p50": statistics.median(values) if values else float("nan"),
                         "p95": percentile(values, 95), "max": max(values, default=float("nan")),
                         "missed": side.missed[event], "samples": len(values),
                         "connect_ms": side.connect_ms, "join_ms": side.join_ms,
                         "idle_mb": idle[side.kind], "connected_mb": connected[side.kind],
                         "refused": side.refused, "rounds": side.rounds})
    return rows


def main() -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--app-dir", type=Path, default=ROOT,
                        help="serve the app from this checkout (e.g. an export of main)")
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    global APP_DIR
    APP_DIR = args.app_dir.resolve()
    if args.bare_server:
        serve_bare(args.bare_server)
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 4 * max(args.sizes) + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    print(f"load average before: {os.getloadavg()}; open files limit {wanted}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            rows.extend(run_size(n, args.rounds, tmp))
    print(f"load average after: {os.getloadavg()}")
    print("| learners | server | event | p50 s | p95 s | max s | missed | connect CPU ms "
          "| join CPU ms | idle RSS MB | RSS connected MB | p95 per round s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        per_round = (" ".join(f"{v:.3f}" for v in row["rounds"])
                     if row["event"] == "module_released" else "")
        print(f"| {row['n']} | {row['server']} | {row['event']} | {row['p50']:.3f} "
              f"| {row['p95']:.3f} | {row['max']:.3f} | {row['missed']} "
              f"| {row['connect_ms']:.2f} | {row['join_ms']:.2f} | {row['idle_mb']:.0f} "
              f"| {row['connected_mb']:.0f} "
              f"| {per_round} |")
    ratios = {}
    for row in rows:
        if row["event"] == "module_released":
            ratios.setdefault(row["n"], {})[row["server"]] = row
    for n, pair in ratios.items():
        # The median round's p95 as well: on a shared machine one stalled round (another
        # process taking both cores) decides the pooled p95 of a whole run.
        typical = (statistics.median(pair["app"]["rounds"])
                   / statistics.median(pair["bare"]["rounds"]))
        print(f"{n} learners: release p50 {pair['app']['p50'] / pair['bare']['p50']:.2f}× "
              f"and p95 {pair['app']['p95'] / pair['bare']['p95']:.2f}× the bare broadcast "
              f"(median round's p95: {typical:.2f}×)")
    if any(row["missed"] or row["refused"] for row in rows):
        sys.exit("FAILED: some clients missed an event or were refused")


if __name__ == "__main__":
    main()
