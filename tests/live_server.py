"""The app as a user starts it, for tests that talk to it from outside (browser, fuzzing).

``serve_demo`` migrates a database with ``flask db upgrade``, fills it with ``flask demo
seed`` and serves it with ``python wsgi.py`` on a free port, the scheduler off; it stops the
server afterwards. Everything the server prints goes to one log file.
"""

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.factories import FAST_PASSWORD_HASH_METHOD

REPO_ROOT = Path(__file__).resolve().parents[1]
SERVER_START_TIMEOUT = 30.0
LOG_TAIL_CHARS = 6000


@dataclass
class LiveServer:
    """The running app: where it answers, its database and its log."""

    url: str
    database_url: str
    log: Path

    def log_tail(self) -> str:
        """The end of the server's output."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-LOG_TAIL_CHARS:]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    """Whether the URL returns any HTTP response."""
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our own local server)
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@contextmanager
def serve_demo(database_url: str, log: Path, *, login_rate_limit: str,
               ready_path: str = "/login") -> Iterator[LiveServer]:
    """The demo, migrated, seeded and served on a free port until the block ends.

    ``login_rate_limit`` replaces the default meant for humans: tests sign in (or ask for
    tokens) many times from one address.
    """
    port = free_port()
    server = LiveServer(url=f"http://127.0.0.1:{port}", database_url=database_url, log=log)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_hex(32),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "BASE_URL": server.url,
        "SCHEDULER_ENABLED": "0",
        "LOGIN_RATE_LIMIT": login_rate_limit,
        # Tests sign in, and ask for tokens, far more often than people: cheap hashing.
        "PASSWORD_HASH_METHOD": FAST_PASSWORD_HASH_METHOD,
        # Self-contained whatever the shell exports: plain-HTTP cookies, no Redis, no SMTP.
        "APP_ENV": "development",
        "SECURE_COOKIES": "",
        "REDIS_URL": "",
        "RATELIMIT_STORAGE_URI": "",
        "MAIL_SERVER": "",
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("w") as out:
        for command in (["db", "upgrade"], ["demo", "seed"]):
            done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *command],
                                  cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  timeout=120, check=False)
            if done.returncode != 0:
                pytest.fail(f"flask {' '.join(command)} failed:\n{server.log_tail()}")
        process = subprocess.Popen([sys.executable, "wsgi.py"], cwd=REPO_ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not answers(server.url + ready_path):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the server did not answer on {server.url}{ready_path}:\n"
                            f"{server.log_tail()}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
